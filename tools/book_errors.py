"""The reader's build of the book: every page is built, and failing cells are named.

A strict build (``nb_execution_raise_on_error: true``) stops at the first failing
cell and leaves a reader with no HTML at all. The reader's build lets every cell
run: a failing cell shows its error in its page, and this script then names the
notebook, the cell and the error, so the command can still exit non-zero.

Usage (``python3 tasks.py book`` calls both):

    python tools/book_errors.py config _config.yml _build/reader_config.yml
    python tools/book_errors.py report _build/jupyter_execute
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def reader_config(config: dict) -> dict:
    """The book's configuration, with failing cells recorded in their page instead of raised."""
    config = dict(config)
    config["execute"] = {**config.get("execute", {}), "allow_errors": True}
    sphinx = dict(config.get("sphinx", {}))
    sphinx["config"] = {**sphinx.get("config", {}), "nb_execution_raise_on_error": False}
    config["sphinx"] = sphinx
    return config


def write_reader_config(source: Path, destination: Path) -> None:
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    # Jupyter Book finds local extensions from the folder of the config file it
    # is given: point them at the book's own folders, wherever the copy is written.
    extensions = config.get("sphinx", {}).get("local_extensions") or {}
    for name, folder in extensions.items():
        extensions[name] = str((source.parent / folder).resolve())
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(yaml.safe_dump(reader_config(config), sort_keys=False), "utf-8")


def failing_line(traceback: list[str]) -> str:
    """The line that raised: the one nbclient marks with an arrow in the last frame."""
    marked = [
        line
        for frame in traceback
        for line in ANSI_ESCAPE.sub("", frame).splitlines()
        if line.lstrip().startswith("---->")
    ]
    if not marked:
        return ""
    return re.sub(r"^\d+\s", "", marked[-1].split("---->", 1)[1].strip())  # drop the line number


def cell_errors(path: Path) -> list[str]:
    """One line per failing cell of an executed notebook: cell, error and the line that raised."""
    notebook = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") != "error":
                continue
            message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
            line = failing_line(output.get("traceback", []))
            found.append(f"cell {index}: {message}" + (f"\n      at: {line}" if line else ""))
    return found


def report(executed: Path) -> int:
    """Print every failing cell of the executed notebooks below ``executed``; 1 if any failed."""
    failures = {
        path.relative_to(executed): errors
        for path in sorted(executed.rglob("*.ipynb"))
        if (errors := cell_errors(path))
    }
    if not failures:
        return 0
    count = sum(len(errors) for errors in failures.values())
    print(f"\n{count} cell(s) failed; their pages show the error:")
    for notebook, errors in failures.items():
        for error in errors:
            print(f"  {notebook}, {error}")
    return 1


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "config":
        write_reader_config(Path(argv[2]), Path(argv[3]))
        return 0
    if len(argv) == 3 and argv[1] == "report":
        return report(Path(argv[2]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
