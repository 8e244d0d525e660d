"""The helper that shows package code in the chapters."""

import numpy as np
import pytest

import tutor
from tutor import functional
from tutor.show import Source, show_source


def test_shows_the_source_of_a_package_function():
    source = show_source(functional.sigmoid)
    assert isinstance(source, Source)
    assert source.code.startswith("def sigmoid(")
    assert "np.exp(-np.abs(x))" in source.code
    assert source.qualname == "tutor.functional.sigmoid"
    assert source.path == "tutor/functional.py"


def test_line_numbers_point_into_the_file():
    source = show_source(functional.sigmoid)
    path = __import__("pathlib").Path(functional.__file__)
    lines = path.read_text().splitlines()
    assert lines[source.first_line - 1].startswith("def sigmoid(")
    assert lines[source.last_line - 1].strip() == source.code.rstrip().splitlines()[-1].strip()


def test_markdown_is_a_fenced_python_block_with_a_caption():
    markdown = show_source(functional.tanh)._repr_markdown_()
    assert markdown.startswith("`tutor.functional.tanh (tutor/functional.py, lines ")
    assert "````python\ndef tanh(" in markdown
    assert markdown.rstrip().endswith("````")


def test_docstring_can_be_dropped_but_code_is_kept():
    full = show_source(functional.sigmoid)
    bare = show_source(functional.sigmoid, docstring=False)
    assert '"""' in full.code and '"""' not in bare.code
    assert bare.code.startswith("def sigmoid(")
    assert bare.code.rstrip().endswith(full.code.rstrip().splitlines()[-1].strip())
    assert bare.first_line == full.first_line and bare.last_line == full.last_line


def test_methods_and_classes_are_shown_dedented():
    source = show_source(Source._repr_markdown_)
    assert source.code.startswith("def _repr_markdown_(")
    assert source.qualname == "tutor.show.Source._repr_markdown_"


def test_exported_from_the_package():
    assert tutor.show_source is show_source


def test_objects_without_python_source_give_a_clear_error():
    with pytest.raises(TypeError, match="has no source to show"):
        show_source(np.add)
