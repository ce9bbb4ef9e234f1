"""Dashboard 07, the GRU among its rivals: a live race, the shipped study, cost against length, streaming."""

from __future__ import annotations

import html
import json
from pathlib import Path

import ipywidgets as widgets

from ..core.tasks import DATA_DIR
from ..lessons.rivals import (
    BAI_ADDING_600,
    MODELS,
    NAMES,
    STUDY_COMMAND,
    TARGETS,
    claims,
    gru_choice,
    make_study_task,
    read_study,
    rival_race,
    steps_below,
    summarise_study,
    verdicts,
)
from ..plots.rivals import rival_race_figure, scaling_figure, streaming_figure, study_figure
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
from .figures import PLOT_CLASS, show_figure
from .guard import protect
from .questions import Asking

STUDY_PATH = DATA_DIR / "results" / "rivals.csv"
SCALING_PATH = DATA_DIR / "results" / "rivals_scaling.json"
SCALING_COMMAND = "python benchmarks/rivals_scaling.py --out data/results/rivals_scaling.json"
# per task: the lengths a student may choose (min, max, step) and the default; parity stays short (a GRU needs
# a few hundred steps at 30), the adding problem goes to Bai et al.'s 600
LENGTHS = {"adding": (20, 600, 10, 100), "sunspots": (20, 120, 10, 60), "parity": (10, 60, 5, 30)}
TASK_TITLES = {"adding": "adding problem", "sunspots": "sunspots", "parity": "running parity"}
SHORT_NAMES = {"gru": "GRU", "lstm": "LSTM", "mlp": "window MLP", "tcn": "TCN", "mingru": "minGRU",
               "transformer": "Transformer"}  # the check boxes' labels (the full names are in the plots and tables)
TASK_BUTTONS = {"adding": "adding", "sunspots": "sunspots", "parity": "parity"}
RACE_BUDGET_S = 120.0  # a live race stops after 2 minutes (issue 30), saying so
LOSS_NAMES = {"adding": "mean squared error", "sunspots": "mean squared error", "parity": "cross-entropy"}


