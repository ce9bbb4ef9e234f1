"""Recover every gate of a trained recurrent network: :func:`trace`.

Training uses PyTorch's fast fused modules, which only return hidden states.
Given the hidden states, every gate at every step depends only on the input at
that step and the state one step earlier, so all gates are recovered in one
vectorised pass over time with the equations in :mod:`grutools.core.equations`
(the LSTM's cell state, a linear recurrence, by a parallel scan).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor, nn

from .equations import gru_from_projections, linear_scan, lstm_from_projections, project, rnn_from_projections
from .models import SequenceModel, check_dtype, check_sequence

SUPPORTED = (nn.GRU, nn.LSTM, nn.RNN)


@dataclass
class Trace:
    """What happened inside a recurrent network on one batch.

    Every state or gate tensor is shaped ``(num_layers * directions, batch, time, hidden_size)``,
    whatever the module's own layout; the first axis runs in PyTorch's own ``h_n`` order
    (layer 0 forward, layer 0 backward, layer 1 forward, ...), and for both directions
    time index t is input step t. Fields that do not apply to ``kind`` are ``None``.
    For a packed batch, steps past a sequence's length are NaN (``lengths`` gives them).

    Attributes:
        kind: ``"gru"``, ``"lstm"`` or ``"rnn"``.
        x: the input, ``(batch, time, input_size)``.
        hidden: the hidden state h_t of every layer (all kinds).
        update, reset, candidate: the GRU's z_t, r_t and n_t.
        input, forget, output, cell: the LSTM's i_t, f_t, o_t and c_t.
        directions: 2 for a bidirectional layer, else 1.
        lengths: each sequence's length for a packed batch, else ``None``.
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
    directions: int = 1
    lengths: Tensor | None = None

    @property
    def quantities(self) -> list[str]:
        """Names of the gate and state fields this trace holds, e.g. ``['hidden', 'update', ...]``."""
        return [f.name for f in fields(self)
                if f.name not in ("kind", "x", "directions", "lengths") and getattr(self, f.name) is not None]

    @property
    def num_layers(self) -> int:
        """Entries of the first axis: layers times directions."""
        return self.hidden.shape[0]

    def index(self, layer: int, direction: int = 0) -> int:
        """The first-axis index of ``layer``'s ``direction`` (0 forward, 1 backward)."""
        if not 0 <= direction < self.directions:
            raise ValueError(f"direction must be 0{' or 1' if self.directions == 2 else ''}; got {direction!r}.")
        return layer * self.directions + direction

    def numpy(self, name: str, layer: int = -1, sample: int = 0) -> np.ndarray:
        """One quantity of one layer and one sample as a ``(time, hidden)`` NumPy array."""
        value = getattr(self, name, None)
        if name in ("kind", "x", "directions", "lengths") or value is None:
            raise ValueError(f"a {self.kind} trace has no {name!r}; it has {self.quantities}.")
        return value[layer, sample].detach().cpu().numpy()


def _check_layer(module: nn.RNNBase) -> None:
    if isinstance(module, nn.LSTM) and module.proj_size:
        raise ValueError("trace() does not support LSTMs with proj_size > 0.")


