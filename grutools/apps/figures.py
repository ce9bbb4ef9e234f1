"""Plotly figures in widget apps: a ``FigureWidget`` that is shown once and then refreshed with only what changed.

:func:`show_figure` makes or refreshes the widget; :func:`figure_widget_class` picks the
widget class (quiet, and under Voilà loading plotly.js by URL from our template).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import sys

import numpy as np

PLOT_CLASS = "grutools-plot"  # the template's CSS sizes these to their row (see index.html.j2)


def refresh_figure(widget, figure) -> None:
    """Make a ``FigureWidget`` show ``figure``, sending only what changed.

    When the traces match in number and type, the new figure is compared with the
    one shown last and only the properties that differ go to the browser (one
    ``Plotly.update`` for all the traces that changed; plotly.js keeps the user's zoom).
    This skips plotly's per-property validation of the whole figure in the widget,
    which cost more than computing it (60 of 170 ms for a slider move of the cell
    explorer). Otherwise data and layout are replaced.
    """
    new = _shown(figure)
    old = getattr(widget, "_grutools_shown", None)
    same = old is not None and len(old["data"]) == len(new["data"]) and all(
        a.get("type") == b.get("type") for a, b in zip(old["data"], new["data"]))
    if not same:
        with widget.batch_update():
            widget.data = []
            widget.add_traces(list(figure.data))
            widget.update_layout(figure.layout.to_plotly_json(), overwrite=True)
    else:
        # one Plotly.update for every trace that changed, whatever its type: plotly's widget waits for the browser to
        # draw one edit before it sends the next, so each further update costs a whole redraw (dashboard 09's five
        # rows took three, 550 ms in all). A key a trace does not change is left as it is (plotly's Undefined, as
        # its own batch_update sends it).
        from plotly.basedatatypes import Undefined

        changed = []
        for index, (a, b) in enumerate(zip(old["data"], new["data"])):
            change = _changes(_flat(a), _flat(b))
            if change:
                changed.append((index, change))
        relayout = _changes(_flat(old["layout"]), _flat(new["layout"])) or None
        if changed:
            keys = sorted({key for _, change in changed for key in change})
            restyle = {key: [_array(change[key]) if key in change else Undefined for _, change in changed]
                       for key in keys}
            widget.plotly_update(restyle_data=restyle, relayout_data=relayout,
                                 trace_indexes=[index for index, _ in changed])
        elif relayout:
            widget.plotly_relayout(relayout)
    widget._grutools_shown = new


def _shown(figure) -> dict:
    """What :func:`refresh_figure` compares: the figure as JSON, without its theme (which never changes)."""
    shown = figure.to_plotly_json()
    shown["layout"].pop("template", None)
    return shown


def _flat(tree: dict, prefix: str = "", out: dict | None = None) -> dict:
    """A figure part as ``{"marker.color": value, ...}``; lists and typed arrays (``bdata``) are leaves."""
    out = {} if out is None else out
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value and "bdata" not in value:
            _flat(value, path, out)
        else:
            out[path] = value
    return out


def _array(value):
    """A 1-D typed-array spec of ``to_plotly_json`` (``{"dtype", "bdata"}``) as the numpy array it encodes.

    The widget keeps what it is given as its Python-side state, so ``widget.data[0].x``
    stays an array; the array then goes to the browser as a binary buffer. A 2-D spec
    (with a ``shape``, e.g. a heatmap's ``z``) stays as it is: plotly's widget would send
    a 2-D array as nested JSON lists, 4x larger and slower to read in the browser.
    """
    if not (isinstance(value, dict) and "bdata" in value) or value.get("shape"):
        return value
    return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        try:
            return np.array_equal(a, b, equal_nan=True)  # gaps (NaN) in a line are not changes
        except TypeError:  # not numbers
            return np.array_equal(a, b)
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # e.g. lists that hold arrays
        return False


def _changes(old: dict, new: dict) -> dict:
    """The flat properties of ``new`` that differ from ``old``; those ``new`` lacks become ``None`` (removed)."""
    changed = {key: value for key, value in new.items() if key not in old or not _same(old[key], value)}
    changed.update({key: None for key in old if key not in new})
    return changed


@contextlib.contextmanager
def _without_iri_grammars():
    """Import plotly's widget without building rfc3987-syntax's IRI grammars, which no dashboard uses.

    ``plotly.basewidget`` imports ``plotly.io._renderers``, which imports nbformat (for
    ``fig.show()`` in a notebook), which imports jsonschema, whose format checkers import
    ``rfc3987_syntax`` if it is installed (jupyter_server's ``jsonschema[format-nongpl]``
    installs it). That package compiles 38 Lark grammars as it is imported: 1 s in a plain
    process, and 6.5-8 s of a dashboard kernel's start here (the whole of the rest of the first
    cell took 2 s), so most of a cold start. While the widget is imported it is made
    unimportable, so jsonschema leaves its ``iri`` format unchecked in this process; nothing
    here validates IRIs. When jsonschema is already loaded this changes nothing, and afterwards
    ``rfc3987_syntax`` can be imported as usual. (The maintained fork, rfc3987-syntax2, loads its
    grammars lazily; jsonschema does not use it yet.)
    """
    skip = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if skip:
        sys.modules["rfc3987_syntax"] = None  # ``import rfc3987_syntax`` raises ImportError, which jsonschema expects
    try:
        yield
    finally:
        if skip and sys.modules.get("rfc3987_syntax", False) is None:
            del sys.modules["rfc3987_syntax"]


@functools.lru_cache(maxsize=1)
def _quiet_class():
    with _without_iri_grammars():
        import plotly.graph_objects as go

        go.FigureWidget  # noqa: B018  (plotly imports its widget lazily, on first use)
    from plotly.serializers import custom_serializers
    from traitlets import Dict

    # After every update plotly.js reports the figure's computed defaults back to the kernel (for a
    # heatmap, its whole z as JSON: 166 kB for the three heatmaps of the gates dashboard), and
    # ipywidgets 8 echoes every such report back to the browser. Nothing else views these
    # messages, so the echo is turned off for them.
    quiet = {name: Dict(allow_none=True).tag(sync=True, echo_update=False, **custom_serializers)
             for name in ("_js2py_traceDeltas", "_js2py_layoutDelta", "_js2py_restyle", "_js2py_relayout",
                          "_js2py_update", "_js2py_pointsCallback")}
    return type("FigureWidget", (go.FigureWidget,), {**quiet, "__doc__": go.FigureWidget.__doc__})


@functools.lru_cache(maxsize=8)
def _cached_class(path: str):
    # anywidget imports an http(s) `_esm` as a URL and runs anything else as module source. The page's
    # origin is unknown to a pre-heated kernel (started before any request), so a two-line module
    # imports the bundle from the origin the page was loaded from.
    shim = (f"const bundle = await import(new URL({path!r}, window.location.href).href);\n"
            "export default bundle.default;\n")
    from traitlets import Bool

    # _grutools_quiet: our copy of the bundle skips its reports of computed defaults (see template.install_bundle)
    return type("CachedFigureWidget", (_quiet_class(),), {"_esm": shim, "__doc__": _quiet_class().__doc__,
                                                          "_grutools_quiet": Bool(True).tag(sync=True)})


def figure_widget_class():
    """A ``FigureWidget`` subclass that does not echo plotly.js's reports; under Voilà it also loads plotly.js by URL.

    A plain ``FigureWidget`` sends its 5 MB JavaScript bundle over the websocket once
    per instance (four plots: 20 MB per student per page load). Served as a static
    file of our Voilà template, the bundle is fetched once and then cached by the
    browser. Used where the kernel was started by Voilà (which sets ``VOILA_BASE_URL``,
    in pre-heated kernels too) and the served template has the bundle (``grutools serve``
    and ``make install`` put it there: :func:`grutools.classroom.template.prepare`).
    """
    import plotly

    from ..core.resources import BUNDLE, served_template

    base = os.environ.get("VOILA_BASE_URL")
    if not base or served_template() is None:
        return _quiet_class()
    return _cached_class(f"{base}voila/templates/grulab/static/{BUNDLE}?v={plotly.__version__}")


def show_figure(widget, figure):
    """Return a ``FigureWidget`` showing ``figure``: a new one if ``widget`` is ``None``, else ``widget`` refreshed.

    A ``FigureWidget`` must be *created* from its first figure: traces added to an
    empty widget before it is displayed never reach the browser. The figure takes the
    width of its box (plotly's autosize, also when the window is resized): no width is
    fixed, so nothing is cut off on a projector or a tablet.
    """
    figure.layout.width = None
    if widget is None:
        widget = figure_widget_class()(figure)
        widget.add_class(PLOT_CLASS)
        widget._grutools_shown = _shown(figure)
        return widget
    refresh_figure(widget, figure)
    return widget
