"""Sequence models: a recurrent core (GRU, tanh RNN or LSTM) plus a linear head."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

CELLS = ("rnn", "gru", "lstm")
CELL_NAMES = {"rnn": "tanh RNN", "gru": "GRU", "lstm": "LSTM"}  # how pages and findings name each cell
READOUTS = ("last", "all")


def check_dtype(x: Tensor, weight: Tensor, name: str = "x") -> None:
    """A ``TypeError`` naming the conversion when ``x`` is not in the weights' dtype (torch says "mat1 and mat2")."""
    if x.dtype != weight.dtype:
        raise TypeError(f"{name} is {x.dtype} but the module's weights are {weight.dtype}; convert {name} with "
                        f"{name}.to({weight.dtype}).")


def check_sequence(x: Any, input_size: int, batch_first: bool = True, name: str = "x") -> Tensor:
    """Check that ``x`` is a finite float batch of sequences and return it.

    Raises a ``TypeError``/``ValueError`` that names the problem and the expected
    shape, e.g. "x must be (batch, time, 2) for this model; got (100, 2)".
    """
    layout = "(batch, time, {})" if batch_first else "(time, batch, {})"
    expected = layout.format(input_size)
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor shaped {expected}; got {type(x).__name__}.")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor; got dtype {x.dtype}. Convert it with {name}.float().")
    if x.dim() != 3:
        hint = " Add a batch dimension with x.unsqueeze(0)." if x.dim() == 2 else ""
        raise ValueError(f"{name} must be {expected} for this model; got {tuple(x.shape)}.{hint}")
    if x.shape[-1] != input_size:
        raise ValueError(
            f"{name} must be {expected} for this model; got {tuple(x.shape)}: "
            f"the last dimension (features) is {x.shape[-1]}, the model expects {input_size}."
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must have at least one sequence and one time step; got {tuple(x.shape)}.")
    # the sum is NaN or infinite whenever an element is (and, rarely, when finite values overflow it): a cheap
    # first test, the element-wise one only then
    if not torch.isfinite(x.sum()) and not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).nonzero()[0].tolist()
        raise ValueError(f"{name} contains NaN or infinite values (first at index {tuple(bad)}); clean the input first.")
    return x


