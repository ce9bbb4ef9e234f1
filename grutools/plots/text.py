"""Figures of dashboard 10, a GRU reads: text coloured by a unit (Karpathy, Johnson & Fei-Fei 2015's figure), the
units ranked for a pattern, how many units follow any, the update gate by character class, gate saturation on
text against a toy task, a bits-per-character curve against the baselines, and the GRU against the LSTM."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import BASELINE_COLOR, COLORS, base_layout

# a unit's value from -1 (red) through 0 (white) to +1 (blue), as the state heatmaps of 02; gates 0..1 white to blue
NEGATIVE, POSITIVE = np.array([214, 39, 40]), np.array([31, 119, 180])
BASELINE_DASHES = {"unigram": "dot", "bigram": "dash", "kneser-ney": "dashdot"}


def _title(text: str) -> dict:
    return dict(text=text, x=0.01, y=0.98, yanchor="top", yref="container")


def _colour(value: float, gate: bool) -> str:
    v = float(np.clip(value, 0 if gate else -1, 1))
    weight = v if gate else abs(v)
    tint = POSITIVE if (gate or v >= 0) else NEGATIVE
    r, g, b = (255 + (tint - 255) * weight * 0.85).astype(int)
    return f"rgb({r},{g},{b})"


def _shown(c: str) -> str:
    return "↵\n" if c == "\n" else html.escape(c)


def coloured_text(text: str, values: Sequence[float], label: str, gate: bool = False, lines_for_readers: bool = True
                  ) -> str:
    """``text`` as code (monospace, newlines and indentation kept), each character's background the unit's
    ``value`` there; hovering shows the value. Not by colour alone: each line ends with a visually hidden sentence
    giving its mean and highest value, for a screen reader."""
    values = np.asarray(values, dtype=float)
    spans, line_values, line_text = [], [], []
    readers = []
    for c, v in zip(text, values):
        spans.append(f'<span style="background:{_colour(v, gate)}" title="{html.escape(repr(c))}: {v:+.2f}">'
                     f"{_shown(c)}</span>")
        line_values.append(v)
        line_text.append(c)
        if c == "\n" and lines_for_readers:
            top = int(np.argmax(line_values))
            spans.append(f'<span class="grutools-sr">(line mean {np.mean(line_values):+.2f}, highest '
                         f'{line_values[top]:+.2f} at {html.escape(repr(line_text[top]))})</span>')
            readers.append(1)
            line_values, line_text = [], []
    legend = ("0 white to 1 blue" if gate else "-1 red, 0 white, +1 blue")
    return (f'<div class="grutools-text" role="group" aria-label="{html.escape(label)}; colours: {legend}">'
            f'<div class="grutools-text-legend">{html.escape(label)}: {legend}; hover a character for its value</div>'
            '<pre tabindex="0" style="font-family:\'DejaVu Sans Mono\',Menlo,Consolas,monospace;font-size:13px;line-height:1.35;'
            'white-space:pre;overflow-x:auto;max-height:420px;overflow-y:auto;border:1px solid #ddd;padding:6px;'
            'margin:4px 0">' + "".join(spans) + "</pre></div>")


SR_STYLE = ("<style>.grutools-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
            "white-space:nowrap}.grutools-text-legend{font-size:13px;color:#333}</style>")


def units_figure(ranked: Sequence[tuple[int, float]], pattern: str, count: int = 10, height: int = 340) -> go.Figure:
    """The ``count`` units that follow ``pattern`` best: Pearson's r of each, as bars. Written as JSON
    (:class:`Sketch`): a change of pattern redraws it at once."""
    from .sketch import Sketch

    top = list(ranked)[:count]
    r = [round(v, 3) for _, v in top]
    sketch = Sketch(rows=1, cols=1)
    sketch.add(dict(type="bar", x=r, y=[f"unit {u}" for u, _ in top], orientation="h",
                    marker=dict(color=[COLORS["gru"] if v >= 0 else BASELINE_COLOR for v in r]),
                    text=[f"{v:+.2f}" for v in r], textposition="outside",
                    hovertemplate="%{y}: r = %{x:.2f}<extra></extra>"))
    sketch.xaxis().update(title=dict(text="Pearson's r with the pattern"), range=[-1.05, 1.05])
    sketch.yaxis().update(autorange="reversed")
    return sketch.figure(**base_layout(title=_title(f"Units that follow “{pattern}” (held-out text)"), height=height,
                                       margin=dict(l=80, r=30, t=60, b=50)))


def followers_figure(best_r: Sequence[float], threshold: float, height: int = 340) -> go.Figure:
    """Each unit's best |r| over the built-in patterns, as a histogram, with the threshold of "follows"."""
    values = np.abs(np.asarray(best_r, dtype=float))
    share = float((values < threshold).mean()) if len(values) else 0.0
    figure = go.Figure(go.Histogram(x=values.round(3), xbins=dict(start=0, end=1.0001, size=0.05),
                                    marker_color=COLORS["gru"], hovertemplate="|r| %{x}: %{y} units<extra></extra>"))
    figure.add_vline(x=threshold, line=dict(color=BASELINE_COLOR, dash="dash", width=2))
    figure.update_layout(**base_layout(
        title=_title(f"{share:.0%} of the units follow no built-in pattern (|r| under {threshold:g})"), height=height,
        margin=dict(l=60, r=20, t=60, b=50), xaxis=dict(title="a unit's best |r| over the five patterns",
                                                        range=[0, 1]), yaxis=dict(title="units"), bargap=0.05))
    return figure


