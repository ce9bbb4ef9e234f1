"""Figures of the gates over time: heatmaps aligned with the input, one unit close up, saturation (dashboard 02)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import (
    COLORS,
    GATE_COLORS,
    GATE_SCALE,
    STATE_SCALE,
    base_layout,
    typed_array,
)
from .sketch import Sketch

GATE_LABELS = {
    "update": "update gate z",
    "reset": "reset gate r",
    "candidate": "candidate n",
    "hidden": "hidden state h",
    "input": "input gate i",
    "forget": "forget gate f",
    "output": "output gate o",
    "cell": "cell state c",
}
GATES = ("update", "reset", "input", "forget", "output")  # quantities between 0 and 1
SYMBOLS = {"update": "z", "reset": "r", "hidden": "h", "candidate": "n", "input": "i", "forget": "f", "output": "o",
           "cell": "c"}
EVENT_COLOR = "#d62728"


def _input_traces(task, x: np.ndarray, labels: Sequence[str], first_step: int = 1) -> list[dict]:
    """The input sequence drawn as the top row of a time-aligned figure, in the task's own terms."""
    steps = np.arange(first_step, first_step + len(x))
    hover = "step %{x}: %{customdata}<extra></extra>"
    if task.name == "adding":
        marked = x[:, 1] > 0.5
        return [dict(type="bar", x=steps, y=x[:, 0], marker=dict(color=np.where(marked, EVENT_COLOR, "#bdbdbd").tolist()),
                     customdata=list(labels), hovertemplate=hover, name="input", showlegend=False)]
    if getattr(task, "tokens", False):  # token ids: each step's token as text (a dot where too many to read)
        words = getattr(task, "vocabulary", None) or []
        text = [words[int(t)] if 0 <= int(t) < len(words) else str(int(t)) for t in x[:, 0]]
        readable = len(x) <= 60
        return [dict(type="scatter", x=steps, y=[0.5] * len(x), mode="text" if readable else "markers", text=text,
                     textfont=dict(size=13, color="#333"), marker=dict(size=4, color="#333"),
                     customdata=list(labels), hovertemplate=hover, name="input", showlegend=False)]
    if task.name == "user":  # a user's own features: each as a line, scaled to its own range, named on hover
        names = getattr(task, "feature_names", [])
        low, high = x.min(0), x.max(0)
        scaled = (x - low) / np.where(high > low, high - low, 1.0)
        return [dict(type="scatter", x=steps, y=scaled[:, j], mode="lines", line=dict(width=1.5),
                     customdata=list(labels), hovertemplate=hover, name=names[j] if j < len(names) else f"feature {j}",
                     showlegend=False) for j in range(min(x.shape[1], 8))]
    if task.name == "copy":
        shown = [i for i, label in enumerate(labels) if label != "blank"]
        text = [labels[i].replace("symbol ", "") if labels[i].startswith("symbol") else "?" for i in shown]
        return [dict(type="scatter", x=steps[shown], y=[0.5] * len(shown), mode="text", text=text,
                     textfont=dict(size=15, color=EVENT_COLOR), customdata=[labels[i] for i in shown],
                     hovertemplate=hover, name="input", showlegend=False)]
    return [dict(type="scatter", x=steps, y=x[:, 0], mode="lines", line=dict(color="#333", width=2),
                 customdata=list(labels), hovertemplate=hover, name="input", showlegend=False)]


def _event_shapes(events: Sequence[int], rows_from: float = 0.0, first_step: int = 1) -> list[dict]:
    """Faint vertical lines through every row at the steps where something happens (0-based ``events``)."""
    return [dict(type="line", xref="x", yref="paper", x0=t + first_step, x1=t + first_step, y0=rows_from, y1=1.0,
                 line=dict(color=EVENT_COLOR, width=1, dash="dot"), opacity=0.6, layer="above") for t in events]


def _input_row(sketch: Sketch, task) -> None:
    """The input row's y axis: no ticks for the copy task's symbols or for token ids."""
    symbols = task.name == "copy" or getattr(task, "tokens", False)
    sketch.yaxis(1, 1).update(showticklabels=not symbols, showgrid=False)
    if symbols:
        sketch.yaxis(1, 1)["range"] = [0, 1]


