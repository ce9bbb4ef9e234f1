"""Pure figure builders: arrays (or a :class:`~grutools.Trace`/:class:`~grutools.History`) in,
``plotly.graph_objects.Figure`` out. They never train, read widgets or touch globals,
so they can be unit-tested and exported to static HTML.

Conventions: the same colour for the same model everywhere (RNN grey, GRU blue,
LSTM orange), fonts legible when projected, colour scales fixed to the value
range of the quantity (gates 0..1, states -1..1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .sketch import Sketch

COLORS = {"rnn": "#7f7f7f", "gru": "#1f77b4", "lstm": "#ff7f0e"}
NAMES = {"rnn": "tanh RNN", "gru": "GRU", "lstm": "LSTM"}
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

# (x, y) of each node of the step diagram, and what its label says
_NODES = {
    "h_prev": (0.6, 4.6, "h<sub>t−1</sub>"),
    "x": (0.6, 0.6, "x<sub>t</sub>"),
    "r": (3.2, 1.6, "reset r"),
    "z": (5.4, 3.0, "update z"),
    "n": (6.6, 1.0, "candidate n"),
    "h": (9.4, 4.6, "h<sub>t</sub>"),
}
_EDGES = [("h_prev", "r"), ("x", "r"), ("h_prev", "z"), ("x", "z"), ("x", "n"), ("r", "n"), ("h_prev", "h"),
          ("z", "h"), ("n", "h")]


def _node_color(name: str, value: float) -> str:
    from plotly.colors import sample_colorscale

    if name in ("r", "z"):
        return sample_colorscale(GATE_SCALE, [min(max(value, 0.0), 1.0)])[0]
    return sample_colorscale(STATE_SCALE, [(min(max(value, -1.0), 1.0) + 1) / 2])[0]


def cell_step_figure(values: Mapping[str, float], pre: Mapping[str, float], pinned: Mapping[str, bool] | None = None,
                     others: Mapping[str, Sequence[float]] | None = None, height: int = 430) -> go.Figure:
    """The GRU step as a diagram with numbers (left) and the activation curves with the pre-activations marked (right).

    ``values`` holds one unit's ``h_prev, x, r, z, n, h``; ``pre`` its pre-activations
    ``r, z, n``; ``pinned`` says which gates a button fixed; ``others`` the other units'
    ``(pre, value)`` points for ``r``, ``z`` and ``n`` as flat lists ``[pre, value, ...]`` (drawn faint).
    """
    pinned = pinned or {}
    sketch = Sketch(rows=2, cols=2, column_widths=[0.56, 0.44], horizontal_spacing=0.1, vertical_spacing=0.2,
                    specs=[[{"rowspan": 2}, {}], [None, {}]],
                    titles=("one step of the selected unit", "sigmoid: the gates r and z", "tanh: the candidate n"))
    sketch.layout["annotations"][0]["font"] = dict(size=14)
    sketch.layout["annotations"] += [
        dict(x=_NODES[end][0], y=_NODES[end][1], ax=_NODES[start][0], ay=_NODES[start][1], xref="x", yref="y",
             axref="x", ayref="y", showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.5, arrowcolor="#9e9e9e",
             standoff=24, startstandoff=24, text="") for start, end in _EDGES]
    names = list(_NODES)
    sketch.add(dict(type="scatter", x=[_NODES[n][0] for n in names], y=[_NODES[n][1] for n in names],
                    mode="markers+text",
                    marker=dict(size=44, color=[_node_color(n, values[n]) for n in names], line=dict(color="#444", width=1.5)),
                    text=[f"<b>{values[n]:+.2f}</b>" for n in names], textposition="bottom center",
                    textfont=dict(size=15), customdata=[_NODES[n][2] for n in names],
                    hovertemplate="%{customdata} = %{text}<extra></extra>", showlegend=False, name="step"))
    for name in names:
        x, y, label = _NODES[name]
        suffix = " (pinned)" if pinned.get(name) else ""
        sketch.layout["annotations"].append(dict(x=x, y=y + 0.62, text=label + suffix, showarrow=False, xref="x",
                                                 yref="y", font=dict(size=14, color="#c62828" if suffix else "#222")))
    sketch.layout["annotations"].append(dict(x=7.6, y=5.6, xref="x", yref="y", showarrow=False,
                                             font=dict(size=13, color="#555"),
                                             text="h<sub>t</sub> = (1 − z)·n + z·h<sub>t−1</sub>"))
    sketch.xaxis().update(visible=False, range=[-0.3, 10.4])
    sketch.yaxis().update(visible=False, range=[-0.4, 6.0])

    for row, function, name, lo in ((1, _SIGMOID, "sigmoid", 0.0), (2, _TANH, "tanh", -1.0)):
        sketch.add(dict(type="scatter", x=_GRID, y=function, mode="lines", line=dict(color="#333", width=2), name=name,
                        hoverinfo="skip", showlegend=False), row=row, col=2)
        # where a gate is "switched": below 0.1 or above 0.9 (for tanh: the bounds -1 and 1)
        for y0, y1 in [(0.0, 0.1), (0.9, 1.0)] if name == "sigmoid" else [(-1.0, -0.9), (0.9, 1.0)]:
            sketch.hband(y0, y1, row=row, col=2, fillcolor="#ffe0b2", opacity=0.5)
        sketch.yaxis(row, 2).update(range=[lo - 0.08, 1.08], title=dict(text=name + "(a)"))
        sketch.xaxis(row, 2).update(range=[-6, 6], title=dict(text="pre-activation a") if row == 2 else None)
    for gate, row, color in (("r", 1, GATE_COLORS["reset"]), ("z", 1, GATE_COLORS["update"]),
                             ("n", 2, GATE_COLORS["candidate"])):
        flat = list((others or {}).get(gate, []))  # always drawn (maybe empty) so the trace count never changes
        sketch.add(dict(type="scatter", x=flat[0::2], y=flat[1::2], mode="markers",
                        marker=dict(size=9, color=color, opacity=0.3), name=f"{gate}, other units", showlegend=False,
                        hovertemplate=f"{gate} (other unit): %{{y:.2f}}<extra></extra>"), row=row, col=2)
        label = gate + (" pinned" if pinned.get(gate) else "")
        sketch.add(dict(type="scatter", x=[max(-6, min(6, pre[gate]))], y=[values[gate]], mode="markers+text",
                        text=[label], textposition="top left", textfont=dict(size=15, color=color),
                        marker=dict(size=15, color=color, line=dict(color="white", width=2)), name=gate,
                        showlegend=False, hovertemplate=f"{gate}: a = %{{x:.2f}}, value %{{y:.3f}}<extra></extra>"),
                   row=row, col=2)
    return sketch.figure(**base_layout(height=height, margin=dict(l=10, r=20, t=40, b=50)))


_GRID = np.linspace(-6, 6, 121).tolist()  # the activation curves of the cell diagram
_SIGMOID = [1 / (1 + math.exp(-a)) for a in _GRID]
_TANH = [math.tanh(a) for a in _GRID]


def unit_sequence_figure(signal: Sequence[float], gru: Mapping[str, Sequence[float]], rnn_hidden: Sequence[float],
                         height: int = 430) -> go.Figure:
    """Many steps of a 1-unit GRU beside a tanh RNN: the input on top, the gates and states below.

    ``gru`` holds the sequences ``update``, ``reset`` and ``hidden``; ``rnn_hidden`` the RNN's state.
    """
    from plotly.subplots import make_subplots

    steps = list(range(1, len(signal) + 1))
    figure = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.22, 0.33, 0.45],
                           subplot_titles=("input x<sub>t</sub>", "GRU gates", "state h<sub>t</sub>: GRU against tanh RNN"))
    figure.add_trace(go.Scatter(x=steps, y=list(signal), mode="lines+markers", marker=dict(size=4), name="input x",
                                line=dict(color="#333")), row=1, col=1)
    figure.add_trace(go.Scatter(x=steps, y=list(gru["update"]), mode="lines", name="update gate z",
                                line=dict(color=GATE_COLORS["update"], width=2.5)), row=2, col=1)
    figure.add_trace(go.Scatter(x=steps, y=list(gru["reset"]), mode="lines", name="reset gate r",
                                line=dict(color=GATE_COLORS["reset"], width=2.5, dash="dot")), row=2, col=1)
    figure.add_trace(go.Scatter(x=steps, y=list(gru["hidden"]), mode="lines", name="GRU state h",
                                line=dict(color=COLORS["gru"], width=3)), row=3, col=1)
    figure.add_trace(go.Scatter(x=steps, y=list(rnn_hidden), mode="lines", name="tanh RNN state h",
                                line=dict(color=COLORS["rnn"], width=3, dash="dash")), row=3, col=1)
    figure.update_yaxes(range=[-0.05, 1.05], title="gate", row=2, col=1)
    figure.update_yaxes(range=[-1.05, 1.05], title="state", row=3, col=1)
    figure.update_xaxes(title="time step t", row=3, col=1)
    figure.update_layout(**base_layout(height=height, margin=dict(l=70, r=20, t=70, b=50),
                                       legend=dict(orientation="h", yanchor="bottom", y=1.06, x=0)))
    return figure


# ----------------------------------------------------------------------------------------------
# Gates over time (dashboard 02)

GATE_LABELS = {
    "update": "update gate z",
    "reset": "reset gate r",
    "candidate": "candidate n",
    "hidden": "hidden state h",
}
EVENT_COLOR = "#d62728"


def typed_array(values: np.ndarray) -> dict:
    """A 2-D array in plotly.js's typed-array form (base64), about 20x cheaper to send than nested lists."""
    from _plotly_utils.utils import to_typed_array_spec

    return to_typed_array_spec(np.ascontiguousarray(values, dtype=np.float32))


