"""Figures of memory on different time scales: time scales, impulse responses, trajectories (dashboard 05)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import (
    BASELINE_COLOR,
    COLORS,
    LOG_TICKS,
    NAMES,
    base_layout,
)
from .sketch import Sketch

TIMESCALE_SCALE = "Plasma"


def timescale_figure(scales: np.ndarray, alignment: np.ndarray, signal_names: Sequence[str] = ("fast", "slow"),
                     height: int = 420) -> go.Figure:
    """Left: histogram of the units' time scales (log bins). Right: each unit's time scale against which target
    it follows (|corr| with the slow signal minus |corr| with the fast one)."""
    from plotly.subplots import make_subplots

    scales = np.asarray(scales, dtype=float)
    follows = alignment[:, 1] - alignment[:, 0]
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                           subplot_titles=("memory time scale of each unit", "which signal does each unit follow?"))
    edges = np.logspace(0, np.log10(max(scales.max(), 2.0)) + 0.05, 13)
    counts, _ = np.histogram(scales, bins=edges)
    figure.add_trace(go.Bar(x=np.sqrt(edges[:-1] * edges[1:]), y=counts, width=np.diff(edges) * 0.9,
                            marker_color=COLORS["gru"], showlegend=False, name="units",
                            customdata=np.stack([edges[:-1], edges[1:]], 1),
                            hovertemplate="%{y} units with time scale %{customdata[0]:.1f}-%{customdata[1]:.1f} steps"
                                          "<extra></extra>"), row=1, col=1)
    figure.add_trace(go.Scatter(x=scales, y=follows, mode="markers+text", text=[str(u) for u in range(len(scales))],
                                textposition="top center", textfont=dict(size=11, color="#555"),
                                marker=dict(size=12, color=np.log10(scales), colorscale=TIMESCALE_SCALE,
                                            line=dict(width=1, color="#333")),
                                customdata=alignment, showlegend=False, name="units",
                                hovertemplate=(f"unit %{{text}}: time scale %{{x:.1f}} steps<br>|corr| with {signal_names[0]}"
                                               f" %{{customdata[0]:.2f}}, with {signal_names[1]} %{{customdata[1]:.2f}}"
                                               "<extra></extra>")), row=1, col=2)
    figure.add_hline(y=0, line=dict(color="#bbb", dash="dash"), row=1, col=2)
    figure.update_xaxes(type="log", title="time scale 1 / (1 − mean z), steps (log)", row=1, col=1)
    figure.update_xaxes(type="log", title="time scale, steps (log)", row=1, col=2)
    figure.update_yaxes(title="units", row=1, col=1)
    figure.update_yaxes(title=f"follows {signal_names[1]} (up) or {signal_names[0]} (down)", range=[-1.05, 1.05],
                        row=1, col=2)
    figure.update_layout(**base_layout(height=height, margin=dict(l=80, r=20, t=60, b=60)))
    return figure


def impulse_figure(responses: Mapping[str, np.ndarray], step: int, lifetimes: Mapping[str, np.ndarray],
                   unit_colors: Mapping[str, Sequence[str]] | None = None, height: int = 420) -> go.Figure:
    """One panel per model: how far each unit's state moves after the input at ``step`` is nudged (log scale)."""
    cells = list(responses)
    titles = [f"{NAMES.get(c, c)}: the nudge lives {np.median(lifetimes[c]):.0f} steps (median unit)" for c in cells]
    sketch = Sketch(rows=1, cols=len(cells), shared_yaxes=True, horizontal_spacing=0.05, titles=titles)
    for col, cell in enumerate(cells, start=1):
        response = responses[cell]
        steps = np.arange(1, response.shape[0] + 1)
        colors = (unit_colors or {}).get(cell) or [COLORS.get(cell, "#444")] * response.shape[1]
        for unit in range(response.shape[1]):
            values = np.where(steps > step, response[:, unit], np.nan)  # 1-based steps: the nudge is at step + 1
            values = np.where(values > 1e-7, values, np.nan)
            sketch.add(dict(type="scatter", x=steps, y=values, mode="lines", line=dict(color=colors[unit], width=2),
                            opacity=0.8, showlegend=False, name=f"unit {unit}",
                            hovertemplate=f"{NAMES.get(cell, cell)} unit {unit}<br>step %{{x}}: "
                                          "|Δh| = %{y:.2g}<extra></extra>"), col=col)
        sketch.vline(step + 1, line=dict(color=BASELINE_COLOR, dash="dot"), col=col)
        sketch.xaxis(1, col)["title"] = dict(text="time step t")
        sketch.yaxis(1, col).update(type="log", exponentformat="power", range=[-6, 0.5])  # shared axes share no type
    sketch.yaxis(1, 1)["title"] = dict(text="|change of h<sub>t</sub>| (log)")
    return sketch.figure(**base_layout(height=height, margin=dict(l=80, r=20, t=60, b=60)))