def layer_weights(module: nn.RNNBase, layer: int, suffix: str = "") -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer (``suffix="_reverse"``: its backward direction);
    the biases are ``None`` without bias."""
    weight_ih = getattr(module, f"weight_ih_l{layer}{suffix}")
    weight_hh = getattr(module, f"weight_hh_l{layer}{suffix}")
    if module.bias:
        return (weight_ih, weight_hh, getattr(module, f"bias_ih_l{layer}{suffix}"),
                getattr(module, f"bias_hh_l{layer}{suffix}"))
    return weight_ih, weight_hh, None, None


def layer_states(module: nn.RNNBase, layer: int, inputs: Tensor, h0: Tensor, c0: Tensor | None = None,
                 suffix: str = "") -> Tensor:
    """Hidden states ``(time, batch, hidden)`` of one layer (one direction), from PyTorch's fused kernel.

    ``inputs`` is time-major ``(time, batch, features)``: the network input for
    layer 0, the states of the layer below otherwise (a backward direction gets
    them reversed in time).
    """
    kwargs = {"nonlinearity": module.nonlinearity} if isinstance(module, nn.RNN) else {}
    single = type(module)(inputs.shape[-1], module.hidden_size, num_layers=1, bias=module.bias, **kwargs)
    single = single.to(device=inputs.device, dtype=inputs.dtype)
    with torch.no_grad():
        for name, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                               layer_weights(module, layer, suffix)):
            if value is not None:
                getattr(single, name).copy_(value)
    state = (h0[None], c0[None]) if c0 is not None else h0[None]
    states, _ = single(inputs, state)
    return states


def _initial_state(module: nn.RNNBase, h0, batch: int, like: Tensor) -> tuple[Tensor, Tensor | None]:
    shape = (module.num_layers * (2 if module.bidirectional else 1), batch, module.hidden_size)
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
            raise ValueError(f"{name} must be (num_layers * directions, batch, hidden_size) = {shape}; "
                             f"got {tuple(value.shape)}.")
    return h, c


def _fused_gates(core: nn.RNNBase, x: Tensor, h0: Tensor) -> dict[str, Tensor] | None:
    """The gates straight from :class:`grutools.core.fast.FastGRU`'s kernel, or ``None`` where it does not apply."""
    from .fast import FastGRU

    if not isinstance(core, FastGRU) or not core.fused_applies(x):
        return None
    weights = core.kernel_weights()  # evaluated once; None where the kernel cannot read them (then the generic path)
    if weights is None:
        return None
    layers = core.layer_outputs(x.to(weights[0].dtype), h0, weights)
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
def trace(module: nn.Module, x, h0: Tensor | tuple[Tensor, Tensor] | None = None, *, rnn: str | None = None) -> Trace:
    """Run ``module`` on ``x`` and return every gate and state of its recurrent layer as a :class:`Trace`.

    Args:
        module: a ``torch.nn.GRU``, ``torch.nn.LSTM`` or ``torch.nn.RNN`` (any number
            of layers, either layout, with or without bias, bidirectional or not), a
            :class:`grutools.SequenceModel`, or **any** ``nn.Module`` with one of those
            inside: then the whole model runs on ``x``, and a forward hook catches the
            recurrent layer's own input and initial state.
        x: what the module takes: for a recurrent module, its input in its own layout
            (``(batch, time, input_size)`` if ``batch_first``, else ``(time, batch,
            input_size)``) or a ``PackedSequence``; for any other model, its input
            (``model(*x)`` for a tuple, ``model(**x)`` for a dict).
        h0: the initial state as a recurrent module takes it (zeros if omitted); a
            model passes its own to its layer.
        rnn: which recurrent layer, by its name in ``model.named_modules()``
            (e.g. ``"encoder.gru"``), when a model holds several.

    Returns:
        A :class:`Trace` with tensors shaped ``(num_layers * directions, batch, time,
        hidden)``, in PyTorch's ``h_n`` order; time index t is input step t for both
        directions; for a packed batch, steps past each sequence's length are NaN.
        Dropout between layers is not applied (the module as in ``eval()``).

    >>> gru = torch.nn.GRU(2, 4, batch_first=True)
    >>> t = trace(gru, torch.randn(3, 10, 2))
    >>> t.update.shape
    torch.Size([1, 3, 10, 4])
    """
    from .capture import SUPPORTED as RECURRENT
    from .capture import capture, choose_layer

    if isinstance(module, SequenceModel):
        core, inputs = module.core, x
        check_sequence(x, core.input_size, batch_first=True)
    elif isinstance(module, RECURRENT) and rnn in (None, ""):
        core, inputs = module, x
    else:
        if h0 is not None:
            raise ValueError("h0 goes with a recurrent module itself; a model passes its own initial state to its "
                             "layer, and trace() catches it.")
        _, core = choose_layer(module, rnn)
        inputs, h0 = capture(module, core, x)
    _check_layer(core)
    return trace_layer(core, inputs, h0)


