"""The helper that shows package code in the chapters."""

import ast
import json
import re
from pathlib import Path

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
    with pytest.raises(
        TypeError, match=r"show_source.*function, class or module.*ufunc 'add'.*no source"
    ):
        show_source(np.add)


# The chapters show package code in the book's text column, which holds about
# 80 characters of code: every line a chapter displays (code, comments and
# docstring, after show_source's dedent) must fit in it.
BOOK = Path(__file__).resolve().parents[1] / "book"
COLUMN = 80
CALL = re.compile(
    r"show_source\(\s*([A-Za-z_][\w.]*)\s*"
    r"(?:,\s*docstring\s*=\s*(True|False)\s*)?\)"
)


def _code_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def _tutor_imports(source: str) -> list[ast.stmt]:
    # Lines with IPython magics (%time, !pip) are not Python: blank them.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    tree = ast.parse("\n".join(lines))
    return [
        node
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "tutor")
        or (
            isinstance(node, ast.Import)
            and any(alias.name.split(".")[0] == "tutor" for alias in node.names)
        )
    ]


def _shown_objects() -> list[tuple[str, str, bool, object]]:
    """(notebook, expression, docstring flag, object) for every call."""
    shown = []
    for notebook in sorted(BOOK.glob("*.ipynb")):
        cells = _code_cells(notebook)
        namespace: dict[str, object] = {}
        imports = [node for cell in cells for node in _tutor_imports(cell)]
        module = ast.Module(body=imports, type_ignores=[])
        exec(compile(module, str(notebook), "exec"), namespace)
        for cell in cells:
            calls = CALL.findall(cell)
            # A call the pattern misses would go unchecked: fail instead.
            assert len(calls) == cell.count("show_source("), (
                f"{notebook.name}: a show_source call this test cannot read in\n{cell}"
            )
            for expression, flag in calls:
                obj = eval(expression, namespace)
                shown.append((notebook.name, expression, flag != "False", obj))
    return shown


@pytest.mark.skipif(not BOOK.is_dir(), reason="the book is not here")
def test_shown_code_fits_in_the_text_column():
    shown = _shown_objects()
    assert len(shown) > 30, "the chapters show package code: none found"
    too_long = []
    for notebook, expression, docstring, obj in shown:
        source = show_source(obj, docstring=docstring)
        for number, line in enumerate(source.code.splitlines(), 1):
            if len(line) > COLUMN:
                too_long.append(
                    f"{notebook}: show_source({expression}"
                    f"{'' if docstring else ', docstring=False'}) = "
                    f"{source.qualname}, line {number} "
                    f"({len(line)} characters): {line.strip()}"
                )
    assert not too_long, (
        f"{len(too_long)} displayed lines are longer than {COLUMN} "
        "characters:\n" + "\n".join(too_long)
    )
