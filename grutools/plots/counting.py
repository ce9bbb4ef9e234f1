"""Figures of what a GRU cannot do: which n of aⁿbⁿ each model recognises, and the states that count (dashboard 04)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .base import BASELINE_COLOR, COLORS, base_layout
from .sketch import Sketch

RECOGNISED_SCALE = [[0.0, "#f4a582"], [0.5, "#f4a582"], [0.5, "#2166ac"], [1.0, "#2166ac"]]  # no: light red, yes: blue


def recognition_figure(rows: Sequence[tuple[str, Sequence[bool]]], max_n: int, height: int | None = None) -> go.Figure:
    """One row per model (label, recognised per n = 1, 2, ...): blue where it recognises aⁿbⁿ, light red where it
    does not; the training range (n <= ``max_n``) is marked."""
    labels = [label for label, _ in rows]
    width = max(len(ok) for _, ok in rows)
    z = np.full((len(rows), width), np.nan)
    for i, (_, ok) in enumerate(rows):
        z[i, :len(ok)] = np.asarray(ok, dtype=float)
    n = np.arange(1, width + 1)
    figure = go.Figure(layout=base_layout(
        height=height or 130 + 26 * len(rows), margin=dict(l=170, r=20, t=60, b=60),
        xaxis=dict(title="n (the string has n a's then n b's)", range=[0.5, width + 0.5]),
        yaxis=dict(autorange="reversed", tickfont=dict(size=13))))
    figure.add_trace(go.Heatmap(z=z, x=n, y=labels, zmin=0, zmax=1, colorscale=RECOGNISED_SCALE, showscale=False,
                                xgap=0, ygap=2, name="recognised",
                                hovertemplate="%{y}, n = %{x}: %{customdata}<extra></extra>",
                                customdata=np.where(z == 1, "recognised", np.where(z == 0, "wrong", "not tested"))))
    figure.add_vrect(x0=0.5, x1=max_n + 0.5, fillcolor="#000", opacity=0.06, line_width=0, layer="above")
    figure.add_vline(x=max_n + 0.5, line=dict(color=BASELINE_COLOR, dash="dash", width=2))
    figure.add_annotation(x=max_n + 0.5, y=1.0, yref="paper", yanchor="bottom", xanchor="left", showarrow=False,
                          text=f" ← trained on n ≤ {max_n}", font=dict(color=BASELINE_COLOR, size=13))
    figure.add_annotation(x=1.0, y=1.0, xref="paper", yref="paper", yanchor="bottom", xanchor="right", showarrow=False,
                          text="<span style='color:#2166ac'>■</span> recognised   "
                               "<span style='color:#f4a582'>■</span> a wrong prediction", font=dict(size=13))
    return figure


def counting_states_figure(n: int, lstm_cell: np.ndarray, gru_hidden: np.ndarray, lstm_unit: int, gru_unit: int,
                           height: int = 400) -> go.Figure:
    """Along aⁿbⁿ: every LSTM cell state c_t (left) and every GRU state h_t (right), ``(time, units)``; the unit
    that follows the count #a − #b best is drawn bold, the others faint, and the a/b boundary marked."""
    steps = np.arange(1, 2 * n + 1)
    sketch = Sketch(rows=1, cols=2, horizontal_spacing=0.1,
                    titles=(f"LSTM cell state c: free to grow (unit {lstm_unit} bold)",
                            f"GRU state h: held in [−1, 1] (unit {gru_unit} bold)"))
    for col, (cell, values, best) in enumerate((("lstm", lstm_cell, lstm_unit), ("gru", gru_hidden, gru_unit)), 1):
        values = np.asarray(values)[: 2 * n]
        for unit in range(values.shape[1]):
            bold = unit == best
            sketch.add(dict(type="scatter", x=steps, y=values[:, unit], mode="lines", showlegend=False,
                            line=dict(color=COLORS[cell] if bold else "#bbb", width=3.5 if bold else 1.2),
                            name=f"unit {unit}", hovertemplate=f"unit {unit}<br>step %{{x}}: %{{y:.2f}}<extra></extra>"),
                       col=col)
        sketch.vline(n + 0.5, line=dict(color="#444", dash="dot"), col=col)
        sketch.xaxis(1, col)["title"] = dict(text=f"step: {n} a's, then {n} b's")
    sketch.hband(-1, 1, col=2, fillcolor="#1f77b4", opacity=0.08)
    sketch.yaxis(1, 1)["title"] = dict(text="c<sub>t</sub>")
    sketch.yaxis(1, 2).update(title=dict(text="h<sub>t</sub>"), range=[-1.15, 1.15])
    return sketch.figure(**base_layout(height=height, margin=dict(l=70, r=20, t=60, b=60)))
