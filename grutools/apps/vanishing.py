"""The "vanishing gradients" dashboard: the gradient through time of a tanh RNN, a GRU and an LSTM, and a race."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from ..core.gradients import gradient_norms
from ..core.models import CELLS, SequenceModel
from ..core.tasks import DATA_DIR, TASKS, AddingProblem
from ..core.training import History
from ..lessons.chrono import CHRONO_COMMAND, CHRONO_TABLE, chrono_findings, read_chrono_table, summarise_chrono
from ..lessons.vanishing import (
    RaceResult,
    decay_per_step,
    gradient_gain,
    make_models,
    race,
    read_table,
    sampled_steps,
    spectral_radius,
    step_jacobian_norms,
    summarise_table,
)
from ..plots import NAMES, gradient_figure, race_figure
from .common import (
    LABEL_STYLE,
    BackgroundTraining,
    StatusLine,
    control_layout,
    friendly_error,
    guarded,
    panel_layout,
    progress_bar,
    row_layout,
    start_stop_buttons,
)
from .figures import show_figure
from .guard import protect
from .questions import Asking
from .takeaway import TakeAway

TABLE = DATA_DIR / "results" / "race_adding.csv"
TABLE_COMMAND = "python -m grutools race-table --out data/results/race_adding.csv"
JACOBIAN_STEPS = 32  # time steps at which the gradient view computes the step Jacobians (evenly spread)
TASKS_TITLES = {name: task.title for name, task in TASKS.items()}
GOOD, BAD = 0.01, 0.1  # test MSE: "solved" below GOOD, "learned nothing" above BAD (the baseline is 0.167)


class GradientExplorer(Asking):
    """Measure the gradient through time of an RNN, a GRU and an LSTM, and race them on the adding problem.

    Views for a notebook: :attr:`gradient_view` (gradient and one-step Jacobian
    norms against t, at initialisation or after the race), :attr:`race_view`
    (live training of the three, with gradient heatmaps) and :attr:`table_view`
    (final losses over seeds, shipped in ``data/results``).
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.status = StatusLine(layout=widgets.Layout(width="100%"))
        guard = guarded(self.status)
        slider = dict(style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.length = widgets.IntSlider(value=100, min=10, max=500, step=10, description="sequence length", **slider)
        self.hidden = widgets.Dropdown(options=[8, 16, 32, 64], value=32, description="hidden units",
                                       style=LABEL_STYLE, layout=control_layout())
        self.scale = widgets.FloatSlider(value=1.0, min=0.25, max=4.0, step=0.25, description="recurrent scale",
                                         readout_format=".2f", **slider)
        self.chrono = widgets.Checkbox(value=False, description="chrono initialisation (T_max = length)", indent=False,
                                       layout=control_layout())
        self.weights = widgets.ToggleButtons(options=[("at initialisation", "init"), ("after the race", "trained")],
                                             value="init", style={"button_width": "140px"},
                                             tooltips=["fresh weights, scaled", "the models of the last race"])
        self.facts = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.gradient_plot = None

        self.race_length = widgets.IntSlider(value=100, min=10, max=300, step=10, description="sequence length",
                                             **slider)
        self.race_steps = widgets.IntSlider(value=600, min=100, max=3000, step=100, description="training steps",
                                            **slider)
        self.race_scale = widgets.FloatSlider(value=1.0, min=0.25, max=4.0, step=0.25, description="recurrent scale",
                                              readout_format=".2f", **slider)
        self.clip = widgets.Checkbox(value=True, description="clip gradients (norm 1)", indent=False,
                                     layout=control_layout())
        self.race_chrono = widgets.Checkbox(value=False, description="chrono initialisation (T_max = length)",
                                            indent=False, layout=control_layout())
        self.race_button, self.stop_button = start_stop_buttons("Race")
        self.progress = progress_bar()
        self.race_status = StatusLine(layout=control_layout())
        self.takeaway = TakeAway()
        self.race_plot = None
        self.result: RaceResult | None = None
        self.job = BackgroundTraining(self._on_progress, self._on_done, interval=0.5)

        for control in (self.length, self.hidden, self.scale, self.chrono, self.weights):
            control.observe(guard(lambda _: self.redraw_gradients()), names="value")
        race_guard = guarded(self.race_status)
        self.race_button.on_click(race_guard(lambda _: self.start_race()))
        self.stop_button.on_click(race_guard(lambda _: self.job.stop()))

        self.redraw_gradients()
        self._draw_race(RaceResult(histories={}, gradients={}), AddingProblem(self.race_length.value),
                        self.race_steps.value)
        controls = widgets.HBox([self.length, self.hidden, self.scale, self.chrono],
                                layout=widgets.Layout(flex_flow="row wrap"))
        self.gradient_view = widgets.VBox([controls, widgets.HBox([widgets.HTML("<b>weights</b>&nbsp;"), self.weights]),
                                           self.status, self.gradient_plot, self.facts])
        panel = widgets.VBox([
            widgets.HTML("<b>Race on the adding problem</b>"), self.race_length, self.race_steps, self.race_scale,
            self.clip, self.race_chrono, widgets.HBox([self.race_button, self.stop_button]), self.progress, self.race_status,
        ], layout=panel_layout())
        self.race_view = widgets.VBox([widgets.HBox([panel, self.race_plot], layout=row_layout()), self.takeaway],
                                      layout=widgets.Layout(width="100%"))
        self.table_view = widgets.HTML(self.table_html())
        self.chrono_view = widgets.HTML(chrono_table_html())
        protect([self.gradient_view, self.table_view, self.chrono_view], self.status)
        protect(self.race_view, self.race_status)
        self.status.info("Move a control: the three models are rebuilt and measured on the same batch.")
        self.race_status.info("Press Race: the three models train in lock step on the same batches.")

    # ------------------------------------------------------------------------------------------
    # gradient through time

    def current_models(self) -> dict[str, SequenceModel]:
        """The models the gradient view measures: fresh (scaled) ones, or those of the last race."""
        if self.weights.value == "trained":
            if self.result is None:
                raise ValueError("There is no race yet: press Race below first, then choose 'after the race'.")
            return self.result.models
        task = AddingProblem(self.length.value)
        return make_models(task, self.hidden.value, scale=self.scale.value, seed=self.seed,
                           chrono=task.length if self.chrono.value else None)

    def measure(self, models: dict[str, SequenceModel] | None = None) -> dict[str, dict[str, np.ndarray | float]]:
        """Per model: mean |dLoss/dh_t| over a batch of 16 and the fitted decay; the mean one-step Jacobian norm
        over 4 of them, at no more than ``JACOBIAN_STEPS`` time steps (``jacobian_steps``, 1-based): that bounds
        its cost, most of a redraw (32 steps: 29 ms for the three models, 50: 42 ms)."""
        task = AddingProblem(self.length.value)
        x, y = task.sample(16, seed=self.seed + 7)
        steps = sampled_steps(task.length, JACOBIAN_STEPS)
        out = {}
        for cell, model in (models or self.current_models()).items():
            per_sequence = gradient_norms(model, x, y).numpy()
            norms = per_sequence.mean(0)
            out[cell] = {"norms": norms, "gain": gradient_gain(per_sequence), "jacobian_steps": steps + 1,
                         "jacobian": step_jacobian_norms(model, x[:4], steps).mean(0).numpy(),
                         "decay": decay_per_step(norms)}
        return out

    def redraw_gradients(self) -> None:
        """Measure and redraw (what moving any control of the gradient view does)."""
        models = self.current_models()
        measured = self.measure(models)
        chrono = ", chrono biases" if self.chrono.value else ""
        where = ("after the race" if self.weights.value == "trained"
                 else f"at initialisation{chrono}, recurrent weights ×{self.scale.value:g}")
        hidden = next(iter(models.values())).hidden_size
        title = f"Adding problem, length {self.length.value}, {hidden} units, {where}"
        figure = gradient_figure({c: m["norms"] for c, m in measured.items()},
                                 {c: m["gain"] for c, m in measured.items()},
                                 {c: (m["jacobian_steps"], m["jacobian"]) for c, m in measured.items()},
                                 {c: m["decay"] for c, m in measured.items()}, title=title)
        self.gradient_plot = show_figure(self.gradient_plot, figure)
        self.measured = measured
        self.facts.value = self.facts_html(measured, models)
        if self.chrono.value and self.weights.value == "init":
            self.facts.value += (
                '<div style="font-size:15px;margin-top:4px">Chrono initialisation (Tallec &amp; Ollivier 2018) sets '
                "the GRU's update-gate and the LSTM's forget-gate biases so that, at zero input, the units start "
                f"with time scales spread from 2 to {self.length.value} steps: the gate keeps the state, and the "
                "gradient flows back through it. The tanh RNN has no gate to set: it is unchanged.</div>")

    @staticmethod
    def facts_html(measured: dict, models: dict[str, SequenceModel]) -> str:
        """What the plot says, in numbers: reach of the gradient, decay per step, RNN spectral radius."""
        rows = []
        for cell, m in measured.items():
            norms = m["norms"]
            ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("nan")
            gain = m["gain"][1:]
            below = float(np.mean(gain[np.isfinite(gain)] < 1.0)) if np.isfinite(gain).any() else float("nan")
            rows.append(
                f"<tr><td style='padding:2px 12px 2px 0;white-space:nowrap'><b>{NAMES[cell]}</b></td>"
                f"<td style='padding:2px 12px'>×{m['decay']:.3g} per step back</td>"
                f"<td style='padding:2px 12px'>first step gets {ratio:.1e} of the last step's gradient</td>"
                f"<td style='padding:2px 12px'>gradient shrinks at {100 * below:.0f}% of steps</td>"
                f"<td style='padding:2px 12px'>Jacobian spectral norm {np.mean(m['jacobian']):.2f} on average</td></tr>")
        radius = spectral_radius(models["rnn"]) if "rnn" in models else float("nan")
        verdict = ("below 1: the RNN's gradient shrinks geometrically" if radius < 1
                   else "above 1: the RNN's gradient can grow (explode) until tanh saturates")
        return (f'<div style="font-size:15px;line-height:1.5"><table>{"".join(rows)}</table>'
                f"The tanh RNN's recurrent matrix has spectral radius <b>{radius:.2f}</b>, {verdict}.</div>")

    # ------------------------------------------------------------------------------------------
    # the race

    def start_race(self, wait: bool = False) -> None:
        """Race the three models with the panel's settings (what the Race button does)."""
        if self.job.running:
            raise RuntimeError("A race is already running; press Stop first.")
        task = AddingProblem(self.race_length.value)
        steps, scale = self.race_steps.value, self.race_scale.value
        chrono = task.length if self.race_chrono.value else None
        clip = 1.0 if self.clip.value else None
        hidden = self.hidden.value
        self._pending = (task, steps, clip)
        self.progress.max, self.progress.value = steps, 0
        self._set_running(True)
        self._draw_race(RaceResult(histories={}, gradients={}), task, steps)
        self.race_status.info(f"Racing a tanh RNN, a GRU and an LSTM ({hidden} units) on sequences of {task.length} "
                              f"steps{'' if clip else ', without gradient clipping'}"
                              f"{', GRU and LSTM chrono-initialised' if chrono else ''}...")
        self.job.start(lambda stop, report: race(task, hidden_size=hidden, steps=steps, seed=self.seed, scale=scale,
                                                 clip_grad=clip, callback=report, stop=stop, chrono=chrono,
                                                 record_every=max(1, steps // 60)))
        if wait:
            self.job.join()

    def _set_running(self, running: bool) -> None:
        self.race_button.disabled, self.stop_button.disabled = running, not running
        for control in (self.race_length, self.race_steps, self.race_scale, self.clip, self.race_chrono):
            control.disabled = running

    def _draw_race(self, result: RaceResult, task: AddingProblem, steps: int) -> None:
        histories = result.histories or {cell: History() for cell in CELLS}
        figure = race_figure(histories, result.gradients, task.baseline, task.baseline_label, steps, task.length)
        self.race_plot = show_figure(self.race_plot, figure)

    def _on_progress(self, result: RaceResult) -> None:
        task, steps, _ = self._pending
        self.progress.value = max((len(h.loss) for h in result.histories.values()), default=0)
        self._draw_race(result, task, steps)

    def _on_done(self, result: RaceResult | None, error: BaseException | None) -> None:
        task, steps, clip = self._pending
        self._set_running(False)
        if error is not None:
            self.race_status.error(f"The race failed: {friendly_error(error)}")
            return
        self._on_progress(result)
        self.result = result
        trained = [(result.models[c], h) for c, h in result.histories.items() if h.loss and c not in result.diverged]
        if trained:
            self.takeaway.show(task, trained, stem=f"adding{task.length}")
        parts = []
        for cell, history in result.histories.items():
            if cell in result.diverged:
                error = result.diverged[cell]
                parts.append(f"{NAMES[cell]} diverged at step {error.step} (loss {error.loss})")
            elif history.loss:
                parts.append(f"{NAMES[cell]} {history.final_loss:.4f}")
        message = f"Final training loss (MSE, 'learned nothing' = {task.baseline:.3f}): " + "; ".join(parts) + "."
        if result.stopped:
            message += self.job.stopped_note()
        if result.diverged:
            message += (" A diverged model keeps its last finite weights. Exploding gradients: turn on "
                        "'clip gradients' (it rescales any gradient longer than 1) or lower the recurrent scale.")
            self.race_status.error(message)
        else:
            self.race_status.ok(message + " Choose 'after the race' above to measure these trained models.")

    # ------------------------------------------------------------------------------------------
    # the table

    @staticmethod
    def table_html(path=TABLE) -> str:
        """The shipped multi-seed results as an HTML table, with conclusions read from the numbers."""
        if not path.exists():
            return (f'<div class="grutools-status grutools-error" style="color:#c62828">The results table {path} is '
                    f"missing. Regenerate it with <code>{TABLE_COMMAND}</code>.</div>")
        rows = read_table(path)
        summary = summarise_table(rows)
        lengths = sorted({length for _, length in summary})
        cells = [c for c in CELLS if any(c == cell for cell, _ in summary)]
        some = rows[0]

        def cell_html(s: dict) -> str:
            color = "#e8f5e9" if s["max"] < GOOD else "#ffebee" if s["min"] > BAD else "#fff8e1"
            return (f'<td style="padding:4px 12px;background:{color};text-align:right">{s["mean"]:.4f} ± {s["std"]:.4f}'
                    f'<br><span style="color:#666;font-size:12px">{s["min"]:.4f} – {s["max"]:.4f}</span></td>')

        header = "".join(f'<th style="padding:4px 12px">length {n}</th>' for n in lengths)
        body = "".join(f'<tr><th style="padding:4px 12px;text-align:left">{NAMES[c]}</th>'
                       + "".join(cell_html(summary[(c, n)]) for n in lengths) + "</tr>" for c in cells)
        findings = []
        for n in lengths:
            solved = [NAMES[c] for c in cells if summary[(c, n)]["max"] < GOOD]
            failed = [NAMES[c] for c in cells if summary[(c, n)]["min"] > BAD]
            if solved or failed:
                findings.append(f"length {n}: " + ", ".join(
                    ([f"below {GOOD} for every seed: {' and '.join(solved)}"] if solved else [])
                    + ([f"above {BAD} for every seed: {' and '.join(failed)}"] if failed else [])))
        seeds = summary[(cells[0], lengths[0])]["seeds"]
        return (f'<div style="font-size:14px"><table style="border-collapse:collapse">'
                f'<tr><th></th>{header}</tr>{body}</table>'
                f'<p style="margin:6px 0">Test MSE (mean ± standard deviation over {seeds} seeds; min – max below), '
                f'{some["hidden_size"]} units, {some["steps"]} steps of Adam (learning rate 0.01, batch 64, clipping 1). '
                f'Green: every seed below {GOOD}; red: every seed above {BAD} (learned nothing is 0.167).</p>'
                f'<ul style="margin:4px 0">{"".join(f"<li>{html.escape(f)}</li>" for f in findings)}</ul>'
                f'<p style="margin:4px 0;color:#555">Regenerate (about 15 minutes on 2 cores): '
                f'<code>{TABLE_COMMAND}</code></p></div>')


def chrono_table_html(path=CHRONO_TABLE) -> str:
    """The shipped chrono study (default against chrono biases, over seeds) as a table, with what it shows."""
    try:
        rows = read_chrono_table(path)
    except (OSError, ValueError) as error:
        return (f'<div class="grutools-status grutools-error" style="color:#c62828">The chrono table cannot be read '
                f"({html.escape(str(error))}). Regenerate it with <code>{CHRONO_COMMAND}</code>.</div>")
    summary = summarise_chrono(rows)
    body = []
    for (task, cell), entry in summary.items():
        cells = []
        for init in ("default", "chrono"):
            losses = np.array(list(entry[init].values()))
            solved = int(np.sum(losses < 0.1 * entry["baseline"]))
            cells.append(f'<td style="padding:4px 12px;text-align:right">{np.median(losses):.4f}<br>'
                         f'<span style="color:#555;font-size:12px">{losses.min():.4f} – {losses.max():.4f}; '
                         f"{solved}/{len(losses)} learned</span></td>")
        body.append(f'<tr><th style="padding:4px 12px;text-align:left">{TASKS_TITLES.get(task, task)}, length '
                    f'{entry["length"]}</th><th style="padding:4px 12px;text-align:left">{NAMES[cell]}</th>'
                    + "".join(cells) + "</tr>")
    some = rows[0]
    seeds = len({r["seed"] for r in rows})
    findings = "".join(f"<li>{html.escape(f)}</li>" for f in chrono_findings(rows))
    return (f'<div style="font-size:14px"><table style="border-collapse:collapse"><tr><th></th><th></th>'
            f'<th style="padding:4px 12px">default biases</th><th style="padding:4px 12px">chrono (T_max = length)</th>'
            f'</tr>{"".join(body)}</table>'
            f'<p style="margin:6px 0">Test loss, median over {seeds} seeds (min – max below, and how many seeds got '
            f"below 10% of the 'learned nothing' loss), {some['hidden_size']} units, {some['steps']} steps of Adam "
            "(learning rate 0.01, batch 64, clipping 1). Each seed's two runs share every other weight and every "
            f'batch.</p><ul style="margin:4px 0">{findings}</ul>'
            f'<p style="margin:4px 0;color:#555">Regenerate (about 5 minutes on 2 cores): <code>{CHRONO_COMMAND}</code>'
            "</p></div>")
