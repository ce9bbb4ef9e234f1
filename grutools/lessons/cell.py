"""A small GRU to take apart by hand: the logic behind the "inside one GRU step" dashboard.

Every number comes from :func:`grutools.core.equations.gru_step` (one step) or from
:func:`grutools.trace` (many steps), the same code that inspects trained models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..core.equations import GRUStep, gate_blocks, gru_step, parameter_count
from ..core.trace import Trace, trace

# What the dashboard's "extremes" buttons pin: (update gate, reset gate); None leaves a gate as computed.
GATE_MODES = {
    "as computed": (None, None),
    "z = 0 (replace)": (0.0, None),
    "z = 1 (copy)": (1.0, None),
    "r = 0 (ignore past)": (None, 0.0),
}
SIGNALS = ("pulse", "constant", "noise", "sine")
# Names of one unit's parameters, in the order the dashboard's sliders show them.
UNIT_PARAMETERS = ("W_ir", "W_iz", "W_in", "W_hr", "W_hz", "W_hn", "b_r", "b_z", "b_in", "b_hn")


@dataclass
class UnitWeights:
    """The parameters that act on one unit j: weights from input 1, its self-recurrent weights, its biases.

    ``b_r`` and ``b_z`` are the sums ``b_i* + b_h*`` (only the sum matters for a gate);
    ``b_in`` and ``b_hn`` are kept apart because the reset gate multiplies ``b_hn``.
    """

    W_ir: float
    W_iz: float
    W_in: float
    W_hr: float
    W_hz: float
    W_hn: float
    b_r: float
    b_z: float
    b_in: float
    b_hn: float


# A unit that remembers: the input closes its update gate only when a pulse arrives (z ~ 0: write),
# otherwise z ~ 1 (keep), so the GRU holds the pulse for many steps.
MEMORY_UNIT = UnitWeights(W_ir=0.0, W_iz=-10.0, W_in=3.0, W_hr=0.0, W_hz=0.0, W_hn=0.5, b_r=2.0, b_z=6.0, b_in=0.0, b_hn=0.0)


class SmallGRU:
    """A one-layer GRU of 1-4 units and 1-2 inputs whose weights a student sets by hand.

    The weights live in a real ``torch.nn.GRU`` (``self.module``), so what is shown
    is exactly what PyTorch computes.
    """

    def __init__(self, input_size: int = 1, hidden_size: int = 2, seed: int = 0) -> None:
        if not 1 <= input_size <= 2:
            raise ValueError(f"input_size must be 1 or 2 for the cell explorer; got {input_size}.")
        if not 1 <= hidden_size <= 4:
            raise ValueError(f"hidden_size must be between 1 and 4 for the cell explorer; got {hidden_size}.")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.module = nn.GRU(input_size, hidden_size, batch_first=True)
        self.randomize(seed)

    def randomize(self, seed: int, scale: float = 2.0) -> None:
        """Draw every weight and bias uniformly from ``[-scale, scale]`` (wider than PyTorch's default
        ``1/sqrt(hidden)``, so that gates visibly switch). ``b_hr`` and ``b_hz`` are folded into ``b_ir``/``b_iz``."""
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for parameter in self.module.parameters():
                parameter.copy_((torch.rand(parameter.shape, generator=generator) * 2 - 1) * scale)
            hidden = self.hidden_size
            self.module.bias_hh_l0[: 2 * hidden] = 0.0

    def _slices(self, unit: int):
        self._check_unit(unit)
        hidden = self.hidden_size
        return unit, unit + hidden, unit + 2 * hidden  # rows of r, z, n for this unit

    def _check_unit(self, unit: int) -> None:
        if not 0 <= unit < self.hidden_size:
            raise ValueError(f"unit must be between 0 and {self.hidden_size - 1}; got {unit}.")

    def unit_weights(self, unit: int) -> UnitWeights:
        """The parameters acting on ``unit`` (see :class:`UnitWeights`)."""
        r, z, n = self._slices(unit)
        m = self.module
        return UnitWeights(
            W_ir=m.weight_ih_l0[r, 0].item(), W_iz=m.weight_ih_l0[z, 0].item(), W_in=m.weight_ih_l0[n, 0].item(),
            W_hr=m.weight_hh_l0[r, unit].item(), W_hz=m.weight_hh_l0[z, unit].item(), W_hn=m.weight_hh_l0[n, unit].item(),
            b_r=(m.bias_ih_l0[r] + m.bias_hh_l0[r]).item(), b_z=(m.bias_ih_l0[z] + m.bias_hh_l0[z]).item(),
            b_in=m.bias_ih_l0[n].item(), b_hn=m.bias_hh_l0[n].item(),
        )

    def set_unit_weight(self, unit: int, name: str, value: float) -> None:
        """Set one of :data:`UNIT_PARAMETERS` of ``unit``."""
        if name not in UNIT_PARAMETERS:
            raise ValueError(f"unknown parameter {name!r}; choose one of {UNIT_PARAMETERS}.")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number; got {value!r}.")
        r, z, n = self._slices(unit)
        row = {"r": r, "z": z, "n": n}[name[-1]]
        m = self.module
        with torch.no_grad():
            if name.startswith("W_i"):
                m.weight_ih_l0[row, 0] = value
            elif name.startswith("W_h"):
                m.weight_hh_l0[row, unit] = value
            elif name in ("b_r", "b_z"):
                m.bias_ih_l0[row] = value - m.bias_hh_l0[row]
            elif name == "b_in":
                m.bias_ih_l0[row] = value
            else:
                m.bias_hh_l0[row] = value

    def set_unit(self, unit: int, weights: UnitWeights) -> None:
        """Set all of ``unit``'s parameters at once, e.g. to :data:`MEMORY_UNIT`."""
        for name in UNIT_PARAMETERS:
            self.set_unit_weight(unit, name, getattr(weights, name))

    def step(self, x: list[float] | torch.Tensor, h_prev: list[float] | torch.Tensor, mode: str = "as computed") -> GRUStep:
        """One step from input ``x (input_size,)`` and state ``h_prev (hidden_size,)``; ``mode`` from :data:`GATE_MODES`."""
        if mode not in GATE_MODES:
            raise ValueError(f"mode must be one of {list(GATE_MODES)}; got {mode!r}.")
        x = torch.as_tensor(x, dtype=torch.float32)
        h_prev = torch.as_tensor(h_prev, dtype=torch.float32)
        if x.shape != (self.input_size,) or h_prev.shape != (self.hidden_size,):
            raise ValueError(f"x must have {self.input_size} values and h_prev {self.hidden_size}; "
                             f"got {tuple(x.shape)} and {tuple(h_prev.shape)}.")
        update, reset = GATE_MODES[mode]
        m = self.module
        with torch.no_grad():
            return gru_step(x, h_prev, m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0,
                            update_override=update, reset_override=reset)

    def unit_modules(self, unit: int) -> tuple[nn.GRU, nn.RNN]:
        """A 1-unit GRU with ``unit``'s own weights (self-recurrence only), and the tanh RNN it becomes with z = 0, r = 1.

        The RNN uses the candidate's weights: ``h_t = tanh(W_in x_t + b_in + W_hn h_{t-1} + b_hn)``.
        """
        r, z, n = self._slices(unit)
        m = self.module
        gru = nn.GRU(self.input_size, 1, batch_first=True)
        rnn = nn.RNN(self.input_size, 1, batch_first=True)
        rows = [r, z, n]
        with torch.no_grad():
            gru.weight_ih_l0.copy_(m.weight_ih_l0[rows])
            gru.weight_hh_l0.copy_(m.weight_hh_l0[rows, unit][:, None])
            gru.bias_ih_l0.copy_(m.bias_ih_l0[rows])
            gru.bias_hh_l0.copy_(m.bias_hh_l0[rows])
            rnn.weight_ih_l0.copy_(m.weight_ih_l0[[n]])
            rnn.weight_hh_l0.copy_(m.weight_hh_l0[[n], unit][:, None])
            rnn.bias_ih_l0.copy_(m.bias_ih_l0[[n]])
            rnn.bias_hh_l0.copy_(m.bias_hh_l0[[n]])
        return gru, rnn

    def run_unit(self, unit: int, signal: torch.Tensor, h0: float = 0.0) -> tuple[Trace, Trace]:
        """Feed ``signal (steps,)`` to input 1 of ``unit``'s 1-unit GRU and RNN; returns both traces."""
        gru, rnn = self.unit_modules(unit)
        x = torch.zeros(1, len(signal), self.input_size)
        x[0, :, 0] = signal
        start = torch.full((1, 1, 1), float(h0))
        return trace(gru, x, start), trace(rnn, x, start)


