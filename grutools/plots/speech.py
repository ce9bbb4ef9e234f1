"""Figures of dashboard 09, a GRU hears: a recording's spectrogram with the GRU's gates and state beneath it on the
same time axis, the digits' probabilities frame by frame, the confusion matrix, a test-accuracy curve, and the
studies' bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import BASELINE_COLOR, COLORS, GATE_SCALE, STATE_SCALE, base_layout, typed_array
from .sketch import Sketch

SPECTRUM_SCALE = "Viridis"  # dark (quiet) to yellow (loud), read in grey too
# ten digits told apart: Okabe-Ito's eight, then two greys; the true digit is drawn thick
DIGIT_COLORS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#6a3d9a", "#000000", "#999999",
                "#882255"]


def _title(text: str) -> dict:
    return dict(text=text, x=0.01, y=0.99, yanchor="top", yref="container")


def hearing_figure(db: np.ndarray, bands_hz: Sequence[float], seconds: Sequence[float], update: np.ndarray,
                   reset: np.ndarray, hidden: np.ndarray, probabilities: np.ndarray, title: str,
                   true_digit: int | None = None, height: int = 760) -> go.Figure:
    """Five rows on one time axis: the log-mel spectrogram ``db (frames, bands)``; the GRU's update gate, reset gate
    and hidden state ``(frames, units)``, units sorted by their mean update gate; and the ten digits' probabilities
    after each frame (``true_digit`` drawn thick). Written as JSON (:class:`Sketch`): a recording changes at a click."""
    x = np.round(np.asarray(seconds, dtype=float), 3).tolist()
    sketch = Sketch(rows=5, cols=1, shared_xaxes=True, vertical_spacing=0.035,
                    row_heights=[0.24, 0.15, 0.15, 0.15, 0.31],
                    titles=["spectrogram (dB below the loudest band)", "update gate z (1 = keep the past)",
                            "reset gate r (0 = ignore the past)", "hidden state h", "the GRU's belief after each frame"])
    bands = [f"{b:.0f} Hz" for b in bands_hz]

    def beside(first: int, last: int) -> dict:  # a colour bar as tall as rows first..last
        low, high = sketch.yaxis(last)["domain"][0], sketch.yaxis(first)["domain"][1]
        return dict(y=(low + high) / 2, len=high - low, thickness=12)

    # rows as category labels, values as arrays: no per-cell hover data (a redraw stays fast)
    sketch.add(dict(type="heatmap", z=typed_array(np.asarray(db).T.round(1)), x=x, y=bands, zmin=-80, zmax=0,
                    colorscale=SPECTRUM_SCALE, colorbar=dict(title=dict(text="dB"), **beside(1, 1)),
                    hovertemplate="%{x:.2f} s, %{y}: %{z:.0f} dB<extra></extra>"), 1)
    order = np.argsort(np.asarray(update).mean(axis=0))
    units = [f"unit {int(u)}" for u in order]
    for row, (values, name, scale, low) in enumerate(
            [(update, "update gate", GATE_SCALE, 0), (reset, "reset gate", GATE_SCALE, 0),
             (hidden, "hidden state", STATE_SCALE, -1)], 2):
        z = typed_array(np.asarray(values)[:, order].T.round(3))
        sketch.add(dict(type="heatmap", z=z, x=x, y=units, zmin=low, zmax=1, colorscale=scale, showscale=row in (2, 4),
                        colorbar=dict(title=dict(text="gate" if row == 2 else "state"),
                                      **(beside(2, 3) if row == 2 else beside(4, 4))),
                        hovertemplate=f"%{{x:.2f}} s, %{{y}}: {name} %{{z:.2f}}<extra></extra>"), row)
    probabilities = np.asarray(probabilities)
    for digit in range(10):
        thick = digit == true_digit
        sketch.add(dict(type="scatter", x=x, y=probabilities[:, digit].round(4).tolist(), mode="lines", name=str(digit),
                        line=dict(color=DIGIT_COLORS[digit], width=5 if thick else 2, dash="solid" if thick else "dot"),
                        hovertemplate=f"%{{x:.2f}} s: P({digit}) = %{{y:.2f}}<extra></extra>"), 5)
    sketch.yaxis(1).update(title=dict(text="band"), type="category",
                           tickvals=[bands[0], bands[len(bands) // 2], bands[-1]])
    for row in (2, 3, 4):
        sketch.yaxis(row).update(title=dict(text="unit"), type="category", showticklabels=False)
    sketch.yaxis(5).update(title=dict(text="probability"), range=[0, 1.02])
    sketch.xaxis(5).update(title=dict(text="time (s)"))
    for annotation in sketch.layout["annotations"]:
        annotation.update(font=dict(size=13), x=0, xanchor="left")
    return sketch.figure(**base_layout(title=_title(title), height=height, margin=dict(l=70, r=20, t=60, b=50),
                                       legend=dict(orientation="h", yanchor="top", y=-0.06, xanchor="left", x=0,
                                                   title=dict(text="digit"))))


def confusion_figure(matrix: np.ndarray, title: str, height: int = 420) -> go.Figure:
    """The test set's confusion matrix: row the digit said, column the digit named; each cell shows its count."""
    matrix = np.asarray(matrix)
    digits = [str(d) for d in range(10)]
    wrong = matrix.copy()
    np.fill_diagonal(wrong, 0)
    text = [[str(v) if v else "" for v in row] for row in matrix.tolist()]
    figure = go.Figure(go.Heatmap(
        z=np.log1p(matrix).tolist(), x=digits, y=digits, text=text, texttemplate="%{text}", textfont=dict(size=13),
        colorscale=[[0.0, "#ffffff"], [1.0, "#08519c"]], showscale=False, customdata=matrix.tolist(),
        hovertemplate="said %{y}, named %{x}: %{customdata} recordings<extra></extra>"))
    figure.update_layout(**base_layout(title=_title(title), height=height, margin=dict(l=70, r=20, t=60, b=60),
                                       xaxis=dict(title="named by the GRU", type="category", constrain="domain"),
                                       yaxis=dict(title="said", type="category", autorange="reversed",
                                                  scaleanchor="x")))
    return figure


