"""Figures of the gradient through time and of the race (dashboard 03)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import (
    BASELINE_COLOR,
    COLORS,
    LOG_TICKS,
    NAMES,
    base_layout,
    loss_traces,
    typed_array,
)
from .sketch import Sketch


def gradient_figure(norms: Mapping[str, np.ndarray], gains: Mapping[str, np.ndarray],
                    jacobians: Mapping[str, np.ndarray | tuple[Sequence[int], np.ndarray]], decay: Mapping[str, float],
                    title: str = "", height: int = 470) -> go.Figure:
    """Left: |dLoss/dh_t| against t on a log scale, one line per model, with its fitted decay per step in the
    legend. Right, per step: the gain of the gradient one step back (solid) and the spectral norm of the
    one-step Jacobian (dotted, its upper bound), with the line at 1. A ``jacobians`` entry is the norm at
    every step, or ``(steps, norms)`` at some 1-based steps."""
    sketch = Sketch(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.1,
                    titles=("gradient reaching step t: |dLoss/dh<sub>t</sub>|",
                            "one step back: gain (solid), Jacobian norm (dotted)"))
    for cell, values in norms.items():
        steps = np.arange(1, len(values) + 1)
        name = NAMES.get(cell, cell)
        label = f"{name}: ×{decay[cell]:.3g} per step back" if cell in decay else name
        sketch.add(dict(type="scatter", x=steps, y=np.asarray(values, dtype=np.float64), mode="lines", name=label,
                        legendgroup=cell, line=dict(color=COLORS.get(cell), width=3),
                        hovertemplate=f"{name}<br>step %{{x}}<br>|dL/dh| = %{{y:.3g}}<extra></extra>"))
    for cell in gains:
        name = NAMES.get(cell, cell)
        jacobian = jacobians[cell]
        jacobian_steps, jacobian = jacobian if isinstance(jacobian, tuple) else (np.arange(1, len(jacobian) + 1), jacobian)
        for steps, values, dash, what in (
                (np.arange(1, len(gains[cell]) + 1), gains[cell], "solid", "gain |dL/dh<sub>t−1</sub>| / |dL/dh<sub>t</sub>|"),
                (np.asarray(jacobian_steps), jacobian, "dot", "spectral norm of dh<sub>t</sub>/dh<sub>t−1</sub>")):
            sketch.add(dict(type="scatter", x=steps, y=np.asarray(values, dtype=np.float64), mode="lines",
                            legendgroup=cell, name=f"{name} {what}", showlegend=False,
                            line=dict(color=COLORS.get(cell), width=2.5 if dash == "solid" else 1.5, dash=dash),
                            hovertemplate=f"{name}, {what}<br>step %{{x}}: %{{y:.3f}}<extra></extra>"), col=2)
    length = max((len(v) for v in gains.values()), default=1)
    sketch.add(dict(type="scatter", x=[1, length], y=[1, 1], mode="lines", line=dict(color=BASELINE_COLOR, dash="dash"),
                    name="1: carried unchanged", showlegend=False, hoverinfo="skip"), col=2)
    sketch.yaxis(1, 1).update(type="log", exponentformat="power", title=dict(text="|dLoss/dh<sub>t</sub>| (log scale)"))
    sketch.yaxis(1, 2).update(type="log", title=dict(text="factor per step (log scale)"), **LOG_TICKS)
    sketch.xaxis(1, 1)["title"] = dict(text="time step t")
    sketch.xaxis(1, 2)["title"] = dict(text="time step t")
    return sketch.figure(**base_layout(height=height, margin=dict(l=80, r=20, t=110 if title else 90, b=60, autoexpand=False),
                                       title=dict(text=title, x=0.01, y=0.98, yanchor="top", yref="container"),
                                       legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0)))


def race_figure(histories: Mapping[str, object], gradients: Mapping[str, tuple[Sequence[int], Sequence[np.ndarray]]],
                baseline: float, baseline_label: str, max_steps: int, length: int, height: int = 760) -> go.Figure:
    """The race: loss curves of every model on one plot (top), and for each model a heatmap of
    log10 |dLoss/dh_t| over training step (y) and time step (x) (bottom), on one colour scale."""
    from plotly.subplots import make_subplots

    cells = list(histories)
    figure = make_subplots(rows=2, cols=len(cells), row_heights=[0.5, 0.5], vertical_spacing=0.16,
                           horizontal_spacing=0.05, specs=[[{"colspan": len(cells)}] + [None] * (len(cells) - 1),
                                                           [{} for _ in cells]],
                           subplot_titles=["training loss (log scale)"]
                           + [NAMES.get(c, c) for c in cells])
    for cell in cells:
        history = histories[cell]
        for trace in loss_traces(NAMES.get(cell, cell), np.asarray(history.step, dtype=np.float32),
                                 np.asarray(history.loss, dtype=np.float32), COLORS.get(cell, "#2ca02c")):
            figure.add_trace(trace, row=1, col=1)
    figure.add_trace(go.Scatter(x=[0, max_steps], y=[baseline, baseline], mode="lines", name=baseline_label,
                                line=dict(color=BASELINE_COLOR, dash="dash", width=2),
                                hovertemplate=f"{baseline_label}<extra></extra>"), row=1, col=1)
    top = max((float(np.max(r)) for _, records in gradients.values() for r in records[-1:] if np.isfinite(r).all()),
              default=1.0)
    cmax = math.ceil(math.log10(top)) if top > 0 else 0  # 8 decades of colour below the largest gradient
    for col, cell in enumerate(cells, start=1):
        steps, records = gradients.get(cell, ([], []))
        z = np.log10(np.clip(np.asarray(records, dtype=float), 1e-30, None)) if len(records) else np.zeros((1, length))
        figure.add_trace(go.Heatmap(
            z=typed_array(z), x=np.arange(1, z.shape[1] + 1), y=np.asarray(steps if len(records) else [0]),
            coloraxis="coloraxis", name=NAMES.get(cell, cell),
            hovertemplate=f"{NAMES.get(cell, cell)}<br>training step %{{y}}, time step %{{x}}<br>"
                          "log10 |dL/dh| = %{z:.1f}<extra></extra>"), row=2, col=col)
        figure.update_xaxes(title="time step t", row=2, col=col)
        figure.update_yaxes(title="training step" if col == 1 else None, row=2, col=col, range=[0, max_steps])
    figure.update_xaxes(title="training step", range=[0, max_steps], row=1, col=1)
    figure.update_yaxes(type="log", row=1, col=1, **LOG_TICKS)
    figure.update_layout(**base_layout(
        height=height, margin=dict(l=80, r=20, t=80, b=60),
        coloraxis=dict(colorscale="Viridis", cmin=cmax - 8, cmax=cmax, colorbar=dict(
            title="log10 |dL/dh<sub>t</sub>|<br>(bright: strong)", thickness=12, len=0.42, y=0.21, yanchor="middle")),
        legend=dict(orientation="h", yanchor="bottom", y=1.04, x=0)))
    return figure


# ----------------------------------------------------------------------------------------------
# GRU against LSTM (dashboard 04)
