"""The recurrent equations, written once.

Every number the suite shows about a gate comes from these functions: the
cell dashboard calls them for one step, :func:`grutools.trace` calls them for
all steps at once (they broadcast over any leading dimensions), and
:func:`grutools.gradient_norms` unrolls them. The tests compare them with
PyTorch's own modules.

PyTorch's conventions (see the ``torch.nn.GRU`` documentation)::

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))      candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                         new state

The rows of ``weight_ih``/``weight_hh`` are stacked in the order (r, z, n) for a
GRU and (i, f, g, o) for an LSTM.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class GRUStep:
    """Everything inside one GRU step. All tensors share the shape ``(..., hidden)``.

    ``*_pre`` are the pre-activations (the argument of the sigmoid or tanh), which
    the cell dashboard marks on the activation curves.
    """

    reset: Tensor
    update: Tensor
    candidate: Tensor
    hidden: Tensor
    reset_pre: Tensor
    update_pre: Tensor
    candidate_pre: Tensor


@dataclass
class LSTMGates:
    """The four LSTM gates of one or many steps, each ``(..., hidden)``."""

    input: Tensor
    forget: Tensor
    cell_input: Tensor
    output: Tensor


def check_step(cell: str, x: Tensor, h_prev: Tensor, weight_ih: Tensor, weight_hh: Tensor) -> None:
    """Raise a ``ValueError`` naming the mismatch when one step's tensors do not fit together."""
    blocks = gate_blocks(cell)
    hidden = weight_hh.shape[-1] if weight_hh.dim() == 2 else None
    if weight_ih.dim() != 2 or hidden is None or weight_hh.shape[0] != blocks * hidden or weight_ih.shape[0] != blocks * hidden:
        article = "a" if cell == "gru" else "an"
        raise ValueError(f"{article} {cell.upper()} step needs weight_ih ({blocks} * hidden, input) and weight_hh "
                         f"({blocks} * hidden, hidden); got {tuple(weight_ih.shape)} and {tuple(weight_hh.shape)}.")
    if x.shape[-1:] != weight_ih.shape[1:]:
        raise ValueError(f"x has {x.shape[-1] if x.dim() else 0} features (shape {tuple(x.shape)}) but weight_ih "
                         f"takes {weight_ih.shape[1]}.")
    if h_prev.shape[-1:] != (hidden,):
        raise ValueError(f"h_prev must end in the hidden size {hidden}; got shape {tuple(h_prev.shape)}.")