def input_signal(kind: str, steps: int = 50, seed: int = 0) -> torch.Tensor:
    """A test input of ``steps`` values: ``"pulse"`` (1 at step 5, else 0), ``"constant"`` (0.5),
    ``"noise"`` (Gaussian, sd 0.5) or ``"sine"`` (period 20)."""
    if steps < 1:
        raise ValueError(f"steps must be positive; got {steps}.")
    t = torch.arange(steps, dtype=torch.float32)
    if kind == "pulse":
        return (t == 5).float()
    if kind == "constant":
        return torch.full((steps,), 0.5)
    if kind == "noise":
        return torch.randn(steps, generator=torch.Generator().manual_seed(seed)) * 0.5
    if kind == "sine":
        return torch.sin(2 * math.pi * t / 20)
    raise ValueError(f"kind must be one of {SIGNALS}; got {kind!r}.")


@dataclass
class ParameterRow:
    """One row of the parameter-count table."""

    cell: str
    blocks: int
    formula: str
    from_formula: int
    from_pytorch: int


def parameter_rows(input_size: int, hidden_size: int) -> list[ParameterRow]:
    """Parameter counts of a 1-layer tanh RNN, GRU and LSTM: the formula, and PyTorch's own module sizes."""
    if input_size < 1 or hidden_size < 1:
        raise ValueError(f"sizes must be positive; got input {input_size}, hidden {hidden_size}.")
    rows = []
    for cell, module_class in (("rnn", nn.RNN), ("gru", nn.GRU), ("lstm", nn.LSTM)):
        blocks = gate_blocks(cell)
        module = module_class(input_size, hidden_size)
        rows.append(ParameterRow(
            cell=cell, blocks=blocks,
            formula=f"{blocks} × ({hidden_size}·({input_size} + {hidden_size}) + 2·{hidden_size})",
            from_formula=parameter_count(cell, input_size, hidden_size),
            from_pytorch=sum(p.numel() for p in module.parameters()),
        ))
    return rows


