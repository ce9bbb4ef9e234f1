"""Find the recurrent layer inside a user's own model, and catch what reaches it: for :func:`grutools.trace`.

A model as people write it holds its GRU, LSTM or RNN somewhere inside (``model.encoder.gru``),
behind an embedding, a packing step or anything else. :func:`recurrent_layers` lists them by
name; :func:`capture` runs the whole model on the user's input and catches the chosen
layer's own input and initial state with a forward pre-hook.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

SUPPORTED = (nn.GRU, nn.LSTM, nn.RNN)


def recurrent_layers(model: nn.Module) -> dict[str, nn.RNNBase]:
    """Every GRU, LSTM and RNN inside ``model``, by its name in ``named_modules`` (``""`` for the model itself)."""
    return {name: module for name, module in model.named_modules() if isinstance(module, SUPPORTED)}


def describe(layers: dict[str, nn.RNNBase]) -> str:
    return ", ".join(f"{name or '(the model itself)'!r} ({type(m).__name__}, {m.num_layers} layer"
                     f"{'s' if m.num_layers > 1 else ''}{', bidirectional' if m.bidirectional else ''})"
                     for name, m in layers.items())


def choose_layer(model: nn.Module, rnn: str | None = None) -> tuple[str, nn.RNNBase]:
    """The recurrent layer to trace: the only one, or the one named ``rnn``; a clear error otherwise."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"trace() takes a torch.nn.Module with a GRU, LSTM or RNN inside; got {type(model).__name__}.")
    layers = recurrent_layers(model)
    if rnn is not None:
        if rnn not in layers:
            known = describe(layers) or "none"
            raise ValueError(f"this model has no GRU, LSTM or RNN named {rnn!r}. Its recurrent layers: {known}.")
        return rnn, layers[rnn]
    if not layers:
        raise TypeError(f"{type(model).__name__} holds no torch.nn.GRU, LSTM or RNN, so there are no gates to trace.")
    if len(layers) > 1:
        raise ValueError(f"this model holds {len(layers)} recurrent layers: {describe(layers)}. Choose one with "
                         f"rnn=..., e.g. trace(model, x, rnn={next(iter(layers))!r}).")
    return next(iter(layers.items()))


@torch.no_grad()
def capture(model: nn.Module, layer: nn.RNNBase, x: Any) -> tuple[Any, Any]:
    """Run ``model`` on ``x`` (``model(*x)`` for a tuple, ``model(**x)`` for a dict) and return what ``layer``
    received on its first call: ``(input, hx)``, the input a tensor or a ``PackedSequence``, ``hx`` ``None``
    or as the layer took it."""
    caught: list[tuple[Any, Any]] = []

    def hook(module, args, kwargs):
        if not caught:
            values = list(args) + [kwargs.get(k) for k in ("input", "hx") if k in kwargs]
            caught.append((values[0], values[1] if len(values) > 1 else None))

    handle = layer.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        if isinstance(x, tuple):
            model(*x)
        elif isinstance(x, dict):
            model(**x)
        else:
            model(x)
    finally:
        handle.remove()
    if not caught:
        raise ValueError(f"running the model on x never called its {type(layer).__name__}; check the input.")
    return caught[0]
