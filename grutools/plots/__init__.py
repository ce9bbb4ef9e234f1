"""Pure figure builders: arrays (or a :class:`~grutools.Trace`/:class:`~grutools.History`) in,
``plotly.graph_objects.Figure`` out. They never train, read widgets or touch globals,
so they can be unit-tested and exported to static HTML.

One module per dashboard's figures (:mod:`.cell`, :mod:`.gates`, :mod:`.vanishing`,
:mod:`.compare`, :mod:`.counting`, :mod:`.memory`, :mod:`.explore`, :mod:`.rivals`), on the shared palette and layout of
:mod:`.base`; everything is importable from ``grutools.plots``.

Conventions: the same colour for the same model everywhere (RNN grey, GRU blue,
LSTM orange), fonts legible when projected, colour scales fixed to the value
range of the quantity (gates 0..1, states -1..1).
"""

from .base import (
                   BASELINE_COLOR,
                   COLORS,
                   FONT_SIZE,
                   GATE_COLORS,
                   GATE_SCALE,
                   LOG_TICKS,
                   NAMES,
                   RUN_COLORS,
                   STATE_SCALE,
                   base_layout,
                   loss_figure,
                   loss_traces,
                   smooth,
                   typed_array,
)
from .cell import cell_step_figure, unit_sequence_figure
from .compare import budget_figure, curves_figure, data_quality_figure
from .counting import counting_states_figure, recognition_figure
from .explore import gradient_through_time_figure, unit_timescales_figure
from .gates import EVENT_COLOR, GATE_LABELS, gate_heatmaps_figure, saturation_figure, unit_closeup_figure
from .memory import TIMESCALE_SCALE, impulse_figure, timescale_change_figure, timescale_figure, trajectory_figure
from .rivals import rival_race_figure, scaling_figure, streaming_figure, study_figure
from .vanishing import gradient_figure, race_figure

__all__ = [
    "BASELINE_COLOR", "COLORS", "EVENT_COLOR", "FONT_SIZE", "GATE_COLORS", "GATE_LABELS", "GATE_SCALE",
    "LOG_TICKS", "NAMES", "RUN_COLORS", "STATE_SCALE", "TIMESCALE_SCALE", "base_layout", "budget_figure",
    "cell_step_figure", "counting_states_figure", "curves_figure", "data_quality_figure",
    "gate_heatmaps_figure", "gradient_figure", "gradient_through_time_figure", "impulse_figure",
    "loss_figure", "loss_traces", "race_figure", "rival_race_figure", "scaling_figure", "streaming_figure",
    "study_figure", "recognition_figure", "saturation_figure", "smooth",
    "timescale_change_figure", "timescale_figure", "trajectory_figure", "typed_array", "unit_closeup_figure",
    "unit_sequence_figure", "unit_timescales_figure",
]