def gate_heatmaps_figure(task, x: np.ndarray, values: Mapping[str, np.ndarray], order: Sequence[int],
                         events: Sequence[int] = (), title: str = "", height: int = 640,
                         first_step: int = 1) -> go.Figure:
    """The input on top and, below it on the same time axis, heatmaps (unit x time step) of each quantity.

    ``x`` is one input sequence ``(time, features)``; ``values`` maps a quantity
    (``"update"``, ``"reset"``, ``"hidden"``, ...) to its ``(time, hidden)`` array;
    ``order`` is the display order of the units (top row first); ``events`` are
    0-based steps of ``x`` marked with a dotted line (the adding problem's marks).
    ``first_step`` numbers the first step shown (a window of a longer sequence).
    """
    names = list(values)
    labels = task.step_labels(x)
    order = list(order)
    steps = np.arange(first_step, first_step + len(x))
    sketch = Sketch(rows=len(names) + 1, cols=1, shared_xaxes=True, vertical_spacing=0.055,
                    row_heights=[0.13] + [0.87 / len(names)] * len(names),
                    titles=["input: " + task.title] + [GATE_LABELS.get(n, n) for n in names])
    for trace in _input_traces(task, x, labels, first_step):
        sketch.add(trace)
    unit_labels = [f"unit {u}" for u in order]
    customdata = [list(labels)] * len(order)
    for row, name in enumerate(names, start=2):
        is_gate = name in GATES
        # states live in [-1, 1]; an LSTM's cell state is unbounded: its scale is its own largest |value|
        top = 1.0 if name != "cell" else max(1.0, float(np.nanmax(np.abs(values[name]))))
        domain = sketch.yaxis(row, 1)["domain"]
        colorbar = dict(thickness=12, len=domain[1] - domain[0], y=sum(domain) / 2, yanchor="middle",
                        tickvals=[0, 0.5, 1] if is_gate else [-top, 0, top], x=1.01)
        symbol = SYMBOLS.get(name, name)
        sketch.add(dict(
            type="heatmap", z=typed_array(np.asarray(values[name])[:, order].T), x=steps, y=unit_labels,
            customdata=customdata, colorscale=GATE_SCALE if is_gate else STATE_SCALE, zmin=0 if is_gate else -top,
            zmax=top,
            colorbar=colorbar, name=GATE_LABELS.get(name, name),
            hovertemplate=f"step %{{x}}, %{{y}}<br>{symbol} = %{{z:.3f}}<br>input: %{{customdata}}<extra></extra>",
        ), row=row)
        sketch.yaxis(row, 1).update(autorange="reversed", showgrid=False, tickfont=dict(size=11),
                                    nticks=min(len(order), 8))
    _input_row(sketch, task)
    sketch.xaxis(len(names) + 1, 1)["title"] = dict(text="time step t")
    return sketch.figure(**base_layout(height=height, margin=dict(l=80, r=40, t=70 if title else 40, b=50),
                                       title=dict(text=title, x=0.01, y=0.99, yanchor="top", yref="container"),
                                       shapes=_event_shapes(events, first_step=first_step), bargap=0.1))


