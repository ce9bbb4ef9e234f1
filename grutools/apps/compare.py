"""The "GRU against LSTM" dashboard: parameters, speed, learning curves over seeds, and the role of data."""

from __future__ import annotations

import statistics
import time

import ipywidgets as widgets

from ..core import fast
from ..core.models import CELLS
from ..core.tasks import DATA_DIR, TASKS, make_task
from ..lessons.compare import (
    BLOCK,
    STUDY_TASKS,
    block_means,
    data_quality_run,
    matched_hidden_sizes,
    model_parameters,
    read_curves,
    summarise_curves,
    time_training_steps,
    verdict,
)
from ..lessons.speed import BENCHMARK, BENCHMARK_COMMAND, LEVEL, SpeedVerdict, benchmark_row, compare_speed, read_benchmark
from ..lessons.vanishing import race
from ..plots import NAMES, budget_figure, curves_figure, data_quality_figure
from .common import (
    LABEL_STYLE,
    BackgroundTraining,
    StatusLine,
    control_layout,
    findings_html,
    friendly_error,
    guarded,
    panel_layout,
    row_layout,
    start_stop_buttons,
)
from .figures import show_figure
from .guard import protect
from .questions import Asking

CURVES = DATA_DIR / "results" / "learning_curves.json"
CURVES_COMMAND = "python -m grutools learning-curves --out data/results/learning_curves.json"
MODES = ("equal size", "equal budget")
TRAIN_SIZES = [16, 64, 256, 1024, 8192]
SPEED_BUDGET = 2.0  # seconds of live timing at most, per move of a control (it stops sooner once the verdict is clear)


