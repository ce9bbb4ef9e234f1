"""Figures of a user's own model: each unit's time scale, and the gradient through time (``grutools.explore``)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .base import COLORS, LOG_TICKS, base_layout


def unit_timescales_figure(scales: np.ndarray, gate: str, height: int = 360) -> go.Figure:
    """Each unit's time scale (steps, log scale), sorted: which units remember long, which forget fast."""
    scales = np.asarray(scales, dtype=float)
    order = np.argsort(scales)
    figure = go.Figure(layout=base_layout(
        height=height, margin=dict(l=80, r=20, t=40, b=60),
        xaxis=dict(title=dict(text="unit (sorted by time scale)"), type="category"),
        yaxis=dict(title=dict(text=f"time scale 1 / (1 − mean {gate}), steps"), type="log", **LOG_TICKS)))
    figure.add_trace(go.Bar(x=[f"unit {u}" for u in order], y=scales[order], marker_color=COLORS["gru"], name="units",
                            hovertemplate="%{x}: %{y:.1f} steps<extra></extra>", showlegend=False))
    return figure


def gradient_through_time_figure(norms: np.ndarray, sequence: int | None = None, height: int = 360) -> go.Figure:
    """|dLoss/d output_t| against t: the mean over sequences (bold) and the chosen sequence (thin), log scale."""
    norms = np.asarray(norms, dtype=float)
    steps = np.arange(1, norms.shape[1] + 1)
    figure = go.Figure(layout=base_layout(
        height=height, margin=dict(l=80, r=20, t=40, b=60),
        xaxis=dict(title=dict(text="time step t")),
        yaxis=dict(title=dict(text="|dLoss / d output<sub>t</sub>| (log)"), type="log", exponentformat="power")))
    figure.add_trace(go.Scatter(x=steps, y=np.where(norms.mean(0) > 0, norms.mean(0), np.nan), mode="lines",
                                line=dict(color=COLORS["gru"], width=3), name="mean over sequences",
                                hovertemplate="step %{x}: %{y:.2g}<extra></extra>"))
    if sequence is not None:
        one = norms[sequence]
        figure.add_trace(go.Scatter(x=steps, y=np.where(one > 0, one, np.nan), mode="lines",
                                    line=dict(color="#555", width=1.5, dash="dot"), name=f"sequence {sequence}",
                                    hovertemplate="step %{x}: %{y:.2g}<extra></extra>"))
    return figure
