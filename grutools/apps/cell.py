"""The "inside one GRU step" dashboard: a small GRU whose inputs, state and weights a student sets by hand."""

from __future__ import annotations

import html

import ipywidgets as widgets
import plotly.graph_objects as go

from ..lessons.cell import (
    GATE_MODES,
    MEMORY_UNIT,
    SIGNALS,
    UNIT_PARAMETERS,
    SmallGRU,
    StepExplanation,
    explain_step,
    input_signal,
    parameter_rows,
)
from ..plots import NAMES, cell_step_figure, unit_sequence_figure
from .common import LABEL_STYLE, StatusLine, control_layout, guarded, panel_layout, row_layout
from .figures import show_figure
from .guard import protect
from .questions import Asking

PANEL = panel_layout("330px")
SLIDER = dict(style=LABEL_STYLE, layout=control_layout(), continuous_update=True, readout_format=".2f")
PARAMETER_LABELS = {
    "W_ir": "W_ir (x → r)", "W_iz": "W_iz (x → z)", "W_in": "W_in (x → n)", "W_hr": "W_hr (h → r)",
    "W_hz": "W_hz (h → z)", "W_hn": "W_hn (h → n)", "b_r": "b_r", "b_z": "b_z", "b_in": "b_in", "b_hn": "b_hn",
}


