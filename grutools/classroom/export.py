"""A static, kernel-free copy of the dashboards for a course page: ``python -m grutools export --out site``.

Each notebook in ``notebooks/`` becomes one HTML page: its narrative (the markdown
cells) and, for every code cell, what that cell shows, run here once with the
shipped data: plotly figures (interactive: zoom, pan, hover), findings and tables.
Controls (sliders, buttons) are left out, since without a kernel nothing would answer
them; a note at the top of each page says so and names the live version. The prediction
questions are left out too (nobody could commit or check one), and so nothing waits behind them. plotly.js
is written once beside the pages (``plotly.min.js``, from the plotly package): the
pages load nothing from the internet and can be opened straight from the disk.
"""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from ..core.resources import notebook_names, notebooks_dir
from ..core.tally import QUESTIONS

NOTEBOOKS = notebooks_dir()

BANNER = ("A static snapshot of the GRU lab: the plots are interactive (zoom, pan, hover), but the sliders, buttons "
          "and live training need the live dashboards (<code>make dashboards</code>, see the README).")
STYLE = """body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; max-width: 1240px; margin: 24px auto;
       padding: 0 20px; color: #222; font-size: 16px; line-height: 1.5; }
.banner { background: #fff8e1; border-left: 4px solid #f9a825; padding: 8px 14px; margin-bottom: 18px; }
.row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
nav { margin-bottom: 12px; } table { border-collapse: collapse; } td, th { padding: 3px 8px; border-bottom: 1px solid #ddd; }
"""


def run_cells(sources: list[str], namespace: dict) -> Iterator[object]:
    """Run each code cell's source in ``namespace`` as a notebook would; yield what each cell shows (its last
    expression's value, or ``None``)."""
    for source in sources:
        tree = ast.parse(source)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = tree.body[:-1] if last else tree.body
        exec(compile(ast.Module(body=body, type_ignores=[]), "<cell>", "exec"), namespace)  # noqa: S102 (our notebooks)
        yield eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None  # noqa: S307


def widget_html(widget) -> str:
    """Static HTML for what a widget shows: figures and HTML kept, controls and status lines left out."""
    import ipywidgets as widgets
    import plotly.graph_objects as go

    from ..apps.common import StatusLine

    if isinstance(widget, go.FigureWidget):
        figure = go.Figure(widget)
        return figure.to_html(include_plotlyjs=False, full_html=False, config={"displaylogo": False})
    if isinstance(widget, StatusLine):
        return ""
    if isinstance(widget, widgets.Audio) and widget.value:  # a recording plays from the page itself (dashboard 09)
        import base64

        data = base64.b64encode(bytes(widget.value)).decode()
        return f'<audio controls aria-label="the recording" src="data:audio/{widget.format};base64,{data}"></audio>'

    if isinstance(widget, (widgets.HTML, widgets.HTMLMath)):
        return widget.value
    if isinstance(widget, widgets.Box):
        inner = [widget_html(child) for child in widget.children]
        inner = [part for part in inner if part.strip()]
        if not inner:
            return ""
        kind = "row" if isinstance(widget, widgets.HBox) else "column"
        return f'<div class="{kind}">' + "".join(f"<div>{part}</div>" for part in inner) + "</div>"
    return ""  # sliders, buttons, dropdowns, outputs: nothing to show without a kernel


def markdown_html(text: str) -> str:
    """Markdown to HTML (mistune, which nbconvert brings); links to other notebooks point to their pages."""
    import mistune

    text = re.sub(r"\(([\w.-]+)\.ipynb\)", r"(\1.html)", text)
    return mistune.html(text)


def export_notebook(path: Path, out: Path, names: list[str]) -> Path:
    """Write ``out/<notebook>.html`` for the notebook at ``path``; returns the page's path."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    shown = iter(run_cells(code, {"__name__": "__main__"}))
    parts, title = [], path.stem
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            if title == path.stem and cell.source.lstrip().startswith("# "):
                title = cell.source.lstrip()[2:].splitlines()[0].strip()
            parts.append(markdown_html(cell.source))
        elif cell.cell_type == "code":
            value = next(shown)
            if value is not None:
                parts.append(widget_html(value))
    links = " · ".join(f'<a href="{Path(n).stem}.html">{html.escape(Path(n).stem)}</a>' for n in names)
    page = (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style><script src='plotly.min.js'></script></head><body>"
            f"<nav>{links}</nav><div class='banner'>{BANNER}</div>{''.join(parts)}</body></html>\n")
    target = out / f"{path.stem}.html"
    target.write_text(page, encoding="utf-8")
    return target


def export(out: str | Path, notebooks: list[str] | None = None, progress: bool = True) -> list[Path]:
    """Export ``notebooks`` (default: all in ``notebooks/``) to static pages in ``out``; returns the pages written.

    ``out/index.html`` is the first dashboard (the welcome page).
    """
    import plotly
    from tqdm.auto import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = notebooks or notebook_names()
    missing = [n for n in names if not (NOTEBOOKS / n).exists()]
    if missing:
        raise FileNotFoundError(f"no such notebook in {NOTEBOOKS}: {', '.join(missing)}")
    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", out / "plotly.min.js")
    with mock.patch.dict(os.environ, {QUESTIONS: "off"}):  # as `grutools serve --no-questions`; restored after
        pages = [export_notebook(NOTEBOOKS / name, out, names)
                 for name in tqdm(names, desc="exporting dashboards", disable=not progress)]
    shutil.copyfile(pages[0], out / "index.html")
    return pages
