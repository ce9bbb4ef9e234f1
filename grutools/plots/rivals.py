"""Figures of dashboard 07, the GRU among its rivals: a live race, the study over seeds, cost against length,
and streaming one step at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import BASELINE_COLOR, COLORS, LOG_TICKS, base_layout, loss_traces

RIVAL_COLORS = {**COLORS, "mlp": "#8c564b", "tcn": "#009e73", "mingru": "#56b4e9", "transformer": "#cc79a7"}
RIVAL_DASHES = {"gru": "solid", "lstm": "solid", "mlp": "dot", "tcn": "dash", "mingru": "dashdot", "transformer": "longdash"}
RIVAL_SYMBOLS = {"gru": "circle", "lstm": "square", "mlp": "triangle-up", "tcn": "diamond", "mingru": "x",
                 "transformer": "star"}


def log_ticks(low: float, high: float) -> dict:
    """1-2-5 ticks on a log axis from ``low`` to ``high`` (plotly labels every minor tick otherwise)."""
    import math

    values = [m * 10.0**e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1) for m in (1, 2, 5)]
    values = [v for v in values if low / 2 <= v <= high * 2]
    return dict(tickvals=values, ticktext=[f"{v:g}" for v in values])


def _title(text: str) -> dict:
    return dict(text=text, x=0.01, y=0.98, yanchor="top", yref="container")


def rival_race_figure(runs: Mapping[str, tuple[Sequence[int], Sequence[float]]], names: Mapping[str, str],
                      baseline: float, baseline_label: str, max_steps: int, title: str,
                      loss_name: str = "loss", height: int = 420) -> go.Figure:
    """Live loss curves of a race, one colour (and line style) per model, with the task's guess as a dashed line."""
    figure = go.Figure(layout=base_layout(
        title=_title(title), height=height, xaxis=dict(title="training step", range=[0, max_steps]),
        yaxis=dict(title=loss_name + " (log scale)", type="log", **LOG_TICKS)))
    for kind, (steps, loss) in runs.items():
        faint, bold = loss_traces(names[kind], steps, loss, RIVAL_COLORS[kind])
        bold.line.dash = RIVAL_DASHES[kind]
        figure.add_traces([faint, bold])
    figure.add_trace(go.Scatter(x=[0, max_steps], y=[baseline, baseline], mode="lines", name=baseline_label,
                                line=dict(color=BASELINE_COLOR, dash="dash", width=2),
                                hovertemplate=f"{baseline_label}: {baseline:.3f}<extra></extra>"))
    return figure


def study_figure(summary: Mapping[tuple[str, int, str], dict], names: Mapping[str, str], models: Sequence[str],
                 reference: Mapping[str, float] | None = None, height: int = 430) -> go.Figure:
    """Test loss over seeds per task (groups) and model (bars: the mean; whiskers: best and worst seed), log scale.

    ``reference`` adds Bai et al.'s adding (T = 600) figures as hollow markers.
    """
    tasks = sorted({(task, length) for task, length, _ in summary}, key=lambda k: (k[0] != "adding", k))
    labels = [f"{task} {length}" for task, length in tasks]
    figure = go.Figure(layout=base_layout(
        title=_title("Test loss over seeds (bar: mean; whiskers: best and worst seed)"), height=height,
        barmode="group", xaxis=dict(title="task, sequence length"),
        yaxis=dict(title="test loss (log scale)", type="log", **LOG_TICKS)))
    for kind in models:
        rows = [summary.get((task, length, kind)) for task, length in tasks]
        mean = [r["mean"] if r else None for r in rows]
        figure.add_trace(go.Bar(
            x=labels, y=mean, name=names[kind], marker=dict(color=RIVAL_COLORS[kind]),
            error_y=dict(type="data", symmetric=False, array=[r["max"] - r["mean"] if r else 0 for r in rows],
                         arrayminus=[r["mean"] - r["min"] if r else 0 for r in rows], thickness=1.2),
            customdata=[[r["parameters"], r["seeds"], r["ms_per_step"]] if r else [0, 0, 0] for r in rows],
            hovertemplate=(f"{names[kind]}<br>%{{x}}: mean %{{y:.3g}}<br>%{{customdata[0]}} parameters, "
                           "%{customdata[1]} seeds<br>%{customdata[2]:.1f} ms a step<extra></extra>")))
    if reference:
        where = next((label for label, (task, length) in zip(labels, tasks) if (task, length) == ("adding", 600)), None)
        if where is not None:  # the labels left and right, so that the close values do not overprint
            short = {"tcn": "TCN", "gru": "GRU", "lstm": "LSTM"}
            sides = ["middle right", "middle left"] * len(reference)
            figure.add_trace(go.Scatter(
                x=[where] * len(reference), y=list(reference.values()), mode="markers+text",
                text=[f"Bai {short.get(k, names[k])}" for k in reference], textposition=sides[: len(reference)],
                marker=dict(symbol="circle-open", size=12, color="#000"), name="Bai et al. 2018 (T = 600)",
                hovertext=[f"Bai et al. 2018, {names[k]}" for k in reference],
                hovertemplate="%{hovertext}: %{y:.3g}<extra></extra>"))
    return figure


