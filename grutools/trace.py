"""Recover every gate of a trained recurrent network: :func:`trace`.

Training uses PyTorch's fast fused modules, which only return hidden states.
Given the hidden states, every gate at every step depends only on the input at
that step and the state one step earlier, so all gates are recovered in one
vectorised pass over time with the equations in :mod:`grutools.equations`
(the LSTM's cell state, a linear recurrence, by a parallel scan).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor, nn

from .equations import gru_from_projections, linear_scan, lstm_from_projections, project, rnn_from_projections
from .models import SequenceModel, check_sequence

SUPPORTED = (nn.GRU, nn.LSTM, nn.RNN)


@dataclass
class Trace:
    """What happened inside a recurrent network on one batch.

    Every state or gate tensor is shaped ``(num_layers, batch, time, hidden_size)``,
    whatever the module's own layout; fields that do not apply to ``kind`` are
    ``None``.

    Attributes:
        kind: ``"gru"``, ``"lstm"`` or ``"rnn"``.
        x: the input, ``(batch, time, input_size)``.
        hidden: the hidden state h_t of every layer (all kinds).
        update, reset, candidate: the GRU's z_t, r_t and n_t.
        input, forget, output, cell: the LSTM's i_t, f_t, o_t and c_t.
    """

    kind: str
    x: Tensor
    hidden: Tensor
    update: Tensor | None = None
    reset: Tensor | None = None
    candidate: Tensor | None = None
    input: Tensor | None = None
    forget: Tensor | None = None
    output: Tensor | None = None
    cell: Tensor | None = None

    @property
    def quantities(self) -> list[str]:
        """Names of the gate and state fields this trace holds, e.g. ``['hidden', 'update', ...]``."""
        return [f.name for f in fields(self) if f.name not in ("kind", "x") and getattr(self, f.name) is not None]

    @property
    def num_layers(self) -> int:
        return self.hidden.shape[0]

    def numpy(self, name: str, layer: int = -1, sample: int = 0) -> np.ndarray:
        """One quantity of one layer and one sample as a ``(time, hidden)`` NumPy array."""
        value = getattr(self, name, None)
        if name in ("kind", "x") or value is None:
            raise ValueError(f"a {self.kind} trace has no {name!r}; it has {self.quantities}.")
        return value[layer, sample].detach().cpu().numpy()


def _unwrap(module: nn.Module) -> tuple[nn.RNNBase, bool]:
    if isinstance(module, SequenceModel):
        return module.core, True
    if not isinstance(module, SUPPORTED):
        raise TypeError(
            "trace() takes a torch.nn.GRU, torch.nn.LSTM, torch.nn.RNN or grutools.SequenceModel; "
            f"got {type(module).__name__}. For a model that wraps an RNN, pass the RNN inside it, e.g. trace(model.rnn, x)."
        )
    if module.bidirectional:
        raise ValueError("trace() does not support bidirectional modules yet; trace each direction as its own module.")
    if isinstance(module, nn.LSTM) and module.proj_size:
        raise ValueError("trace() does not support LSTMs with proj_size > 0.")
    return module, module.batch_first


def layer_weights(module: nn.RNNBase, layer: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer; the biases are ``None`` without bias."""
    weight_ih = getattr(module, f"weight_ih_l{layer}")
    weight_hh = getattr(module, f"weight_hh_l{layer}")
    if module.bias:
        return weight_ih, weight_hh, getattr(module, f"bias_ih_l{layer}"), getattr(module, f"bias_hh_l{layer}")
    return weight_ih, weight_hh, None, None


def layer_states(module: nn.RNNBase, layer: int, inputs: Tensor, h0: Tensor, c0: Tensor | None = None) -> Tensor:
    """Hidden states ``(time, batch, hidden)`` of one layer, from PyTorch's fused kernel.

    ``inputs`` is time-major ``(time, batch, features)``: the network input for
    layer 0, the states of the layer below otherwise.
    """
    kwargs = {"nonlinearity": module.nonlinearity} if isinstance(module, nn.RNN) else {}
    single = type(module)(inputs.shape[-1], module.hidden_size, num_layers=1, bias=module.bias, **kwargs)
    single = single.to(device=inputs.device, dtype=inputs.dtype)
    with torch.no_grad():
        for name, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), layer_weights(module, layer)):
            if value is not None:
                getattr(single, name).copy_(value)
    state = (h0[None], c0[None]) if c0 is not None else h0[None]
    states, _ = single(inputs, state)
    return states


def _initial_state(module: nn.RNNBase, h0, batch: int, like: Tensor) -> tuple[Tensor, Tensor | None]:
    shape = (module.num_layers, batch, module.hidden_size)
    is_lstm = isinstance(module, nn.LSTM)
    if h0 is None:
        zeros = like.new_zeros(shape)
        return zeros, (like.new_zeros(shape) if is_lstm else None)
    if is_lstm:
        if not (isinstance(h0, (tuple, list)) and len(h0) == 2):
            raise TypeError(f"h0 for an LSTM must be a tuple (h0, c0), each {shape}.")
        h, c = h0
    else:
        h, c = h0, None
    for name, value in (("h0", h), ("c0", c)):
        if value is not None and tuple(value.shape) != shape:
            raise ValueError(f"{name} must be (num_layers, batch, hidden_size) = {shape}; got {tuple(value.shape)}.")
    return h, c


