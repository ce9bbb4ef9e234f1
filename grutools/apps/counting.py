"""What a GRU cannot do: counting. Dashboard 04's aⁿbⁿ section: which n each model recognises, and why."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..core import io
from ..lessons.counting import (
    CHECKPOINTS,
    COUNTING_COMMAND,
    COUNTING_RESULTS,
    counting_lstm,
    counting_states,
    reach,
    read_counting,
    recognised,
    study_findings,
    train_counter,
)
from ..plots import NAMES, counting_states_figure, recognition_figure
from .common import (
    LABEL_STYLE,
    BackgroundTraining,
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
from .figures import show_figure
from .guard import protect

SHOWN_UP_TO = 100  # n's drawn in the recognition picture (the study tests further)


class CountingExplorer:
    """aⁿbⁿ: a GRU and an LSTM of equal size trained on short strings, tested on longer ones.

    Views: :attr:`reach_view` (which n each model recognises: the shipped study over
    seeds, a hand-built counting LSTM, and a live run) and :attr:`states_view` (the
    LSTM's cell state and the GRU's state along one string, with a live training panel).
    """

    def __init__(self, results=COUNTING_RESULTS, checkpoints=None) -> None:
        self.status = StatusLine(layout=widgets.Layout(width="100%"))
        guard = guarded(self.status)
        self.study, self.study_error = None, ""
        try:
            self.study = read_counting(results)
        except (OSError, ValueError) as error:
            self.study_error = f"The shipped study cannot be read ({error}). Regenerate it with: {COUNTING_COMMAND}"
        paths = checkpoints or CHECKPOINTS
        self.models, self.source = {}, "shipped"
        try:
            self.models = {cell: io.load(path).model for cell, path in paths.items()}
        except (OSError, ValueError) as error:
            self.study_error += f" The trained models cannot be read ({error}); press Train to make new ones."
        self.max_n = self.study["settings"]["max_n"] if self.study else 20
        self.live_rows: list[tuple[str, np.ndarray]] = []

        view = dict(style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.show_n = widgets.IntSlider(value=30, min=1, max=SHOWN_UP_TO, description="show n", **view)
        self.train_n = widgets.IntSlider(value=20, min=5, max=30, description="train on n up to", **view)
        self.hidden = widgets.Dropdown(options=[4, 8, 16], value=8, description="hidden units", style=LABEL_STYLE,
                                       layout=control_layout())
        self.seed = widgets.BoundedIntText(value=100, min=0, max=9999, description="seed", style=LABEL_STYLE,
                                           layout=control_layout())
        self.train_button, self.stop_button = start_stop_buttons("Train both")
        self.progress = progress_bar()
        self.train_status = StatusLine(layout=control_layout())
        self.job = BackgroundTraining(self._on_progress, self._on_done, interval=0.5)
        train_guard = guarded(self.train_status)
        self.train_button.on_click(train_guard(lambda _: self.train()))
        self.stop_button.on_click(train_guard(lambda _: self.job.stop()))
        self.show_n.observe(guard(lambda _: self.redraw_states()), names="value")

        self.reach_plot, self.reach_text = None, widgets.HTML()
        self.states_plot, self.states_text = None, widgets.HTML()
        self.redraw_reach()
        self.redraw_states()
        self.reach_view = widgets.VBox([self.reach_plot, self.reach_text])
        panel = widgets.VBox([widgets.HTML("<b>Train a GRU and an LSTM</b>"), self.train_n, self.hidden, self.seed,
                              widgets.HBox([self.train_button, self.stop_button]), self.progress, self.train_status],
                             layout=panel_layout())
        self.states_view = widgets.VBox([self.show_n, self.status,
                                         widgets.HBox([panel, self.states_plot], layout=row_layout()),
                                         self.states_text])
        protect(self.reach_view, self.status)
        protect(self.states_view, self.status)
        protect(panel, self.train_status)
        if self.study_error:
            self.status.error(self.study_error)
        else:
            self.status.info("The models of the shipped study (seed 0). Move 'show n' past the training range.")
        self.train_status.info("Each model trains 1,500 steps (about 10-20 s on one core).")

    # ------------------------------------------------------------------------------------------

    def redraw_reach(self) -> None:
        """The recognition picture: study seeds, the hand-built counter and any live runs; with the findings."""
        rows = []
        if self.study:
            for run in self.study["runs"]:
                ok = np.zeros(SHOWN_UP_TO, dtype=bool)
                hits = [n for n in run["recognised"] if n <= SHOWN_UP_TO]
                ok[np.array(hits, dtype=int) - 1] = True
                rows.append((f"{NAMES[run['cell']]}, seed {run['seed']}", ok))
            rows.sort(key=lambda row: row[0].split(",")[0] != "GRU")  # GRU seeds first, then LSTM, each in order
        rows.append(("hand-built LSTM", recognised(counting_lstm(), range(1, SHOWN_UP_TO + 1))))
        rows.extend(self.live_rows)
        self.reach_plot = show_figure(self.reach_plot, recognition_figure(rows, self.max_n))
        sentences = study_findings(self.study) if self.study else []
        for label, ok in self.live_rows:
            sentences.append(f"{label}: recognises every n up to {reach(ok)}.")
        self.reach_text.value = findings_html(sentences) if sentences else ""

    def redraw_states(self) -> None:
        """The LSTM's cell state and the GRU's state along aⁿbⁿ for the chosen n."""
        if set(self.models) != {"gru", "lstm"}:
            import plotly.graph_objects as go

            empty = go.Figure(layout=dict(height=400, xaxis=dict(visible=False), yaxis=dict(visible=False),
                                          template="plotly_white"))
            empty.add_annotation(text="No trained models yet: press Train both.", showarrow=False, x=0.5, y=0.5,
                                 xref="paper", yref="paper", font=dict(size=16, color="#555"))
            self.states_plot = show_figure(self.states_plot, empty)
            self.states_text.value = findings_html(["No trained models to show yet: press Train both."])
            return
        n = self.show_n.value
        lstm, lstm_unit, lstm_corr = counting_states(self.models["lstm"], n)
        gru, gru_unit, gru_corr = counting_states(self.models["gru"], n)
        figure = counting_states_figure(n, lstm, gru, lstm_unit, gru_unit)
        self.states_plot = show_figure(self.states_plot, figure)
        ok = {cell: bool(recognised(model, [n])[0]) for cell, model in self.models.items()}
        said = {True: "recognises", False: "does not recognise"}
        self.states_text.value = findings_html([
            f"n = {n} ({'inside' if n <= self.max_n else 'beyond'} the training range n <= {self.max_n}): the LSTM "
            f"{said[ok['lstm']]} it, the GRU {said[ok['gru']]} it ({self.source} models).",
            f"The LSTM's cell unit {lstm_unit} follows the count #a − #b with correlation {lstm_corr:.3f}, over a "
            f"range of {np.ptp(lstm[:, lstm_unit]):.1f}: it counts up on the a's and down on the b's, in a state "
            "nothing squashes.",
            f"The GRU's best unit ({gru_unit}) follows it with correlation {gru_corr:.3f}; its state stays within "
            f"[{gru.min():.2f}, {gru.max():.2f}]. A bounded state can tell apart only so many counts, finely "
            "enough, before they blur: a GRU cannot keep an unbounded count (Weiss, Goldberg & Yahav 2018).",
        ])

    # ------------------------------------------------------------------------------------------

    def train(self, wait: bool = False, steps: int = 1500) -> None:
        """Train a GRU and an LSTM of the chosen size on n up to the chosen maximum (what Train both does)."""
        if self.job.running:
            raise RuntimeError("Training is already running; press Stop first.")
        max_n, hidden, seed = self.train_n.value, self.hidden.value, self.seed.value
        self._pending = (max_n, hidden, seed, steps)
        self.progress.max, self.progress.value = 2 * steps, 0
        self._set_running(True)
        self.train_status.info(f"Training a GRU, then an LSTM ({hidden} units, seed {seed}) on n up to {max_n}...")

        def run(stop, report):
            models = {}
            for offset, cell in enumerate(("gru", "lstm")):
                models[cell] = train_counter(cell, max_n=max_n, hidden_size=hidden, steps=steps, seed=seed, stop=stop,
                                             callback=lambda step, loss, o=offset: report(o * steps + step))
                if stop.is_set():
                    break
            return models

        self.job.start(run)
        if wait:
            self.job.join()

    def _set_running(self, running: bool) -> None:
        self.train_button.disabled, self.stop_button.disabled = running, not running
        for control in (self.train_n, self.hidden, self.seed):
            control.disabled = running

    def _on_progress(self, step: int) -> None:
        self.progress.value = step

    def _on_done(self, models, error) -> None:
        self._set_running(False)
        if error is not None:
            self.train_status.error(f"Training failed: {friendly_error(error)}")
            return
        if self.job.stop_requested or set(models) != {"gru", "lstm"}:
            self.train_status.info("Stopped before both models finished: nothing changed." + self.job.stopped_note())
            return
        max_n, hidden, seed, _ = self._pending
        self.progress.value = self.progress.max
        self.models, self.source, self.max_n = models, f"live, seed {seed}", max_n
        self.live_rows = [(f"{NAMES[cell]} live, seed {seed}", recognised(model, range(1, SHOWN_UP_TO + 1)))
                          for cell, model in models.items()]
        self.redraw_reach()
        self.redraw_states()
        reaches = {cell: reach(ok) for cell, (_, ok) in zip(models, self.live_rows)}
        self.train_status.ok(f"Trained on n up to {max_n}: the GRU recognises every n up to {reaches['gru']}, the LSTM "
                             f"up to {reaches['lstm']}. The bottom rows of the picture above are this run.")
