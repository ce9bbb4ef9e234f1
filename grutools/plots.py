"""Pure figure builders: arrays (or a :class:`~grutools.Trace`/:class:`~grutools.History`) in,
``plotly.graph_objects.Figure`` out. They never train, read widgets or touch globals,
so they can be unit-tested and exported to static HTML.

Conventions: the same colour for the same model everywhere (RNN grey, GRU blue,
LSTM orange), fonts legible when projected, colour scales fixed to the value
range of the quantity (gates 0..1, states -1..1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

COLORS = {"rnn": "#7f7f7f", "gru": "#1f77b4", "lstm": "#ff7f0e"}
NAMES = {"rnn": "tanh RNN", "gru": "GRU", "lstm": "LSTM"}
BASELINE_COLOR = "#d62728"
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
    from plotly.subplots import make_subplots

    pinned = pinned or {}
    figure = make_subplots(rows=2, cols=2, column_widths=[0.56, 0.44], horizontal_spacing=0.1, vertical_spacing=0.2,
                           specs=[[{"rowspan": 2}, {}], [None, {}]],
                           subplot_titles=("one step of the selected unit", "sigmoid: the gates r and z",
                                           "tanh: the candidate n"))
    for start, end in _EDGES:
        x0, y0, _ = _NODES[start]
        x1, y1, _ = _NODES[end]
        figure.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                              arrowhead=2, arrowsize=1.2, arrowwidth=1.5, arrowcolor="#9e9e9e", standoff=24, startstandoff=24,
                              text="")
    names = list(_NODES)
    figure.add_trace(go.Scatter(
        x=[_NODES[n][0] for n in names], y=[_NODES[n][1] for n in names], mode="markers+text",
        marker=dict(size=44, color=[_node_color(n, values[n]) for n in names], line=dict(color="#444", width=1.5)),
        text=[f"<b>{values[n]:+.2f}</b>" for n in names], textposition="bottom center", textfont=dict(size=15),
        customdata=[_NODES[n][2] for n in names], hovertemplate="%{customdata} = %{text}<extra></extra>",
        showlegend=False, name="step"), row=1, col=1)
    for name in names:
        x, y, label = _NODES[name]
        suffix = " (pinned)" if pinned.get(name) else ""
        figure.add_annotation(x=x, y=y + 0.62, text=label + suffix, showarrow=False, xref="x", yref="y",
                              font=dict(size=14, color="#c62828" if suffix else "#222"))
    figure.add_annotation(x=7.6, y=5.6, xref="x", yref="y", showarrow=False, font=dict(size=13, color="#555"),
                          text="h<sub>t</sub> = (1 − z)·n + z·h<sub>t−1</sub>")
    figure.update_xaxes(visible=False, range=[-0.3, 10.4], row=1, col=1)
    figure.update_yaxes(visible=False, range=[-0.4, 6.0], row=1, col=1)

    grid = np.linspace(-6, 6, 121)
    for row, function, name, lo in ((1, 1 / (1 + np.exp(-grid)), "sigmoid", 0.0), (2, np.tanh(grid), "tanh", -1.0)):
        figure.add_trace(go.Scatter(x=grid, y=function, mode="lines", line=dict(color="#333", width=2), name=name,
                                    hoverinfo="skip", showlegend=False), row=row, col=2)
        # where a gate is "switched": below 0.1 or above 0.9 (for tanh: the bounds -1 and 1)
        bands = [(0.0, 0.1), (0.9, 1.0)] if name == "sigmoid" else [(-1.0, -0.9), (0.9, 1.0)]
        for y0, y1 in bands:
            figure.add_hrect(y0=y0, y1=y1, fillcolor="#ffe0b2", opacity=0.5, line_width=0, row=row, col=2)
        figure.update_yaxes(range=[lo - 0.08, 1.08], row=row, col=2, title=name + "(a)")
        figure.update_xaxes(range=[-6, 6], row=row, col=2, title="pre-activation a" if row == 2 else None)
    for gate, row, color in (("r", 1, "#2ca02c"), ("z", 1, "#9467bd"), ("n", 2, "#d62728")):
        flat = list((others or {}).get(gate, []))  # always drawn (maybe empty) so the trace count never changes
        figure.add_trace(go.Scatter(x=flat[0::2], y=flat[1::2], mode="markers", marker=dict(size=9, color=color,
                                    opacity=0.3), name=f"{gate}, other units", showlegend=False,
                                    hovertemplate=f"{gate} (other unit): %{{y:.2f}}<extra></extra>"), row=row, col=2)
        label = gate + (" pinned" if pinned.get(gate) else "")
        figure.add_trace(go.Scatter(
            x=[max(-6, min(6, pre[gate]))], y=[values[gate]], mode="markers+text", text=[label], textposition="top left",
            textfont=dict(size=15, color=color), marker=dict(size=15, color=color, line=dict(color="white", width=2)),
            name=gate, showlegend=False, hovertemplate=f"{gate}: a = %{{x:.2f}}, value %{{y:.3f}}<extra></extra>"),
            row=row, col=2)
    figure.update_layout(**base_layout(height=height, margin=dict(l=10, r=20, t=40, b=50)))
    figure.update_annotations(font_size=14, selector=dict(text="one step of the selected unit"))
    return figure


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
                                line=dict(color="#9467bd", width=2.5)), row=2, col=1)
    figure.add_trace(go.Scatter(x=steps, y=list(gru["reset"]), mode="lines", name="reset gate r",
                                line=dict(color="#2ca02c", width=2.5, dash="dot")), row=2, col=1)
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
