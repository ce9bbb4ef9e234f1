"""Shared parts of the figure builders: arrays (or a :class:`~grutools.Trace`/:class:`~grutools.History`) in,
``plotly.graph_objects.Figure`` out. They never train, read widgets or touch globals,
so they can be unit-tested and exported to static HTML.

Conventions: the same colour for the same model everywhere (RNN grey, GRU blue,
LSTM orange), fonts legible when projected, colour scales fixed to the value
range of the quantity (gates 0..1, states -1..1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..core.models import CELL_NAMES as NAMES

COLORS = {"rnn": "#7f7f7f", "gru": "#1f77b4", "lstm": "#ff7f0e"}
BASELINE_COLOR = "#d62728"
# the gates' lines: told apart under deuteranopia too (simulated in tests/test_plots_palette.py); the GRU's state
# keeps the GRU's blue. The earlier purple and green read as the blue and the red to a red-green colour-blind student.
GATE_COLORS = {"update": "#d55e00", "reset": "#009e73", "candidate": "#000000"}
RUN_COLORS = ["#1f77b4", "#d55e00", "#009e73", "#000000", "#56b4e9"]  # successive runs of one model, likewise
FONT_SIZE = 14
# 1-2-5 ticks on log axes: plotly's default labels every minor tick, which is unreadable when projected
LOG_TICKS = dict(
    tickvals=[m * 10.0**e for e in range(-5, 3) for m in (1, 2, 5)],
    ticktext=[f"{m * 10.0**e:g}" for e in range(-5, 3) for m in (1, 2, 5)],
)


def base_layout(**overrides) -> dict:
    """The layout every figure starts from: white template, 14 px text, tight margins."""
    layout = dict(
        template="plotly_white",
        font=dict(size=FONT_SIZE, family="Arial, Helvetica, sans-serif"),
        margin=dict(l=70, r=20, t=90, b=60),
        # the title sits at the top of the figure, the legend in one row between it and the plot
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0),
    )
    layout.update(overrides)
    return layout


def smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing moving average (the first points average what there is), same length as ``values``."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) == 0:
        return values
    sums = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.maximum(0, np.arange(1, len(values) + 1) - window)]) / counts


def loss_traces(label: str, steps: Sequence[int], loss: Sequence[float], color: str, window: int = 20) -> list[go.Scatter]:
    """The raw loss (faint) and its moving average (bold) for one run."""
    return [
        go.Scatter(x=list(steps), y=list(loss), mode="lines", line=dict(color=color, width=1), opacity=0.3,
                   name=f"{label} (each step)", showlegend=False, hoverinfo="skip"),
        go.Scatter(x=list(steps), y=smooth(loss, window).tolist(), mode="lines", line=dict(color=color, width=3),
                   name=label, hovertemplate=f"{label}<br>step %{{x}}<br>loss %{{y:.4f}}<extra></extra>"),
    ]


def loss_figure(
    runs: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    baseline: float | None = None,
    baseline_label: str = "learned nothing",
    colors: Mapping[str, str] | None = None,
    title: str = "Training loss",
    loss_name: str = "loss",
    log_y: bool = True,
    max_steps: int | None = None,
    height: int = 380,
) -> go.Figure:
    """Loss curves, one colour per run, with the task's "learned nothing" line.

    ``runs`` maps a label (``"gru"``, ``"rnn"``, ``"lstm"`` get the house colours and
    names) to ``(steps, losses)``. ``max_steps`` fixes the x range, so a curve
    that grows during training does not make the axis jump.
    """
    colors = dict(COLORS, **(colors or {}))
    figure = go.Figure(layout=base_layout(
        title=dict(text=title, x=0.01, y=0.98, yanchor="top", yref="container"), height=height,
        xaxis=dict(title="training step", range=[0, max_steps] if max_steps else None),
        yaxis=dict(title=loss_name + (" (log scale)" if log_y else ""), type="log" if log_y else "linear",
                   **(LOG_TICKS if log_y else {})),
    ))
    for label, (steps, loss) in runs.items():
        figure.add_traces(loss_traces(NAMES.get(label, label), steps, loss, colors.get(label, "#2ca02c")))
    if baseline is not None:
        right = max_steps or max([steps[-1] for steps, _ in runs.values() if len(steps)] or [1])
        figure.add_trace(go.Scatter(
            x=[0, right], y=[baseline, baseline], mode="lines", name=baseline_label,
            line=dict(color=BASELINE_COLOR, dash="dash", width=2),
            hovertemplate=f"{baseline_label}: {baseline:.3f}<extra></extra>",
        ))
    return figure


# ----------------------------------------------------------------------------------------------
# Inside one GRU step (dashboard 01)

GATE_SCALE = [[0.0, "#f7fbff"], [1.0, "#08519c"]]  # gates: white (0, closed) to blue (1, open)
STATE_SCALE = "RdBu"  # states: red (-1) to white (0) to blue (+1)


def typed_array(values: np.ndarray) -> dict:
    """A 2-D array in plotly.js's typed-array form (base64), about 20x cheaper to send than nested lists."""
    from _plotly_utils.utils import to_typed_array_spec

    return to_typed_array_spec(np.ascontiguousarray(values, dtype=np.float32))



def _band(x: np.ndarray, low: np.ndarray, high: np.ndarray, color: str, group: str) -> go.Scatter:
    """A filled band between ``low`` and ``high`` (one closed polygon), drawn faint behind a mean line."""
    from plotly.colors import hex_to_rgb

    r, g, b = hex_to_rgb(color)
    return go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([high, low[::-1]]), fill="toself",
                      fillcolor=f"rgba({r},{g},{b},0.18)", line=dict(width=0), hoverinfo="skip", showlegend=False,
                      legendgroup=group, name=f"{group} spread")