@dataclass
class StepExplanation:
    """One unit's step with every term of its four equations, for the dashboard's worked equations.

    ``*_input`` = W_i*·x, ``*_recurrent`` = W_h*·h_{t-1} (the whole row: all units feed
    unit j), ``*_bias`` the bias; for the candidate, ``n_recurrent`` includes ``b_hn``
    because the reset gate multiplies both.
    """

    unit: int
    step: GRUStep
    r_input: float
    r_recurrent: float
    r_bias: float
    z_input: float
    z_recurrent: float
    z_bias: float
    n_input: float
    n_recurrent: float
    h_prev: float


def explain_step(gru: SmallGRU, x, h_prev, unit: int, mode: str = "as computed") -> StepExplanation:
    """Split ``unit``'s step into the terms of its equations; the step itself comes from :meth:`SmallGRU.step`."""
    step = gru.step(x, h_prev, mode)
    rows = gru._slices(unit)
    m = gru.module
    x = torch.as_tensor(x, dtype=torch.float32)
    h_prev = torch.as_tensor(h_prev, dtype=torch.float32)
    with torch.no_grad():
        inputs = [(m.weight_ih_l0[row] @ x).item() for row in rows]
        recurrent = [(m.weight_hh_l0[row] @ h_prev).item() for row in rows]
        biases = [(m.bias_ih_l0[row]).item() for row in rows]
        hidden_biases = [(m.bias_hh_l0[row]).item() for row in rows]
    return StepExplanation(
        unit=unit, step=step,
        r_input=inputs[0], r_recurrent=recurrent[0], r_bias=biases[0] + hidden_biases[0],
        z_input=inputs[1], z_recurrent=recurrent[1], z_bias=biases[1] + hidden_biases[1],
        n_input=inputs[2] + biases[2], n_recurrent=recurrent[2] + hidden_biases[2],
        h_prev=h_prev[unit].item(),
    )
