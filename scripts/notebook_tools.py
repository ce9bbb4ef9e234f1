"""Write a notebook from a list of ("md" | "code", source) cells, without outputs: used to author notebooks/."""

from __future__ import annotations

import sys

import nbformat


def write_notebook(path: str, cells: list[tuple[str, str]]) -> None:
    """Write ``cells`` to ``path`` as a clean notebook (no outputs, Python 3 kernel)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    for number, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source.strip()) if kind == "md" else nbformat.v4.new_code_cell(source.strip())
        cell["id"] = f"cell-{number:02d}"  # stable ids keep diffs small
        notebook.cells.append(cell)
    nbformat.write(notebook, path)


if __name__ == "__main__":
    sys.exit("import write_notebook from this module")
