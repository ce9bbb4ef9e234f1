"""A model file from anyone: a grutools save file, or a state_dict with a GRU, LSTM or RNN inside (dashboard 06).

:func:`model_from_bytes` reads an upload in memory (never written to disk), with
``weights_only`` loading, and rebuilds the model: a grutools file gives its
``SequenceModel``; a ``state_dict`` of an ``nn.GRU``, ``nn.LSTM`` or ``nn.RNN``, or of a module
with one inside, gives that recurrent layer, its sizes read from the tensors' shapes
(behind its embedding, for a text model: :class:`EmbeddedRecurrent`). Every wrong file
gets a sentence. :func:`upload_limits` reads the size limits from the shipped
``voila.json`` (section ``GrutoolsUploads``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ..core.io import FORMAT, MAX_BYTES, checkpoint_from_payload, read_untrusted
from ..core.models import TokenModel
from ..core.resources import root

DEFAULT_LIMITS = {"max_model_mb": 20, "max_csv_mb": 5}
KINDS = {1: ("rnn", nn.RNN), 3: ("gru", nn.GRU), 4: ("lstm", nn.LSTM)}  # gate blocks per kind


def upload_limits() -> dict[str, int]:
    """The upload size limits in MB, from ``voila.json``'s ``GrutoolsUploads`` section (defaults if absent)."""
    try:
        settings = json.loads((root() / "voila.json").read_text()).get("GrutoolsUploads", {})
    except (OSError, ValueError):
        settings = {}
    return {key: int(settings.get(key, value)) for key, value in DEFAULT_LIMITS.items()}