class SequenceModel(nn.Module):
    """A recurrent core plus a linear head, the model every dashboard trains.

    Args:
        cell: ``"gru"``, ``"rnn"`` (tanh) or ``"lstm"``; or one of the GRU's rivals
            (:data:`grutools.core.rivals.RIVALS`: ``"mlp"``, ``"tcn"``, ``"mingru"``,
            ``"transformer"``), through the same head, training and evaluation.
        input_size: features per time step.
        hidden_size: units per layer.
        output_size: outputs of the head (1 for regression, the number of classes
            for classification).
        num_layers: stacked recurrent layers.
        readout: ``"last"`` predicts from the last step, giving ``(batch, output)``;
            ``"all"`` predicts at every step, giving ``(batch, time, output)``.
        seed: seeds the initial weights (PyTorch's default initialisation); ``None``
            draws from the global random state.
        chrono: ``None`` (PyTorch's default biases) or ``T_max``, the longest time
            scale the units should start with: chrono initialisation (Tallec &
            Ollivier 2018, "Can recurrent neural networks warp time?"), see
            :func:`chrono_init`. GRU and LSTM only.

    Inputs are batch-first, ``(batch, time, input_size)``. The core is a
    ``torch.nn.GRU``/``RNN``/``LSTM`` (``batch_first=True``) stored as ``self.core``;
    for a GRU it is a :class:`grutools.core.fast.FastGRU`, a ``torch.nn.GRU`` with a
    fused CPU kernel (identical parameters and results),
    so ``model.core`` can be handed to :func:`grutools.trace` and its
    ``state_dict`` loads into a plain PyTorch module and back.

    >>> model = SequenceModel("gru", input_size=2, hidden_size=8, output_size=1)
    >>> model(torch.zeros(4, 10, 2)).shape
    torch.Size([4, 1])
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        num_layers: int = 1,
        readout: str = "last",
        seed: int | None = None,
        chrono: float | None = None,
    ) -> None:
        super().__init__()
        from .rivals import RIVALS, make_rival

        if cell not in CELLS + RIVALS:
            raise ValueError(f"cell must be one of {CELLS} (or a rival: {RIVALS}); got {cell!r}.")
        if cell in RIVALS and (num_layers != 1 or chrono is not None):
            raise ValueError(f"the {cell!r} rival takes its own depth and no chrono initialisation; leave num_layers=1 "
                             "and chrono=None.")
        if chrono is not None and cell == "rnn":
            raise ValueError("chrono initialisation sets gate biases; a tanh RNN has no gates. Use it with 'gru' or "
                             "'lstm'.")
        if readout not in READOUTS:
            raise ValueError(f"readout must be 'last' or 'all'; got {readout!r}.")
        for label, value in (("input_size", input_size), ("hidden_size", hidden_size),
                             ("output_size", output_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{label} must be a positive integer; got {value!r}.")
        self.cell = cell
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.num_layers = num_layers
        self.readout = readout
        self.chrono = chrono
        from .fast import FastGRU  # nn.GRU with a fused CPU kernel; nn.GRU itself on CUDA or without a compiler

        with torch.random.fork_rng(enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            if cell in RIVALS:  # batch-first like the others, same call and return shapes (grutools.core.rivals)
                self.core = make_rival(cell, input_size, hidden_size)
            else:
                core_class = {"gru": FastGRU, "rnn": nn.RNN, "lstm": nn.LSTM}[cell]
                self.core = core_class(input_size, hidden_size, num_layers=num_layers, batch_first=True)
            self.head = nn.Linear(hidden_size, output_size)
            if chrono is not None:
                chrono_init(self.core, chrono)

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments, enough to rebuild the model (used by :func:`grutools.save`)."""
        return {
            "cell": self.cell,
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
            "num_layers": self.num_layers,
            "readout": self.readout,
            **({"chrono": self.chrono} if self.chrono is not None else {}),
        }

    def forward(self, x: Tensor, h0: Tensor | tuple[Tensor, Tensor] | None = None) -> Tensor:
        """Predict from ``x (batch, time, input_size)``; see the class docstring for the output shape."""
        check_sequence(x, self.input_size)
        check_dtype(x, next(self.core.parameters()))
        states, _ = self.core(x, h0)
        return self.predict_from_states(states)

    def predict_from_states(self, states: Tensor) -> Tensor:
        """Apply the head to top-layer hidden states ``(batch, time, hidden)`` according to ``readout``."""
        if self.readout == "last":
            return self.head(states[:, -1])
        return self.head(states)

    def parameter_count(self) -> int:
        """Number of trainable parameters, core and head."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_repr(self) -> str:
        return f"readout={self.readout!r}" + (f", chrono={self.chrono!r}" if self.chrono is not None else "")


def chrono_init(core: nn.GRU | nn.LSTM, t_max: float, generator: torch.Generator | None = None) -> nn.Module:
    """Chrono initialisation of a GRU's or an LSTM's gate biases, in place (Tallec & Ollivier 2018).

    A gate read as a leak rate gives each unit a time scale. Every unit of every layer
    draws ``u ~ Uniform(1, t_max - 1)`` and gets the bias ``log(u)`` on its keeping
    gate, so that at zero input its time scale ``1 / (1 - gate)`` is ``1 + u``: spread
    between 2 and ``t_max`` steps.

    * GRU, in PyTorch's convention ``h' = (1 - z) * n + z * h``: ``z`` near 1 keeps the
      state, so the update gate's bias is ``log(u)``.
    * LSTM: the forget gate's bias is ``log(u)`` and the input gate's ``-log(u)``.

    PyTorch adds two bias vectors (``bias_ih`` and ``bias_hh``); the values go into
    ``bias_ih`` only and the same gates' part of ``bias_hh`` is set to 0 (setting both
    would double them). Other biases keep PyTorch's default.
    """
    if not isinstance(core, (nn.GRU, nn.LSTM)):
        raise TypeError(f"chrono initialisation needs an nn.GRU or nn.LSTM; got {type(core).__name__}.")
    if isinstance(t_max, bool) or not isinstance(t_max, (int, float)) or not t_max > 2:
        raise ValueError(f"chrono needs the longest time scale T_max, a number of steps above 2; got {t_max!r}.")
    hidden = core.hidden_size
    suffixes = [f"l{layer}{tail}" for layer in range(core.num_layers)
                for tail in (("", "_reverse") if core.bidirectional else ("",))]
    with torch.no_grad():
        for suffix in suffixes:
            bias_ih, bias_hh = getattr(core, f"bias_ih_{suffix}", None), getattr(core, f"bias_hh_{suffix}", None)
            if bias_ih is None:
                raise ValueError("chrono initialisation sets biases; this layer has bias=False.")
            u = torch.empty(hidden, dtype=bias_ih.dtype).uniform_(1.0, float(t_max) - 1.0, generator=generator)
            if isinstance(core, nn.LSTM):  # gates in PyTorch's order: input, forget, cell, output
                bias_ih[:hidden] = -u.log()
                bias_ih[hidden:2 * hidden] = u.log()
                bias_hh[:2 * hidden] = 0.0
            else:  # reset, update, candidate
                bias_ih[hidden:2 * hidden] = u.log()
                bias_hh[hidden:2 * hidden] = 0.0
    return core


class TokenModel(nn.Module):
    """Tokens in, a distribution over the next token out: an embedding, a recurrent core, a linear head.

    The character model of dashboard 10 (``grutools.text``): ids ``(batch, time)`` in, logits
    ``(batch, time, vocab_size)`` out, the logits at step t scoring token t + 1. ``self.core`` is a FastGRU
    (``"gru"``), ``nn.LSTM`` or ``nn.RNN``, batch-first, so that :func:`grutools.trace` finds it;
    :func:`grutools.save` and :func:`grutools.load` store it like a :class:`SequenceModel`.

    >>> model = TokenModel("gru", vocab_size=5, hidden_size=8, embedding_size=4, seed=0)
    >>> model(torch.zeros(2, 7, dtype=torch.long)).shape
    torch.Size([2, 7, 5])
    """

    def __init__(self, cell: str, vocab_size: int, hidden_size: int, embedding_size: int = 32, num_layers: int = 1,
                 seed: int | None = None, vocabulary: str | list[str] | None = None) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}; got {cell!r}.")
        for label, value in (("vocab_size", vocab_size), ("hidden_size", hidden_size),
                             ("embedding_size", embedding_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{label} must be a positive integer; got {value!r}.")
        if vocabulary is not None and len(vocabulary) != vocab_size:
            raise ValueError(f"the vocabulary names {len(vocabulary)} tokens; vocab_size is {vocab_size}.")
        self.vocabulary = None if vocabulary is None else list(vocabulary)  # token i's text, for hover labels
        self.cell, self.vocab_size, self.hidden_size = cell, vocab_size, hidden_size
        self.embedding_size, self.num_layers = embedding_size, num_layers
        from .fast import FastGRU

        with torch.random.fork_rng(enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.embed = nn.Embedding(vocab_size, embedding_size)
            core_class = {"gru": FastGRU, "rnn": nn.RNN, "lstm": nn.LSTM}[cell]
            self.core = core_class(embedding_size, hidden_size, num_layers=num_layers, batch_first=True)
            self.head = nn.Linear(hidden_size, vocab_size)

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments (used by :func:`grutools.save`)."""
        return {"model": "token", "cell": self.cell, "vocab_size": self.vocab_size, "hidden_size": self.hidden_size,
                "embedding_size": self.embedding_size, "num_layers": self.num_layers,
                **({"vocabulary": self.vocabulary} if self.vocabulary is not None else {})}

    def forward(self, ids: Tensor, state=None, return_state: bool = False):
        """Logits for the next token at every step; with ``return_state``, also the core's last state."""
        if not isinstance(ids, Tensor) or ids.dtype not in (torch.int64, torch.int32) or ids.dim() != 2:
            raise TypeError(f"ids must be an integer tensor (batch, time); got {getattr(ids, 'dtype', type(ids))} "
                            f"{tuple(getattr(ids, 'shape', ()))}.")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise ValueError(f"token ids must lie in 0..{self.vocab_size - 1}; got {int(ids.min())}..{int(ids.max())}.")
        states, last = self.core(self.embed(ids), state)
        logits = self.head(states)
        return (logits, last) if return_state else logits

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
