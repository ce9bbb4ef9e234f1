"""The "gates over time" dashboard: train a GRU live and watch its update and reset gates on a test sequence."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go

from ..core import io
from ..core.models import SequenceModel
from ..core.tasks import DATA_DIR, TASKS, Task, make_task
from ..core.trace import Trace, trace
from ..core.training import History, TrainingDiverged, train
from ..lessons.gates import SORTS, describe_run, event_steps, model_at, saturation, timescales, unit_order
from ..plots import loss_figure, smooth
from .common import (
    LABEL_STYLE,
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
from .figures import refresh_figure, show_figure
from .gateviews import GateViews, ShowsGateViews
from .guard import protect
from .questions import Asking
from .takeaway import TakeAway

CHECKPOINTS = DATA_DIR / "checkpoints"
MAX_LIVE_LENGTH = 1000  # the longest sequences a dashboard trains on live
DEFAULT_LENGTHS = {"adding": 50, "copy": 30, "sunspots": 60, "timescales": 100}
LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
TEST_SEED, TEST_BATCH = 1234, 64
SNAPSHOTS = 20  # weight snapshots kept per live run, for the "through training" slider


def checkpoint_path(task_name: str) -> Path:
    """Where the pre-trained GRU for a task ships: ``data/checkpoints/<task>_gru.pt``."""
    return CHECKPOINTS / f"{task_name}_gru.pt"


class GatesExplorer(Asking, ShowsGateViews):
    """Train a GRU live and look at its gates: heatmaps over time, one unit close up, saturation, snapshots.

    The views are separate widgets so that a notebook can put narrative between
    them: :attr:`training_view`, :attr:`gates_view`, :attr:`findings`,
    :attr:`unit_view` and :attr:`saturation_view`. It opens on the pre-trained
    model shipped in ``data/checkpoints``; :meth:`train` replaces it.

    >>> app = GatesExplorer()                  # doctest: +SKIP
    >>> app.train(steps=300, wait=True)        # doctest: +SKIP
    """

    def __init__(self, task: str = "adding", seed: int = 0) -> None:
        self.seed = seed
        self.status = StatusLine(layout=control_layout())
        guard = guarded(self.status)
        self.task_choice = widgets.Dropdown(options=[(TASKS[name].title, name) for name in TASKS], value=task,
                                            description="task", style=LABEL_STYLE, layout=control_layout())
        self.length = widgets.BoundedIntText(value=DEFAULT_LENGTHS[task], min=2, max=MAX_LIVE_LENGTH,
                                             description="sequence length", style=LABEL_STYLE, layout=control_layout())
        self.hidden = widgets.Dropdown(options=[4, 8, 16, 32, 64], value=16, description="hidden units",
                                       style=LABEL_STYLE, layout=control_layout())
        self.layers = widgets.ToggleButtons(options=[("1 layer", 1), ("2 layers", 2)], value=1,
                                            style={"button_width": "90px"})
        self.lr = widgets.Dropdown(options=[(f"{lr:g}", lr) for lr in LEARNING_RATES], value=0.01,
                                   description="learning rate", style=LABEL_STYLE, layout=control_layout())
        self.steps = widgets.IntSlider(value=600, min=100, max=3000, step=100, description="training steps",
                                       style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.train_button, self.stop_button = start_stop_buttons("Train")
        self.previous_button = widgets.Button(description="Back to the previous model", icon="undo", disabled=True,
                                              layout=widgets.Layout(width="295px"),
                                              tooltip="Training replaces the shown model; this brings the one before back.")
        self.progress = progress_bar()
        self.loss_figure: go.FigureWidget | None = None  # each figure widget is made from its first figure

        view = dict(style={"description_width": "70px"}, layout=widgets.Layout(width="250px"))
        self.sample = widgets.IntSlider(value=0, min=0, max=15, description="sequence", continuous_update=False,
                                        **view)
        self.sort = widgets.Dropdown(options=[(label, key) for key, label in SORTS.items()], value="mean",
                                     description="sort units", **view)
        self.layer = widgets.ToggleButtons(options=[("layer 1", 0)], value=0, style={"button_width": "80px"})
        self.snapshot = widgets.SelectionSlider(options=[("step 0", 0)], value=0, description="after step",
                                                continuous_update=False, style={"description_width": "70px"},
                                                layout=widgets.Layout(width="420px"))
        self.views = GateViews()  # the gate views, shared with grutools.explore and dashboard 06
        self.unit = widgets.Dropdown(options=[0], value=0, description="unit", **view)
        self.findings = widgets.HTML(layout=widgets.Layout(width="auto", max_width="1100px"))

        self.job = BackgroundTraining(self._on_progress, self._on_done)
        self.takeaway = TakeAway()
        self._curve_due = Every()  # the loss curve is redrawn once a second, the progress bar at every report
        self._traces: dict[int, Trace] = {}
        self.task: Task | None = None
        self.model: SequenceModel | None = None
        self.history = History()
        self._previous: tuple[Task, SequenceModel, History] | None = None

        self.train_button.on_click(guard(lambda _: self.train()))
        self.previous_button.on_click(guard(lambda _: self.show_previous()))
        self.stop_button.on_click(guard(lambda _: self.stop()))
        self.task_choice.observe(guard(self._on_task), names="value")
        self._quiet = False  # True while _show_model sets several controls at once
        for control in (self.sample, self.sort, self.snapshot):
            control.observe(guard(lambda _: self._quiet or self.redraw()), names="value")
        self.layer.observe(guard(lambda _: self._quiet or (self.redraw(), self._draw_saturation())), names="value")
        self.unit.observe(guard(lambda _: self._quiet or self._draw_closeup()), names="value")

        self.load_pretrained(task)
        layers_label = widgets.HTML('<div style="text-align:right;padding-right:6px">layers</div>',
                                    layout=widgets.Layout(width="116px"))
        panel = widgets.VBox([
            widgets.HTML("<b>Train a GRU</b>"), self.task_choice, self.length, self.hidden,
            widgets.HBox([layers_label, self.layers]), self.lr, self.steps,
            widgets.HBox([self.train_button, self.stop_button]), self.progress, self.previous_button, self.status,
        ], layout=panel_layout())
        self.training_view = widgets.VBox([widgets.HBox([panel, self.loss_figure], layout=row_layout()),
                                           self.takeaway], layout=widgets.Layout(width="100%"))
        controls = widgets.HBox([self.sample, self.sort, self.layer, self.snapshot],
                                layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        self.gates_view = widgets.VBox([controls, self.heatmaps])
        self.unit_view = widgets.VBox([self.unit, self.closeup])
        self.saturation_view = widgets.VBox([self.saturation_plot])
        protect([self.training_view, self.gates_view, self.unit_view, self.saturation_view, self.findings], self.status)

    # ------------------------------------------------------------------------------------------
    # models

    def load_pretrained(self, task_name: str) -> None:
        """Show the GRU pre-trained on ``task_name`` (from ``data/checkpoints``), or an untrained one if it is missing."""
        path = checkpoint_path(task_name)
        if path.exists():
            checkpoint = io.load(path)
            metadata = checkpoint.metadata
            task = make_task(task_name, int(metadata.get("length", DEFAULT_LENGTHS[task_name])))
            self._show_model(task, checkpoint.model, checkpoint.history)
            self.status.info(f"Showing a GRU pre-trained for {len(self.history.loss)} steps on this task "
                             f"(from data/checkpoints). Press Train to train your own.")
        else:
            task = make_task(task_name, DEFAULT_LENGTHS[task_name])
            model = SequenceModel("gru", hidden_size=self.hidden.value, seed=self.seed, **task.model_kwargs())
            history = History(snapshots=[(0, {k: v.clone() for k, v in model.state_dict().items()})])
            self._show_model(task, model, history)
            self.status.info(f"No pre-trained model at {path}; this one is untrained. Press Train.")

    def _show_model(self, task: Task, model: SequenceModel, history: History) -> None:
        """Make ``model`` (trained on ``task``, with ``history``) the one every view shows."""
        self.task, self.model, self.history = task, model, history
        self._traces = {}
        self.x_test, _ = task.sample(TEST_BATCH, seed=TEST_SEED, split="test")
        steps = [step for step, _ in history.snapshots]
        self._quiet = True
        try:
            for control, value in ((self.length, task.length), (self.hidden, model.hidden_size),
                                   (self.layers, model.num_layers)):
                control.value = value
            self.layer.options = [(f"layer {i + 1}", i) for i in range(model.num_layers)]
            self.layer.value = model.num_layers - 1
            self.layer.layout.display = None if model.num_layers > 1 else "none"
            self.snapshot.options = [(f"{step}", i) for i, step in enumerate(steps)]
            self.snapshot.value = len(steps) - 1
            longest = timescales(self._trace(len(steps) - 1).update[self.layer.value])
            self.unit.options = list(range(model.hidden_size))
            self.unit.value = int(np.argmax(longest))
        finally:
            self._quiet = False
        self._draw_loss(history, max_steps=max(history.step[-1] if history.step else 1, 1))
        self.redraw()
        self._draw_saturation()

    def _trace(self, snapshot: int) -> Trace:
        """The trace of the test batch through the model at one snapshot (cached)."""
        if snapshot not in self._traces:
            model = model_at(self.model, self.history.snapshots[snapshot][1]) if self.history.snapshots else self.model
            self._traces[snapshot] = trace(model, self.x_test)
        return self._traces[snapshot]

    # ------------------------------------------------------------------------------------------
    # drawing

    def redraw(self) -> None:
        """Redraw the heatmaps and the close-up for the chosen sequence, layer, sort and snapshot."""
        snapshot = self.snapshot.value
        layer, sample = self.layer.value, self.sample.value
        shown = self._trace(snapshot)
        final = self._trace(len(self.history.snapshots) - 1)
        # the order comes from the final model, so each unit keeps its row while scrubbing through training
        order = unit_order(final.update[layer].reshape(-1, self.model.hidden_size).numpy(), self.sort.value)
        x = self.x_test[sample].numpy()
        values = {name: shown.numpy(name, layer, sample) for name in ("update", "reset", "hidden")}
        step = self.history.snapshots[snapshot][0] if self.history.snapshots else 0
        total = self.history.snapshots[-1][0] if self.history.snapshots else 0
        title = f"Test sequence {sample}, layer {layer + 1}, after {step} of {total} training steps"
        self.views.draw_heatmaps(self.task, x, values, order, title, events=event_steps(self.task, x))
        self._draw_closeup()

    def _draw_closeup(self) -> None:
        shown = self._trace(self.snapshot.value)
        layer, sample, unit = self.layer.value, self.sample.value, self.unit.value
        x = self.x_test[sample].numpy()
        values = {name: shown.numpy(name, layer, sample) for name in ("update", "reset", "candidate", "hidden")}
        self.views.draw_unit(self.task, x, values, unit, events=event_steps(self.task, x))

    def _draw_saturation(self) -> None:
        layer = self.layer.value
        before, after = self._trace(0), self._trace(len(self.history.snapshots) - 1)
        trained = {gate: saturation(getattr(after, gate)[layer]) for gate in ("update", "reset")}
        untrained = {gate: saturation(getattr(before, gate)[layer]) for gate in ("update", "reset")}
        self.views.draw_saturation(trained, untrained)
        sentences = describe_run(after, before, self.task, layer)
        steps = self.history.snapshots[-1][0] if self.history.snapshots else 0
        self.findings.value = findings_html(sentences, f"<b>What this model does</b> (layer {layer + 1}, after {steps} "
                                                       f"training steps, on {TEST_BATCH} test sequences):")

    def _draw_loss(self, history: History, max_steps: int, task: Task | None = None) -> None:
        task = task or self.task
        figure = loss_figure({"gru": (history.step, history.loss)}, baseline=task.baseline,
                             baseline_label=task.baseline_label, max_steps=max_steps, height=400,
                             title=f"Training loss: {task.title}, length {task.length}",
                             loss_name="cross-entropy" if task.name == "copy" else "mean squared error")
        if self.loss_figure is None:
            self.loss_figure = show_figure(None, figure)
            return
        refresh_figure(self.loss_figure, figure)
        with self.loss_figure.batch_update():
            self.loss_figure.layout.xaxis.range = figure.layout.xaxis.range
            self.loss_figure.layout.yaxis.title = figure.layout.yaxis.title

    # ------------------------------------------------------------------------------------------
    # training

    def _on_task(self, change) -> None:
        if self._quiet:
            return
        self.load_pretrained(change["new"])

    def train(self, steps: int | None = None, wait: bool = False) -> None:
        """Train a new GRU with the panel's settings (what the Train button does); the shown model stays until it ends."""
        if self.job.running:
            raise RuntimeError("Training is already running; press Stop first.")
        if steps is not None:
            self.steps.value = steps
        task = make_task(self.task_choice.value, self.length.value)
        if task.length > MAX_LIVE_LENGTH:
            raise ValueError(f"sequence length {task.length} is too long for live training here; use at most "
                             f"{MAX_LIVE_LENGTH}.")
        steps = self.steps.value
        model = SequenceModel("gru", hidden_size=self.hidden.value, num_layers=self.layers.value, seed=self.seed,
                              **task.model_kwargs())
        lr = self.lr.value
        self._pending = (task, model, steps, lr)
        self.progress.max, self.progress.value = steps, 0
        self._set_training(True)
        self._draw_loss(History(), steps, task)
        self.status.info(f"Training a GRU ({model.hidden_size} units x {model.num_layers} layer(s)) on {task.title}, "
                         f"length {task.length}, learning rate {lr:g}...")
        self.job.start(lambda stop, report: train(model, task, steps=steps, lr=lr, seed=self.seed, callback=report,
                                                  stop=stop, snapshot_every=max(1, steps // SNAPSHOTS)))
        if wait:
            self.job.join()

    def show_previous(self) -> None:
        """Swap the shown model with the one shown before the last training run (so a bad run loses nothing)."""
        if self._previous is None:
            raise RuntimeError("There is no previous model yet: train one first.")
        current = (self.task, self.model, self.history)
        self._quiet = True
        try:
            self.task_choice.value = self._previous[0].name
        finally:
            self._quiet = False
        self._show_model(*self._previous)
        self._previous = current
        self.status.info(f"Showing the previous model ({len(self.history.loss)} training steps); "
                         "press the button again to swap back.")

    def _set_training(self, running: bool) -> None:
        """Lock the settings while training runs (changing the task mid-run would orphan the run)."""
        self.train_button.disabled, self.stop_button.disabled = running, not running
        for control in (self.task_choice, self.length, self.hidden, self.layers, self.lr, self.steps):
            control.disabled = running
        self.previous_button.disabled = running or self._previous is None

    def stop(self) -> None:
        """Stop training after the current step; the model learned so far is kept and shown."""
        self.job.stop()
        self.status.info("Stopping...")

    def _on_progress(self, history: History, final: bool = False) -> None:
        """Show training progress: the progress bar at every report, the loss curve once a second and at the end."""
        self.progress.value = len(history.loss)
        if not self._curve_due(final):
            return
        # runs in the training thread: send 1-D float32 arrays (binary buffers), far cheaper than JSON lists
        steps = np.asarray(history.step, dtype=np.float32)
        loss = np.asarray(history.loss, dtype=np.float32)
        stride = max(1, len(loss) // 400)  # at most ~400 points per curve: enough to see the noise, cheap to redraw
        with self.loss_figure.batch_update():
            self.loss_figure.data[0].x, self.loss_figure.data[0].y = steps[::stride], loss[::stride]
            self.loss_figure.data[1].x = steps[::stride]
            self.loss_figure.data[1].y = smooth(loss, 20).astype(np.float32)[::stride]

    def _on_done(self, history: History | None, error: BaseException | None) -> None:
        task, model, steps, lr = self._pending
        self._set_training(False)
        try:
            if isinstance(error, TrainingDiverged):
                self._on_progress(error.history, final=True)
                self.status.error(f"{error} The previous model is still shown.")
                return
            if error is not None:
                self.status.error(f"Training failed: {friendly_error(error)} The previous model is still shown.")
                return
            self._on_progress(history, final=True)
            if not history.loss:
                self.status.info("Stopped before the first step; the previous model is still shown.")
                return
            self._previous = (self.task, self.model, self.history)
            self._show_model(task, model, history)
            self.takeaway.show(task, [(model, history)], stem=f"{task.name}{task.length}")
            self.previous_button.disabled = False
            final = history.final_loss
            verdict = ("well below the 'learned nothing' line" if final < 0.5 * task.baseline
                       else "not clearly below the 'learned nothing' line yet: train longer"
                       + (" or lower the learning rate" if lr >= 0.1 else ""))
            stopped = self.job.stopped_note() if history.stopped else ""
            self.status.ok(f"Trained {len(history.loss)} steps in {history.wall_time[-1]:.2f} s{stopped}: "
                           f"final loss {final:.4f}, {verdict}. The views below now show this model.")
        except Exception as exc:  # this runs in the training thread: never let an error vanish
            self.status.error(f"Could not show the trained model: {exc}")
            raise

    @property
    def current_trace(self) -> Trace:
        """The trace shown in the heatmaps (the chosen snapshot), for tests and further analysis."""
        return self._trace(self.snapshot.value)
