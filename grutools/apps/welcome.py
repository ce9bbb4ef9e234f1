"""The welcome dashboard's live demo: train a GRU, an RNN or an LSTM on the adding problem and watch the loss."""

from __future__ import annotations

import ipywidgets as widgets
import plotly.graph_objects as go

from ..core.models import CELLS, SequenceModel
from ..core.tasks import AddingProblem
from ..core.training import History, TrainingDiverged, train
from ..plots import NAMES, loss_figure, smooth
from .common import (
    LABEL_STYLE,
    BackgroundTraining,
    Every,
    StatusLine,
    control_layout,
    friendly_error,
    guarded,
    panel_layout,
    progress_bar,
    row_layout,
    start_stop_buttons,
)
from .figures import PLOT_CLASS, figure_widget_class
from .guard import protect
from .questions import Asking
from .takeaway import TakeAway


class TrainingDemo(Asking, widgets.VBox):
    """Controls on the left, a live loss curve on the right; each cell type keeps its last run for comparison.

    >>> app = TrainingDemo()          # in a notebook, put ``app`` last in the cell to show it
    >>> app.train(wait=True)          # doctest: +SKIP
    """

    def __init__(self, length: int = 50, steps: int = 300, hidden_size: int = 16, seed: int = 0) -> None:
        self.seed = seed
        self.hidden_size = hidden_size
        self.cell = widgets.ToggleButtons(options=[(NAMES[c], c) for c in ("gru", "rnn", "lstm")], value="gru",
                                          style={"button_width": "96px"})
        self.length = widgets.IntSlider(value=length, min=10, max=200, step=10, description="sequence length",
                                        style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.steps = widgets.IntSlider(value=steps, min=50, max=1000, step=50, description="training steps",
                                       style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.train_button, self.stop_button = start_stop_buttons("Train", width="140px")
        self.progress = progress_bar(steps)
        self.status = StatusLine(layout=control_layout())
        self.takeaway = TakeAway()
        self.runs: dict[str, History] = {}
        task = AddingProblem(length)
        self.figure = figure_widget_class()(self._empty_figure(task, steps))
        self.job = BackgroundTraining(self._on_progress, self._on_done)
        self._curve_due = Every()

        self.train_button.on_click(guarded(self.status)(lambda _: self.train()))
        self.stop_button.on_click(guarded(self.status)(lambda _: self.job.stop()))
        self.length.observe(guarded(self.status)(self._on_length), names="value")
        self.steps.observe(guarded(self.status)(self._on_steps), names="value")

        intro = widgets.HTML(
            '<div style="line-height:1.4">'
            "<b>Adding problem.</b> Each step shows a number and a marker; the model must output the sum of "
            "the two marked numbers at the end. Press <i>Train</i>, then try another model.</div>",
            layout=control_layout())
        panel = widgets.VBox(
            [intro, widgets.HTML("<b>model</b>"), self.cell, self.length, self.steps,
             widgets.HBox([self.train_button, self.stop_button]), self.progress, self.status],
            layout=panel_layout())
        self.figure.add_class(PLOT_CLASS)
        # the take-away box (download, code) under the row, at full width, once something is trained
        super().__init__([widgets.HBox([panel, self.figure], layout=row_layout()), self.takeaway],
                         layout=widgets.Layout(width="100%"))
        protect(self, self.status)
        self.status.info("Ready. The dashed red line is 'learned nothing' (MSE 0.167).")

    def _empty_figure(self, task: AddingProblem, steps: int) -> go.Figure:
        runs = {cell: ([], []) for cell in CELLS}
        return loss_figure(runs, baseline=task.baseline, baseline_label=task.baseline_label, max_steps=steps,
                           title="Training loss on the adding problem", loss_name="mean squared error", height=420)

    def _trace_index(self, cell: str) -> int:
        return 2 * list(CELLS).index(cell)

    def _draw(self, cell: str, history: History) -> None:
        index = self._trace_index(cell)
        with self.figure.batch_update():
            self.figure.data[index].x = history.step
            self.figure.data[index].y = history.loss
            self.figure.data[index + 1].x = history.step
            self.figure.data[index + 1].y = smooth(history.loss, 20)

    def _on_length(self, change) -> None:
        if self.job.running:
            self.job.stop()
        for cell in CELLS:
            self._draw(cell, History())
        self.runs.clear()
        self.status.info(f"Sequence length {change['new']}: earlier curves cleared. Press Train.")

    def _on_steps(self, change) -> None:
        self.figure.layout.xaxis.range = [0, change["new"]]
        self.figure.data[-1].x = [0, change["new"]]

    def train(self, wait: bool = False) -> None:
        """Train the chosen model on the adding problem (what the Train button does)."""
        cell, steps = self.cell.value, self.steps.value
        task = AddingProblem(self.length.value)
        model = SequenceModel(cell, hidden_size=self.hidden_size, seed=self.seed, **task.model_kwargs())
        self._running = (cell, task, steps)
        self.model = model
        self.progress.max, self.progress.value = steps, 0
        self.train_button.disabled, self.stop_button.disabled = True, False
        self.status.info(f"Training a {NAMES[cell]} on sequences of {task.length} steps...")
        self.job.start(lambda stop, report: train(model, task, steps=steps, lr=1e-2, seed=self.seed,
                                                  callback=report, stop=stop))
        if wait:
            self.job.join()

    def _on_progress(self, history: History, final: bool = False) -> None:
        """The progress bar at every report, the curves once a second (see :class:`Every`) and at the end."""
        self.progress.value = len(history.loss)
        if self._curve_due(final):
            self._draw(self._running[0], history)

    def _on_done(self, history: History | None, error: BaseException | None) -> None:
        cell, task, steps = self._running
        self.train_button.disabled, self.stop_button.disabled = False, True
        if isinstance(error, TrainingDiverged):
            history = error.history
        if history is not None:
            self.runs[cell] = history
            self._on_progress(history, final=True)
        if error is not None:
            self.status.error(friendly_error(error))
            return
        if not history.loss:  # Stop pressed before the first step ended
            self.status.info("Stopped before the first step. Press Train to start again.")
            return
        final = history.final_loss
        verdict = ("far below the line: it learned to carry the first number" if final < 0.3 * task.baseline
                   else "still near the line: it has not learned to remember yet")
        stopped = self.job.stopped_note() if history.stopped else ""
        self.takeaway.show(task, [(self.model, history)], stem=f"adding{task.length}")
        self.status.ok(f"{NAMES[cell]}: final loss {final:.4f} after {len(history.loss)} steps, "
                       f"{history.wall_time[-1]:.1f} s{stopped}; {verdict}.")