def _num(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def equations_html(e: StepExplanation, mode: str, x_values: list[float]) -> str:
    """The four equations of PyTorch's GRU with this unit's numbers substituted (as HTML)."""
    s, j = e.step, e.unit
    r, z, n, h = (float(v[j]) for v in (s.reset, s.update, s.candidate, s.hidden))
    pre_r, pre_z, pre_n = (float(v[j]) for v in (s.reset_pre, s.update_pre, s.candidate_pre))
    pinned_z = GATE_MODES[mode][0] is not None
    pinned_r = GATE_MODES[mode][1] is not None
    value = lambda name, v: f'<b class="gru-value" data-name="{name}">{_num(v)}</b>'  # noqa: E731
    pin = ' <span style="color:#c62828">(pinned by the button)</span>'
    rows = [
        ("reset gate", "r = σ(W<sub>ir</sub>x + W<sub>hr</sub>h<sub>t−1</sub> + b<sub>r</sub>)",
         f"σ({_num(e.r_input)} {_num(e.r_recurrent)} {_num(e.r_bias)}) = σ({_num(pre_r)}) = " + value("r", r)
         + (pin if pinned_r else "")),
        ("update gate", "z = σ(W<sub>iz</sub>x + W<sub>hz</sub>h<sub>t−1</sub> + b<sub>z</sub>)",
         f"σ({_num(e.z_input)} {_num(e.z_recurrent)} {_num(e.z_bias)}) = σ({_num(pre_z)}) = " + value("z", z)
         + (pin if pinned_z else "")),
        ("candidate", "n = tanh(W<sub>in</sub>x + b<sub>in</sub> + r ⊙ (W<sub>hn</sub>h<sub>t−1</sub> + b<sub>hn</sub>))",
         f"tanh({_num(e.n_input)} + {r:.2f}·({_num(e.n_recurrent)})) = tanh({_num(pre_n)}) = " + value("n", n)),
        ("new state", "h<sub>t</sub> = (1 − z) ⊙ n + z ⊙ h<sub>t−1</sub>",
         f"{1 - z:.2f}·({_num(n)}) + {z:.2f}·({_num(e.h_prev)}) = " + value("h", h)
         + f' <span style="color:#555">(h<sub>t−1</sub> = <b class="gru-value" data-name="h_prev">{_num(e.h_prev)}</b>)</span>'),
    ]
    body = "".join(
        f'<tr><td style="padding:3px 10px 3px 0;color:#555">{label}</td>'
        f'<td style="padding:3px 14px 3px 0;font-family:serif;font-size:16px">{formula}</td>'
        f'<td style="padding:3px 0;font-family:monospace;font-size:15px">= {numbers}</td></tr>'
        for label, formula, numbers in rows)
    inputs = ", ".join(_num(v) for v in x_values)
    return (f'<div style="font-size:15px;line-height:1.5"><b>Unit {j + 1}</b>, input x<sub>t</sub> = ({inputs}). '
            'PyTorch\'s equations, with the numbers of this step:'
            f'<table style="border-collapse:collapse;margin-top:4px">{body}</table></div>')


def units_table_html(step, h_prev: list[float], selected: int) -> str:
    """Every unit's h_{t-1}, r, z, n and h_t side by side (the selected unit highlighted)."""
    header = "".join(f'<th style="padding:2px 10px;{"background:#e3f2fd" if j == selected else ""}">unit {j + 1}</th>'
                     for j in range(len(h_prev)))
    rows = [("h<sub>t−1</sub>", h_prev), ("r", step.reset.tolist()), ("z", step.update.tolist()),
            ("n", step.candidate.tolist()), ("h<sub>t</sub>", step.hidden.tolist())]
    body = "".join(
        f'<tr><td style="padding:2px 10px;font-weight:bold">{name}</td>'
        + "".join(f'<td style="padding:2px 10px;text-align:right;font-family:monospace;'
                  f'{"background:#e3f2fd" if j == selected else ""}">{_num(v)}</td>' for j, v in enumerate(values))
        + "</tr>" for name, values in rows)
    return (f'<table style="border-collapse:collapse;font-size:14px"><tr><th></th>{header}</tr>{body}</table>')


class GRUCellExplorer(Asking):
    """Three views of one small GRU: ``step_view`` (one step), ``sequence_view`` (50 steps of one unit
    beside a tanh RNN) and ``parameter_view`` (parameter counts). Display each in its own cell.

    >>> explorer = GRUCellExplorer(input_size=1, hidden_size=2, seed=0)
    >>> explorer.set_mode("z = 1 (copy)")
    >>> abs(explorer.current_step().hidden - explorer.h_prev).max().item()
    0.0
    """

    def __init__(self, input_size: int = 1, hidden_size: int = 2, seed: int = 0) -> None:
        self.gru = SmallGRU(input_size, hidden_size, seed)
        self.status = StatusLine(layout=control_layout())
        self._updating = False
        guard = guarded(self.status)

        # --- the step ---
        self.input_size = widgets.ToggleButtons(options=[1, 2], value=input_size, description="inputs",
                                                style={**LABEL_STYLE, "button_width": "50px"})
        self.hidden_size = widgets.ToggleButtons(options=[1, 2, 3, 4], value=hidden_size, description="hidden units",
                                                 style={**LABEL_STYLE, "button_width": "38px"})
        self.unit = widgets.Dropdown(description="show unit", style=LABEL_STYLE, layout=control_layout())
        self.x_box, self.h_box = widgets.VBox(), widgets.VBox()
        self.weight_sliders = {name: widgets.FloatSlider(min=-10, max=10, step=0.1, description=PARAMETER_LABELS[name],
                                                          **SLIDER) for name in UNIT_PARAMETERS}
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=10**6, description="seed", style=LABEL_STYLE,
                                           layout=widgets.Layout(width="170px"))
        self.random_button = widgets.Button(description="random weights", icon="random",
                                            layout=widgets.Layout(width="150px"))
        self.memory_button = widgets.Button(description="make this unit a memory", icon="lock",
                                            layout=widgets.Layout(width="300px"),
                                            tooltip="update gate open (z≈1) except when an input arrives")
        self.mode = widgets.ToggleButtons(options=list(GATE_MODES), value="as computed",
                                          style={"button_width": "150px"},
                                          tooltips=["the gates as the weights compute them", "z = 0: the state is replaced by "
                                                    "the candidate, like a plain RNN", "z = 1: the state is copied, perfect "
                                                    "memory", "r = 0: the candidate ignores the previous state"])
        self.equations = widgets.HTML()
        self.units_table = widgets.HTML()
        self.step_figure: go.FigureWidget | None = None  # created by the first refresh

        # --- many steps ---
        self.signal = widgets.Dropdown(options=SIGNALS, value="pulse", description="input signal", style=LABEL_STYLE,
                                       layout=control_layout())
        self.steps = widgets.IntSlider(value=50, min=10, max=100, step=5, description="steps", style=LABEL_STYLE,
                                       layout=control_layout())
        self.sequence_caption = widgets.HTML(layout=control_layout())
        self.sequence_figure: go.FigureWidget | None = None

        # --- parameters ---
        self.count_input = widgets.IntSlider(value=2, min=1, max=256, description="input size", style=LABEL_STYLE,
                                             layout=control_layout())
        self.count_hidden = widgets.IntSlider(value=32, min=1, max=512, description="hidden size", style=LABEL_STYLE,
                                              layout=control_layout())
        self.parameter_table = widgets.HTML()

        self._build_state_sliders()
        self._load_unit_sliders()  # draws the figures for the first time
        for name, slider in self.weight_sliders.items():
            slider.observe(guard(lambda change, name=name: self._on_weight(name, change["new"])), names="value")
        self.unit.observe(guard(lambda _: self._load_unit_sliders()), names="value")
        self.mode.observe(guard(lambda _: self.refresh()), names="value")
        self.input_size.observe(guard(lambda _: self._resize()), names="value")
        self.hidden_size.observe(guard(lambda _: self._resize()), names="value")
        self.random_button.on_click(guard(lambda _: self.randomize()))
        self.memory_button.on_click(guard(lambda _: self.make_memory_unit()))
        for control in (self.signal, self.steps):
            control.observe(guard(lambda _: self._refresh_sequence()), names="value")
        for control in (self.count_input, self.count_hidden):
            control.observe(guard(lambda _: self._refresh_parameters()), names="value")

        weights = widgets.Accordion(children=[widgets.VBox(list(self.weight_sliders.values()))],
                                    layout=widgets.Layout(width="320px"))
        weights.set_title(0, "weights of the shown unit")
        self.step_view = widgets.HBox([
            widgets.VBox([widgets.HTML("<b>Input and previous state</b>"), self.x_box, self.h_box,
                          widgets.HTML("<b>The network</b>"), self.input_size, self.hidden_size, self.unit,
                          widgets.HBox([self.seed, self.random_button]), self.memory_button, weights, self.status],
                         layout=PANEL),
            widgets.VBox([self.mode, self.equations, self.step_figure, self.units_table],
                         layout=widgets.Layout(flex="1 1 560px", min_width="0")),
        ], layout=row_layout())
        self.sequence_view = widgets.HBox([
            widgets.VBox([widgets.HTML('<div style="line-height:1.4">The shown unit alone (its own weights, one input), '
                                       "run for many steps, beside the tanh RNN it becomes when z = 0 and r = 1.</div>"),
                          self.signal, self.steps, self.sequence_caption], layout=PANEL),
            self.sequence_figure,
        ], layout=row_layout())
        self.parameter_view = widgets.HBox([
            widgets.VBox([self.count_input, self.count_hidden], layout=PANEL), self.parameter_table,
        ], layout=row_layout())
        self._refresh_parameters()
        protect([self.step_view, self.sequence_view, self.parameter_view], self.status)

    # ---- building the per-size controls ----
    def _build_state_sliders(self) -> None:
        self.x_sliders = [widgets.FloatSlider(value=0.5 if i == 0 else 0.0, min=-2, max=2, step=0.05,
                                              description=f"input x{i + 1}", **SLIDER)
                          for i in range(self.gru.input_size)]
        self.h_sliders = [widgets.FloatSlider(value=[0.5, -0.3, 0.8, -0.6][j], min=-1, max=1, step=0.05,
                                              description=f"h{j + 1} at t−1", **SLIDER)
                          for j in range(self.gru.hidden_size)]
        guard = guarded(self.status)
        for slider in self.x_sliders + self.h_sliders:
            slider.observe(guard(lambda _: self.refresh()), names="value")
        self.x_box.children = self.x_sliders
        self.h_box.children = self.h_sliders
        self._updating = True
        self.unit.options = [(f"unit {j + 1}", j) for j in range(self.gru.hidden_size)]
        self.unit.value = 0
        self._updating = False

    def _resize(self) -> None:
        self.gru = SmallGRU(self.input_size.value, self.hidden_size.value, self.seed.value)
        self._build_state_sliders()
        self._load_unit_sliders()

    def _load_unit_sliders(self) -> None:
        weights = self.gru.unit_weights(self.unit.value)
        self._updating = True
        try:
            for name, slider in self.weight_sliders.items():
                slider.value = round(getattr(weights, name), 2)
        finally:
            self._updating = False
        self.refresh()
        self._refresh_sequence()

    def _on_weight(self, name: str, value: float) -> None:
        if self._updating:
            return
        self.gru.set_unit_weight(self.unit.value, name, value)
        self.refresh()
        self._refresh_sequence()  # it depends on the weights, not on x, h or the gate mode

    # ---- actions (also what the buttons do) ----
    @property
    def x(self) -> list[float]:
        return [s.value for s in self.x_sliders]

    @property
    def h_prev(self):
        import torch

        return torch.tensor([s.value for s in self.h_sliders])

    def current_step(self):
        """The step now shown (a :class:`grutools.core.equations.GRUStep`)."""
        return self.gru.step(self.x, self.h_prev, self.mode.value)

    def set_mode(self, mode: str) -> None:
        """Pin a gate as the extremes buttons do; ``mode`` is a key of :data:`grutools.lessons.cell.GATE_MODES`."""
        self.mode.value = mode

    def randomize(self) -> None:
        """New random weights from the seed (the "random weights" button)."""
        self.gru.randomize(self.seed.value)
        self._load_unit_sliders()
        self.status.info(f"Random weights from seed {self.seed.value}.")

    def make_memory_unit(self) -> None:
        """Give the shown unit weights that hold a value (the "make this unit a memory" button)."""
        self.gru.set_unit(self.unit.value, MEMORY_UNIT)
        self._load_unit_sliders()
        self.signal.value = "pulse"
        self.status.info("Memory unit: b_z = 6 keeps z near 1 (keep); W_iz = −10 closes it when an input arrives (write).")

    # ---- drawing ----
    def refresh(self) -> None:
        """Recompute the step and redraw every view of it."""
        if self._updating:
            return
        unit, mode = self.unit.value, self.mode.value
        h_prev = self.h_prev
        explanation = explain_step(self.gru, self.x, h_prev, unit, mode)
        step = explanation.step
        values = {"h_prev": h_prev[unit].item(), "x": self.x[0], "r": step.reset[unit].item(),
                  "z": step.update[unit].item(), "n": step.candidate[unit].item(), "h": step.hidden[unit].item()}
        pre = {"r": step.reset_pre[unit].item(), "z": step.update_pre[unit].item(), "n": step.candidate_pre[unit].item()}
        others = {}
        for gate, pre_values, gate_values in (("r", step.reset_pre, step.reset), ("z", step.update_pre, step.update),
                                              ("n", step.candidate_pre, step.candidate)):
            others[gate] = [v for j in range(self.gru.hidden_size) if j != unit
                            for v in (pre_values[j].item(), gate_values[j].item())]
        update_pin, reset_pin = GATE_MODES[mode]
        figure = cell_step_figure(values, pre, pinned={"z": update_pin is not None, "r": reset_pin is not None},
                                  others=others)
        self.equations.value = equations_html(explanation, mode, self.x)
        self.units_table.value = units_table_html(step, h_prev.tolist(), unit)
        self.step_figure = self._show(self.step_figure, figure)

    @staticmethod
    def _show(widget: go.FigureWidget | None, figure: go.Figure) -> go.FigureWidget:
        return show_figure(widget, figure)

    def _refresh_sequence(self) -> None:
        signal = input_signal(self.signal.value, self.steps.value, seed=self.seed.value)
        gru_trace, rnn_trace = self.gru.run_unit(self.unit.value, signal)
        gru = {name: gru_trace.numpy(name)[:, 0].tolist() for name in ("update", "reset", "hidden")}
        rnn_hidden = rnn_trace.numpy("hidden")[:, 0].tolist()
        self.sequence_figure = self._show(self.sequence_figure, unit_sequence_figure(signal.tolist(), gru, rnn_hidden))
        self.sequence_caption.value = (
            f'<div style="line-height:1.5;margin-top:8px">State at the last step: GRU <b>{_num(gru["hidden"][-1])}</b>, '
            f'tanh RNN <b>{_num(rnn_hidden[-1])}</b>.<br>Mean update gate z: {sum(gru["update"]) / len(signal):.2f} '
            "(near 1: the unit keeps its state; near 0: it rewrites it every step).</div>")

    def _refresh_parameters(self) -> None:
        rows = parameter_rows(self.count_input.value, self.count_hidden.value)
        body = "".join(
            f'<tr><td style="padding:4px 12px;font-weight:bold;color:{"#1f77b4" if r.cell == "gru" else "#333"}">'
            f"{NAMES[r.cell]}</td><td style=\"padding:4px 12px\">{r.blocks}</td>"
            f'<td style="padding:4px 12px;font-family:monospace">{html.escape(r.formula)}</td>'
            f'<td style="padding:4px 12px;text-align:right">{r.from_formula:,}</td>'
            f'<td style="padding:4px 12px;text-align:right">{r.from_pytorch:,} '
            f'{"✓" if r.from_formula == r.from_pytorch else "✗ differs"}</td></tr>' for r in rows)
        gru, lstm = rows[1].from_pytorch, rows[2].from_pytorch
        self.parameter_table.value = (
            '<table style="border-collapse:collapse;font-size:15px"><tr style="border-bottom:1px solid #999">'
            + "".join(f'<th style="padding:4px 12px;white-space:nowrap;text-align:left">{title}</th>' for title in
                      ("cell", "blocks", "blocks × (hidden·(input + hidden) + 2·hidden)", "count", "PyTorch's module"))
            + "</tr>" + body + "</table>"
            f'<p style="font-size:15px;max-width:820px;line-height:1.5">The GRU has <b>{gru / lstm:.0%}</b> of the '
            f"LSTM's parameters ({gru:,} against {lstm:,}). Each gate is a block of weights from the input and "
            "from the previous state, plus two bias vectors. A GRU has three blocks (reset, update, candidate); "
            "an LSTM has four (input, forget, output, cell candidate): the GRU's single update gate does the work "
            "of the LSTM's input and forget gates, and it has no separate cell state or output gate.</p>")
