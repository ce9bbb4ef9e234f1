"""Save and load models and training histories, safely.

A grutools file is a ``torch.save``d dict of plain data (strings, numbers,
lists, tensors). :func:`load` reads it with ``torch.load(weights_only=True)``, so
a file can never run code, and refuses files over a size limit.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .models import SequenceModel, TokenModel
from .training import History

FORMAT = "grutools"
VERSION = 1
MAX_BYTES = 100 * 2**20  # the models here are tiny; a 100 MB file is not ours


@dataclass
class Checkpoint:
    """What a grutools file holds: a model, a training history, or both, and free-form metadata."""

    model: SequenceModel | TokenModel | None = None
    history: History | None = None
    metadata: dict = field(default_factory=dict)


def save(path: str | os.PathLike, model: SequenceModel | TokenModel | None = None, history: History | None = None,
         metadata: dict | None = None) -> Path:
    """Save a model and/or a history to ``path`` (creating its folder) and return the path.

    >>> import tempfile, grutools
    >>> model = grutools.SequenceModel("gru", 2, 4, 1, seed=0)
    >>> path = save(tempfile.mkdtemp() + "/m.pt", model=model)
    >>> torch.equal(load(path).model.head.weight, model.head.weight)
    True
    """
    if model is None and history is None:
        raise ValueError("save() needs a model, a history, or both.")
    if model is not None and not isinstance(model, (SequenceModel, TokenModel)):
        raise TypeError(f"save() stores grutools.SequenceModel and TokenModel objects; got {type(model).__name__}. "
                        "For a plain torch module, use torch.save(module.state_dict(), path).")
    payload: dict = {"format": FORMAT, "version": VERSION, "metadata": dict(metadata or {})}
    if model is not None:
        payload["config"] = model.config
        payload["state_dict"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if history is not None:
        payload["history"] = history.to_dict()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)
    return path


def read_untrusted(source: str | os.PathLike | bytes, max_bytes: int = MAX_BYTES, name: str | None = None):
    """``torch.load`` a file that may come from anyone: size-checked, ``weights_only=True``, on the CPU.

    ``source`` is a path, or the file's bytes (an upload, kept in memory). Raises
    ``FileNotFoundError`` or ``ValueError`` with a message that names the problem.
    """
    if isinstance(source, (bytes, bytearray)):
        name = name or "the file"
        size = len(source)
        head = bytes(source[:4])
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(4)
    if size == 0:
        raise ValueError(f"{name} is empty.")
    if size > max_bytes:
        raise ValueError(f"{name} is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit for a model file.")
    if head != b"PK\x03\x04":  # torch.save writes a zip archive
        raise ValueError(f"{name} is not a PyTorch file (torch.save writes a zip archive; this is not one).")
    try:
        return torch.load(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source,
                          map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and torch errors all mean the same to a user
        if "Weights only load failed" in str(error):
            raise ValueError(f"{name} holds Python objects other than tensors and plain data; grutools "
                             "does not unpickle them, as that could run code. Save a state_dict instead.") from error
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{name} could not be read as a PyTorch file (corrupt or truncated): {first_line}") from error


def load(path: str | os.PathLike, max_bytes: int = MAX_BYTES) -> Checkpoint:
    """Load a file written by :func:`save` into a :class:`Checkpoint`; never unpickles arbitrary objects."""
    payload = read_untrusted(path, max_bytes)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{Path(path).name} is not a grutools file (no 'format': 'grutools' entry). "
                         "A plain state_dict of a torch.nn.GRU can be loaded with grutools.load_gru(path).")
    return checkpoint_from_payload(payload, Path(path).name)


def checkpoint_from_payload(payload: dict, name: str) -> Checkpoint:
    """A :class:`Checkpoint` from what :func:`read_untrusted` returned for a grutools file."""
    if payload.get("version", 0) > VERSION:
        raise ValueError(f"{name} was written by a newer grutools (format version {payload['version']}).")
    checkpoint = Checkpoint(metadata=dict(payload.get("metadata", {})))
    if "config" in payload:
        config = dict(payload["config"])
        try:
            model = TokenModel(**config) if config.pop("model", None) == "token" else SequenceModel(**config)
        except TypeError as error:
            raise ValueError(f"{name}: its model settings are not a grutools model's: {error}") from error
        try:
            model.load_state_dict(payload["state_dict"])
        except (RuntimeError, KeyError) as error:
            raise ValueError(f"{name}: the weights do not fit the saved model settings: {error}") from error
        model.eval()
        checkpoint.model = model
    if "history" in payload:
        checkpoint.history = History.from_dict(payload["history"])
    return checkpoint