def _input_traces(task, x: np.ndarray, labels: Sequence[str]) -> list[dict]:
    """The input sequence drawn as the top row of a time-aligned figure, in the task's own terms."""
    steps = np.arange(1, len(x) + 1)
    hover = "step %{x}: %{customdata}<extra></extra>"
    if task.name == "adding":
        marked = x[:, 1] > 0.5
        return [dict(type="bar", x=steps, y=x[:, 0], marker=dict(color=np.where(marked, EVENT_COLOR, "#bdbdbd").tolist()),
                     customdata=list(labels), hovertemplate=hover, name="input", showlegend=False)]
    if task.name == "copy":
        shown = [i for i, label in enumerate(labels) if label != "blank"]
        text = [labels[i].replace("symbol ", "") if labels[i].startswith("symbol") else "?" for i in shown]
        return [dict(type="scatter", x=steps[shown], y=[0.5] * len(shown), mode="text", text=text,
                     textfont=dict(size=15, color=EVENT_COLOR), customdata=[labels[i] for i in shown],
                     hovertemplate=hover, name="input", showlegend=False)]
    return [dict(type="scatter", x=steps, y=x[:, 0], mode="lines", line=dict(color="#333", width=2),
                 customdata=list(labels), hovertemplate=hover, name="input", showlegend=False)]


