"""What every widget app shares: a status line, guarded callbacks, and training in a background thread."""

from __future__ import annotations

import base64
import functools
import html
import os
import threading
import time
import traceback
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import torch

from ..training import History

CONTROL_WIDTH = "300px"
LABEL_STYLE = {"description_width": "110px"}


def control_layout(width: str = CONTROL_WIDTH) -> widgets.Layout:
    """Layout for a control in an app's side panel."""
    return widgets.Layout(width=width)


PLOT_CLASS = "grutools-plot"  # the template's CSS sizes these to their row (see index.html.j2)


def panel_layout(width: str = "320px", **extra) -> widgets.Layout:
    """A side panel of controls: its width, never squeezed (a narrow screen puts the plot beneath it instead)."""
    return widgets.Layout(width=width, min_width=width, flex="0 0 auto", padding="0 10px 0 0", **extra)


def row_layout(**extra) -> widgets.Layout:
    """A panel beside a plot: side by side where the screen is wide enough, the plot beneath the panel where not."""
    return widgets.Layout(flex_flow="row wrap", align_items="flex-start", width="100%", **extra)


def refresh_figure(widget, figure) -> None:
    """Make a ``FigureWidget`` show ``figure``, sending only what changed.

    When the traces match in number and type, the new figure is compared with the
    one shown last and only the properties that differ go to the browser (one
    ``Plotly.update`` per trace type that changed; plotly.js keeps the user's zoom).
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
        # one Plotly.update per trace type that changed (a restyle applies its keys to all its traces)
        groups: dict[str, list[tuple[int, dict, dict]]] = {}
        for index, (a, b) in enumerate(zip(old["data"], new["data"])):
            flat = _flat(b)
            change = _changes(_flat(a), flat)
            if change:
                groups.setdefault(b.get("type", "scatter"), []).append((index, change, flat))
        relayout = _changes(_flat(old["layout"]), _flat(new["layout"])) or None
        for group in groups.values():
            indexes = [index for index, _, _ in group]
            keys = {key for _, change, _ in group for key in change}
            # a trace of the group where a key did not change gets its current value again
            restyle = {key: [_array(change[key] if key in change else flat.get(key)) for _, change, flat in group]
                       for key in keys}
            widget.plotly_update(restyle_data=restyle, relayout_data=relayout, trace_indexes=indexes)
            relayout = None
        if relayout:
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


@functools.lru_cache(maxsize=1)
def _quiet_class():
    import plotly.graph_objects as go
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
    and ``make install`` put it there: :func:`grutools.template.prepare`).
    """
    import plotly

    from ..template import BUNDLE, served_template

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


def findings_html(sentences: list[str], heading: str = "") -> str:
    """A shaded box of bullet points (what a run or a measurement shows), class ``grutools-findings``."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return (f'<div class="grutools-findings" style="background:#f5f9ff;border-left:4px solid #1f77b4;padding:6px 14px;'
            f'font-size:15px;line-height:1.45">{heading}<ul style="margin:4px 0">{items}</ul></div>')


class StatusLine(widgets.HTML):
    """One line of feedback under the controls: information, success or a readable error (never a traceback)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_class("grutools-statusline")

    COLORS = {"info": "#444", "ok": "#1a7f37", "error": "#c62828"}

    def show(self, message: str, kind: str = "info") -> None:
        color = self.COLORS[kind]
        weight = "bold" if kind == "error" else "normal"
        self.value = (f'<div class="grutools-status grutools-{kind}" style="color:{color};font-weight:{weight};'
                      f'font-size:14px;line-height:1.4;white-space:normal">{html.escape(message)}</div>')

    def info(self, message: str) -> None:
        self.show(message, "info")

    def ok(self, message: str) -> None:
        self.show(message, "ok")

    def error(self, message: str) -> None:
        self.show(message, "error")


