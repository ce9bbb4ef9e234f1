"""Dashboard 08's views of settings and runs: the shipped grid of learning rate by size (one cell re-run live),
and a monitored run under the classic failures."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from ..core.tasks import DATA_DIR
from ..lessons.monitoring import SCENARIOS, monitor, monitored_run, read_scenarios, scenario_findings
from ..lessons.tuning import (
    HIDDEN_SIZES,
    LEARNING_RATES,
    STUDY_COMMAND,
    TASKS,
    grid_run,
    read_grid,
    summarise_grid,
    tuning_claims,
)
from ..plots.care import grid_figure, monitor_figure
from .common import LABEL_STYLE, StatusLine, control_layout, findings_html
from .live import LiveView

STUDY_PATH = DATA_DIR / "results" / "tuning.csv"
SCENARIOS_PATH = DATA_DIR / "results" / "scenarios.csv"
NAMES = {"gru": "GRU", "lstm": "LSTM"}
TASK_TITLES = {"sunspots": "Sunspots (60 months)", "adding": "Adding problem (length 50)"}
MONITOR_STEPS = 600


class SettingsView(LiveView):
    """The shipped grid as heatmaps, GRU and LSTM side by side, its verdicts, and one cell re-run live (seed 0)."""

    label = "Re-run cell"

    def __init__(self, study_path=None) -> None:
        self.summary, self.rows, problem = None, [], None
        try:
            self.rows = read_grid(study_path or STUDY_PATH)
            self.summary = summarise_grid(self.rows)
        except (OSError, ValueError, KeyError) as error:
            problem = f"No shipped study to show ({error}). Make it with {STUDY_COMMAND}."
        self.task = widgets.ToggleButtons(options=[(name, name) for name in TASKS], value="sunspots",
                                          style={"button_width": "100px"})
        self.model = widgets.ToggleButtons(options=[("GRU", "gru"), ("LSTM", "lstm")], value="gru",
                                           style={"button_width": "70px"})
        self.lr = widgets.Dropdown(options=[(f"{lr:g}", lr) for lr in LEARNING_RATES], value=1e-2,
                                   description="learning rate", style=LABEL_STYLE, layout=control_layout())
        self.hidden = widgets.Dropdown(options=list(HIDDEN_SIZES), value=32, description="hidden units",
                                       style=LABEL_STYLE, layout=control_layout())
        super().__init__([widgets.HTML("<b>task</b>"), self.task, widgets.HTML("<b>one cell, live</b>"), self.model,
                          self.lr, self.hidden], 1)
        self.claims = widgets.HTML(self.claims_html())
        self.view.children = (*self.view.children, self.claims)
        self.task.observe(self.guard(self._refresh), names="value")
        if problem:
            self.status.error(problem)
        else:
            self.status.info("The heatmaps are the shipped study. Pick a cell and press Re-run cell to train it here.")

    def _figure(self, result):
        if not self.summary:
            return _empty()
        task = self.task.value
        cells = {m: self.summary[(task, m)] for m in NAMES if (task, m) in self.summary}
        if not cells:
            self.status.error(f"The shipped study has no runs on the {task} task. Make it with {STUDY_COMMAND}.")
            return _empty()
        return grid_figure(cells, NAMES, TASK_TITLES[task])

    def _steps_done(self, result) -> int:
        return 1 if result else 0

    def _run(self):
        name, length = TASKS[self.task.value]
        kind, lr, hidden = self.model.value, self.lr.value, self.hidden.value
        self.status.info(f"Training a {NAMES[kind]} with {hidden} units at learning rate {lr:g} (seed 0)...")
        self._cell = (name, kind, lr, hidden)
        return lambda stop, report: grid_run(name, length, kind, hidden, lr, 0, stop=stop)

    def _done(self, result) -> list[str]:
        name, kind, lr, hidden = self._cell
        shipped = [r for r in self.rows if (r["task"], r["model"], r["lr"], r["hidden_size"]) == (name, kind, lr, hidden)]
        sentences = [f"Here: held-out loss {result['test_loss']:.3g} after {result['steps']} steps, in "
                     f"{result['seconds']:.0f} s" + (" (diverged)" if result["diverged"] else "") + "."]
        if self.job.stop_requested:
            return sentences + ["Stopped before the study's 300 steps: not comparable with its cell."]
        seed0 = [r for r in shipped if r["seed"] == 0]
        if seed0:
            others = ", ".join(f"{r['test_loss']:.3g}" for r in sorted(shipped, key=lambda r: r["seed"]))
            sentences.append(f"The shipped study's seed 0: {seed0[0]['test_loss']:.3g} (all its seeds: {others}). "
                             "The same seed gives the same run; a different machine may differ in the last digits.")
        verdict = "under" if result["test_loss"] < result["bar"] else "not under"
        sentences.append(f"That is {verdict} the bar of {result['bar']:.3g}.")
        return sentences

    def claims_html(self) -> str:
        if not self.summary:
            return ""
        return findings_html(tuning_claims(self.summary), "<b>What the shipped grid says</b> "
                             f"({len(self.rows)} runs: {html.escape(STUDY_COMMAND)})")


def _empty():
    import plotly.graph_objects as go

    return go.Figure(layout=dict(template="plotly_white", height=200))


class MonitorView(LiveView):
    """A run under one of :data:`SCENARIOS`, with its four panels and the monitor's sentence."""

    def __init__(self, scenarios_path=None) -> None:
        self.scenario = widgets.ToggleButtons(options=[(s.label, key) for key, s in SCENARIOS.items()],
                                              value="healthy", style={"button_width": "140px"},
                                              layout=widgets.Layout(width="300px"))
        self.what = widgets.HTML(self._what())
        self.line = widgets.HTML()
        self.takeaway = widgets.HTML(takeaway_html("healthy", ran=False))
        super().__init__([widgets.HTML("<b>scenario</b>"), self.scenario, self.what], MONITOR_STEPS)
        self.study = StatusLine(layout=widgets.Layout(width="100%"))
        try:
            self.shipped = findings_html(scenario_findings(read_scenarios(scenarios_path or SCENARIOS_PATH)),
                                         "<b>The same scenarios over seeds</b> (shipped with the tuning study)")
        except (OSError, ValueError, KeyError) as error:
            self.shipped = ""
            self.study.error(f"No shipped scenario study ({error}). Make it with {STUDY_COMMAND}.")
        self.view.children = (self.view.children[0], self.line, self.findings)
        # the shipped runs over seeds answer the page's saturation question at a glance: a view of their own
        self.study_view = widgets.VBox([widgets.HTML(self.shipped), self.study])
        self.scenario.observe(self.guard(self._on_scenario), names="value")
        self.status.info("Pick a scenario and press Train; the line above the findings says what the monitor sees.")

    def _what(self) -> str:
        return f'<div style="font-size:13px;color:#444">{html.escape(SCENARIOS[self.scenario.value].what)}</div>'

    def _on_scenario(self, _) -> None:
        self.what.value = self._what()
        if not self.job.running:  # the plot is cleared for the new scenario: its line and code go with it
            self.line.value, self.findings.value = "", ""
            self.takeaway.value = takeaway_html(self.scenario.value, ran=False)
        self._refresh()

    def _figure(self, result):
        from ..lessons.monitoring import MonitoredRun

        run = result or MonitoredRun(self.scenario.value, 1.0)
        return monitor_figure(run, SCENARIOS[run.scenario].clip_grad, MONITOR_STEPS)

    def _steps_done(self, result) -> int:
        return len(result.step)

    def _run(self):
        scenario = self.scenario.value
        self.line.value, self.takeaway.value = "", takeaway_html(scenario, ran=False)
        self.status.info(f"Training under '{SCENARIOS[scenario].label}' for {MONITOR_STEPS} steps...")
        return lambda stop, report: monitored_run(scenario, steps=MONITOR_STEPS, callback=report, stop=stop)

    def _done(self, run) -> list[str]:
        settings = SCENARIOS[run.scenario]
        sentence = monitor(run.loss, run.checked_at, run.validation, run.grad_norm, run.baseline,
                           run.diverged.step if run.diverged else None)
        self.line.value = (f'<div class="grutools-monitor" style="font-size:16px;margin:6px 0;padding:6px 12px;'
                           f'border:2px solid #444;border-radius:4px"><b>Monitor ({html.escape(settings.label)}):</b> '
                           f'{html.escape(sentence)}</div>')
        self.takeaway.value = takeaway_html(run.scenario, ran=True)
        finite = [v for v in run.validation if np.isfinite(v)]
        out = [f"Validation loss {run.validation[-1]:.3g} at the end, best {min(finite):.3g} at step {run.best_step}."
               if finite else "No finite validation loss."]
        if run.grad_norm:
            out.append(f"Gradient norm before clipping: median {np.median(run.grad_norm):.3g}, largest "
                       f"{max(run.grad_norm):.3g}; {run.saturation[-1]:.0%} of the gate values saturated at the end.")
        return out


def takeaway_html(scenario: str, ran: bool) -> str:
    """The *Take it away* code of a monitored run: the same run in Python (before a run: the run Train would make)."""
    settings = SCENARIOS[scenario]
    code = ("from grutools.lessons.monitoring import monitored_run, monitor\n\n"
            f"run = monitored_run({scenario!r}, steps={MONITOR_STEPS}, seed=0)  "
            f"# lr {settings.lr:g}, clip {settings.clip_grad}\n"
            "print(monitor(run.loss, run.checked_at, run.validation, run.grad_norm, run.baseline))\n"
            "model = run.model  # with the weights of its best validation step\n")
    what = ("the run above, in Python (same scenario, seed and steps: the same curves)" if ran else
            f"the run Train makes in section 3 ('{settings.label}'), in Python")
    return ('<p style="margin:6px 0;font-size:14px"><b>Take it away:</b> ' + html.escape(what) + ":</p>"
            '<pre style="background:#f6f8fa;padding:8px 12px;font-size:13px;font-family:monospace">'
            + html.escape(code) + "</pre>")