def _event_shapes(events: Sequence[int], rows_from: float = 0.0) -> list[dict]:
    """Faint vertical lines through every row at the steps where something happens (1-based x)."""
    return [dict(type="line", xref="x", yref="paper", x0=t + 1, x1=t + 1, y0=rows_from, y1=1.0,
                 line=dict(color=EVENT_COLOR, width=1, dash="dot"), opacity=0.6, layer="above") for t in events]


def _input_row(sketch: Sketch, task) -> None:
    """The input row's y axis: no ticks for the copy task's symbols."""
    sketch.yaxis(1, 1).update(showticklabels=task.name != "copy", showgrid=False)
    if task.name == "copy":
        sketch.yaxis(1, 1)["range"] = [0, 1]


def gate_heatmaps_figure(task, x: np.ndarray, values: Mapping[str, np.ndarray], order: Sequence[int],
                         events: Sequence[int] = (), title: str = "", height: int = 640) -> go.Figure:
    """The input on top and, below it on the same time axis, heatmaps (unit x time step) of each quantity.

    ``x`` is one input sequence ``(time, features)``; ``values`` maps a quantity
    (``"update"``, ``"reset"``, ``"hidden"``, ...) to its ``(time, hidden)`` array;
    ``order`` is the display order of the units (top row first); ``events`` are
    0-based steps marked with a dotted line (the adding problem's marks).
    """
    names = list(values)
    labels = task.step_labels(x)
    order = list(order)
    steps = np.arange(1, len(x) + 1)
    sketch = Sketch(rows=len(names) + 1, cols=1, shared_xaxes=True, vertical_spacing=0.055,
                    row_heights=[0.13] + [0.87 / len(names)] * len(names),
                    titles=["input: " + task.title] + [GATE_LABELS.get(n, n) for n in names])
    for trace in _input_traces(task, x, labels):
        sketch.add(trace)
    unit_labels = [f"unit {u}" for u in order]
    customdata = [list(labels)] * len(order)
    for row, name in enumerate(names, start=2):
        is_gate = name in ("update", "reset")
        domain = sketch.yaxis(row, 1)["domain"]
        colorbar = dict(thickness=12, len=domain[1] - domain[0], y=sum(domain) / 2, yanchor="middle",
                        tickvals=[0, 0.5, 1] if is_gate else [-1, 0, 1], x=1.01)
        symbol = {"update": "z", "reset": "r", "hidden": "h", "candidate": "n"}.get(name, name)
        sketch.add(dict(
            type="heatmap", z=typed_array(np.asarray(values[name])[:, order].T), x=steps, y=unit_labels,
            customdata=customdata, colorscale=GATE_SCALE if is_gate else STATE_SCALE, zmin=0 if is_gate else -1, zmax=1,
            colorbar=colorbar, name=GATE_LABELS.get(name, name),
            hovertemplate=f"step %{{x}}, %{{y}}<br>{symbol} = %{{z:.3f}}<br>input: %{{customdata}}<extra></extra>",
        ), row=row)
        sketch.yaxis(row, 1).update(autorange="reversed", showgrid=False, tickfont=dict(size=11),
                                    nticks=min(len(order), 8))
    _input_row(sketch, task)
    sketch.xaxis(len(names) + 1, 1)["title"] = dict(text="time step t")
    return sketch.figure(**base_layout(height=height, margin=dict(l=80, r=40, t=70 if title else 40, b=50),
                                       title=dict(text=title, x=0.01, y=0.99, yanchor="top", yref="container"),
                                       shapes=_event_shapes(events), bargap=0.1))


