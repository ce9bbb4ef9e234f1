"""A live view of dashboard 08: a panel of controls beside a plot, Train and Stop, a progress bar, a status line.

Each run goes in a background thread with a 2-minute budget (issue 29: every live comparison finishes in
under 2 minutes on one core).
"""

from __future__ import annotations

import ipywidgets as widgets

from .common import (
    BackgroundTraining,
    Every,
    StatusLine,
    control_layout,
    findings_html,
    friendly_error,
    guarded,
    panel_layout,
    progress_bar,
    row_layout,
    start_stop_buttons,
)
from .figures import PLOT_CLASS, show_figure

LIVE_BUDGET_S = 120.0  # each live comparison stops after 2 minutes, saying so


class LiveView:
    """A panel of controls beside a plot, with a Train and a Stop button, a progress bar and a status line; the run
    goes in a background thread with a 2-minute budget. Subclasses build ``controls`` and implement ``_run``,
    ``_progress`` (the plot, live) and ``_done`` (the findings)."""

    label = "Train"

    def __init__(self, controls: list, steps: int) -> None:
        self.status = StatusLine(layout=control_layout())
        self.guard = guarded(self.status)
        self.train_button, self.stop_button = start_stop_buttons(self.label)
        self.progress = progress_bar(steps)
        self.findings = widgets.HTML()
        self.result = None
        self._redraw = Every()
        self.job = BackgroundTraining(self._on_progress, self._on_done, time_budget=LIVE_BUDGET_S)
        self.train_button.on_click(self.guard(lambda _: self.start()))
        self.stop_button.on_click(self.guard(lambda _: self.job.stop()))
        self.plot = show_figure(None, self._figure(None))
        self.plot.add_class(PLOT_CLASS)
        panel = widgets.VBox([*controls, widgets.HBox([self.train_button, self.stop_button]), self.progress,
                              self.status], layout=panel_layout())
        self.view = widgets.VBox([widgets.HBox([panel, self.plot], layout=row_layout()), self.findings])

    def start(self, wait: bool = False) -> None:
        """Start a run (what the Train button does); ``wait``: return when it has finished."""
        if self.job.running:
            self.job.join(5.0)  # pressed as the last run was handing its results over
        if self.job.running:
            self.status.error("A run is still ending; press again in a moment.")
            return
        self.progress.value = 0
        self.train_button.disabled, self.stop_button.disabled = True, False
        self.findings.value = ""
        self.job.start(self._run())
        if wait:
            self.job.join()

    def _on_progress(self, result, final: bool = False) -> None:
        self.result = result
        self.progress.value = min(self.progress.max, self._steps_done(result))
        if self._redraw(final):
            self.plot = show_figure(self.plot, self._figure(result))

    def _on_done(self, result, error) -> None:
        """The end of a run (in the training thread): the findings, then the buttons back, whatever happens."""
        try:
            if error is not None:
                self.status.error(friendly_error(error))
                return
            self._on_progress(result, final=True)
            note = self.job.stopped_note() if self.job.stop_requested else ""
            sentences = self._done(result)
            self.findings.value = findings_html(sentences, f"<b>This run</b>{note}") if sentences else ""
            self.status.ok(f"Done{note}.")
        except Exception as problem:  # a finding that fails must not leave the panel stuck
            self.status.error(friendly_error(problem))
        finally:
            self.stop_button.disabled = True
            self.train_button.disabled = False  # last: a click now finds the run ended (see start)

    def _refresh(self, _=None) -> None:
        if not self.job.running:
            self.plot = show_figure(self.plot, self._figure(None))