def scaling_figure(lengths: Sequence[int], times_ms: Mapping[str, Sequence[float]], slopes: Mapping[str, float],
                   names: Mapping[str, str], height: int = 430) -> go.Figure:
    """Milliseconds per training step against sequence length, log-log, the fitted slope in each legend entry."""
    figure = go.Figure(layout=base_layout(
        title=_title("One training step against sequence length (log-log; slope 1 = time grows like the length)"),
        height=height, xaxis=dict(title="sequence length (log scale)", type="log", tickvals=list(lengths),
                                  ticktext=[f"{n:,}" for n in lengths]),
        yaxis=dict(title="ms per training step (log scale)", type="log",
                   **log_ticks(min(min(t) for t in times_ms.values()), max(max(t) for t in times_ms.values())))))
    for kind, times in times_ms.items():
        figure.add_trace(go.Scatter(
            x=list(lengths), y=list(times), mode="lines+markers", name=f"{names[kind]} (slope {slopes[kind]:.2f})",
            line=dict(color=RIVAL_COLORS[kind], dash=RIVAL_DASHES[kind], width=3),
            marker=dict(symbol=RIVAL_SYMBOLS[kind], size=9),
            hovertemplate=f"{names[kind]}<br>length %{{x}}: %{{y:.1f}} ms<extra></extra>"))
    return figure


def streaming_figure(steps: Sequence[int], stream: Mapping[str, Mapping[str, Sequence[float]]],
                     names: Mapping[str, str], height: int = 460) -> go.Figure:
    """Streaming: what each model keeps between steps (left) and the time of one new step (right), after t steps."""
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                           subplot_titles=("memory kept between steps", "time of one new step"))
    figure.update_layout(**base_layout(title=_title("A sequence arriving one step at a time"), height=height))
    for kind, profile in stream.items():
        style = dict(color=RIVAL_COLORS[kind], dash=RIVAL_DASHES[kind], width=3)
        kib = (np.asarray(profile["bytes"], dtype=float) / 1024).tolist()
        figure.add_trace(go.Scatter(x=list(steps), y=kib, mode="lines+markers", name=names[kind], line=style,
                                    marker=dict(symbol=RIVAL_SYMBOLS[kind], size=8), legendgroup=kind,
                                    hovertemplate=f"{names[kind]}<br>after %{{x}} steps: %{{y:.2f}} KiB<extra></extra>"),
                         row=1, col=1)
        figure.add_trace(go.Scatter(x=list(steps), y=list(profile["ms"]), mode="lines+markers", name=names[kind],
                                    line=style, marker=dict(symbol=RIVAL_SYMBOLS[kind], size=8), legendgroup=kind,
                                    showlegend=False,
                                    hovertemplate=f"{names[kind]}<br>after %{{x}} steps: %{{y:.2f}} ms<extra></extra>"),
                         row=1, col=2)
    kib = [b / 1024 for p in stream.values() for b in p["bytes"]]
    ms = [m for p in stream.values() for m in p["ms"]]
    for col, title, values in ((1, "KiB kept (log scale)", kib), (2, "ms per new step (log scale)", ms)):
        figure.update_xaxes(title_text="steps so far (log scale)", type="log", tickvals=list(steps),
                            ticktext=[f"{n:,}" for n in steps], row=1, col=col)
        figure.update_yaxes(title_text=title, type="log", row=1, col=col, **log_ticks(min(values), max(values)))
    # the legend under the plots: above them it ran into the two subplot titles
    figure.update_layout(margin=dict(l=70, r=20, t=80, b=130),
                         legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0))
    return figure
