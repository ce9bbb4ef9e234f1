"""Figures of one GRU cell: the cell diagram with its values, and one unit over a sequence (dashboard 01)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import (
    COLORS,
    GATE_COLORS,
    GATE_SCALE,
    STATE_SCALE,
    base_layout,
)
from .sketch import Sketch

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
