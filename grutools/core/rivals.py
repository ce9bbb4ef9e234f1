"""The GRU's rivals on sequences: a feed-forward window, a causal convolution (TCN), the minGRU and a causal Transformer.

Each is a sequence core with ``nn.GRU``'s batch-first calling convention, so that
:class:`grutools.SequenceModel` puts the same linear head on it and the same training
and evaluation code runs it: ``core(x (batch, time, input)) -> (states (batch, time,
hidden), last (1, batch, hidden))``. Every one is causal: the state at step t depends on
the inputs up to t only (tested by changing an input and watching earlier outputs).

- :class:`WindowMLP`: a feed-forward network that sees the last ``window`` steps;
- :class:`CausalConvolution`: dilated causal 1-D convolutions with residual connections,
  the temporal convolutional network of Bai, Kolter & Koltun 2018;
- :class:`MinGRU`: the GRU stripped of its dependence on the state inside the gates (Feng
  et al. 2024, "Were RNNs All We Needed?"), trained by a parallel scan in log space;
  :func:`min_gru_sequential` is the step-by-step recurrence it must agree with;
- :class:`CausalTransformer`: self-attention with a causal mask and sinusoidal positions.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

RIVALS = ("mlp", "tcn", "mingru", "transformer")
RIVAL_NAMES = {"mlp": "feed-forward (window)", "tcn": "causal convolution (TCN)", "mingru": "minGRU",
               "transformer": "causal Transformer"}


def _last(states: Tensor) -> Tensor:
    """The last step's state as ``nn.GRU`` returns ``h_n``: ``(1, batch, hidden)``."""
    return states[:, -1].unsqueeze(0)


class WindowMLP(nn.Module):
    """A feed-forward network on a fixed window: the state at t is an MLP of ``x[t - window + 1 .. t]``.

    It has no memory past its window: what happened ``window`` steps ago is gone.
    Steps before the sequence starts are zeros. Parameters: ``window * input * hidden +
    hidden`` (first layer) ``+ hidden * hidden + hidden`` (second).
    """

    def __init__(self, input_size: int, hidden_size: int, window: int = 16) -> None:
        super().__init__()
        if window < 1:
            raise ValueError(f"window must be at least 1 step; got {window}.")
        self.input_size, self.hidden_size, self.window = input_size, hidden_size, window
        self.layer1 = nn.Linear(window * input_size, hidden_size)
        self.layer2 = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        padded = F.pad(x, (0, 0, self.window - 1, 0))  # (B, window - 1 + T, I): zeros before the start
        windows = padded.unfold(1, self.window, 1)  # (B, T, I, window)
        flat = windows.transpose(2, 3).reshape(x.shape[0], x.shape[1], -1)  # (B, T, window * I), oldest first
        states = torch.tanh(self.layer2(torch.relu(self.layer1(flat))))
        return states, _last(states)


class CausalConvolution(nn.Module):
    """A temporal convolutional network: dilated causal 1-D convolutions, each block with a residual connection.

    Block ``i`` has dilation ``2**i``: $$y_t = \\mathrm{ReLU}(\\sum_{j=0}^{k-1} W_j\\, x_{t - j\\,2^i} + b) + x_t$$,
    so after ``levels`` blocks a step sees ``1 + (kernel - 1)(2**levels - 1)`` steps back
    (:attr:`receptive_field`). Left padding only: nothing from the future reaches step t.
    """

    def __init__(self, input_size: int, hidden_size: int, levels: int = 6, kernel_size: int = 3) -> None:
        super().__init__()
        if levels < 1 or kernel_size < 2:
            raise ValueError(f"a TCN needs at least 1 level and a kernel of at least 2; got {levels}, {kernel_size}.")
        self.input_size, self.hidden_size, self.levels, self.kernel_size = input_size, hidden_size, levels, kernel_size
        self.inlet = nn.Conv1d(input_size, hidden_size, 1)
        self.blocks = nn.ModuleList(nn.Conv1d(hidden_size, hidden_size, kernel_size, dilation=2 ** i)
                                    for i in range(levels))

    @property
    def receptive_field(self) -> int:
        """How many steps (the current one included) the last block's state at t can see."""
        return 1 + (self.kernel_size - 1) * (2 ** self.levels - 1)

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h = self.inlet(x.transpose(1, 2))  # (B, H, T)
        for level, block in enumerate(self.blocks):
            shift = (self.kernel_size - 1) * 2 ** level
            h = torch.relu(block(F.pad(h, (shift, 0)))) + h  # causal: pad on the left only
        states = torch.tanh(h).transpose(1, 2)  # (B, T, H)
        return states, _last(states)


def _g(x: Tensor) -> Tensor:
    """minGRU's positive activation for the candidate: x + 1/2 for x >= 0, sigmoid(x) below (continuous at 0)."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def _log_g(x: Tensor) -> Tensor:
    """``log(g(x))`` computed stably."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