def classes_figure(means: Mapping[str, float], counts: Mapping[str, int], height: int = 320) -> go.Figure:
    """The update gate's mean over units, by the class of the character just read."""
    names = list(means)
    figure = go.Figure(go.Bar(x=names, y=[round(means[n], 3) for n in names], marker_color="#d55e00",
                              customdata=[counts[n] for n in names], text=[f"{means[n]:.2f}" for n in names],
                              textposition="outside",
                              hovertemplate="%{x}: mean update gate %{y:.2f} (%{customdata} characters)<extra></extra>"))
    figure.update_layout(**base_layout(title=_title("Which characters make the units update? (1 = keep the past)"),
                                       height=height, margin=dict(l=60, r=20, t=60, b=60),
                                       yaxis=dict(title="mean update gate z", range=[0, 1.1])))
    return figure


def saturation_figure(shares: Mapping[str, Mapping[str, float]], height: int = 320) -> go.Figure:
    """The share of gate values saturated (under 0.05 or over 0.95), update and reset, on text and on toy tasks."""
    figure = go.Figure()
    for gate, color in (("update", "#d55e00"), ("reset", "#009e73")):
        names = list(shares)
        figure.add_trace(go.Bar(x=names, y=[round(shares[n][gate], 3) for n in names], name=f"{gate} gate",
                                marker_color=color, text=[f"{shares[n][gate]:.0%}" for n in names],
                                textposition="outside",
                                hovertemplate=f"%{{x}}: {gate} gate saturated %{{y:.0%}}<extra></extra>"))
    figure.update_layout(**base_layout(title=_title("Gate values switched hard off or on (< 0.05 or > 0.95)"),
                                       height=height, barmode="group", margin=dict(l=60, r=20, t=90, b=60),
                                       yaxis=dict(title="share saturated", range=[0, 1.1], tickformat=".0%")))
    return figure


def bpc_figure(steps: Sequence[int], bpc: Sequence[float], baselines: Mapping[str, float], max_steps: int,
               shipped: float | None = None, height: int = 380) -> go.Figure:
    """Bits per character on validation text while training, against the baselines (counted on the training text)."""
    figure = go.Figure(layout=base_layout(title=_title("Bits per character on held-out text (lower is better)"),
                                          height=height, xaxis=dict(title="training step", range=[0, max_steps]),
                                          yaxis=dict(title="bits per character", range=[0, 7])))
    figure.add_trace(go.Scatter(x=list(steps), y=[round(b, 4) for b in bpc], mode="lines+markers", name="this GRU",
                                line=dict(color=COLORS["gru"], width=3),
                                hovertemplate="step %{x}: %{y:.2f} bits<extra></extra>"))
    for name, value in baselines.items():
        dash = next((d for key, d in BASELINE_DASHES.items() if name.startswith(key)), "dot")
        figure.add_trace(go.Scatter(x=[0, max_steps], y=[value, value], mode="lines", name=f"{name} {value:.2f}",
                                    line=dict(color=BASELINE_COLOR, dash=dash, width=2), hoverinfo="skip"))
    if shipped is not None:
        figure.add_trace(go.Scatter(x=[0, max_steps], y=[shipped, shipped], mode="lines",
                                    name=f"the shipped GRU {shipped:.2f}", line=dict(color="#000000", dash="dot"),
                                    hoverinfo="skip"))
    return figure


def study_figure(rows: Sequence[Mapping], height: int = 340) -> go.Figure:
    """Test bits per character of each run, GRU and LSTM side by side (one point a seed)."""
    figure = go.Figure()
    for cell, name in (("gru", "GRU"), ("lstm", "LSTM")):
        runs = [r for r in rows if r["cell"] == cell]
        figure.add_trace(go.Scatter(
            x=[name] * len(runs), y=[round(r["test_bpc"], 4) for r in runs], mode="markers", name=name,
            marker=dict(size=14, color=COLORS[cell], symbol="circle" if cell == "gru" else "diamond"),
            customdata=[[r["seed"], r["parameters"], r["ms_per_step"]] for r in runs],
            hovertemplate=(f"{name}, seed %{{customdata[0]}}: %{{y:.3f}} bits per character, %{{customdata[1]:,}} "
                           "parameters, %{customdata[2]:.0f} ms a step<extra></extra>")))
    figure.update_layout(**base_layout(title=_title("GRU against LSTM at an equal budget: test bits per character"),
                                       height=height, margin=dict(l=70, r=20, t=90, b=50),
                                       yaxis=dict(title="bits per character (lower is better)")))
    return figure