def unit_closeup_figure(task, x: np.ndarray, series: Mapping[str, Sequence[float]], unit: int,
                        events: Sequence[int] = (), height: int = 440) -> go.Figure:
    """One unit over time: the input on top, its gates z and r (0..1), then its candidate n and state h (−1..1)."""
    labels = task.step_labels(x)
    steps = np.arange(1, len(x) + 1)
    sketch = Sketch(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.16, 0.42, 0.42],
                    titles=("input", f"unit {unit}: gates", f"unit {unit}: candidate and state"))
    for trace in _input_traces(task, x, labels):
        sketch.add(trace)
    styles = {"update": (GATE_COLORS["update"], "solid", 2), "reset": (GATE_COLORS["reset"], "dot", 2),
              "candidate": (GATE_COLORS["candidate"], "dash", 2), "hidden": (COLORS["gru"], "solid", 3)}
    for name, values in series.items():
        color, dash, row = styles[name]
        sketch.add(dict(type="scatter", x=steps, y=np.asarray(values, dtype=float), mode="lines", name=GATE_LABELS[name],
                        customdata=labels, line=dict(color=color, dash=dash, width=2.5),
                        hovertemplate=f"step %{{x}}: {GATE_LABELS[name]} = %{{y:.3f}}<br>input: "
                                      "%{customdata}<extra></extra>"), row=row)
    sketch.yaxis(2, 1).update(range=[-0.05, 1.05], title=dict(text="gate"))
    sketch.yaxis(3, 1).update(range=[-1.05, 1.05], title=dict(text="value"))
    _input_row(sketch, task)
    sketch.xaxis(3, 1)["title"] = dict(text="time step t")
    return sketch.figure(**base_layout(height=height, margin=dict(l=70, r=20, t=80, b=50), shapes=_event_shapes(events),
                                       legend=dict(orientation="h", yanchor="bottom", y=1.07, x=0)))