def recurrent_from_state_dict(state: Mapping, name: str = "the file") -> tuple[nn.RNNBase, str]:
    """The GRU, LSTM or RNN whose weights ``state`` holds (under any prefix), and a sentence on what was used."""
    tensors = {k: v for k, v in state.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    firsts = sorted(k for k in tensors if k.endswith("weight_ih_l0"))
    if not firsts:
        raise ValueError(f"{name} holds no GRU, LSTM or RNN weights (no tensor named like 'weight_ih_l0'); "
                         f"its tensors: {', '.join(list(tensors)[:6]) or 'none'}.")
    prefix = firsts[0][: -len("weight_ih_l0")]
    weights = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    first, recurrent = weights["weight_ih_l0"], weights.get("weight_hh_l0")
    if recurrent is None or recurrent.dim() != 2 or first.dim() != 2 or recurrent.shape[1] == 0:
        raise ValueError(f"{name}: the weights under {prefix or 'the top level'!r} do not form a recurrent layer "
                         "(weight_hh_l0 is missing or not a matrix).")
    if any(k.startswith("weight_hr_l") for k in weights):
        raise ValueError(f"{name} holds an LSTM with proj_size, which the gate views do not support.")
    hidden = recurrent.shape[1]
    blocks, rest = divmod(recurrent.shape[0], hidden)
    if rest or blocks not in KINDS:
        raise ValueError(f"{name}: weight_hh_l0 is {tuple(recurrent.shape)}; a GRU has 3 x hidden rows, an LSTM 4, "
                         "an RNN 1, so these weights fit no recurrent layer.")
    kind, module_class = KINDS[blocks]
    layers = len([k for k in weights if k.startswith("weight_ih_l") and not k.endswith("_reverse")])
    bidirectional = "weight_ih_l0_reverse" in weights
    module = module_class(first.shape[1], hidden, num_layers=layers, bias="bias_ih_l0" in weights,
                          bidirectional=bidirectional, batch_first=True)
    expected = set(module.state_dict())
    try:
        module.load_state_dict({k: v for k, v in weights.items() if k in expected})
    except RuntimeError as error:
        raise ValueError(f"{name}: the weights do not form a {kind.upper()} of these sizes: "
                         f"{str(error).splitlines()[0]}") from error
    missing = expected - set(weights)
    if missing:
        raise ValueError(f"{name}: the {kind.upper()} weights are incomplete (missing {', '.join(sorted(missing))}).")
    article = "an" if kind in ("lstm", "rnn") else "a"
    note = (f"{article} {kind.upper()} ({layers} layer{'s' if layers > 1 else ''} of {hidden} units"
            f"{', bidirectional' if bidirectional else ''}, {first.shape[1]} input features)"
            + (f" from the weights under {prefix[:-1]!r}" if prefix else ""))
    return module.eval(), note


def model_from_bytes(data: bytes, name: str = "the file", max_bytes: int | None = None) -> tuple[nn.Module, str]:
    """The model in an uploaded file (bytes), and a sentence saying what it is. ``ValueError`` names any problem."""
    limit = max_bytes if max_bytes is not None else upload_limits()["max_model_mb"] * 2**20
    payload = read_untrusted(bytes(data), limit, name=name)
    if isinstance(payload, dict) and payload.get("format") == FORMAT:
        checkpoint = checkpoint_from_payload(payload, name)
        if checkpoint.model is None:
            raise ValueError(f"{name} is a grutools file with a training history but no model.")
        model = checkpoint.model
        if isinstance(model, TokenModel):  # token ids in (dashboard 10's character model)
            return check_finite(model, name), (
                f"a grutools {model.cell.upper()} reading tokens ({model.num_layers} layer(s) of {model.hidden_size} "
                f"units, {model.vocab_size} tokens): give your CSV one column of token ids, 0 to "
                f"{model.vocab_size - 1}")
        return check_finite(model, name), (f"a grutools {model.cell.upper()} ({model.num_layers} layer(s) of "
                                           f"{model.hidden_size} units, {model.input_size} input features)")
    if isinstance(payload, nn.Module):  # weights_only never returns one; kept for clarity
        raise ValueError(f"{name} holds a whole module; save its state_dict instead.")
    if not isinstance(payload, Mapping):
        raise ValueError(f"{name} holds a {type(payload).__name__}, not a state_dict or a grutools file.")
    module, note = recurrent_from_state_dict(payload, name)
    used = len(module.state_dict())
    embedded = with_embedding(module, payload)
    if embedded is not None:
        vocabulary, width = embedded.embedding.weight.shape
        note += (f", reading token ids through the embedding {embedded.embedding_name!r} ({vocabulary} tokens of "
                 f"{width} features): give your CSV one column of token ids, 0 to {vocabulary - 1}")
        module, used = embedded, used + 1
    unused = sum(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in payload.items()) - used
    if unused > 0:
        note += (f"; {unused} other tensor(s) in the file (a head, ...) are not used" if embedded is not None else
                 f"; {unused} other tensor(s) in the file (embedding, head, ...) are not used: the views show the "
                 "recurrent layer on your sequences directly")
    return check_finite(module, name), note


class EmbeddedRecurrent(nn.Module):
    """A text model's front, rebuilt from its ``state_dict``: token ids ``(batch, time)`` -> embedding -> recurrent layer.

    Returns the recurrent layer's output; the head of the original model is not needed for the gate views.
    """

    def __init__(self, embedding: nn.Embedding, rnn: nn.RNNBase, embedding_name: str = "embedding") -> None:
        super().__init__()
        self.embedding, self.rnn, self.embedding_name = embedding, rnn, embedding_name

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.rnn(self.embedding(tokens))[0]


def with_embedding(rnn: nn.RNNBase, state: Mapping) -> EmbeddedRecurrent | None:
    """``rnn`` behind the embedding that ``state`` holds for it (a 2-D ``*emb*.weight`` as wide as its input), if any."""
    names = [k for k, v in state.items() if isinstance(k, str) and isinstance(v, torch.Tensor) and v.dim() == 2
             and "emb" in k.lower() and k.endswith("weight") and v.shape[1] == rnn.input_size and v.shape[0] > 0]
    if len(names) != 1:  # none, or several that could be it: the layer alone, on features
        return None
    embedding = nn.Embedding.from_pretrained(state[names[0]].detach().clone(), freeze=True)
    return EmbeddedRecurrent(embedding, rnn, names[0].removesuffix(".weight")).eval()


def check_finite(model: nn.Module, name: str = "the file") -> nn.Module:
    """``model`` itself if every weight is finite; else a ``ValueError`` naming the first bad tensor."""
    for key, value in model.state_dict().items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            bad = int((~torch.isfinite(value)).sum())
            raise ValueError(f"{name}: {bad} of the {value.numel()} values of {key} are NaN or infinite (did its "
                             "training diverge?), so every gate and state would be NaN. Save the model from before.")
    return model


def load_gru(path: str | os.PathLike, max_bytes: int = MAX_BYTES) -> nn.GRU:
    """Rebuild a ``torch.nn.GRU`` from a saved ``state_dict`` (e.g. ``torch.save(gru.state_dict(), path)``).

    Sizes, layer count and bias are read from the tensors' shapes; the module is
    batch-first. Keys may carry a prefix such as ``"rnn."`` or ``"core."``; a grutools
    file gives its model's GRU. Any other recurrent layer is refused with a sentence.
    """
    name = Path(path).name
    state = read_untrusted(path, max_bytes)
    if isinstance(state, dict) and state.get("format") == FORMAT:
        if state.get("config", {}).get("cell") != "gru":
            raise ValueError(f"{name} holds no GRU model.")
        state = {k[len("core."):]: v for k, v in state["state_dict"].items() if k.startswith("core.")}
    if not isinstance(state, Mapping):
        raise ValueError(f"{name} holds a {type(state).__name__}, not a state_dict.")
    module, _ = recurrent_from_state_dict(state, name)
    check_finite(module, name)
    if not isinstance(module, nn.GRU):
        recurrent = module.weight_hh_l0
        raise ValueError(f"{name}: weight_hh_l0 is {tuple(recurrent.shape)}, not (3 * hidden, hidden) as in a GRU "
                         f"(this looks like {'an LSTM' if isinstance(module, nn.LSTM) else 'a plain RNN'}).")
    if module.bidirectional:
        raise ValueError(f"{name} holds a bidirectional GRU; load_gru gives one direction only "
                         "(grutools.trace shows both: rebuild the module and pass it in).")
    return module
