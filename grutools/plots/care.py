"""Figures of dashboard 08, training a GRU with care: pre-processing side by side, the settings grid, a
monitored run, and misaligned targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .base import BASELINE_COLOR, COLORS, LOG_TICKS, base_layout, smooth

TRANSFORM_COLORS = {"raw": "#7f7f7f", "standardised": "#1f77b4", "log": "#009e73"}
TRANSFORM_DASHES = {"raw": "dot", "standardised": "solid", "log": "dash"}
HEAT_SCALE = [[0.0, "#08519c"], [0.5, "#f7fbff"], [1.0, "#b30000"]]  # low loss blue, high loss red


def _title(text: str) -> dict:
    return dict(text=text, x=0.01, y=0.98, yanchor="top", yref="container")


def preparation_figure(checked_at: Sequence[int], validation: Mapping[str, Sequence[float]], names: Mapping[str, str],
                       max_steps: int, height: int = 420) -> go.Figure:
    """Held-out error in sunspot numbers (a share of the months' variance) over training, one line per transform."""
    figure = go.Figure(layout=base_layout(
        title=_title("Held-out error in sunspot numbers (1 = predicting the mean)"), height=height,
        xaxis=dict(title="training step", range=[0, max_steps]),
        yaxis=dict(title="error / variance (log scale)", type="log", **LOG_TICKS)))
    for kind, values in validation.items():
        shown = [v if np.isfinite(v) else None for v in values]
        figure.add_trace(go.Scatter(
            x=list(checked_at[: len(values)]), y=shown, mode="lines+markers", name=names[kind],
            line=dict(color=TRANSFORM_COLORS[kind], dash=TRANSFORM_DASHES[kind], width=3), marker=dict(size=5),
            hovertemplate=f"{names[kind]}<br>step %{{x}}<br>error %{{y:.3f}}<extra></extra>"))
    figure.add_trace(go.Scatter(x=[0, max_steps], y=[1, 1], mode="lines", name="predict the mean",
                                line=dict(color=BASELINE_COLOR, dash="dash", width=2), hoverinfo="skip"))
    return figure


def grid_figure(cells: Mapping[str, Mapping], names: Mapping[str, str], task_title: str,
                height: int = 400) -> go.Figure:
    """Heatmaps of the mean held-out loss (log colour) over learning rate × hidden size, one per model, side by side;
    each cell reads "mean ±spread" (the seeds' standard deviation, as a share of the mean); cells under the task's
    bar are marked ✓."""
    kinds = list(cells)
    figure = make_subplots(rows=1, cols=len(kinds), subplot_titles=[names[k] for k in kinds], horizontal_spacing=0.08)
    everything = np.concatenate([np.log10(cells[k]["mean"]).ravel() for k in kinds])
    low, high = float(np.min(everything)), float(np.max(everything))
    for col, kind in enumerate(kinds, 1):
        cell = cells[kind]
        mean, std = cell["mean"], cell["std"]
        lrs = [f"{lr:g}" for lr in cell["lrs"]]
        sizes = [str(s) for s in cell["hidden_sizes"]]
        text = [[(f"{mean[i, j]:.2g}<br>±{std[i, j] / mean[i, j]:.0%}" + ("✓" if mean[i, j] < cell["bar"] else ""))
                 for j in range(len(lrs))] for i in range(len(sizes))]
        figure.add_trace(go.Heatmap(
            z=np.log10(mean).tolist(), x=lrs, y=sizes, text=text, texttemplate="%{text}", textfont=dict(size=9),
            colorscale=HEAT_SCALE, zmin=low, zmax=high, showscale=col == len(kinds),
            colorbar=dict(title="log10 loss", thickness=12),
            customdata=std.tolist(),
            hovertemplate=(f"{names[kind]}<br>learning rate %{{x}}, %{{y}} units<br>mean loss %{{text}}"
                           "<extra></extra>")), row=1, col=col)
        figure.update_xaxes(title_text="learning rate", type="category", row=1, col=col)
        figure.update_yaxes(title_text="hidden units" if col == 1 else None, type="category", row=1, col=col)
    figure.update_layout(**base_layout(title=_title(f"{task_title}: held-out loss<br><sup>mean and ±spread over "
                                                    "seeds; ✓ under the bar</sup>"), height=height))
    return figure


def monitor_figure(run, clip: float | None, max_steps: int, height: int = 560) -> go.Figure:
    """A monitored run in four panels: losses (with early stopping's step), the gradient norm before clipping,
    the gates' saturation, and each unit's mean update gate over training."""
    figure = make_subplots(rows=2, cols=2, vertical_spacing=0.2, horizontal_spacing=0.1, subplot_titles=(
        "training and validation loss", "gradient norm before clipping", "gates saturated (<0.05 or >0.95)",
        "mean update gate z per unit"))
    steps, loss = list(run.step), list(run.loss)
    figure.add_trace(go.Scatter(x=steps, y=smooth(loss, 10).tolist(), mode="lines", name="training loss",
                                line=dict(color=COLORS["gru"], width=2),
                                hovertemplate="step %{x}<br>training %{y:.4f}<extra></extra>"), row=1, col=1)
    figure.add_trace(go.Scatter(x=list(run.checked_at), y=list(run.validation), mode="lines+markers",
                                name="validation loss", line=dict(color="#d55e00", width=2), marker=dict(size=4),
                                hovertemplate="step %{x}<br>validation %{y:.4f}<extra></extra>"), row=1, col=1)
    if run.best_step is not None and run.validation:
        best = min(v for v in run.validation if np.isfinite(v))
        figure.add_trace(go.Scatter(x=[run.best_step], y=[best], mode="markers", name="early stopping's step",
                                    marker=dict(symbol="star", size=14, color="#000"),
                                    hovertemplate="best validation at step %{x}: %{y:.4f}<extra></extra>"), row=1, col=1)
    figure.add_trace(go.Scatter(x=steps, y=list(run.grad_norm), mode="lines", name="gradient norm",
                                line=dict(color="#6a3d9a", width=1.5), showlegend=False,
                                hovertemplate="step %{x}<br>norm %{y:.3g}<extra></extra>"), row=1, col=2)
    if clip is not None:
        figure.add_trace(go.Scatter(x=[0, max_steps], y=[clip, clip], mode="lines", name=f"clipped at {clip:g}",
                                    line=dict(color=BASELINE_COLOR, dash="dash", width=2), hoverinfo="skip"),
                         row=1, col=2)
    figure.add_trace(go.Scatter(x=list(run.checked_at), y=list(run.saturation), mode="lines+markers",
                                line=dict(color="#009e73", width=2), marker=dict(size=4), showlegend=False,
                                hovertemplate="step %{x}<br>%{y:.0%} saturated<extra></extra>"), row=2, col=1)
    if run.update_means:
        z = np.stack(run.update_means).T  # units × checks
        order = np.argsort(z[:, -1])
        figure.add_trace(go.Heatmap(z=z[order].tolist(), x=list(run.checked_at), zmin=0, zmax=1,
                                    colorscale=[[0.0, "#f7fbff"], [1.0, "#08519c"]], showscale=True,
                                    colorbar=dict(title="z", thickness=10, len=0.4, y=0.2),
                                    hovertemplate="step %{x}<br>unit (sorted) %{y}<br>mean z %{z:.2f}<extra></extra>"),
                         row=2, col=2)
    figure.update_xaxes(range=[0, max_steps], title_text="training step")
    figure.update_yaxes(type="log", row=1, col=1, title_text="loss", **LOG_TICKS)
    figure.update_yaxes(type="log", row=1, col=2, dtick=1)  # decades: the norm can run to 1e10
    figure.update_yaxes(range=[0, 1], tickformat=".0%", row=2, col=1)
    figure.update_yaxes(title_text="units, by final z", showticklabels=False, row=2, col=2)
    figure.update_layout(**base_layout(height=height, margin=dict(l=70, r=20, t=70, b=60),
                                       legend=dict(orientation="h", yanchor="bottom", y=1.06, xanchor="left", x=0)))
    return figure


def shift_figure(losses: Mapping[int, float], baseline: float = 1.0, chosen: int | None = None,
                 height: int = 380) -> go.Figure:
    """Held-out loss against the shift k: lagging targets (k > 0, memory) blue, leading ones (k < 0, the future) red."""
    ks = sorted(losses)
    figure = go.Figure(layout=base_layout(
        title=_title("Loss against the shift k of the targets"), height=height,
        xaxis=dict(title="k: the target is the input of k steps before (k < 0: of -k steps later)", dtick=2),
        yaxis=dict(title="held-out loss", rangemode="tozero")))
    figure.add_trace(go.Bar(x=ks, y=[losses[k] for k in ks], name="a GRU after training",
                            marker=dict(color=["#b30000" if k < 0 else "#1f77b4" for k in ks],
                                        line=dict(color=["#000" if k == chosen else "rgba(0,0,0,0)" for k in ks],
                                                  width=3)),
                            hovertemplate="k = %{x}<br>loss %{y:.3f}<extra></extra>"))
    figure.add_trace(go.Scatter(x=[min(ks) - 0.5, max(ks) + 0.5] if ks else [0, 1], y=[baseline, baseline],
                                mode="lines", name="guess 0 (no learning)",
                                line=dict(color=BASELINE_COLOR, dash="dash", width=2), hoverinfo="skip"))
    return figure