class MinGRU(nn.Module):
    """The minGRU (Feng et al. 2024): a GRU whose gate and candidate see the input only, not the state.

    $$z_t = \\sigma(W_z x_t + b_z), \\quad \\tilde h_t = g(W_h x_t + b_h), \\quad
    h_t = (1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde h_t$$

    Since neither ``z_t`` nor ``h̃_t`` depends on ``h_{t-1}``, ``h_t`` is a linear recurrence
    solved for all t at once: with ``a_t = log(1 - z_t)`` and ``A_t = a_1 + ... + a_t``,
    ``log h_t = A_t + logcumsumexp(log z_s + log h̃_s - A_s)`` (a parallel scan in log space;
    ``g`` keeps ``h̃`` positive so that its log exists). What it gives up: its gates cannot
    see the state, so it cannot decide from what it holds (a GRU's reset and update gates
    can). Parameters: ``2 * (input * hidden + hidden)``. ``h0``, if given, must be positive.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.gate = nn.Linear(input_size, hidden_size)  # z
        self.candidate = nn.Linear(input_size, hidden_size)  # h̃ before g

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        k = self.gate(x)  # (B, T, H)
        log_keep = -F.softplus(k)  # log(1 - z)
        log_values = -F.softplus(-k) + _log_g(self.candidate(x))  # log z + log h̃
        if h0 is not None:  # h_0 enters as a first value with nothing to keep before it
            start = h0.reshape(x.shape[0], 1, self.hidden_size)
            log_keep = torch.cat([torch.zeros_like(start), log_keep], 1)
            log_values = torch.cat([torch.log(start), log_values], 1)
        # the scan in double precision: A_t grows like -t, and in float32 the difference log_values - A_t then
        # loses the digits that make h_t (1.8e-4 off at 512 steps, measured); in float64 it agrees to 1e-5 and more
        a_star = torch.cumsum(log_keep.double(), dim=1)  # A_t
        states = torch.exp(a_star + torch.logcumsumexp(log_values.double() - a_star, dim=1)).to(x.dtype)
        if h0 is not None:
            states = states[:, 1:]
        return states, _last(states)


def min_gru_sequential(layer: MinGRU, x: Tensor, h0: Tensor | None = None) -> Tensor:
    """The minGRU's recurrence one step at a time (the reference the scan must agree with): states ``(B, T, H)``."""
    h = x.new_zeros(x.shape[0], layer.hidden_size) if h0 is None else h0.reshape(x.shape[0], layer.hidden_size)
    states = []
    for t in range(x.shape[1]):
        z = torch.sigmoid(layer.gate(x[:, t]))
        h = (1 - z) * h + z * _g(layer.candidate(x[:, t]))  # h_t = (1 - z_t) h_{t-1} + z_t h̃_t
        states.append(h)
    return torch.stack(states, 1)


class CausalTransformer(nn.Module):
    """A small causal Transformer: input projection, sinusoidal positions, self-attention under a causal mask.

    Step t attends to steps 1..t only (the mask), so it is causal like the others; unlike
    them it needs every past step's keys and values, a cache that grows with the sequence
    (what that costs when the sequence arrives one step at a time is measured for dashboard 07).
    """

    def __init__(self, input_size: int, hidden_size: int, layers: int = 2, heads: int = 2,
                 max_length: int = 4096) -> None:
        super().__init__()
        if hidden_size % heads:
            raise ValueError(f"hidden_size must be a multiple of heads; got {hidden_size} and {heads}.")
        self.input_size, self.hidden_size, self.layers, self.heads = input_size, hidden_size, layers, heads
        self.inlet = nn.Linear(input_size, hidden_size)
        layer = nn.TransformerEncoderLayer(hidden_size, heads, dim_feedforward=2 * hidden_size, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        position = torch.arange(max_length).unsqueeze(1)
        frequency = torch.exp(torch.arange(0, hidden_size, 2) * (-math.log(10000.0) / hidden_size))
        table = torch.zeros(max_length, hidden_size)
        table[:, 0::2] = torch.sin(position * frequency)
        table[:, 1::2] = torch.cos(position * frequency[: hidden_size // 2])
        self.register_buffer("positions", table, persistent=False)

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        length = x.shape[1]
        if length > self.positions.shape[0]:
            raise ValueError(f"this Transformer has positions for {self.positions.shape[0]} steps; got {length}.")
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=x.device, dtype=x.dtype)
        h = self.inlet(x) + self.positions[:length]
        states = torch.tanh(self.encoder(h, mask=mask, is_causal=True))
        return states, _last(states)


def make_rival(kind: str, input_size: int, hidden_size: int) -> nn.Module:
    """One of :data:`RIVALS` with its default shape."""
    classes = {"mlp": WindowMLP, "tcn": CausalConvolution, "mingru": MinGRU, "transformer": CausalTransformer}
    if kind not in classes:
        raise ValueError(f"a rival is one of {RIVALS}; got {kind!r}.")
    return classes[kind](input_size, hidden_size)
