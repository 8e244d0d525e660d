"""Show the source code of a :mod:`tutor` function inside a notebook.

The chapters explain code that lives in this package. Rather than pasting a
copy into the page (a copy drifts away from the tested code), a chapter calls
``show_source(tutor.rnn.rnn_step_forward)`` and the page displays the code
that the tests run.
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

__all__ = ["Source", "show_source"]


class Source:
    """The source of one function, class or module, ready to display.

    In Jupyter and in the built book it renders as a highlighted code block
    with a caption naming the file; printed, it is plain text.

    Attributes:
        code: the source text, dedented.
        qualname: the dotted name of the object, e.g. ``tutor.rnn.rnn_step_forward``.
        path: the file, relative to the package's parent folder, e.g. ``tutor/rnn.py``.
        first_line: the line number in ``path`` where the code starts.
        last_line: the line number in ``path`` where it ends.
    """

    def __init__(
        self,
        code: str,
        qualname: str,
        path: str,
        first_line: int,
        last_line: int,
    ):
        self.code = code
        self.qualname = qualname
        self.path = path
        self.first_line = first_line
        self.last_line = last_line

    def caption(self) -> str:
        return f"{self.qualname} ({self.path}, lines {self.first_line}-{self.last_line})"

    def _repr_markdown_(self) -> str:
        # Four backticks, so that code containing ``` cannot close the fence early.
        return f"`{self.caption()}`\n\n````python\n{self.code.rstrip()}\n````\n"

    def __str__(self) -> str:
        return f"# {self.caption()}\n{self.code}"

    def __repr__(self) -> str:
        return str(self)


def show_source(obj: object, docstring: bool = True) -> Source:
    """Return the source of ``obj`` (a function, class, method or module) for display.

    Args:
        obj: anything ``inspect.getsource`` accepts, normally a ``tutor`` function.
        docstring: keep the docstring (default) or drop it, to show only the computation.

    Returns:
        A :class:`Source`; the last expression of a notebook cell displays it.

    Raises:
        TypeError: if ``obj`` has no Python source (a built-in or a NumPy ufunc).
    """
    try:
        lines, first_line = inspect.getsourcelines(obj)
    except (TypeError, OSError) as error:
        raise TypeError(
            f"show_source needs a Python function, class or module; "
            f"{obj!r} has no source to show ({error})."
        ) from None
    code = textwrap.dedent("".join(lines))
    if not docstring:
        code = _without_docstring(code, obj)
    module = inspect.getmodule(obj)
    module_name = module.__name__ if module else "?"
    name = getattr(obj, "__qualname__", None)
    qualname = (
        module_name
        if inspect.ismodule(obj) or not name
        else f"{module_name}.{name}"
    )
    path = Path(inspect.getsourcefile(obj) or "?")
    top = module_name.split(".")[0]
    parts = path.parts
    relative = (
        Path(*parts[parts.index(top) :]) if top in parts else Path(path.name)
    )
    first_line = max(first_line, 1)  # a module's source starts at line 0
    return Source(
        code,
        qualname,
        relative.as_posix(),
        first_line,
        first_line + len(lines) - 1,
    )


def _without_docstring(code: str, obj: object) -> str:
    doc = inspect.getdoc(obj)
    if not doc:
        return code
    import ast

    tree = ast.parse(code)
    body = tree.body[0] if tree.body else None
    node = getattr(body, "body", [None])[0] if body is not None else None
    if not (
        isinstance(node, ast.Expr)
        and isinstance(getattr(node, "value", None), ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return code
    lines = code.splitlines(keepends=True)
    # Remove the docstring's lines (1-based, inclusive) and keep everything else as written.
    return "".join(lines[: node.lineno - 1] + lines[node.end_lineno :])
