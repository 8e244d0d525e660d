"""Fail if a committed notebook carries outputs, execution counts or widget state.

Chapters are committed without outputs: the book and the tests execute them,
so every number a reader sees comes from a fresh run, and diffs stay readable.

Usage: python tools/check_notebooks_clean.py [NOTEBOOK_OR_FOLDER ...]   (default book/)
Clean a notebook with: jupyter nbconvert --clear-output --inplace book/NAME.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def problems_in(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{path}: cell {index} has {len(cell.outputs)} stored output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"{path}: cell {index} has execution count {cell.execution_count}")
    if "widgets" in notebook.metadata:
        problems.append(f"{path}: notebook metadata stores widget state")
    return problems


def notebooks(args: list[str]) -> list[Path]:
    found = []
    for arg in args or ["book"]:
        path = Path(arg)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return found


def main(argv: list[str]) -> int:
    paths = notebooks(argv[1:])
    problems = [p for path in paths for p in problems_in(path)]
    if problems:
        print("Notebooks must be committed without outputs:")
        for problem in problems:
            print("  " + problem)
        print("Clear them with: jupyter nbconvert --clear-output --inplace <notebook>")
        return 1
    print(f"notebook check: {len(paths)} notebooks carry no outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