def _fused_gates(core: nn.RNNBase, x: Tensor, h0: Tensor) -> dict[str, Tensor] | None:
    """The gates straight from :class:`grutools.fast.FastGRU`'s kernel, or ``None`` where it does not apply."""
    from .fast import FastGRU

    if not isinstance(core, FastGRU) or not core.fused_applies(x):
        return None
    layers = core.layer_outputs(x.to(core.weight_ih_l0.dtype), h0)
    # per layer, (T, B, 4H) gates [r, z, n, hn] -> (4, B, T, H) as a view, so that each quantity is one index;
    # one layer: views of the kernel's own arrays (no copy; they may be non-contiguous), else stacked
    hidden = [states.transpose(0, 1) for states, _ in layers]
    gates = [g.unflatten(-1, (4, core.hidden_size)).permute(2, 1, 0, 3) for _, g in layers]
    if len(layers) == 1:
        hidden, gates = hidden[0].unsqueeze(0), gates[0].unsqueeze(1)
    else:
        hidden, gates = torch.stack(hidden), torch.stack(gates, 1)
    return {"hidden": hidden, "reset": gates[0], "update": gates[1], "candidate": gates[2]}


@torch.no_grad()
def trace(module: nn.Module, x: Tensor, h0: Tensor | tuple[Tensor, Tensor] | None = None) -> Trace:
    """Run ``module`` on ``x`` and return every gate and state as a :class:`Trace`.

    Args:
        module: a ``torch.nn.GRU``, ``torch.nn.LSTM`` or ``torch.nn.RNN`` (any number
            of layers, ``batch_first`` either way, with or without bias) or a
            :class:`grutools.SequenceModel`.
        x: the input in the module's own layout: ``(batch, time, input_size)`` if
            ``batch_first`` (always for a ``SequenceModel``), else ``(time, batch, input_size)``.
        h0: the initial state as the module takes it: ``(num_layers, batch, hidden)``,
            or a tuple ``(h0, c0)`` for an LSTM. Zeros if omitted.

    Returns:
        A :class:`Trace` with tensors shaped ``(num_layers, batch, time, hidden)``.
        Dropout between layers is not applied (the module as in ``eval()``).

    >>> gru = torch.nn.GRU(2, 4, batch_first=True)
    >>> t = trace(gru, torch.randn(3, 10, 2))
    >>> t.update.shape
    torch.Size([1, 3, 10, 4])
    """
    core, batch_first = _unwrap(module)
    check_sequence(x, core.input_size, batch_first=batch_first)
    weight = core.weight_ih_l0
    if x.dtype != weight.dtype:
        raise TypeError(f"x is {x.dtype} but the module's weights are {weight.dtype}; convert x with x.to({weight.dtype}).")
    x = x.to(weight.device)
    time_major = x.transpose(0, 1) if batch_first else x
    batch = time_major.shape[1]
    h_init, c_init = _initial_state(core, h0, batch, time_major)

    kind = next(name for cls, name in ((nn.GRU, "gru"), (nn.LSTM, "lstm"), (nn.RNN, "rnn")) if isinstance(core, cls))
    fused = _fused_gates(core, time_major, h_init)
    if fused is not None:  # a FastGRU computed every gate already: take them, at no extra cost
        return Trace(kind="gru", x=time_major.transpose(0, 1), **fused)
    collected: dict[str, list[Tensor]] = {}
    layer_input = time_major
    for layer in range(core.num_layers):
        weight_ih, weight_hh, bias_ih, bias_hh = layer_weights(core, layer)
        h0_layer = h_init[layer]
        c0_layer = c_init[layer] if c_init is not None else None
        states = layer_states(core, layer, layer_input, h0_layer, c0_layer)
        previous = torch.cat([h0_layer[None], states[:-1]])  # h_{t-1} for every t
        x_proj = project(layer_input, weight_ih, bias_ih)
        h_proj = project(previous, weight_hh, bias_hh)
        if kind == "gru":
            step = gru_from_projections(x_proj, h_proj, previous)
            values = {"hidden": step.hidden, "update": step.update, "reset": step.reset, "candidate": step.candidate}
        elif kind == "lstm":
            gates = lstm_from_projections(x_proj, h_proj)
            cell = linear_scan(gates.forget, gates.input * gates.cell_input, c0_layer)
            values = {
                "hidden": gates.output * torch.tanh(cell),
                "input": gates.input,
                "forget": gates.forget,
                "output": gates.output,
                "cell": cell,
            }
        else:
            values = {"hidden": rnn_from_projections(x_proj, h_proj, core.nonlinearity)}
        for name, value in values.items():
            collected.setdefault(name, []).append(value.transpose(0, 1))  # (batch, time, hidden)
        layer_input = states
    stacked = {name: torch.stack(values) for name, values in collected.items()}
    return Trace(kind=kind, x=time_major.transpose(0, 1), **stacked)
