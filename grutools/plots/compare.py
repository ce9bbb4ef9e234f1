"""Figures of the GRU against the LSTM: parameters and speed, learning curves, data (dashboard 04)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import (
    BASELINE_COLOR,
    COLORS,
    LOG_TICKS,
    NAMES,
    RUN_COLORS,
    _band,
    base_layout,
)
from .sketch import Sketch


def budget_figure(parameters: Mapping[str, int], hidden: Mapping[str, int], times: Mapping[str, Sequence[float]],
                  title: str = "", height: int = 420,
                  ratios: Sequence[tuple[str, float, float, float]] = ()) -> go.Figure:
    """Parameters per model (hidden size in the label); milliseconds per training step, the median as a
    bar and every timed step as a dot, measured on this machine; and, when ``ratios`` are given, the GRU's
    step time over the LSTM's, ``(label, median, low, high)`` each, as a dot with its interval against
    the line at 1 (the live measurement beside the shipped benchmark)."""
    cells = list(parameters)
    labels = [f"{NAMES.get(c, c)}<br>{hidden[c]} units" for c in cells]
    cols = 3 if ratios else 2
    sketch = Sketch(rows=1, cols=cols, horizontal_spacing=0.1 if ratios else 0.14,
                    column_widths=[0.3, 0.4, 0.3] if ratios else None,
                    titles=("trainable parameters", "one training step here", "GRU time / LSTM time")[:cols])
    sketch.add(dict(type="bar", x=labels, y=[parameters[c] for c in cells], marker=dict(color=[COLORS[c] for c in cells]),
                    text=[f"{parameters[c]:,}" for c in cells], textposition="outside", showlegend=False,
                    hovertemplate="%{x}: %{y:,} parameters<extra></extra>", name="parameters"))
    medians = [1000 * float(np.median(times[c])) for c in cells]
    sketch.add(dict(type="bar", x=labels, y=medians, marker=dict(color=[COLORS[c] for c in cells]), showlegend=False,
                    text=[f"{m:.1f} ms" for m in medians], textposition="inside", insidetextanchor="start",  # clear of the dots
                    name="median",
                    hovertemplate="%{x}: median %{y:.2f} ms<extra></extra>"), col=2)
    sketch.add(dict(type="scatter", x=[label for c, label in zip(cells, labels) for _ in times[c]],
                    y=[1000 * t for c in cells for t in times[c]], mode="markers", showlegend=False,
                    marker=dict(color="#222", size=5, opacity=0.35), name="timed steps",
                    hovertemplate="%{x}: %{y:.2f} ms<extra></extra>"), col=2)
    sketch.yaxis(1, 1).update(title=dict(text="parameters"), range=[0, 1.2 * max(parameters.values())])
    # the dots' range without the rare step that a busy machine stretched tenfold: it would flatten the bars
    ceiling = max(float(np.percentile(1000 * np.asarray(t), 98)) for t in times.values())
    sketch.yaxis(1, 2).update(title=dict(text="ms per step (forward, backward, update)"),
                              range=[0, 1.25 * max(ceiling, max(medians))])
    if ratios:
        names = [r[0] for r in ratios]
        finite = [(lo if np.isfinite(lo) else m, hi if np.isfinite(hi) else m) for _, m, lo, hi in ratios]
        sketch.add(dict(type="scatter", x=names, y=[r[1] for r in ratios], mode="markers", showlegend=False,
                        marker=dict(color=COLORS["gru"], size=12), name="GRU / LSTM",
                        error_y=dict(type="data", symmetric=False, thickness=2, width=8, color="#222",
                                     array=[hi - r[1] for r, (_, hi) in zip(ratios, finite)],
                                     arrayminus=[r[1] - lo for r, (lo, _) in zip(ratios, finite)]),
                        hovertemplate="%{x}: %{y:.2f}<extra></extra>"), col=3)
        top = max(1.3, 1.1 * max(hi for _, hi in finite))
        bottom = min(0.7, 0.9 * min(lo for lo, _ in finite))
        xref, yref = sketch.axis_refs(1, 3)
        sketch.layout["shapes"].append(dict(type="line", xref=f"{xref} domain", x0=0, x1=1, yref=yref, y0=1, y1=1,
                                            layer="below", line=dict(color=BASELINE_COLOR, dash="dash", width=2)))
        sketch.yaxis(1, 3).update(title=dict(text="below 1: the GRU is faster"), type="log",
                                  range=[np.log10(bottom), np.log10(top)], **LOG_TICKS)
    return sketch.figure(**base_layout(height=height, margin=dict(l=80, r=20, t=90 if title else 50, b=70),
                                       title=dict(text=title, x=0.01, y=0.98, yanchor="top", yref="container")))


def curves_figure(summaries: Mapping[str, Mapping[str, dict]], titles: Mapping[str, str], block: int,
                  live: Mapping[str, Mapping[str, Sequence[float]]] | None = None, height: int = 420) -> go.Figure:
    """Learning curves per task (one panel each): the mean over seeds (line) and min-max (band) per model,
    the "learned nothing" line, and optionally one live run per model (thin dotted)."""
    from plotly.subplots import make_subplots

    tasks = list(summaries)
    if not tasks:
        figure = go.Figure(layout=base_layout(height=height, xaxis=dict(visible=False), yaxis=dict(visible=False)))
        figure.add_annotation(text="No stored learning curves to show (see the message above).", showarrow=False,
                              font=dict(size=16, color="#555"), xref="paper", yref="paper", x=0.5, y=0.5)
        return figure
    figure = make_subplots(rows=1, cols=len(tasks), horizontal_spacing=0.07, subplot_titles=[titles[t] for t in tasks])
    for col, task in enumerate(tasks, start=1):
        summary = summaries[task]
        baseline = None
        for cell, s in summary.items():
            x = (np.arange(len(s["mean"])) + 1) * block
            name = f"{NAMES.get(cell, cell)}"
            figure.add_trace(_band(x, s["low"], s["high"], COLORS[cell], name), row=1, col=col)
            figure.add_trace(go.Scatter(x=x, y=s["mean"], mode="lines", line=dict(color=COLORS[cell], width=3),
                                        name=name, legendgroup=name, showlegend=col == 1,
                                        hovertemplate=f"{name}, {s['hidden_size']} units, {s['parameters']:,} params"
                                                      f"<br>step %{{x}}: mean loss %{{y:.4f}}<extra></extra>"),
                             row=1, col=col)
            baseline = s["baseline"]
            values = ((live or {}).get(task) or {}).get(cell)
            if values:
                lx = (np.arange(len(values)) + 1) * block
                figure.add_trace(go.Scatter(x=lx, y=list(values), mode="lines", legendgroup=name, showlegend=False,
                                            line=dict(color=COLORS[cell], width=1.5, dash="dot"), name=f"{name} live",
                                            hovertemplate=f"{name}, live run<br>step %{{x}}: %{{y:.4f}}<extra></extra>"),
                                 row=1, col=col)
        if baseline is not None:
            right = (max(len(s["mean"]) for s in summary.values())) * block
            figure.add_trace(go.Scatter(x=[0, right], y=[baseline, baseline], mode="lines", name="learned nothing",
                                        line=dict(color=BASELINE_COLOR, dash="dash", width=2), showlegend=col == 1,
                                        legendgroup="baseline", hoverinfo="skip"), row=1, col=col)
        figure.update_yaxes(type="log", row=1, col=col, **LOG_TICKS)
        figure.update_xaxes(title="training step", row=1, col=col)
    figure.update_yaxes(title="training loss (log scale)", row=1, col=1)
    figure.update_layout(**base_layout(height=height, margin=dict(l=80, r=20, t=100, b=60),
                                       legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0)))
    return figure


def data_quality_figure(runs: Sequence[tuple[str, Mapping[str, Sequence[float]]]], baseline: float,
                        steps: int = 400, height: int = 420) -> go.Figure:
    """Training loss (dashed) and clean test loss (solid) of GRUs trained on different data, newest run boldest."""
    palette = RUN_COLORS
    figure = go.Figure(layout=base_layout(height=height, xaxis=dict(title="training step"),
                                          yaxis=dict(title="loss (log scale)", type="log", **LOG_TICKS)))
    for number, (label, run) in enumerate(runs):
        color = palette[number % len(palette)]
        newest = number == len(runs) - 1
        for key, dash, what in (("test", "solid", "test, clean data"), ("train", "dash", "training set")):
            figure.add_trace(go.Scatter(x=list(run["step"]), y=list(run[key]), mode="lines", name=f"{label}: {what}",
                                        line=dict(color=color, dash=dash, width=3 if newest else 1.5),
                                        opacity=1.0 if newest else 0.55,
                                        hovertemplate=f"{label}, {what}<br>step %{{x}}: %{{y:.4f}}<extra></extra>"))
    figure.add_trace(go.Scatter(x=[0, steps], y=[baseline, baseline], mode="lines", name="learned nothing",
                                line=dict(color=BASELINE_COLOR, dash="dot", width=2), hoverinfo="skip"))
    if not runs:
        figure.add_annotation(text="Press Train: the curves appear here while the GRU learns.", showarrow=False,
                              xref="paper", yref="paper", x=0.5, y=0.75, font=dict(size=16, color="#555"))
    figure.update_layout(legend=dict(orientation="v", yanchor="top", y=1, x=1.02, xanchor="left"),
                         xaxis=dict(range=[0, steps]), margin=dict(l=80, r=20, t=30, b=60))
    return figure


# ----------------------------------------------------------------------------------------------
# Memory time scales (dashboard 05)
