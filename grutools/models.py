"""Sequence models: a recurrent core (GRU, tanh RNN or LSTM) plus a linear head."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

CELLS = ("rnn", "gru", "lstm")
READOUTS = ("last", "all")


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
        cell: ``"gru"``, ``"rnn"`` (tanh) or ``"lstm"``.
        input_size: features per time step.
        hidden_size: units per layer.
        output_size: outputs of the head (1 for regression, the number of classes
            for classification).
        num_layers: stacked recurrent layers.
        readout: ``"last"`` predicts from the last step, giving ``(batch, output)``;
            ``"all"`` predicts at every step, giving ``(batch, time, output)``.
        seed: seeds the initial weights (PyTorch's default initialisation); ``None``
            draws from the global random state.

    Inputs are batch-first, ``(batch, time, input_size)``. The core is a
    ``torch.nn.GRU``/``RNN``/``LSTM`` (``batch_first=True``) stored as ``self.core``;
    for a GRU it is a :class:`grutools.fast.FastGRU`, a ``torch.nn.GRU`` with a
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
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}; got {cell!r}.")
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
        from .fast import FastGRU  # nn.GRU with a fused CPU kernel; nn.GRU itself on CUDA or without a compiler

        core_class = {"gru": FastGRU, "rnn": nn.RNN, "lstm": nn.LSTM}[cell]
        with torch.random.fork_rng(enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.core = core_class(input_size, hidden_size, num_layers=num_layers, batch_first=True)
            self.head = nn.Linear(hidden_size, output_size)

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
        }

    def forward(self, x: Tensor, h0: Tensor | tuple[Tensor, Tensor] | None = None) -> Tensor:
        """Predict from ``x (batch, time, input_size)``; see the class docstring for the output shape."""
        check_sequence(x, self.input_size)
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
        return f"readout={self.readout!r}"