def guarded(status: StatusLine) -> Callable:
    """Decorate a widget callback so that an exception becomes a message on ``status``, not a traceback."""

    def decorate(callback: Callable) -> Callable:
        @functools.wraps(callback)
        def wrapper(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except Exception as error:  # a dashboard must never show a traceback wall
                status.error(friendly_error(error))
                traceback.print_exc()  # goes to the server log, not to the page
        return wrapper

    return decorate


def friendly_error(error: BaseException) -> str:
    """The message of an error, prefixed with its kind only when that helps."""
    text = str(error)
    if isinstance(error, MemoryError) or "can't allocate memory" in text or "not enough memory" in text:
        limit = os.environ.get("GRUTOOLS_MEMORY_LIMIT_MB")
        share = f" (each dashboard may use {limit} MB on this server)" if limit else ""
        return f"This needs more memory than the dashboard has{share}. Choose smaller settings and try again."
    if isinstance(error, (ValueError, TypeError, FileNotFoundError, RuntimeError)) and str(error):
        return str(error)
    return f"{type(error).__name__}: {error}"


TRAINING_TIME_BUDGET = 300.0  # seconds a live training run may take: a class shares the server's cores
CURVE_INTERVAL = 1.0  # seconds between live redraws of a training curve (a progress bar may move more often)


class Every:
    """``every()`` is true at most once every ``seconds`` (and always with ``final=True``): how often a live plot
    is redrawn while training. Measured on a 2-core machine: redrawing a loss curve 4 times a second slowed
    training by 10-20% (the browser's repaints compete for the CPU), once a second by about 5%, and moving a
    progress bar 4 times a second by nothing measurable."""

    def __init__(self, seconds: float = CURVE_INTERVAL) -> None:
        self.seconds = seconds
        self._last = -float("inf")

    def __call__(self, final: bool = False) -> bool:
        now = time.perf_counter()
        if final or now - self._last >= self.seconds:
            self._last = now
            return True
        return False


class BackgroundTraining:
    """Run a training function in a thread so that the dashboard stays responsive.

    ``run(stop, report)`` receives a ``threading.Event`` (set by :meth:`stop`) and a
    ``report(history)`` callback to pass on to :func:`grutools.train`. ``report``
    calls ``on_progress(history)`` at most every ``interval`` seconds, so that
    drawing never slows training much; ``on_done(result, error)`` is called once at
    the end, from the training thread.

    The thread runs torch with ``threads`` intra-op threads (default 1). Measured
    on a 2-core machine: a small GRU trains 3-4x *slower* in a background thread
    with 2 OpenMP threads than with 1 (the pools of the two threads contend), and
    1 thread is as fast as 2 at the sizes the dashboards use.
    """

    def __init__(self, on_progress: Callable[[History], None], on_done: Callable[[object, BaseException | None], None],
                 interval: float = 0.25, threads: int = 1, budget: float = 0.03,
                 time_budget: float = TRAINING_TIME_BUDGET) -> None:
        self.threads = threads
        self.time_budget = time_budget
        self.timed_out = False
        self.budget = budget
        self._gap = interval
        self.on_progress = on_progress
        self.on_done = on_done
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def report(self, history) -> None:
        """Call ``on_progress`` if the last call is long enough ago (pass this as the training callback).

        The gap adapts so that drawing takes at most ``budget`` of the training
        time: at least ``interval`` seconds, longer when a redraw is expensive.
        """
        now = time.perf_counter()
        if now - self._last >= self._gap:
            self.on_progress(history)
            done = time.perf_counter()
            self._gap = max(self.interval, (done - now) / self.budget)
            self._last = done

    def start(self, run: Callable[[threading.Event, Callable[[History], None]], object]) -> None:
        if self.running:
            raise RuntimeError("training is already running; press Stop first.")
        self._stop = threading.Event()
        self._last = time.perf_counter()
        self._gap = self.interval
        self.timed_out = False
        stop = self._stop

        def out_of_time():
            self.timed_out = True
            stop.set()

        timer = threading.Timer(self.time_budget, out_of_time)
        timer.daemon = True

        def target():
            result, error = None, None
            torch.set_num_threads(self.threads)
            timer.start()
            try:
                result = run(stop, self.report)
            except Exception as exc:  # handed to on_done, which shows it
                error = exc
            finally:
                timer.cancel()
            self.on_done(result, error)

        self._thread = threading.Thread(target=target, name="grutools-training", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        """Whether the run now ending was asked to stop (Stop pressed, or the time budget ran out)."""
        return self._stop.is_set()

    def stopped_note(self) -> str:
        """How a run that ended early ended, for the status line."""
        if self.timed_out:
            return f" (stopped at this server's limit of {self.time_budget / 60:g} minutes per run)"
        return " (stopped early)"

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
