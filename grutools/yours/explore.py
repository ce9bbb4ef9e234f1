"""Your own model on your own sequences: every gate, unit, time scale and the gradient through time.

:class:`Exploration` computes every view for any ``nn.Module`` with a GRU, LSTM or RNN
inside and sequences given as a tensor, a NumPy array or a pandas DataFrame; it is
usable on its own. :func:`grutools.explore` (in :mod:`grutools.apps.explore`) wraps it in
a widget app for JupyterLab or Voilà.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.capture import SUPPORTED, choose_layer
from ..core.models import SequenceModel
from ..core.trace import Trace, trace
from ..lessons.gates import saturation, timescales
from .sequences import SequenceDataError, UserSequences

QUANTITIES = {"gru": ("update", "reset", "candidate", "hidden"), "lstm": ("forget", "input", "output", "cell", "hidden"),
              "rnn": ("hidden",)}
KEEPING_GATE = {"gru": "update", "lstm": "forget"}  # the gate whose mean gives a unit's time scale, 1 / (1 - mean)
POOLED = 64  # sequences pooled for saturation and time scales
MAX_VALUES = 200_000_000  # gate and state values kept for the views (float32: 800 MB)


class Exploration:
    """A model, its recurrent layer and the user's sequences: traces per sequence, pooled statistics, gradients.

    Args:
        model: a ``SequenceModel``, an ``nn.GRU``/``LSTM``/``RNN``, or any module with one inside.
        data: the sequences (:class:`UserSequences`, or anything :meth:`UserSequences.from_any` takes).
        rnn: the recurrent layer's name when the model holds several.
        y, loss: a target for the whole batch and ``loss(model_output, y)``, for the gradient through time.
        feature_names: names of the input features (a DataFrame's columns by default), or for token ids the
            vocabulary (a ``TokenModel``'s own by default, e.g. the characters of dashboard 10's model).
        batch_first: whether the model takes ``(batch, time, ...)``; by default, what its recurrent layer takes.
    """

    def __init__(self, model: nn.Module, data: Any, rnn: str | None = None, y: Any = None,
                 loss: Callable | None = None, feature_names: Sequence[str] | None = None,
                 sequence_id: str | None = None, batch_first: bool | None = None) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"explore() takes a torch.nn.Module; got {type(model).__name__}.")
        if isinstance(model, SequenceModel):
            self.layer_name, self.layer = "core", model.core
        else:
            self.layer_name, self.layer = choose_layer(model, rnn)
        self.model = model
        self.kind = {nn.GRU: "gru", nn.LSTM: "lstm", nn.RNN: "rnn"}[
            next(cls for cls in (nn.GRU, nn.LSTM, nn.RNN) if isinstance(self.layer, cls))]
        # a model takes, unless the caller says otherwise, the layout of its recurrent layer (checked once traced)
        self.batch_first = self.layer.batch_first if batch_first is None else bool(batch_first)
        if isinstance(data, UserSequences):
            self.data = data
        elif is_token_ids(data) and not isinstance(model, (SequenceModel, *SUPPORTED)):
            self.data = UserSequences.from_tokens(data, vocabulary=feature_names,  # for the model's embedding
                                                  batch_first=self.batch_first)
        else:
            self.data = UserSequences.from_any(data, feature_names, sequence_id, batch_first=self.batch_first)
        if isinstance(model, (SequenceModel, *SUPPORTED)):
            self.data.check_width(self.layer.input_size)
        if self.data.tokens and self.data.vocabulary is None and getattr(model, "vocabulary", None):
            self.data.vocabulary = list(model.vocabulary)  # a TokenModel names its tokens (hover labels)
        self._embeddings = [m for m in model.modules() if isinstance(m, nn.Embedding)]
        if self.data.tokens and len(self._embeddings) == 1:  # ids past the vocabulary: said here, not as an IndexError
            self.data.check_tokens(self._embeddings[0].num_embeddings)
        self.directions = 2 if self.layer.bidirectional else 1
        self.entries = self.layer.num_layers * self.directions
        self.quantities = QUANTITIES[self.kind]
        steps = sum(len(s) for s in self.data.sequences)
        per_step = self.layer.hidden_size * len(self.quantities) * self.entries
        if steps * per_step > MAX_VALUES:
            raise SequenceDataError(f"{steps:,} steps in all, for a layer of {self.layer.hidden_size} units, would take "
                                    f"{steps * per_step * 4 / 2**30:.1f} GB of gate and state values; pass fewer or "
                                    f"shorter sequences (at most {MAX_VALUES // per_step:,} steps in all for this model).")
        self.y, self.loss = y, loss
        if (y is None) != (loss is None):
            raise ValueError("the gradient through time needs both y (the target) and loss (a function of the model's "
                             "output and y).")
        if loss is not None and not callable(loss):
            raise TypeError(f"loss must be a function loss(model_output, y) -> a number, e.g. "
                            f"torch.nn.functional.mse_loss; got {type(loss).__name__}.")
        self._traces: dict[int, Trace] = {}
        self._gradients: np.ndarray | None = None
        self._timescales: dict[int, np.ndarray | None] = {}

    # ------------------------------------------------------------------------------------------

    def model_input(self, index: int) -> torch.Tensor:
        """Sequence ``index`` as the model takes it: ``(1, time, features)``, or time-major for such a layer."""
        return self._as_input(self.data.sequences[index][None])

    def _as_input(self, batch: np.ndarray) -> torch.Tensor:
        """A batch ``(batch, time, features)`` as the model takes it: token ids as integers, else in its dtype."""
        weight = self.layer.weight_ih_l0
        if self.data.tokens:
            x = torch.as_tensor(batch[..., 0], dtype=torch.long, device=weight.device)  # (batch, time)
        else:
            x = torch.as_tensor(batch, dtype=weight.dtype, device=weight.device)
        return x if self.batch_first else x.transpose(0, 1)

    def trace(self, index: int) -> Trace:
        """The trace of sequence ``index`` (cached)."""
        if index not in self._traces:
            if not 0 <= index < len(self.data):
                raise IndexError(f"there is no sequence {index}; there are {len(self.data)}.")
            was_training = self.model.training
            self.model.eval()
            try:
                rnn = None if isinstance(self.model, (SequenceModel, *SUPPORTED)) else self.layer_name
                traced = trace(self.model, self.model_input(index), rnn=rnn)
            except (RuntimeError, IndexError) as error:  # the user's own forward refused the input (or a token id)
                raise SequenceDataError(self._cannot_run(index, error)) from error
            finally:
                self.model.train(was_training)
            steps, length = traced.hidden.shape[2], len(self.data.sequences[index])
            if steps == 1 and length > 1:  # one sequence sent, one step run: its steps were read as a batch
                raise SequenceDataError(
                    f"the model's {self.kind.upper()} ran {steps} step on sequence {self.data.ids[index]}, which has "
                    f"{length}: the model seems to take its input {'time' if self.batch_first else 'batch'}-first. "
                    f"Pass batch_first={not self.batch_first} to explore().")
            if steps != length:  # e.g. a decoder, which runs on its own steps
                raise SequenceDataError(
                    f"the {self.kind.upper()} {self.layer_name!r} ran {steps} steps on sequence {self.data.ids[index]}, "
                    f"which has {length}: it does not read your input step for step (a decoder?), so its gates cannot "
                    f"be drawn under your input. grutools.trace(model, x, rnn={self.layer_name!r}) gives its values.")
            self._traces[index] = traced
        return self._traces[index]

    def _cannot_run(self, index: int, error: Exception) -> str:
        message = (f"{type(self.model).__name__} could not run on sequence {self.data.ids[index]}: "
                   f"{str(error).splitlines()[0][:200]}")
        if self._embeddings and not self.data.tokens:
            message += " It embeds token ids: pass integers shaped (batch, time), not features."
        return message

    def values(self, index: int, entry: int = -1) -> dict[str, np.ndarray]:
        """Every quantity of one sequence, one layer-direction ``entry``: ``{name: (time, hidden)}``."""
        traced = self.trace(index)
        return {name: getattr(traced, name)[entry, 0].detach().cpu().numpy() for name in self.quantities}

    def pooled(self, name: str, entry: int = -1) -> np.ndarray:
        """``name`` over the first :data:`POOLED` sequences, all steps stacked: ``(steps, hidden)``."""
        return np.concatenate([self.values(i, entry)[name] for i in range(min(len(self.data), POOLED))])

    def saturation(self, entry: int = -1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per gate, each unit's fraction of time below 0.1 and above 0.9 (empty for a tanh RNN)."""
        gates = [g for g in self.quantities if g in ("update", "reset", "forget", "input", "output")]
        return {g: saturation(self.pooled(g, entry)) for g in gates}

    def timescales(self, entry: int = -1) -> np.ndarray | None:
        """Each unit's time scale 1 / (1 − mean keeping gate) in steps (``None`` for a tanh RNN, which has none; cached)."""
        if entry not in self._timescales:
            gate = KEEPING_GATE.get(self.kind)
            self._timescales[entry] = None if gate is None else timescales(self.pooled(gate, entry))
        return self._timescales[entry]

    def entry_names(self) -> list[str]:
        """A name for each entry of a trace's first axis: "layer 1", or "layer 1, backward"."""
        names = []
        for layer in range(self.layer.num_layers):
            for direction in range(self.directions):
                names.append(f"layer {layer + 1}" + ((", backward" if direction else ", forward")
                                                      if self.directions == 2 else ""))
        return names

    def gradients(self) -> np.ndarray | None:
        """|dLoss/d output_t| of the recurrent layer at every step, ``(sequences, time)``; ``None`` without a target."""
        if self.loss is None:
            return None
        if self._gradients is None:
            lengths = {len(s) for s in self.data.sequences}
            if len(lengths) > 1:
                raise SequenceDataError("the gradient through time needs sequences of equal length, run as one batch.")
            x = self._as_input(np.stack(self.data.sequences))
            caught = {}

            def hook(module, args, output):
                states = output[0]
                if not isinstance(states, torch.Tensor):
                    raise SequenceDataError("the gradient view needs the layer's output as a tensor (not packed).")
                states.retain_grad()
                caught["states"] = states

            handle = self.layer.register_forward_hook(hook)
            try:
                self.model.zero_grad(set_to_none=True)
                value = self.loss(self.model(x), torch.as_tensor(self.y))
                value.backward()
            finally:
                handle.remove()
                self.model.zero_grad(set_to_none=True)
            grad = caught["states"].grad
            if not self.batch_first:
                grad = grad.transpose(0, 1)
            self._gradients = grad.norm(dim=-1).detach().cpu().numpy()
        return self._gradients


def is_token_ids(x: Any) -> bool:
    """Whether ``x`` looks like token ids: integers shaped ``(batch, time)`` or ``(time,)`` (or lists of them)."""
    if isinstance(x, torch.Tensor):
        return not x.is_floating_point() and not x.is_complex() and x.dtype != torch.bool and x.dim() in (1, 2)
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "iu" and x.ndim in (1, 2)
    if isinstance(x, (list, tuple)) and x:
        first = x[0]
        return isinstance(first, (list, tuple)) and bool(first) and all(isinstance(t, int) for t in first)
    return False