class ClaimsExplorer(Asking):
    """Test "a GRU has fewer parameters than an LSTM, trains faster and learns as well" and "it depends on data".

    Views: :attr:`budget_view` (parameters and step time, measured live),
    :attr:`curves_view` (multi-seed learning curves from ``data/results``, plus one
    live seed) and :attr:`data_view` (training-set size and label noise).
    """

    def __init__(self, curves_path=CURVES, benchmark_path=BENCHMARK, speed_budget: float = SPEED_BUDGET) -> None:
        self.speed_budget = speed_budget
        self.benchmark, self.benchmark_error = None, ""
        try:
            self.benchmark = read_benchmark(benchmark_path)
        except (OSError, ValueError) as error:
            self.benchmark_error = (f"No shipped speed benchmark to compare with ({error}). Make it with "
                                    f"{BENCHMARK_COMMAND}.")
        # parameters and speed
        self.budget_status = StatusLine(layout=widgets.Layout(width="100%"))
        guard = guarded(self.budget_status)
        self.task = widgets.Dropdown(options=[(TASKS[n].title, n) for n in STUDY_TASKS], value="adding",
                                     description="task", style=LABEL_STYLE, layout=control_layout())
        self.hidden = widgets.IntSlider(value=32, min=8, max=128, step=8, description="GRU units",
                                        style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.mode = widgets.ToggleButtons(options=MODES, value="equal size", style={"button_width": "120px"},
                                          tooltips=["every model gets the GRU's hidden size",
                                                    "hidden sizes chosen so that every model has the GRU's parameters"])
        self.budget_plot = None
        self.budget_text = widgets.HTML()
        for control in (self.task, self.hidden, self.mode):
            control.observe(guard(lambda _: self.measure_budget()), names="value")
        self.measure_budget()
        self.budget_view = widgets.VBox([widgets.HBox([self.task, self.hidden, self.mode],
                                                      layout=widgets.Layout(flex_flow="row wrap")),
                                         self.budget_status, self.budget_plot, self.budget_text])

        # learning curves over seeds
        self.curves_status = StatusLine(layout=widgets.Layout(width="100%"))
        cguard = guarded(self.curves_status)
        self.curves_mode = widgets.ToggleButtons(options=MODES, value="equal size", style={"button_width": "120px"})
        self.live_task = widgets.Dropdown(options=[(TASKS[n].title, n) for n in STUDY_TASKS], value="adding",
                                          description="live seed on", style=LABEL_STYLE, layout=control_layout())
        self.live_button = widgets.Button(description="Run one more seed live", icon="play", button_style="primary",
                                          layout=widgets.Layout(width="220px"))
        self.curves_plot = None
        self.curves_text = widgets.HTML()
        self.live: dict[str, dict[str, dict[str, list[float]]]] = {mode: {} for mode in MODES}
        self.live_seed = 100
        self.curves_job = BackgroundTraining(lambda _: None, self._on_live_done)
        self.curves_mode.observe(cguard(lambda _: self.draw_curves()), names="value")
        self.live_button.on_click(cguard(lambda _: self.run_live_seed()))
        self.curves = None
        try:
            self.curves = read_curves(curves_path)
        except (FileNotFoundError, ValueError) as error:
            self.curves_status.error(f"{error} Regenerate it with: {CURVES_COMMAND}")
        self.draw_curves()
        self.curves_view = widgets.VBox([
            widgets.HBox([self.curves_mode, self.live_task, self.live_button], layout=widgets.Layout(flex_flow="row wrap")),
            self.curves_status, self.curves_plot, self.curves_text])

        # data quality
        self.data_status = StatusLine(layout=control_layout())
        dguard = guarded(self.data_status)
        self.data_task = widgets.Dropdown(options=[(TASKS[n].title, n) for n in ("adding", "copy")], value="adding",
                                          description="task", style=LABEL_STYLE, layout=control_layout())
        self.train_size = widgets.SelectionSlider(options=TRAIN_SIZES, value=64, description="train set size",
                                                  style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.noise = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1, description="label noise",
                                         style=LABEL_STYLE, layout=control_layout(), continuous_update=False,
                                         readout_format=".1f")
        self.data_button, self.data_stop = start_stop_buttons("Train")
        self.data_runs: list[tuple[str, dict]] = []
        self.data_plot = None
        self.data_job = BackgroundTraining(self._on_data_progress, self._on_data_done, interval=0.3)
        self.data_button.on_click(dguard(lambda _: self.train_data()))
        self.data_stop.on_click(dguard(lambda _: self.data_job.stop()))
        self.data_task.observe(dguard(self._on_data_task), names="value")
        self._draw_data()
        self.data_status.info("Choose how much data and how much noise, then press Train. Earlier runs stay, faint.")
        panel = widgets.VBox([self.data_task, self.train_size, self.noise,
                              widgets.HBox([self.data_button, self.data_stop]), self.data_status],
                             layout=panel_layout())
        self.data_view = widgets.HBox([panel, self.data_plot], layout=row_layout())
        protect(self.budget_view, self.budget_status)
        protect(self.curves_view, self.curves_status)
        protect(self.data_view, self.data_status)

    # ------------------------------------------------------------------------------------------
    # parameters and speed

    def sizes(self, task) -> dict[str, int]:
        """Hidden size per cell type for the chosen mode (equal size, or the GRU's parameter budget)."""
        if self.mode.value == "equal size":
            return dict.fromkeys(CELLS, self.hidden.value)
        return matched_hidden_sizes(task, model_parameters("gru", task, self.hidden.value))

    def measure_budget(self) -> None:
        """Count parameters and time training steps of each model, live (what moving a control does).

        The GRU and the LSTM are timed interleaved until the interval of their step-time
        ratio excludes 1, or :attr:`speed_budget` seconds pass (:func:`grutools.lessons.speed.compare_speed`).
        """
        task = make_task(self.task.value, STUDY_TASKS[self.task.value])
        sizes = self.sizes(task)
        parameters = {c: model_parameters(c, task, h) for c, h in sizes.items()}
        started = time.perf_counter()
        speed = compare_speed(task, sizes, budget=self.speed_budget)
        seconds = time.perf_counter() - started
        self.budget_sizes, self.budget_parameters, self.speed = sizes, parameters, speed  # for the page's questions
        times = {"rnn": time_training_steps("rnn", task, sizes["rnn"], repeats=5, warmup=1), **speed.times}
        ratios = [("live, now", speed.ratio, speed.low, speed.high)]
        row = benchmark_row(self.benchmark, task.name, sizes["gru"], self.mode.value) if self.benchmark else None
        if row:
            ratios.append((f"benchmark<br>{self.benchmark['date']}", row["ratio"], row["low"], row["high"]))
        title = f"{task.title}, length {task.length}, batch 64: {self.mode.value}"
        self.budget_plot = show_figure(self.budget_plot, budget_figure(parameters, sizes, times, title=title,
                                                                       ratios=ratios))
        step = {c: statistics.median(t) for c, t in times.items()}
        kernels = ("the LSTM runs through PyTorch's fused oneDNN kernel, the GRU through grutools' own fused kernel"
                   if fast.available() else
                   "PyTorch's CPU LSTM runs through a fused kernel, and its GRU has none (grutools' own could not be "
                   "built here)")
        why = {"faster": " As its three gate blocks to the LSTM's four promise, once both have a fused kernel: "
                         "PyTorch's own CPU GRU, unfused, is several times slower than its LSTM.",
               "slower": f" Its fewer gates promise the opposite: {kernels}, and the implementation decides it, "
                         "not the gate count.",
               "too close": f" Fewer gates do not make it faster by themselves: {kernels}."}[speed.decision]
        sentences = [
            f"The GRU has {parameters['gru']:,} parameters, {parameters['gru'] / parameters['lstm']:.0%} of the "
            f"LSTM's {parameters['lstm']:,} (hidden sizes {sizes['gru']} and {sizes['lstm']}).",
            f"One training step: GRU {1000 * step['gru']:.1f} ms, LSTM {1000 * step['lstm']:.1f} ms (medians). "
            f"Speed: {speed.sentence()}{why}",
        ]
        if row:
            machine = self.benchmark["machine"]
            shipped = SpeedVerdict(row["ratio"], row["low"], row["high"], row["rounds"], row["decision"],
                                   self.benchmark.get("level", LEVEL))
            sentences.append(
                f"Measured by benchmarks/gru_vs_lstm.py on {self.benchmark['date']} ({machine['cpu']}, "
                f"{machine['cores']} cores, torch {machine['torch']}) at {row['hidden']} GRU units: "
                f"{shipped.sentence()}")
        elif self.benchmark_error:
            sentences.append(self.benchmark_error)
        self.budget_text.value = findings_html(sentences)
        self.budget_status.info(
            f"Measured just now in {seconds:.1f} s: {speed.rounds} rounds, one training step of each model per round "
            f"in alternating order, stopped as soon as the {speed.level:.0%} interval of the ratio excluded 1, or "
            f"after {self.speed_budget:g} s.")

    # ------------------------------------------------------------------------------------------
    # learning curves

    def draw_curves(self) -> None:
        """Draw the multi-seed learning curves (and any live seeds) for the chosen mode, with the verdicts."""
        mode = self.curves_mode.value
        if self.curves is None:
            summaries = {}
        else:
            summaries = {task: summarise_curves(self.curves, task, mode) for task in self.curves["settings"]["tasks"]}
        titles = {t: f"{TASKS[t].title}, length {STUDY_TASKS.get(t, '')}" for t in summaries}
        block = self.curves["settings"]["block"] if self.curves else BLOCK
        self.curves_plot = show_figure(self.curves_plot, curves_figure(summaries, titles, block, live=self.live[mode]))
        if not summaries:
            self.curves_text.value = ""
            return
        settings = self.curves["settings"]
        sentences = [f"{TASKS[t].title}: {verdict(s)}" for t, s in summaries.items()]
        sizes = "; ".join(f"{TASKS[t].title}: " + ", ".join(f"{NAMES[c]} {v['hidden_size']} units ({v['parameters']:,})"
                                                             for c, v in s.items()) for t, s in summaries.items())
        sentences.append(f"{len(settings['seeds'])} seeds, {settings['steps']} steps, batch {settings['batch_size']}, "
                         f"learning rate {settings['lr']}. Models: {sizes}.")
        self.curves_text.value = findings_html(sentences) + (f'<p style="color:#555;margin:4px 0">Regenerate (about 10 minutes): '
                                                    f"<code>{CURVES_COMMAND}</code></p>")

    def run_live_seed(self, wait: bool = False) -> None:
        """Train the three models once more, live, with a new seed and 300 steps, and overlay the curves."""
        if self.curves_job.running:
            raise RuntimeError("A live run is already going; wait for it to end.")
        mode, name = self.curves_mode.value, self.live_task.value
        task = make_task(name, STUDY_TASKS[name])
        hidden = self.curves["settings"]["hidden_size"] if self.curves else 32
        sizes = (dict.fromkeys(CELLS, hidden) if mode == "equal size"
                 else matched_hidden_sizes(task, model_parameters("gru", task, hidden)))
        self.live_seed += 1
        seed = self.live_seed
        self._live_pending = (mode, name)
        self.live_button.disabled = True
        self.curves_status.info(f"Training the three models on {task.title} with seed {seed}, 300 steps...")
        self.curves_job.start(lambda stop, report: race(task, hidden_size=sizes, steps=300, seed=seed,
                                                        record_every=300, stop=stop))
        if wait:
            self.curves_job.join()

    def _on_live_done(self, result, error) -> None:
        self.live_button.disabled = False
        if error is not None:
            self.curves_status.error(f"The live run failed: {friendly_error(error)}")
            return
        mode, name = self._live_pending
        self.live[mode][name] = {cell: block_means(h.loss) for cell, h in result.histories.items()}
        self.draw_curves()
        finals = ", ".join(f"{NAMES[c]} {h.final_loss:.4f}" for c, h in result.histories.items())
        self.curves_status.ok(f"Live seed {self.live_seed} on {TASKS[name].title} (dotted): final loss {finals}. "
                              "Does it fall inside the bands?")

    # ------------------------------------------------------------------------------------------
    # data quality

    def _on_data_task(self, _change) -> None:
        self.data_runs = []
        self._draw_data()
        self.data_status.info("Task changed: earlier runs cleared.")

    def _draw_data(self, current: tuple[str, dict] | None = None) -> None:
        task = make_task(self.data_task.value, STUDY_TASKS[self.data_task.value])
        runs = self.data_runs + ([current] if current else [])
        self.data_plot = show_figure(self.data_plot, data_quality_figure(runs, task.baseline))

    def train_data(self, wait: bool = False) -> None:
        """Train a GRU on the chosen amount of (noisy) data (what the Train button does)."""
        if self.data_job.running:
            raise RuntimeError("Training is already running; press Stop first.")
        task = make_task(self.data_task.value, STUDY_TASKS[self.data_task.value])
        size, noise = self.train_size.value, self.noise.value
        label = f"{size} sequences, noise {noise:.1f}"
        self._data_pending = label
        self.data_button.disabled, self.data_stop.disabled = True, False
        self.data_status.info(f"Training a GRU (16 units) on {label}...")
        self.data_job.start(lambda stop, report: data_quality_run(task, size, noise, steps=400, stop=stop,
                                                                  callback=report))
        if wait:
            self.data_job.join()

    def _on_data_progress(self, out: dict) -> None:
        self._draw_data((self._data_pending, {k: list(v) for k, v in out.items()}))

    def _on_data_done(self, out: dict | None, error: BaseException | None) -> None:
        self.data_button.disabled, self.data_stop.disabled = False, True
        if error is not None:
            self.data_status.error(f"Training failed: {friendly_error(error)}")
            return
        if not out["step"]:
            self.data_status.info("Stopped before the first evaluation.")
            return
        self.data_runs = (self.data_runs + [(self._data_pending, out)])[-5:]
        self._draw_data()
        gap = out["test"][-1] - out["train"][-1]
        self.data_status.ok(f"{self._data_pending}: training loss {out['train'][-1]:.4f}, clean test loss "
                            f"{out['test'][-1]:.4f} (gap {gap:+.4f}). A large gap means it memorised its few "
                            "sequences instead of learning the task.")
