"""Fold exercise solutions with their output: tag ``hide-cell`` instead of ``hide-input``.

A solution cell is a code cell whose ``mystnb.code_prompt_show`` mentions a solution.
Usage: python tools/fold_solutions.py book/NAME.ipynb [...]
"""

import sys

import nbformat


def fold(path: str) -> int:
    notebook = nbformat.read(path, as_version=4)
    changed = 0
    for cell in notebook.cells:
        prompt = cell.metadata.get("mystnb", {}).get("code_prompt_show", "")
        if cell.cell_type == "code" and "solution" in prompt.lower():
            tags = [t for t in cell.metadata.get("tags", []) if t != "hide-input"]
            if "hide-cell" not in tags:
                tags.append("hide-cell")
            changed += tags != cell.metadata.get("tags", [])
            cell.metadata["tags"] = tags
    nbformat.write(notebook, path)
    return changed


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {fold(name)} solution cells folded")