def _reverse(values: Tensor, lengths: Tensor | None) -> Tensor:
    """Time-major ``values`` reversed in time, each sequence within its own length (padding stays put)."""
    if lengths is None:
        return values.flip(0)
    steps = torch.arange(values.shape[0], device=values.device)[:, None]
    lengths = lengths.to(values.device)[None, :]
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (time, batch), its own inverse
    return values.gather(0, index[..., None].expand_as(values))


def trace_layer(core: nn.RNNBase, inputs, h0=None) -> Trace:
    """:func:`trace` for a recurrent layer given its own input (a tensor in its layout, or a ``PackedSequence``)."""
    from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

    lengths = None
    if isinstance(inputs, PackedSequence):
        time_major, lengths = pad_packed_sequence(inputs)  # (time, batch, features), the batch in its own order
    else:
        check_sequence(inputs, core.input_size, batch_first=core.batch_first)
        time_major = inputs.transpose(0, 1) if core.batch_first else inputs
    weight = core.weight_ih_l0
    check_dtype(time_major, weight)
    time_major = time_major.to(weight.device)
    batch = time_major.shape[1]
    h_init, c_init = _initial_state(core, h0, batch, time_major)
    kind = next(name for cls, name in ((nn.GRU, "gru"), (nn.LSTM, "lstm"), (nn.RNN, "rnn")) if isinstance(core, cls))
    directions = 2 if core.bidirectional else 1

    if directions == 1 and lengths is None:
        fused = _fused_gates(core, time_major, h_init)
        if fused is not None:  # a FastGRU computed every gate already: take them, at no extra cost
            return Trace(kind="gru", x=time_major.transpose(0, 1), **fused)
    collected: dict[str, list[Tensor]] = {}
    layer_input = time_major
    for layer in range(core.num_layers):
        outputs = []
        for direction in range(directions):
            k = layer * directions + direction
            suffix = "_reverse" if direction else ""
            seen = _reverse(layer_input, lengths) if direction else layer_input
            c0 = c_init[k] if c_init is not None else None
            states, values = _one_direction(core, kind, layer, suffix, seen, h_init[k], c0)
            if direction:
                states = _reverse(states, lengths)
                values = {name: _reverse(value, lengths) for name, value in values.items()}
            if lengths is not None:
                padding = (torch.arange(len(states), device=states.device)[:, None] >= lengths.to(states.device)[None])
                values = {name: value.masked_fill(padding[..., None], float("nan")) for name, value in values.items()}
            for name, value in values.items():
                collected.setdefault(name, []).append(value.transpose(0, 1))  # (batch, time, hidden)
            outputs.append(states)
        layer_input = torch.cat(outputs, -1) if directions == 2 else outputs[0]
    stacked = {name: torch.stack(values) for name, values in collected.items()}
    return Trace(kind=kind, x=time_major.transpose(0, 1), directions=directions, lengths=lengths, **stacked)


def _one_direction(core: nn.RNNBase, kind: str, layer: int, suffix: str, inputs: Tensor, h0: Tensor,
                   c0: Tensor | None) -> tuple[Tensor, dict[str, Tensor]]:
    """One layer, one direction, time-major: its states (from PyTorch's kernel) and its gates (recovered)."""
    weight_ih, weight_hh, bias_ih, bias_hh = layer_weights(core, layer, suffix)
    states = layer_states(core, layer, inputs, h0, c0, suffix)
    previous = torch.cat([h0[None], states[:-1]])  # h_{t-1} for every t
    x_proj = project(inputs, weight_ih, bias_ih)
    h_proj = project(previous, weight_hh, bias_hh)
    if kind == "gru":
        step = gru_from_projections(x_proj, h_proj, previous)
        values = {"hidden": step.hidden, "update": step.update, "reset": step.reset, "candidate": step.candidate}
    elif kind == "lstm":
        gates = lstm_from_projections(x_proj, h_proj)
        cell = linear_scan(gates.forget, gates.input * gates.cell_input, c0)
        values = {"hidden": gates.output * torch.tanh(cell), "input": gates.input, "forget": gates.forget,
                  "output": gates.output, "cell": cell}
    else:
        values = {"hidden": rnn_from_projections(x_proj, h_proj, core.nonlinearity)}
    return states, values