def trajectory_figure(projected: np.ndarray, variance: Sequence[float], hover: Sequence[str], title: str = "",
                      height: int = 460) -> go.Figure:
    """The hidden states of one sequence in their two principal directions, joined in time order, coloured by step."""
    steps = np.arange(1, len(projected) + 1)
    figure = go.Figure(layout=base_layout(
        height=height, margin=dict(l=80, r=20, t=60 if title else 30, b=60),
        title=dict(text=title, x=0.01, y=0.98, yanchor="top", yref="container"),
        xaxis=dict(title=f"first principal direction ({100 * variance[0]:.0f}% of the variance)", zeroline=False),
        yaxis=dict(title=f"second ({100 * variance[1]:.0f}%)", zeroline=False)))
    figure.add_trace(go.Scatter(x=projected[:, 0], y=projected[:, 1], mode="lines", line=dict(color="#ccc", width=1),
                                hoverinfo="skip", showlegend=False, name="path"))
    figure.add_trace(go.Scatter(x=projected[:, 0], y=projected[:, 1], mode="markers", showlegend=False, name="states",
                                marker=dict(size=9, color=steps, colorscale="Viridis",
                                            colorbar=dict(title="time step", thickness=12)),
                                customdata=list(hover), hovertemplate="%{customdata}<extra></extra>"))
    return figure


def timescale_change_figure(initial: np.ndarray, trained: np.ndarray, chrono: np.ndarray | None = None,
                            t_max: float | None = None, height: int = 420) -> go.Figure:
    """Left: each unit's time scale at initialisation (x) against after training (y), log-log, with the
    diagonal (no change). Right: the units' time scales sorted, at initialisation, after training and, if
    given, under chrono initialisation (its range up to ``t_max`` shaded)."""
    initial, trained = np.asarray(initial, float), np.asarray(trained, float)
    sketch = Sketch(rows=1, cols=2, horizontal_spacing=0.12,
                    titles=("each unit: before and after training", "all units, sorted"))
    top = max(trained.max(), initial.max(), chrono.max() if chrono is not None else 1.0, t_max or 1.0) * 1.5
    sketch.add(dict(type="scatter", x=[1, top], y=[1, top], mode="lines", line=dict(color="#bbb", dash="dash"),
                    hoverinfo="skip", showlegend=False, name="no change"))
    sketch.add(dict(type="scatter", x=initial, y=trained, mode="markers", text=[str(u) for u in range(len(initial))],
                    marker=dict(size=11, color=COLORS["gru"], opacity=0.8, line=dict(width=1, color="#fff")),
                    showlegend=False, name="units",
                    hovertemplate="unit %{text}: %{x:.1f} steps at initialisation, %{y:.1f} after training"
                                  "<extra></extra>"))
    rank = np.arange(1, len(initial) + 1)
    lines = [("at initialisation (default)", initial, "#7f7f7f", "dot"), ("after training", trained, COLORS["gru"], "solid")]
    if chrono is not None:
        lines.append((f"chrono initialisation (T_max = {t_max:g})", np.asarray(chrono, float), "#d55e00", "dash"))
    for name, values, color, dash in lines:
        sketch.add(dict(type="scatter", x=rank, y=np.sort(values), mode="lines+markers", name=name,
                        line=dict(color=color, dash=dash, width=3), marker=dict(size=6, color=color),
                        hovertemplate=f"{name}<br>unit rank %{{x}}: %{{y:.1f}} steps<extra></extra>"), col=2)
    for col in (1, 2):
        sketch.yaxis(1, col).update(type="log", range=[0, np.log10(top)], **LOG_TICKS)
    sketch.xaxis(1, 1).update(type="log", range=[0, np.log10(top)], title=dict(text="time scale at initialisation, steps"),
                              **LOG_TICKS)
    sketch.yaxis(1, 1)["title"] = dict(text="after training, steps")
    sketch.xaxis(1, 2)["title"] = dict(text="units, shortest memory to longest")
    sketch.yaxis(1, 2)["title"] = dict(text="time scale 1 / (1 − mean z), steps")
    return sketch.figure(**base_layout(height=height, margin=dict(l=80, r=20, t=60, b=60),
                                       legend=dict(orientation="v", x=0.575, y=0.99, xanchor="left", yanchor="top",
                                                   bgcolor="rgba(255,255,255,0.85)")))