def accuracy_figure(steps: Sequence[int], accuracies: Sequence[float], max_steps: int, shipped: float | None,
                    height: int = 380) -> go.Figure:
    """Test accuracy over training (the run in progress), against chance and the shipped GRU."""
    figure = go.Figure(layout=base_layout(title=_title("Test accuracy while training (300 recordings)"),
                                          height=height, xaxis=dict(title="training step", range=[0, max_steps]),
                                          yaxis=dict(title="accuracy", range=[0, 1.02], tickformat=".0%")))
    figure.add_trace(go.Scatter(x=list(steps), y=list(accuracies), mode="lines+markers", name="this GRU",
                                line=dict(color=COLORS["gru"], width=3),
                                hovertemplate="step %{x}: %{y:.1%}<extra></extra>"))
    figure.add_trace(go.Scatter(x=[0, max_steps], y=[0.1, 0.1], mode="lines", name="chance",
                                line=dict(color=BASELINE_COLOR, dash="dash", width=2), hoverinfo="skip"))
    if shipped is not None:
        figure.add_trace(go.Scatter(x=[0, max_steps], y=[shipped, shipped], mode="lines",
                                    name="the shipped GRU (3000 steps)", line=dict(color="#000000", dash="dot", width=2),
                                    hoverinfo="skip"))
    return figure


def study_figure(summary: Mapping[str, tuple[float, float, float, int]], title: str, axis: str,
                 height: int = 380) -> go.Figure:
    """Mean accuracy over seeds as bars, the lowest and highest seed as the error bar; one bar a model or speaker."""
    names = list(summary)
    mean = [summary[n][0] for n in names]
    figure = go.Figure(go.Bar(
        x=mean, y=names, orientation="h", marker_color=COLORS["gru"], text=[f"{100 * m:.1f}%" for m in mean],
        textposition="inside", insidetextanchor="start", textfont=dict(color="white"),  # clear of the error bar
        error_x=dict(type="data", symmetric=False, array=[summary[n][2] - summary[n][0] for n in names],
                     arrayminus=[summary[n][0] - summary[n][1] for n in names], color="#000000"),
        customdata=[[summary[n][1], summary[n][2], summary[n][3]] for n in names],
        hovertemplate="%{y}: %{x:.1%} (seeds from %{customdata[0]:.1%} to %{customdata[1]:.1%}, "
                      "%{customdata[2]} runs)<extra></extra>"))
    figure.update_layout(**base_layout(title=_title(title), height=height, margin=dict(l=190, r=30, t=60, b=60),
                                       xaxis=dict(title=axis, range=[0, 1], tickformat=".0%"),
                                       yaxis=dict(autorange="reversed", ticksuffix="  ")))
    return figure
