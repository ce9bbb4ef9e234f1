"""A character model of text: the task it trains on, its bits per character, and sampling from it."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..core.models import TokenModel
from ..core.tasks import Task
from .corpus import INDEX, OOV, VOCABULARY, decode, encode, load_text, outside

WINDOW = 128  # characters per training sequence
MAX_PROMPT = 2000  # characters a prompt or a passage may have on the page


class CharText(Task):
    """Next-character prediction on a split of the shipped corpus: windows of ``length`` characters, the target
    each character's successor; the loss is the cross-entropy in nats (``/ ln 2`` for bits per character)."""

    name = "text"
    title = "Python source, character by character"
    description = "Read Python code one character at a time and predict the next."
    input_size = len(VOCABULARY)
    output_size = len(VOCABULARY)
    readout = "all"
    baseline_label = "uniform over the characters"

    def __init__(self, length: int = WINDOW, texts: dict[str, str] | None = None) -> None:
        super().__init__(length)
        self.ids = {split: encode(text) for split, text in (texts or {s: load_text(s) for s in
                                                                      ("train", "valid", "test")}).items()}

    @property
    def baseline(self) -> float:
        return math.log(len(VOCABULARY))

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        if generator is None:
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        ids = self.ids[split]
        starts = torch.randint(0, len(ids) - self.length - 1, (batch_size,), generator=generator)
        windows = torch.stack([ids[s:s + self.length + 1] for s in starts.tolist()])
        return windows[:, :-1], windows[:, 1:]

    def loss(self, prediction: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
        return nn.functional.cross_entropy(prediction.reshape(-1, prediction.shape[-1]), target.reshape(-1),
                                           reduction=reduction)

    def step_labels(self, x) -> list[str]:
        return [repr(VOCABULARY[int(i)]) for i in x]


def check_text(text: str, what: str = "the text", limit: int | None = None) -> str:
    """``text`` if a model can read it; ``ValueError`` naming the characters outside the vocabulary, or the limit."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a string; got {type(text).__name__}.")
    if limit is not None and len(text) > limit:
        raise ValueError(f"{what} has {len(text):,} characters; the limit is {limit:,}.")
    strange = outside(text)
    if strange:
        shown = ", ".join(repr(c) for c in strange[:8]) + (" ..." if len(strange) > 8 else "")
        raise ValueError(f"{what} has characters outside the model's vocabulary (newline and printable ASCII): "
                         f"{shown}. Replace them, or let them become {OOV!r} with grutools.text.clean().")
    return text


@torch.no_grad()
def next_logits(model: nn.Module, text: str, chunk: int = 4096) -> Tensor:
    """``(len(text), vocab)`` logits: row t scores the character after ``text[t]`` (the state carried through)."""
    ids = encode(text)[None]
    was_training = model.training
    model.eval()
    state, parts = None, []
    for start in range(0, ids.shape[1], chunk):
        logits, state = model(ids[:, start:start + chunk], state, return_state=True)
        parts.append(logits[0])
    model.train(was_training)
    return torch.cat(parts)


def bits_per_char(model: nn.Module, text: str) -> float:
    """The model's mean surprise, in bits, at each character of ``text`` after the first (which has no past).

    ``model``: any character model of the suite (a :class:`grutools.core.models.TokenModel` over
    :data:`VOCABULARY`). Characters outside the vocabulary count as :data:`OOV`.

    >>> model = TokenModel("gru", len(VOCABULARY), 8, seed=0)
    >>> abs(bits_per_char(model, "def f(x):\\n    return x\\n") - math.log2(len(VOCABULARY))) < 0.5  # untrained
    True
    """
    if not isinstance(text, str) or len(text) < 2:
        raise ValueError("bits_per_char needs a string of at least two characters.")
    logits = next_logits(model, text)
    targets = encode(text)[1:]
    nats = nn.functional.cross_entropy(logits[:-1], targets, reduction="mean")
    return float(nats) / math.log(2)


@torch.no_grad()
def sample_text(model: nn.Module, prompt: str, length: int = 500, temperature: float = 1.0, seed: int = 0) -> str:
    """``length`` characters after ``prompt``, drawn one at a time at ``temperature``; 0 takes the most likely
    character each time. The same seed gives the same text."""
    check_text(prompt, "the prompt", MAX_PROMPT)
    if not prompt:
        prompt = "\n"
    if not (isinstance(temperature, (int, float)) and 0 <= temperature <= 10):
        raise ValueError(f"temperature must be a number from 0 to 10; got {temperature!r}.")
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    logits, state = model(encode(prompt)[None], None, return_state=True)
    last = logits[0, -1]
    out = []
    step = torch.zeros(1, 1, dtype=torch.long)
    # one character at a time through torch's own cell (nn.GRU's and nn.LSTM's equations): a whole layer's call per
    # character cost 2 ms in checks alone
    cell = _one_step(model)
    h = state
    for _ in range(length):
        if temperature == 0:
            choice = int(last.argmax())
        else:
            choice = int(torch.multinomial(torch.softmax(last / temperature, dim=-1), 1, generator=generator))
        out.append(choice)
        if cell is not None:
            h, top = cell(choice, h)
            last = model.head(top)
        else:
            step[0, 0] = choice
            logits, h = model(step, h, return_state=True)
            last = logits[0, -1]
    model.train(was_training)
    return decode(out)


def _one_step(model):
    """``step(character, state) -> (state, top output)`` for a one-layer GRU or LSTM character model, else ``None``."""
    core = getattr(model, "core", None)
    if not isinstance(model, TokenModel) or core.num_layers != 1 or not isinstance(core, (nn.GRU, nn.LSTM)):
        return None
    weights = (core.weight_ih_l0, core.weight_hh_l0, core.bias_ih_l0, core.bias_hh_l0)
    embed = model.embed.weight

    if isinstance(core, nn.LSTM):
        def step(choice, state):
            h, c = torch.lstm_cell(embed[choice][None], (state[0][0], state[1][0]), *weights)
            return (h[None], c[None]), h[0]
    else:
        def step(choice, state):
            h = torch.gru_cell(embed[choice][None], state[0], *weights)
            return h[None], h[0]
    return step


def char_model(cell: str = "gru", hidden: int = 256, seed: int = 0, embedding: int = 32) -> TokenModel:
    """A character model over :data:`VOCABULARY`."""
    return TokenModel(cell, len(VOCABULARY), hidden, embedding_size=embedding, seed=seed, vocabulary=list(VOCABULARY))


__all__ = ["CharText", "INDEX", "bits_per_char", "char_model", "check_text", "next_logits", "sample_text"]