def project(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``x @ weight.T + bias`` over any leading dimensions: ``(..., in) -> (..., out)``."""
    out = x @ weight.T
    return out if bias is None else out + bias


def gru_from_projections(
    x_proj: Tensor,
    h_proj: Tensor,
    h_prev: Tensor,
    update_override: float | None = None,
    reset_override: float | None = None,
) -> GRUStep:
    """One GRU step from ``x_proj = W_ih x + b_ih`` and ``h_proj = W_hh h + b_hh``.

    Shapes: ``x_proj`` and ``h_proj`` are ``(..., 3 * hidden)``, ``h_prev`` is
    ``(..., hidden)``. ``update_override``/``reset_override`` pin a gate to a fixed
    value (the cell dashboard's "z = 1" and "r = 0" buttons).
    """
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    h_r, h_z, h_n = h_proj.chunk(3, dim=-1)
    r_pre = x_r + h_r
    z_pre = x_z + h_z
    r = torch.sigmoid(r_pre)
    z = torch.sigmoid(z_pre)
    if reset_override is not None:
        r = torch.full_like(r, reset_override)
    if update_override is not None:
        z = torch.full_like(z, update_override)
    n_pre = x_n + r * h_n
    n = torch.tanh(n_pre)
    h = (1 - z) * n + z * h_prev
    return GRUStep(
        reset=r, update=z, candidate=n, hidden=h, reset_pre=r_pre, update_pre=z_pre, candidate_pre=n_pre
    )


def gru_step(
    x: Tensor,
    h_prev: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    update_override: float | None = None,
    reset_override: float | None = None,
) -> GRUStep:
    """One GRU step: ``x (..., input)``, ``h_prev (..., hidden)`` to a :class:`GRUStep`.

    >>> cell = torch.nn.GRUCell(2, 3)
    >>> x, h = torch.randn(2), torch.zeros(3)
    >>> step = gru_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    >>> torch.allclose(step.hidden, cell(x, h))
    True
    """
    check_step("gru", x, h_prev, weight_ih, weight_hh)
    return gru_from_projections(
        project(x, weight_ih, bias_ih),
        project(h_prev, weight_hh, bias_hh),
        h_prev,
        update_override=update_override,
        reset_override=reset_override,
    )


def lstm_from_projections(x_proj: Tensor, h_proj: Tensor) -> LSTMGates:
    """The LSTM gates from ``W_ih x + b_ih`` and ``W_hh h + b_hh``, each ``(..., 4 * hidden)``."""
    pre = x_proj + h_proj
    i, f, g, o = pre.chunk(4, dim=-1)
    return LSTMGates(input=torch.sigmoid(i), forget=torch.sigmoid(f), cell_input=torch.tanh(g), output=torch.sigmoid(o))


def lstm_step(
    x: Tensor,
    h_prev: Tensor,
    c_prev: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step, returning ``(h, c)``: ``c = f c_prev + i g``, ``h = o tanh(c)``."""
    check_step("lstm", x, h_prev, weight_ih, weight_hh)
    return lstm_state(lstm_from_projections(project(x, weight_ih, bias_ih), project(h_prev, weight_hh, bias_hh)), c_prev)


def lstm_state(gates: LSTMGates, c_prev: Tensor) -> tuple[Tensor, Tensor]:
    """The LSTM's new ``(h, c)`` from its gates: ``c = f c_prev + i g``, ``h = o tanh(c)``."""
    c = gates.forget * c_prev + gates.input * gates.cell_input
    return gates.output * torch.tanh(c), c


def rnn_from_projections(x_proj: Tensor, h_proj: Tensor, nonlinearity: str = "tanh") -> Tensor:
    """A plain RNN step from its two projections: ``tanh(W_ih x + b_ih + W_hh h + b_hh)``."""
    pre = x_proj + h_proj
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def rnn_step(
    x: Tensor,
    h_prev: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One plain RNN step: ``x (..., input)``, ``h_prev (..., hidden)`` to ``h (..., hidden)``."""
    check_step("rnn", x, h_prev, weight_ih, weight_hh)
    return rnn_from_projections(project(x, weight_ih, bias_ih), project(h_prev, weight_hh, bias_hh), nonlinearity)


def linear_scan(decay: Tensor, drive: Tensor, start: Tensor) -> Tensor:
    """Solve ``c_t = decay_t * c_{t-1} + drive_t`` for all t at once (time is dim 0).

    A Hillis-Steele parallel scan: ``log2(T)`` vectorised passes instead of a
    Python loop over T steps, and only products and sums (no division), so it is
    as accurate as the loop. Shapes: ``decay``/``drive`` ``(T, ...)``, ``start``
    ``(...)``; returns ``(T, ...)``.
    """
    a, b = decay.clone(), drive.clone()
    steps = a.shape[0]
    offset = 1
    while offset < steps:
        # compose each element with the one `offset` steps earlier
        b_new = b.clone()
        a_new = a.clone()
        b_new[offset:] = a[offset:] * b[:-offset] + b[offset:]
        a_new[offset:] = a[offset:] * a[:-offset]
        a, b = a_new, b_new
        offset *= 2
    return a * start + b


def parameter_count(cell: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True) -> int:
    """Number of recurrent parameters of a PyTorch RNN/GRU/LSTM.

    Each gate block has ``hidden * (input + hidden)`` weights plus two bias
    vectors of ``hidden`` (PyTorch keeps ``b_ih`` and ``b_hh`` separately). A tanh
    RNN has 1 block, a GRU 3, an LSTM 4.
    """
    blocks = gate_blocks(cell)
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else hidden_size
        total += blocks * (hidden_size * (layer_input + hidden_size) + (2 * hidden_size if bias else 0))
    return total


def gate_blocks(cell: str) -> int:
    """How many weight blocks a cell type has: rnn 1, gru 3, lstm 4."""
    try:
        return {"rnn": 1, "gru": 3, "lstm": 4}[cell]
    except KeyError:
        raise ValueError(f"cell must be 'rnn', 'gru' or 'lstm'; got {cell!r}") from None
