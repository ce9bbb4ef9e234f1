"""The "memory time scales" dashboard: GRU units that remember for a few steps or for many, and why."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from plotly.colors import sample_colorscale

from ..core import io
from ..core.models import SequenceModel
from ..core.tasks import DATA_DIR, TwoTimescales
from ..core.trace import trace
from ..lessons.gates import timescales
from ..lessons.memory import impulse_response, lifetimes, pca_trajectory, unit_alignment
from ..plots import TIMESCALE_SCALE, impulse_figure, timescale_change_figure, timescale_figure, trajectory_figure
from .common import LABEL_STYLE, StatusLine, control_layout, findings_html, guarded
from .figures import show_figure
from .guard import protect
from .questions import Asking

CHECKPOINTS = {cell: DATA_DIR / "checkpoints" / f"timescales_{cell}.pt" for cell in ("gru", "rnn")}
REGENERATE = "make data"


class MemoryExplorer(Asking):
    """A GRU and a tanh RNN trained on :class:`~grutools.core.tasks.TwoTimescales`, taken apart.

    Views: :attr:`timescale_view` (each unit's time scale and which signal it
    follows), :attr:`impulse_view` (how long a nudge to the input lives in each
    unit) and :attr:`trajectory_view` (the hidden state's path in 2-D).
    """

    def __init__(self, checkpoints=None) -> None:
        self.status = StatusLine(layout=widgets.Layout(width="100%"))
        guard = guarded(self.status)
        paths = checkpoints or CHECKPOINTS
        missing = [str(p) for p in paths.values() if not p.exists()]
        if missing:
            raise FileNotFoundError(f"the trained models are missing: {', '.join(missing)}. Regenerate them with "
                                    f"'{REGENERATE}'.")
        loaded = {cell: io.load(path) for cell, path in paths.items()}
        self.models = {cell: c.model for cell, c in loaded.items()}
        length = int(loaded["gru"].metadata.get("length", 100))
        self.task = TwoTimescales(length)
        self.x, self.y = self.task.sample(64, seed=1234, split="test")
        gru = self.models["gru"]
        self.gru_trace = trace(gru, self.x)
        self.scales = timescales(self.gru_trace.update[-1])
        self.alignment = unit_alignment(gru, self.x, self.y)

        self.timescale_plot = show_figure(None, timescale_figure(self.scales, self.alignment))
        self.timescale_text = widgets.HTML(findings_html(self.describe_units()))
        self.timescale_view = widgets.VBox([self.timescale_plot, self.timescale_text])

        # the same units at initialisation (the run's own first snapshot) and under chrono initialisation
        history = loaded["gru"].history
        self.initial_scales = None
        if history is not None and history.snapshots and history.snapshots[0][0] == 0:
            initial = SequenceModel(**gru.config)
            initial.load_state_dict(history.snapshots[0][1])
            self.initial_scales = timescales(trace(initial, self.x).update[-1])
        seed = int((history.settings if history else {}).get("seed", 0))
        chrono = SequenceModel(**{**gru.config, "chrono": length}, seed=seed)
        self.chrono_scales = timescales(trace(chrono, self.x).update[-1])
        self.change_plot = None
        self.change_text = widgets.HTML()
        if self.initial_scales is not None:
            self.change_plot = show_figure(None, timescale_change_figure(self.initial_scales, self.scales,
                                                                         self.chrono_scales, length))
            self.change_text.value = findings_html(self.describe_change())
        else:
            self.change_text.value = findings_html(["This checkpoint keeps no snapshot of its initial weights, so its "
                                                    "time scales at initialisation cannot be shown."])
        self.change_view = widgets.VBox([w for w in (self.change_plot, self.change_text) if w is not None])

        view = dict(style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.nudge_step = widgets.IntSlider(value=20, min=0, max=length - 1, description="nudge at step", **view)
        self.sequence = widgets.IntSlider(value=0, min=0, max=15, description="test sequence", **view)
        self.impulse_plot = None
        self.impulse_text = widgets.HTML()
        for control in (self.nudge_step, self.sequence):
            control.observe(guard(lambda _: self.redraw_impulse()), names="value")
        self.redraw_impulse()
        self.impulse_view = widgets.VBox([widgets.HBox([self.nudge_step, self.sequence]), self.status,
                                          self.impulse_plot, self.impulse_text])

        self.path_sequence = widgets.IntSlider(value=0, min=0, max=15, description="test sequence", **view)
        self.trajectory_plot = None
        self.path_sequence.observe(guard(lambda _: self.redraw_trajectory()), names="value")
        self.redraw_trajectory()
        self.trajectory_view = widgets.VBox([self.path_sequence, self.trajectory_plot])
        protect([self.timescale_view, self.change_view, self.impulse_view, self.trajectory_view], self.status)
        self.status.info(f"GRU and tanh RNN, {gru.hidden_size} units each, trained on {self.task.title.lower()} "
                         f"(length {length}); shown on held-out sequences.")

    def unit_colors(self) -> list[str]:
        """A colour per GRU unit from its time scale (log), the same in every plot."""
        logs = np.log10(self.scales)
        span = max(logs.max() - logs.min(), 1e-9)
        return sample_colorscale(TIMESCALE_SCALE, list((logs - logs.min()) / span))

    def describe_units(self) -> list[str]:
        """What the time scales and alignments say, read from the numbers."""
        follows_slow = self.alignment[:, 1] > self.alignment[:, 0]
        slow_scales, fast_scales = self.scales[follows_slow], self.scales[~follows_slow]
        sentences = [f"Time scales range from {self.scales.min():.1f} to {self.scales.max():.1f} steps "
                     f"(median {np.median(self.scales):.1f}); the task's averages span {self.task.fast:g} and "
                     f"{self.task.slow:g} steps."]
        if len(slow_scales) and len(fast_scales):
            order = "longer" if np.median(slow_scales) > np.median(fast_scales) else "not longer"
            sentences.append(
                f"{len(slow_scales)} units follow the slow average more than the fast one; their median time scale "
                f"is {np.median(slow_scales):.1f} steps, against {np.median(fast_scales):.1f} for the "
                f"{len(fast_scales)} units that follow the fast one: {order}.")
        else:
            which = "slow" if follows_slow.all() else "fast"
            sentences.append(f"Every unit follows the {which} average more than the other one.")
        return sentences

    def describe_change(self) -> list[str]:
        """What training did to the time scales, and where chrono initialisation would have started them."""
        start, end, chrono = self.initial_scales, self.scales, self.chrono_scales
        longer = int(np.sum(end > start))
        return [
            f"At initialisation (PyTorch's default biases) the units' time scales run from {start.min():.1f} to "
            f"{start.max():.1f} steps (median {np.median(start):.1f}); after training from {end.min():.1f} to "
            f"{end.max():.1f} (median {np.median(end):.1f}). Training lengthened the memory of {longer} of "
            f"{len(start)} units.",
            f"Chrono initialisation with T_max = {self.task.length} would have started them from {chrono.min():.1f} "
            f"to {chrono.max():.1f} steps (median {np.median(chrono):.1f}), measured on the same sequences: "
            + (f"spread further than training took them (longest {end.max():.1f} steps)." if chrono.max() >= end.max()
               else "spread, though not as far as the trained units."),
        ]

    def redraw_impulse(self) -> None:
        """Nudge the chosen step of the chosen sequence and redraw the responses of both models."""
        step, x = self.nudge_step.value, self.x[self.sequence.value]
        responses = {cell: impulse_response(model, x, step) for cell, model in self.models.items()}
        lives = {cell: lifetimes(r, step) for cell, r in responses.items()}
        figure = impulse_figure(responses, step, lives, unit_colors={"gru": self.unit_colors()})
        self.impulse_plot = show_figure(self.impulse_plot, figure)
        longest = {cell: int(v.max()) for cell, v in lives.items()}
        long_units = self.scales >= np.median(self.scales)
        long_life, short_life = np.mean(lives["gru"][long_units]), np.mean(lives["gru"][~long_units])
        carry = ("carry it longer" if long_life > short_life else "do not carry it longer")
        self.impulse_text.value = findings_html([
            f"A nudge of +1 to the input at step {step + 1}: in the GRU it stays above 10% of its peak for "
            f"{np.median(lives['gru']):.0f} steps in the median unit and {longest['gru']} in the longest; in the "
            f"tanh RNN for {np.median(lives['rnn']):.0f} and {longest['rnn']}.",
            f"GRU lines are coloured by the unit's time scale (yellow: long, purple: short). The longer-memory half "
            f"of the units keeps the nudge {long_life:.0f} steps on average, the other half {short_life:.0f}: "
            f"they {carry}.",
        ])

    def redraw_trajectory(self) -> None:
        """The chosen sequence's GRU states in 2-D, with each step's input and mean gates on hover."""
        sample = self.path_sequence.value
        states = self.gru_trace.numpy("hidden", -1, sample)
        projected, variance = pca_trajectory(states)
        z = self.gru_trace.numpy("update", -1, sample).mean(1)
        r = self.gru_trace.numpy("reset", -1, sample).mean(1)
        labels = self.task.step_labels(self.x[sample])
        hover = [f"step {t + 1}, {labels[t]}<br>mean update gate z {z[t]:.2f}, mean reset gate r {r[t]:.2f}"
                 for t in range(len(states))]
        title = f"GRU hidden state, test sequence {sample}, in its two main directions"
        self.trajectory_plot = show_figure(self.trajectory_plot, trajectory_figure(projected, variance, hover, title))