class RivalsExplorer(Asking):
    """Race the GRU against the LSTM and its rivals live, and read the shipped study and benchmarks.

    Views: :attr:`race_view` (pick a task, a length and the models; Train races them on
    the same batches), :attr:`study_view` (test loss over seeds from ``data/results``),
    :attr:`cost_view` (time per step against length, and streaming) and :attr:`verdict_view`.
    """

    def __init__(self, study_path=STUDY_PATH, scaling_path=SCALING_PATH, hidden_size: int = 32) -> None:
        self.hidden_size = hidden_size
        self.status = StatusLine(layout=control_layout())
        guard = guarded(self.status)
        self.task = widgets.ToggleButtons(options=[(TASK_BUTTONS[t], t) for t in LENGTHS], value="parity",
                                          tooltips=[TASK_TITLES[t] for t in LENGTHS], style={"button_width": "88px"})
        low, high, step, default = LENGTHS["parity"]
        self.length = widgets.IntSlider(value=default, min=low, max=high, step=step, description="sequence length",
                                        style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.steps = widgets.IntSlider(value=300, min=50, max=600, step=50, description="training steps",
                                       style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.choices = {kind: widgets.Checkbox(value=kind in ("gru", "lstm", "mingru", "tcn"),
                                               description=SHORT_NAMES[kind], indent=False,
                                               layout=widgets.Layout(width="150px")) for kind in MODELS}
        self.train_button, self.stop_button = start_stop_buttons("Race", width="140px")
        self.progress = progress_bar(self.steps.value)
        self.findings = widgets.HTML()
        self.plot = None
        self.result = None
        self._running: tuple | None = None
        self._curve_due = Every()
        self.job = BackgroundTraining(self._on_progress, self._on_done, time_budget=RACE_BUDGET_S)
        self.train_button.on_click(guard(lambda _: self.race()))
        self.stop_button.on_click(guard(lambda _: self.job.stop()))
        self.task.observe(guard(self._on_task), names="value")
        self.length.observe(guard(lambda _: self._draw_empty()), names="value")
        self.steps.observe(guard(lambda _: self._draw_empty()), names="value")
        self._draw_empty()
        boxes = widgets.VBox([widgets.HBox([self.choices[a], self.choices[b]]) for a, b in
                              (("gru", "lstm"), ("mingru", "tcn"), ("mlp", "transformer"))])
        panel = widgets.VBox([widgets.HTML("<b>task</b>"), self.task, self.length, self.steps,
                              widgets.HTML("<b>models</b>"), boxes, widgets.HBox([self.train_button, self.stop_button]),
                              self.progress, self.status], layout=panel_layout())
        self.plot.add_class(PLOT_CLASS)
        self.race_view = widgets.VBox([widgets.HBox([panel, self.plot], layout=row_layout()), self.findings])
        self.status.info("Pick the models and press Race: they train on the same batches, each step timed apart.")
        protect(self.race_view, self.status)

        self.summary, self.study_status = None, StatusLine(layout=widgets.Layout(width="100%"))
        try:
            self.summary = summarise_study(read_study(study_path))
        except (OSError, ValueError, KeyError) as error:
            self.study_status.error(f"No shipped study to show ({error}). Make it with {STUDY_COMMAND}.")
        self.study_view = widgets.VBox([self.study_status] + (self._study_widgets() if self.summary else []))
        self.scaling, self.cost_status = None, StatusLine(layout=widgets.Layout(width="100%"))
        try:
            self.scaling = json.loads(Path(scaling_path).read_text())
        except (OSError, ValueError) as error:
            self.cost_status.error(f"No shipped benchmark to show ({error}). Make it with {SCALING_COMMAND}.")
        self.cost_view = widgets.VBox([self.cost_status] + (self._cost_widgets() if self.scaling else []))
        self.verdict_view = widgets.HTML(self.verdict_html())
        protect([self.study_view, self.cost_view, self.verdict_view], self.study_status)

    # ------------------------------------------------------------------------------------------
    # the live race

    def selected(self) -> list[str]:
        return [kind for kind in MODELS if self.choices[kind].value]

    def _on_task(self, change) -> None:
        low, high, step, default = LENGTHS[change["new"]]
        # the widest bounds first, so that min never passes max; ipywidgets clamps the value into the new ones
        self.length.max = max(self.length.max, high)
        self.length.min = low
        self.length.max = high
        self.length.step, self.length.value = step, default
        self._draw_empty()

    def _draw_empty(self, runs=None) -> None:
        task = make_study_task(self.task.value, self.length.value)
        title = f"Training loss on the {TASK_TITLES[task.name]}, length {task.length}"
        figure = rival_race_figure(runs or {}, NAMES, task.baseline, task.baseline_label, self.steps.value, title,
                                   loss_name=LOSS_NAMES[task.name])
        self.plot = show_figure(self.plot, figure)

    def race(self, wait: bool = False) -> None:
        """Race the chosen models (what the Race button does)."""
        models = self.selected()
        if not models:
            self.status.error("Choose at least one model to race.")
            return
        task = make_study_task(self.task.value, self.length.value)
        steps = self.steps.value
        self._running = (task, models, steps)
        self.progress.max, self.progress.value = steps, 0
        self.train_button.disabled, self.stop_button.disabled = True, False
        self.findings.value = ""
        self.status.info(f"Racing {', '.join(NAMES[m] for m in models)} on the {TASK_TITLES[task.name]} "
                         f"(length {task.length})...")
        self.job.start(lambda stop, report: rival_race(task, models=models, hidden_size=self.hidden_size, steps=steps,
                                                       callback=report, stop=stop))
        if wait:
            self.job.join()

    def _runs(self, result) -> dict:
        return {kind: (history.step, history.loss) for kind, history in result.histories.items()}

    def _on_progress(self, result, final: bool = False) -> None:
        self.result = result
        self.progress.value = max((len(h.loss) for h in result.histories.values()), default=0)
        if self._curve_due(final):
            self._draw_empty(self._runs(result))

    def _on_done(self, result, error) -> None:
        self.train_button.disabled, self.stop_button.disabled = False, True
        if error is not None:
            self.status.error(friendly_error(error))
            return
        self._on_progress(result, final=True)
        task, models, _ = self._running
        if not any(h.loss for h in result.histories.values()):
            self.status.info("Stopped before the first step. Press Race to start again.")
            return
        target = TARGETS[task.name]
        lines = []
        for kind in models:
            history = result.histories[kind]
            if not history.loss:
                continue
            reached = steps_below(history.loss, target)
            when = f"below {target:g} at step {reached}" if reached else f"never below {target:g}"
            diverged = " (diverged)" if kind in result.diverged else ""
            lines.append(f"{NAMES[kind]}: final loss {history.final_loss:.4g}{diverged}, {when}; "
                         f"{result.models[kind].parameter_count():,} parameters, {result.ms_per_step(kind):.1f} ms a step.")
        stopped = self.job.stopped_note() if result.stopped else ""
        self.findings.value = findings_html(lines, f"<b>This race</b> (guessing scores {task.baseline:.3g}){stopped}")
        best = min((k for k in models if result.histories[k].loss), key=lambda k: result.histories[k].final_loss)
        self.status.ok(f"Done{stopped}: lowest final loss {NAMES[best]}. One seed: compare it with the study below.")

    # ------------------------------------------------------------------------------------------
    # the shipped study and benchmarks

    def _study_widgets(self) -> list:
        figure = show_figure(None, study_figure(self.summary, NAMES, MODELS, reference=BAI_ADDING_600))
        figure.add_class(PLOT_CLASS)
        return [figure, widgets.HTML(self.study_table_html())]

    def study_table_html(self) -> str:
        """The study as a table: parameters, test loss over seeds, time per step, time to the target."""
        head = "".join(f'<th scope="col">{h}</th>' for h in ("task", "model", "params", "test loss: mean (best-worst)",
                                                          "ms a step", "time to the target (seeds)"))
        head = f"<tr>{head}</tr>"
        rows = []
        for (task, length, kind), s in sorted(self.summary.items(), key=lambda kv: (kv[0][0], kv[0][1], MODELS.index(kv[0][2]))):
            reached = (f"{s['seconds_to_target']:.1f} s ({s['reached']} of {s['seeds']})" if s["seconds_to_target"]
                       is not None else f"never (0 of {s['seeds']})")
            rows.append(f"<tr><td>{task} {length}</td><td>{html.escape(NAMES[kind])}</td><td>{s['parameters']:,}</td>"
                        f"<td>{s['mean']:.3g} ({s['min']:.3g}-{s['max']:.3g})</td><td>{s['ms_per_step']:.1f}</td>"
                        f"<td>{reached} &lt; {s['target']:g}</td></tr>")
        bai = ", ".join(f"{NAMES[k]} {v:.2g}" for k, v in BAI_ADDING_600.items())
        return ('<style>.grutools-table td, .grutools-table th {padding:3px 10px;text-align:left;'
                'border-bottom:1px solid #ddd} .grutools-table caption {text-align:left;padding:4px 0}</style>'
                '<div style="max-width:100%;overflow-x:auto"><table class="grutools-table" '
                'style="border-collapse:collapse;font-size:14px">'
                f"<caption>The shipped study ({STUDY_COMMAND}). Bai et al. 2018 at T = 600: {bai}, after far longer "
                "training (their models ran to convergence; ours have a fixed budget of steps, one learning rate "
                f"for all, and 32 units).</caption>{head}{''.join(rows)}</table></div>")

    def _cost_widgets(self) -> list:
        data = self.scaling
        kinds = [k for k in MODELS if k in data["train_ms"]]
        slopes = {k: data["slope"][k] for k in kinds}
        scaling = show_figure(None, scaling_figure(data["lengths"], {k: data["train_ms"][k] for k in kinds}, slopes,
                                                   NAMES))
        streaming = show_figure(None, streaming_figure(data["stream_at"], {k: data["stream"][k] for k in kinds}, NAMES))
        for figure in (scaling, streaming):
            figure.add_class(PLOT_CLASS)
        ratios = ", ".join(f"{n}: {r:.2f}" for n, r in data["scan_ratio"].items())
        where = html.escape(str(data["machine"].get("cpu", "this machine")))
        note = widgets.HTML(f"<p>minGRU's parallel scan against its step-by-step loop, loop time / scan time per "
                            f"length: {ratios} (above 1: the scan is faster). Measured on {where} on {data['date']}, "
                            f"{data['rounds']} interleaved rounds ({html.escape(data['command'])}).</p>")
        return [scaling, note, streaming]

    def verdict_html(self) -> str:
        """The verdict, read from the shipped numbers: when a GRU is the right choice, and when it is not."""
        sentences = verdicts(self.summary) + claims(self.summary) if self.summary else []
        if self.scaling:
            data = self.scaling
            last = data["stream_at"][-1]
            gru, transformer = data["stream"]["gru"], data["stream"]["transformer"]
            sentences.append(f"Streaming: after {last} steps the GRU keeps {gru['bytes'][-1] / 1024:.2g} KiB and takes "
                             f"{gru['ms'][-1]:.2f} ms a new step; the Transformer keeps {transformer['bytes'][-1] / 1024:.0f} "
                             f"KiB of cache, growing with every step, and takes {transformer['ms'][-1]:.2f} ms.")
            slope = data["slope"]
            sentences.append(f"Training cost against length (slopes): GRU {slope['gru']:.2f}, TCN {slope['tcn']:.2f}, "
                             f"Transformer {slope['transformer']:.2f}, minGRU {slope['mingru']:.2f}. At length "
                             f"{data['lengths'][-1]} a GRU step takes {data['train_ms']['gru'][-1]:.0f} ms, a TCN step "
                             f"{data['train_ms']['tcn'][-1]:.0f} ms.")
        if self.summary:
            sentences += gru_choice(self.summary, self.scaling)
        if not sentences:
            return "<p>No shipped numbers to judge from.</p>"
        return findings_html(sentences, "<b>What the shipped numbers say</b>")
