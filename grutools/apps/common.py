"""What every widget app shares: a status line, guarded callbacks, and training in a background thread."""

from __future__ import annotations

import functools
import html
import os
import threading
import time
import traceback
from collections.abc import Callable

import ipywidgets as widgets
import torch

from ..core.training import History

CONTROL_WIDTH = "300px"
LABEL_STYLE = {"description_width": "110px"}


def control_layout(width: str = CONTROL_WIDTH) -> widgets.Layout:
    """Layout for a control in an app's side panel."""
    return widgets.Layout(width=width)


def panel_layout(width: str = "320px", **extra) -> widgets.Layout:
    """A side panel of controls: its width, never squeezed (a narrow screen puts the plot beneath it instead)."""
    return widgets.Layout(width=width, min_width=width, flex="0 0 auto", padding="0 10px 0 0", **extra)


def row_layout(**extra) -> widgets.Layout:
    """A panel beside a plot: side by side where the screen is wide enough, the plot beneath the panel where not."""
    return widgets.Layout(flex_flow="row wrap", align_items="flex-start", width="100%", **extra)


def start_stop_buttons(label: str, icon: str = "play", width: str = "145px") -> tuple[widgets.Button, widgets.Button]:
    """The primary button that starts a run (``label``) and its Stop button, disabled until a run starts."""
    start = widgets.Button(description=label, icon=icon, button_style="primary", layout=widgets.Layout(width=width))
    stop = widgets.Button(description="Stop", icon="stop", disabled=True, layout=widgets.Layout(width=width))
    return start, stop


def progress_bar(steps: int = 1) -> widgets.IntProgress:
    """A run's progress bar in the side panel, out of ``steps``."""
    return widgets.IntProgress(value=0, min=0, max=steps, description="progress", style=LABEL_STYLE,
                               layout=control_layout())


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
