"""Figures written as plotly.js JSON (plain dicts) and made a ``go.Figure`` once, at the end.

Building a figure through plotly's object model (``make_subplots``, ``add_trace``,
``update_yaxes``, ...) costs 30-60 ms for the figures of a dashboard: every property
is an object with a validator, and many calls copy what came before. The same figure
written as JSON costs about 2 ms. A student feels that difference at every slider
move, so the figures a slider redraws are written with :class:`Sketch`.

Validation: plotly validates every property of a figure it builds from JSON, which
catches a misspelt property (plotly.js would silently ignore it) but costs 10-15 ms.
Our figures take data, not user-supplied properties, so validation checks only our
own code: the tests turn it on (``GRUTOOLS_VALIDATE_FIGURES=1``, set in
``tests/conftest.py``); otherwise the figure is built unvalidated.
"""

from __future__ import annotations

import copy
import functools
import json
import os

import plotly.graph_objects as go

_TITLE = "\x00title{}"  # placeholder subplot titles, so that one cached skeleton serves every title


def validating() -> bool:
    """Whether figures are validated property by property (``GRUTOOLS_VALIDATE_FIGURES=1``)."""
    return os.environ.get("GRUTOOLS_VALIDATE_FIGURES", "") not in ("", "0")


@functools.lru_cache(maxsize=64)
def _skeleton(key: str) -> tuple[dict, dict]:
    """``make_subplots``'s layout as JSON (a placeholder title per subplot) and the axes of each cell."""
    from plotly.subplots import make_subplots

    kwargs = json.loads(key)
    rows, cols = kwargs.get("rows", 1), kwargs.get("cols", 1)
    specs = kwargs.get("specs") or [[{}] * cols for _ in range(rows)]
    cells = [(r, c) for r in range(1, rows + 1) for c in range(1, cols + 1) if specs[r - 1][c - 1] is not None]
    figure = make_subplots(**kwargs, subplot_titles=[_TITLE.format(i) for i in range(len(cells))])
    layout = figure.layout.to_plotly_json()
    layout.pop("template", None)
    axes = {}
    for row, col in cells:
        ref = figure._grid_ref[row - 1][col - 1][0]  # (public: get_subplot gives the layout keys only)
        axes[row, col] = (ref.trace_kwargs["xaxis"], ref.trace_kwargs["yaxis"])
    return layout, axes


@functools.lru_cache(maxsize=8)
def _template(name: str) -> dict:
    import plotly.io as pio

    return pio.templates[name].to_plotly_json()


class Sketch:
    """A figure of subplots built as plotly.js JSON.

    ``Sketch(rows=2, cols=1, shared_xaxes=True, ...)`` takes ``make_subplots``'s
    arguments, with ``titles`` (one per subplot, in reading order) instead of
    ``subplot_titles``. Traces are dicts in plotly.js's schema, nested (``line=dict(width=2)``,
    not ``line_width=2``). :meth:`figure` returns the ``go.Figure``.

    >>> sketch = Sketch(rows=1, cols=2, titles=["left", "right"])
    >>> sketch.add(dict(type="scatter", x=[1, 2], y=[3, 4]), col=2)
    >>> sketch.yaxis(col=2)["title"] = "y"
    >>> figure = sketch.figure(height=300)
    >>> figure.data[0].xaxis, figure.layout.yaxis2.title.text, figure.layout.annotations[1].text
    ('x2', 'y', 'right')
    """

    def __init__(self, titles=(), **subplots) -> None:
        layout, self._axes = _skeleton(json.dumps(subplots, sort_keys=True))
        self.layout = copy.deepcopy(layout)
        titles = list(titles)
        annotations = []
        for index, annotation in enumerate(self.layout.get("annotations", [])):
            if index < len(titles) and titles[index]:
                annotation["text"] = titles[index]
                annotations.append(annotation)
        self.layout["annotations"] = annotations
        self.layout["shapes"] = []
        self.data: list[dict] = []

    def _axis(self, letter: str, row: int, col: int) -> dict:
        name = self.axis_refs(row, col)[0 if letter == "x" else 1]  # "x2"
        return self.layout.setdefault(f"{letter}axis{name[1:]}", {})

    def xaxis(self, row: int = 1, col: int = 1) -> dict:
        """The layout dict of the x axis of the subplot at ``row``, ``col`` (change it in place)."""
        return self._axis("x", row, col)

    def yaxis(self, row: int = 1, col: int = 1) -> dict:
        """The layout dict of the y axis of the subplot at ``row``, ``col`` (change it in place)."""
        return self._axis("y", row, col)

    def add(self, trace: dict, row: int = 1, col: int = 1) -> None:
        """Add ``trace`` (a dict with a ``type``) to the subplot at ``row``, ``col``."""
        x, y = self.axis_refs(row, col)
        self.data.append({**trace, "xaxis": x, "yaxis": y})

    def axis_refs(self, row: int = 1, col: int = 1) -> tuple[str, str]:
        """The axis names (``"x2"``, ``"y2"``) a trace, a shape or an annotation refers to for this subplot."""
        if (row, col) not in self._axes:
            raise ValueError(f"this figure has no subplot at row {row}, column {col}.")
        return self._axes[row, col]

    def vline(self, x: float, line: dict, row: int = 1, col: int = 1) -> None:
        """A vertical line across the subplot at ``row``, ``col``."""
        xref, y = self.axis_refs(row, col)
        self.layout["shapes"].append(dict(type="line", xref=xref, x0=x, x1=x, yref=f"{y} domain", y0=0, y1=1, line=line))

    def hband(self, y0: float, y1: float, row: int = 1, col: int = 1, **style) -> None:
        """A horizontal band from ``y0`` to ``y1`` across the subplot, below the traces."""
        x, yref = self.axis_refs(row, col)
        self.layout["shapes"].append(dict(type="rect", xref=f"{x} domain", x0=0, x1=1, yref=yref, y0=y0, y1=y1,
                                          layer="below", line=dict(width=0), **style))

    def figure(self, **layout) -> go.Figure:
        """The ``go.Figure``: the sketch's layout updated with ``layout`` (a ``template`` name becomes the template)."""
        merged = _merge(self.layout, layout)
        if not merged["shapes"]:
            del merged["shapes"]
        if not merged["annotations"]:
            del merged["annotations"]
        if validating():
            return go.Figure(dict(data=self.data, layout=merged))
        if isinstance(merged.get("template"), str):
            merged["template"] = _template(merged["template"])
        return go.Figure(dict(data=self.data, layout=merged), _validate=False)


def _merge(base: dict, extra: dict) -> dict:
    """``base`` updated with ``extra``, dicts merged key by key (``base`` is not changed)."""
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged
