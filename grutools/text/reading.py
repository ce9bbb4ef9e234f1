"""What a character model does along a passage: every unit's state and gates, the passages a page offers, the
update gate by character class, and how saturated the gates are on text against a toy task."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..core.trace import trace
from ..lessons.gates import saturation
from .corpus import encode, load_text
from .patterns import CLASSES, char_classes

PASSAGE_CHARS = 1600
PASSAGE_STARTS = ("def _safe_repr", "class PrettyPrinter", "def generate_tokens", "def urlsplit")  # in the test text


@dataclass
class Reading:
    """``hidden``, ``update``, ``reset``: ``(characters, units)`` along ``text`` (the LSTM: ``hidden`` only)."""

    text: str
    hidden: np.ndarray
    update: np.ndarray | None
    reset: np.ndarray | None


@torch.no_grad()
def read(model, text: str) -> Reading:
    """Run a character model along ``text`` (from an empty state) and keep every unit's values at every character."""
    t = trace(model, encode(text)[None])
    first = lambda v: None if v is None else v[-1, 0].numpy()  # noqa: E731 - the top layer, the one passage
    return Reading(text, first(t.hidden), first(t.update), first(t.reset))


def passages(folder=None) -> dict[str, str]:
    """The test passages a page offers, ``{name: text}``: about 1,600 characters each, from whole lines, beginning
    at a definition of the test modules (never trained on)."""
    test = load_text("test") if folder is None else load_text("test", folder)
    out = {}
    for start in PASSAGE_STARTS:
        at = test.find(start)
        if at < 0:
            continue
        end = test.find("\n", at + PASSAGE_CHARS)
        out[start.split()[-1]] = test[at:end + 1 if end > 0 else len(test)]
    return out or {"the test text": test[:PASSAGE_CHARS]}


def update_by_class(reading: Reading) -> tuple[dict[str, float], dict[str, int]]:
    """The update gate's mean over units after each character, averaged by the class of that character."""
    classes = char_classes(reading.text)
    z = reading.update.mean(axis=1)
    means, counts = {}, {}
    for k, name in enumerate(CLASSES):
        chosen = classes == k
        if chosen.any():
            means[name], counts[name] = float(z[chosen].mean()), int(chosen.sum())
    return means, counts


def saturated(gate: np.ndarray) -> float:
    """The share of a gate's values under 0.05 or over 0.95 (Karpathy et al.'s saturation), over units and steps."""
    left, right = saturation(gate)
    return float(left.mean() + right.mean())


def toy_saturation(checkpoint, task, batch: int = 32) -> dict[str, float]:
    """Gate saturation of a toy task's shipped GRU on its own test sequences (dashboard 02's view)."""
    x, _ = task.sample(batch, seed=0, split="test")
    with torch.no_grad():
        t = trace(checkpoint, x)
    return {"update": saturated(t.update[-1].numpy()), "reset": saturated(t.reset[-1].numpy())}