def saturation_figure(trained: Mapping[str, tuple[np.ndarray, np.ndarray]],
                      untrained: Mapping[str, tuple[np.ndarray, np.ndarray]], height: int = 420) -> go.Figure:
    """Gate saturation per unit, after Karpathy, Johnson & Fei-Fei (2015): one panel per gate.

    Each point is a unit: x the fraction of time its gate is below 0.1 (left
    saturated, closed), y the fraction above 0.9 (right saturated, open). Points
    near the origin are gates that stay in the middle; near the diagonal x + y = 1,
    gates that act as switches. ``trained``/``untrained`` map a gate name to
    ``(left, right)`` arrays, as returned by :func:`grutools.gates.saturation`.
    """
    from plotly.subplots import make_subplots

    gates = list(trained)
    figure = make_subplots(rows=1, cols=len(gates), horizontal_spacing=0.1,
                           subplot_titles=[GATE_LABELS.get(g, g) for g in gates])
    for col, gate in enumerate(gates, start=1):
        figure.add_trace(go.Scatter(x=[0, 1], y=[1, 0], mode="lines", line=dict(color="#bbb", dash="dash", width=1),
                                    hoverinfo="skip", showlegend=False), row=1, col=col)
        for label, source, color, symbol in (("trained", trained, COLORS["gru"], "circle"),
                                             ("untrained", untrained, COLORS["rnn"], "circle-open")):
            left, right = source[gate]
            figure.add_trace(go.Scatter(
                x=np.asarray(left).tolist(), y=np.asarray(right).tolist(), mode="markers", name=label,
                marker=dict(size=11, color=color, symbol=symbol, line=dict(width=1.5, color=color), opacity=0.85),
                text=[f"unit {u}" for u in range(len(left))], showlegend=col == 1, legendgroup=label,
                hovertemplate=f"{label}, %{{text}}<br>below 0.1: %{{x:.0%}} of the time<br>above 0.9: "
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

def _band(x: np.ndarray, low: np.ndarray, high: np.ndarray, color: str, group: str) -> go.Scatter:
    """A filled band between ``low`` and ``high`` (one closed polygon), drawn faint behind a mean line."""
    from plotly.colors import hex_to_rgb

    r, g, b = hex_to_rgb(color)
    return go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([high, low[::-1]]), fill="toself",
                      fillcolor=f"rgba({r},{g},{b},0.18)", line=dict(width=0), hoverinfo="skip", showlegend=False,
                      legendgroup=group, name=f"{group} spread")


def budget_figure(parameters: Mapping[str, int], hidden: Mapping[str, int], times: Mapping[str, Sequence[float]],
                  title: str = "", height: int = 400) -> go.Figure:
    """Left: parameters per model (hidden size in the label). Right: milliseconds per training step,
    the median as a bar (one slow step does not tip it) and every repeat as a dot, measured on this machine."""
    cells = list(parameters)
    labels = [f"{NAMES.get(c, c)}<br>{hidden[c]} units" for c in cells]
    sketch = Sketch(rows=1, cols=2, horizontal_spacing=0.14,
                    titles=("trainable parameters", "one training step on this machine"))
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
                    marker=dict(color="#222", size=7, opacity=0.6), name="repeats",
                    hovertemplate="%{x}: %{y:.2f} ms<extra></extra>"), col=2)
    sketch.yaxis(1, 1).update(title=dict(text="parameters"), range=[0, 1.2 * max(parameters.values())])
    sketch.yaxis(1, 2).update(title=dict(text="milliseconds (forward, backward, update)"),
                              range=[0, 1.25 * max(1000 * max(t) for t in times.values())])
    return sketch.figure(**base_layout(height=height, margin=dict(l=80, r=20, t=90 if title else 50, b=60),
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