def unit_closeup_figure(task, x: np.ndarray, series: Mapping[str, Sequence[float]], unit: int,
                        events: Sequence[int] = (), height: int = 440, first_step: int = 1) -> go.Figure:
    """One unit over time: the input on top, its gates z and r (0..1), then its candidate n and state h (−1..1)."""
    labels = task.step_labels(x)
    steps = np.arange(first_step, first_step + len(x))
    sketch = Sketch(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.16, 0.42, 0.42],
                    titles=("input", f"unit {unit}: gates", f"unit {unit}: candidate and state"))
    for trace in _input_traces(task, x, labels, first_step):
        sketch.add(trace)
    styles = {"update": (GATE_COLORS["update"], "solid", 2), "reset": (GATE_COLORS["reset"], "dot", 2),
              "candidate": (GATE_COLORS["candidate"], "dash", 3), "hidden": (COLORS["gru"], "solid", 3),
              # an LSTM's: its gates on the gates' row, its cell state and output on the values' row
              "forget": (GATE_COLORS["update"], "solid", 2), "input": (GATE_COLORS["reset"], "dot", 2),
              "output": (GATE_COLORS["candidate"], "dashdot", 2), "cell": (GATE_COLORS["candidate"], "dash", 3)}
    for name, values in series.items():
        color, dash, row = styles[name]
        sketch.add(dict(type="scatter", x=steps, y=np.asarray(values, dtype=float), mode="lines", name=GATE_LABELS[name],
                        customdata=labels, line=dict(color=color, dash=dash, width=2.5),
                        hovertemplate=f"step %{{x}}: {GATE_LABELS[name]} = %{{y:.3f}}<br>input: "
                                      "%{customdata}<extra></extra>"), row=row)
    sketch.yaxis(2, 1).update(range=[-0.05, 1.05], title=dict(text="gate"))
    if "cell" in series:  # unbounded
        sketch.yaxis(3, 1).update(title=dict(text="value"))
    else:
        sketch.yaxis(3, 1).update(range=[-1.05, 1.05], title=dict(text="value"))
    _input_row(sketch, task)
    sketch.xaxis(3, 1)["title"] = dict(text="time step t")
    return sketch.figure(**base_layout(height=height, margin=dict(l=70, r=20, t=80, b=50),
                                       shapes=_event_shapes(events, first_step=first_step),
                                       legend=dict(orientation="h", yanchor="bottom", y=1.07, x=0)))


def saturation_figure(trained: Mapping[str, tuple[np.ndarray, np.ndarray]],
                      untrained: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None, height: int = 420,
                      label: str = "trained") -> go.Figure:
    """Gate saturation per unit, after Karpathy, Johnson & Fei-Fei (2015): one panel per gate.

    Each point is a unit: x the fraction of time its gate is below 0.1 (left
    saturated, closed), y the fraction above 0.9 (right saturated, open). Points
    near the origin are gates that stay in the middle; near the diagonal x + y = 1,
    gates that act as switches. ``trained``/``untrained`` map a gate name to
    ``(left, right)`` arrays, as returned by :func:`grutools.lessons.gates.saturation`.
    """
    from plotly.subplots import make_subplots

    gates = list(trained)
    figure = make_subplots(rows=1, cols=len(gates), horizontal_spacing=0.1,
                           subplot_titles=[GATE_LABELS.get(g, g) for g in gates])
    for col, gate in enumerate(gates, start=1):
        figure.add_trace(go.Scatter(x=[0, 1], y=[1, 0], mode="lines", line=dict(color="#bbb", dash="dash", width=1),
                                    hoverinfo="skip", showlegend=False), row=1, col=col)
        sources = [(label, trained, COLORS["gru"], "circle")]
        if untrained is not None:
            sources.append(("untrained", untrained, COLORS["rnn"], "circle-open"))
        for name, source, color, symbol in sources:
            left, right = source[gate]
            figure.add_trace(go.Scatter(
                x=np.asarray(left).tolist(), y=np.asarray(right).tolist(), mode="markers", name=name,
                marker=dict(size=11, color=color, symbol=symbol, line=dict(width=1.5, color=color), opacity=0.85),
                text=[f"unit {u}" for u in range(len(left))], showlegend=col == 1, legendgroup=name,
                hovertemplate=f"{name}, %{{text}}<br>below 0.1: %{{x:.0%}} of the time<br>above 0.9: "
                              "%{y:.0%}<extra></extra>"), row=1, col=col)
        figure.update_xaxes(range=[-0.03, 1.03], title="fraction of time < 0.1 (closed)", tickformat=".0%",
                            row=1, col=col)
        figure.update_yaxes(range=[-0.03, 1.03], title="fraction of time > 0.9 (open)" if col == 1 else None,
                            tickformat=".0%", row=1, col=col)
    figure.update_layout(**base_layout(height=height, margin=dict(l=80, r=20, t=80, b=60),
                                       legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0)))
    return figure


# ----------------------------------------------------------------------------------------------
# Vanishing gradients (dashboard 03)
