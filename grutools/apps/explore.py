"""Your own model on your own sequences: the gate views of the dashboards, for any recurrent model (grutools.explore)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from torch import nn

from ..plots import (
    gradient_through_time_figure,
    unit_timescales_figure,
)
from ..yours.explore import KEEPING_GATE, Exploration
from ..yours.uploads import EmbeddedRecurrent
from .common import LABEL_STYLE, StatusLine, control_layout, findings_html, guarded
from .figures import show_figure
from .gateviews import GateViews, ShowsGateViews
from .guard import protect

WINDOW = 1000  # steps drawn at once: a longer sequence is shown a window at a time (the figures grow with the steps)


class ModelExplorer(ShowsGateViews, widgets.VBox):
    """The explore views of one :class:`~grutools.yours.explore.Exploration`, with controls for sequence, layer and unit.

    Views (also as attributes, to place them one by one in a notebook): :attr:`gates_view`
    (heatmaps aligned with the input), :attr:`unit_view` (one unit close up),
    :attr:`saturation_view`, :attr:`timescale_view` and :attr:`gradient_view` (with a target).
    """

    def __init__(self, exploration: Exploration) -> None:
        self.exploration = ex = exploration
        self.status = StatusLine(layout=widgets.Layout(width="100%"))
        guard = guarded(self.status)
        self.sequence = widgets.Dropdown(options=[(f"sequence {name}", i) for i, name in enumerate(ex.data.ids)],
                                         value=0, description="sequence", style=LABEL_STYLE, layout=control_layout())
        self.entry = widgets.Dropdown(options=[(name, i) for i, name in enumerate(ex.entry_names())],
                                      value=ex.entries - 1, description="layer", style=LABEL_STYLE,
                                      layout=control_layout())
        self.entry.layout.display = None if ex.entries > 1 else "none"
        self.unit = widgets.Dropdown(options=[(f"unit {u}", u) for u in range(ex.layer.hidden_size)], value=0,
                                     description="unit", style=LABEL_STYLE, layout=control_layout())
        self.window = widgets.IntSlider(value=1, min=1, max=1, step=max(1, WINDOW // 10), description="from step",
                                        continuous_update=False, style=LABEL_STYLE, layout=control_layout())
        self.views = GateViews()  # the gate views of dashboard 02, configured for this model and these sequences
        self.timescale_plot = self.gradient_plot = None
        self.summary = widgets.HTML()
        self.sequence.observe(guard(lambda _: self.redraw_sequence()), names="value")
        self._resizing = False  # the window's range is being set for a new sequence: redrawn once, after
        self.window.observe(guard(lambda _: None if self._resizing else self.redraw_window()), names="value")
        self.entry.observe(guard(lambda _: self.redraw_all()), names="value")
        self.unit.observe(guard(lambda _: self.redraw_unit()), names="value")
        self.redraw_all()
        self.gates_view = widgets.VBox([widgets.HBox([self.sequence, self.entry, self.window],
                                                     layout=widgets.Layout(flex_flow="row wrap")), self.heatmaps])
        self.unit_view = widgets.VBox([self.unit, self.closeup])
        self.saturation_view = widgets.VBox([w for w in (self.saturation_plot,) if w is not None])
        self.timescale_view = widgets.VBox([w for w in (self.timescale_plot,) if w is not None])
        self.gradient_view = widgets.VBox([w for w in (self.gradient_plot,) if w is not None])
        parts = [self.summary, self.status, self.gates_view, self.unit_view]
        for title, view in (("Gate saturation", self.saturation_view), ("Each unit's time scale", self.timescale_view),
                            ("The gradient through time", self.gradient_view)):
            if view.children:
                parts += [widgets.HTML(f"<h3 style='margin:12px 0 4px'>{title}</h3>"), view]
        super().__init__(parts, layout=widgets.Layout(width="100%"))
        # every view, shown or not (an empty gradient view still exists in the kernel, and a page can address it)
        protect([self, self.gates_view, self.unit_view, self.saturation_view, self.timescale_view, self.gradient_view],
                self.status)
        layer = ex.layer
        kind = ex.kind.upper() if ex.kind != "rnn" else "tanh RNN"
        rebuilt = isinstance(ex.model, EmbeddedRecurrent)  # an upload's layer behind its embedding: no name of ours
        where = (f"{type(ex.model).__name__}: its {kind} {ex.layer_name!r}"
                 if ex.layer_name and ex.layer_name != "core" and not rebuilt else f"A {kind}")
        inputs = (f"reading token ids through an embedding into {layer.input_size} features" if ex.data.tokens else
                  f"{layer.input_size} input feature(s) ({', '.join(ex.data.feature_names[:8])})")
        self.summary.value = findings_html([
            f"{where} has {layer.num_layers} layer(s) of {layer.hidden_size} units"
            f"{', bidirectional' if layer.bidirectional else ''}, {inputs}; {len(ex.data)} sequence(s)."])
        self.status.info("Choose a sequence, a layer and a unit; every view follows.")

    # ------------------------------------------------------------------------------------------

    def _sequence_values(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        index = self.sequence.value
        return self.exploration.data.sequences[index], self.exploration.values(index, self.entry.value)

    def _window(self) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
        """The shown window of the chosen sequence: its input, its values and the number of its first step."""
        x, values = self._sequence_values()
        start = min(max(1, self.window.value), max(1, len(x) - WINDOW + 1))
        cut = slice(start - 1, start - 1 + WINDOW)
        return x[cut], {name: value[cut] for name, value in values.items()}, start

    def redraw_sequence(self) -> None:
        """The heatmaps, the close-up and the gradient for the chosen sequence."""
        length = len(self.exploration.data.sequences[self.sequence.value])
        self.window.layout.display = None if length > WINDOW else "none"
        self._resizing = True
        try:  # a shorter sequence clamps the value (the slider does it when its max falls)
            self.window.max = max(1, length - WINDOW + 1)
        finally:
            self._resizing = False
        self.redraw_window()
        gradients = self.exploration.gradients()
        if gradients is not None:
            self.gradient_plot = show_figure(self.gradient_plot,
                                             gradient_through_time_figure(gradients, self.sequence.value))

    def redraw_window(self) -> None:
        """The heatmaps and the close-up of the shown steps (all of them, up to :data:`WINDOW`)."""
        ex = self.exploration
        x, values, start = self._window()
        length = len(ex.data.sequences[self.sequence.value])
        scales = ex.timescales(self.entry.value)
        order = list(np.argsort(-scales)) if scales is not None else list(range(ex.layer.hidden_size))
        title = f"Sequence {ex.data.ids[self.sequence.value]}, {ex.entry_names()[self.entry.value]}"
        if length > WINDOW:
            title += f": steps {start}-{start + len(x) - 1} of {length}"
        shown = {name: values[name] for name in ex.quantities if name != "candidate"}
        self.views.draw_heatmaps(ex.data, x, shown, order, title, height=160 + 150 * len(shown), first_step=start)
        self.redraw_unit()

    def redraw_unit(self) -> None:
        x, values, start = self._window()
        self.views.draw_unit(self.exploration.data, x, values, self.unit.value, first_step=start)

    def redraw_all(self) -> None:
        """Everything, for the chosen layer (pooled views over the sequences, then the sequence's own)."""
        ex = self.exploration
        saturations = ex.saturation(self.entry.value)
        if saturations:
            self.views.draw_saturation(saturations, label="your model")
        scales = ex.timescales(self.entry.value)
        if scales is not None:
            symbol = {"update": "z", "forget": "f"}[KEEPING_GATE[ex.kind]]
            self.timescale_plot = show_figure(self.timescale_plot, unit_timescales_figure(scales, symbol))
        self.redraw_sequence()


def explore(model: nn.Module, x: Any, *, y: Any = None, loss: Callable | None = None, rnn: str | None = None,
            feature_names: Sequence[str] | None = None, sequence_id: str | None = None,
            batch_first: bool | None = None):
    """A widget app showing ``model``'s recurrent layer on your sequences ``x``.

    Views: gate and state heatmaps aligned with the input's named features, one unit
    close up, gate saturation, each unit's time scale, and, given a target ``y`` and a
    ``loss(output, y)``, the gradient through time. ``x`` is a tensor or array
    ``(batch, time, features)`` (or ``(time, features)``), a pandas DataFrame (one
    sequence, or a long table with a ``sequence_id`` column), or a CSV file's path laid
    out like that table, batch-first unless ``batch_first=False`` (by default the layout of
    the model's recurrent layer). For a model that embeds token ids, ``x`` is the ids: integers
    ``(batch, time)`` (or a list of lists), and ``feature_names`` may give the vocabulary.

    >>> import torch, grutools
    >>> app = grutools.explore(torch.nn.GRU(2, 4, batch_first=True), torch.randn(3, 10, 2))  # doctest: +SKIP
    """
    return ModelExplorer(Exploration(model, x, rnn=rnn, y=y, loss=loss, feature_names=feature_names,
                                     sequence_id=sequence_id, batch_first=batch_first))
