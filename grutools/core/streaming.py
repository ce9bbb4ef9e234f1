"""Streaming inference: a sequence that arrives one step at a time, and what each model keeps between steps.

A GRU keeps one state vector per sequence, whatever the length: its next output needs
``h_{t-1}`` and ``x_t`` only. A causal Transformer needs every past step's keys and values
(its *cache*), which grows with every step, and so does the work of each new step. The
window MLP and the TCN keep the last steps they can see (a fixed buffer). :func:`stream`
wraps any sequence core of :class:`grutools.SequenceModel` (``model.core``) in a
:class:`Stream`; :meth:`Stream.step` returns the same state as the full forward pass
would at that step (tested), and :meth:`Stream.memory_bytes` says what is kept.

>>> import torch
>>> from grutools.core.rivals import CausalTransformer
>>> s = stream(CausalTransformer(1, 8, layers=2))
>>> for t in range(5):
...     _ = s.step(torch.zeros(3, 1))
>>> s.memory_bytes()  # 2 layers x (keys + values) x 5 steps x 3 sequences x 8 numbers x 4 bytes
1920
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .rivals import CausalConvolution, CausalTransformer, MinGRU, WindowMLP, _g


def _bytes(*tensors: Tensor | None) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


class Stream:
    """One sequence batch fed step by step: :meth:`step` takes ``x_t (batch, input)`` and returns ``(batch, hidden)``."""

    def __init__(self, core: nn.Module) -> None:
        self.core = core
        self.steps = 0

    @torch.no_grad()
    def step(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.core.input_size:
            raise ValueError(f"a step is (batch, {self.core.input_size}); got {tuple(x.shape)}.")
        out = self._step(x)
        self.steps += 1
        return out

    def _step(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def memory_bytes(self) -> int:
        """Bytes this stream keeps between steps (states, caches or buffers; not the weights)."""
        raise NotImplementedError


class RecurrentStream(Stream):
    """GRU, tanh RNN or LSTM (``nn.GRU``/``FastGRU``, ``nn.RNN``, ``nn.LSTM``): the state is all it keeps."""

    def __init__(self, core: nn.Module) -> None:
        super().__init__(core)
        self.state: Tensor | tuple[Tensor, Tensor] | None = None

    def _step(self, x: Tensor) -> Tensor:
        out, self.state = self.core(x.unsqueeze(1), self.state)
        return out[:, 0]

    def memory_bytes(self) -> int:
        return _bytes(*(self.state if isinstance(self.state, tuple) else (self.state,)))


class MinGRUStream(Stream):
    """The minGRU step by step: ``h_t = (1 - z_t) h_{t-1} + z_t g(W_h x_t + b_h)``, one state kept."""

    def __init__(self, core: MinGRU) -> None:
        super().__init__(core)
        self.state: Tensor | None = None

    def _step(self, x: Tensor) -> Tensor:
        z = torch.sigmoid(self.core.gate(x))
        h = self.state if self.state is not None else x.new_zeros(x.shape[0], self.core.hidden_size)
        self.state = (1 - z) * h + z * _g(self.core.candidate(x))
        return self.state

    def memory_bytes(self) -> int:
        return _bytes(self.state)


class WindowStream(Stream):
    """The window MLP or the TCN: the last ``reach`` inputs are kept (a fixed buffer) and the core runs on them."""

    def __init__(self, core: WindowMLP | CausalConvolution) -> None:
        super().__init__(core)
        self.reach = core.window if isinstance(core, WindowMLP) else core.receptive_field
        self.buffer: Tensor | None = None

    def _step(self, x: Tensor) -> Tensor:
        new = x.unsqueeze(1)
        self.buffer = new if self.buffer is None else torch.cat([self.buffer, new], 1)[:, -self.reach:]
        return self.core(self.buffer)[0][:, -1]

    def memory_bytes(self) -> int:
        return _bytes(self.buffer)


class TransformerStream(Stream):
    """The causal Transformer with a key-value cache: each step attends to the cached keys and values of all before.

    Per layer (pre-norm, as :class:`~grutools.core.rivals.CausalTransformer` builds it):
    $$a = \\mathrm{LN}_1(h), \\; q, k, v = W_{qkv} a, \\; K \\leftarrow [K; k], \\; V \\leftarrow [V; v], \\;
    h \\leftarrow h + W_o\\, \\mathrm{softmax}(q K^\\top / \\sqrt d) V, \\;
    h \\leftarrow h + \\mathrm{FF}(\\mathrm{LN}_2(h))$$. The cache grows by ``2 * layers * hidden`` numbers a step.
    """

    def __init__(self, core: CausalTransformer) -> None:
        super().__init__(core)
        self.keys: list[Tensor | None] = [None] * core.layers
        self.values: list[Tensor | None] = [None] * core.layers

    def _step(self, x: Tensor) -> Tensor:
        core = self.core
        if self.steps >= core.positions.shape[0]:
            raise ValueError(f"this Transformer has positions for {core.positions.shape[0]} steps.")
        h = core.inlet(x) + core.positions[self.steps]  # (B, H)
        heads, size = core.heads, core.hidden_size // core.heads
        for index, layer in enumerate(core.encoder.layers):
            attention = layer.self_attn
            q, k, v = F.linear(layer.norm1(h), attention.in_proj_weight, attention.in_proj_bias).chunk(3, -1)
            k, v = k.unsqueeze(1), v.unsqueeze(1)  # (B, 1, H)
            self.keys[index] = k if self.keys[index] is None else torch.cat([self.keys[index], k], 1)
            self.values[index] = v if self.values[index] is None else torch.cat([self.values[index], v], 1)
            keys = self.keys[index].view(x.shape[0], -1, heads, size).transpose(1, 2)  # (B, heads, t, d)
            values = self.values[index].view(x.shape[0], -1, heads, size).transpose(1, 2)
            query = q.view(x.shape[0], heads, 1, size)
            weights = torch.softmax(query @ keys.transpose(-1, -2) / math.sqrt(size), dim=-1)
            mixed = (weights @ values).reshape(x.shape[0], core.hidden_size)
            h = h + attention.out_proj(mixed)
            h = h + layer.linear2(layer.activation(layer.linear1(layer.norm2(h))))
        return torch.tanh(h)

    def memory_bytes(self) -> int:
        return _bytes(*self.keys, *self.values)


def stream(core: nn.Module) -> Stream:
    """A :class:`Stream` over a sequence core (``SequenceModel(...).core``, or the core itself)."""
    core = getattr(core, "core", core)
    if isinstance(core, nn.RNNBase):  # nn.GRU (FastGRU too), nn.RNN, nn.LSTM
        return RecurrentStream(core)
    for kind, wrapper in ((MinGRU, MinGRUStream), (CausalTransformer, TransformerStream),
                          ((WindowMLP, CausalConvolution), WindowStream)):
        if isinstance(core, kind):
            return wrapper(core)
    raise TypeError(f"no stream for {type(core).__name__}: a GRU, RNN, LSTM or one of the rivals is needed.")
