"""Tasks: seeded generators of ``(x, y)`` batches, each with a description for dashboards.

* :class:`AddingProblem` (Hochreiter & Schmidhuber 1997): add two marked numbers.
* :class:`CopyTask`: remember a few symbols across a delay and recall them.
* :class:`Sunspots`: predict next month's sunspot number (real data shipped in ``data/``).

Every task knows its loss and its "learned nothing" baseline, the loss of the
best constant prediction, so a dashboard can draw the line a model must beat.
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor
from torch.nn import functional as F

from .resources import data_dir

DATA_DIR = data_dir()  # the clone's data/, or the installed package's copy (grutools.core.resources)
SYMBOL_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # how the copy task's symbols are shown
IGNORE = -100  # target value for steps a classification task does not score


def _rows(x) -> list[list[float]]:
    """One input sequence ``(time, features)`` (tensor or array) as nested lists."""
    return x.tolist() if hasattr(x, "tolist") else [list(row) for row in x]


def _generator(generator: torch.Generator | None, seed: int | None) -> torch.Generator:
    if generator is not None:
        return generator
    return torch.Generator().manual_seed(0 if seed is None else seed)


def sequence_loss(prediction: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """The loss every task uses: mean squared error for float targets, cross-entropy for integer ones.

    Shapes: regression ``prediction`` and ``target`` alike, ``(batch, ...)``;
    classification ``prediction (batch, time, classes)`` and ``target (batch, time)``,
    steps marked ``-100`` not scored. ``reduction="none"`` gives one loss per sample,
    ``(batch,)``; ``"sum"`` adds those up (so a per-sample gradient does not depend
    on the batch size); ``"mean"`` averages them.
    """
    if target.dtype in (torch.int64, torch.int32):
        per_step = F.cross_entropy(prediction.transpose(1, -1), target.long(), ignore_index=IGNORE, reduction="none")
        scored = (target != IGNORE).float()
        per_sample = (per_step * scored).flatten(1).sum(1) / scored.flatten(1).sum(1).clamp(min=1)
    else:
        if prediction.shape != target.shape:
            raise ValueError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} must have the same shape.")
        per_sample = (prediction - target).pow(2).flatten(1).mean(1)
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    return per_sample.mean()


class Task:
    """A family of sequences to learn. Subclasses set the attributes and implement :meth:`sample`.

    Attributes:
        name: short key, e.g. ``"adding"``.
        title: a human title for dashboards.
        description: two or three sentences for a student.
        input_size, output_size: features in and out per step.
        readout: ``"last"`` or ``"all"``, the :class:`SequenceModel` readout it needs.
        length: time steps per sequence.
        baseline: the loss of the best constant prediction ("learned nothing").
        baseline_label: what that line means, for a plot legend.
    """

    name = "task"
    title = "Task"
    description = ""
    input_size = 1
    output_size = 1
    readout = "last"
    baseline_label = "learned nothing"

    def __init__(self, length: int) -> None:
        if not isinstance(length, int) or isinstance(length, bool) or length < self.min_length:
            raise ValueError(f"{self.title}: the sequence length must be an integer >= {self.min_length}; got {length!r}.")
        self.length = length

    min_length = 2

    @property
    def baseline(self) -> float:
        raise NotImplementedError

    def sample(self, batch_size: int, generator: torch.Generator | None = None, seed: int | None = None,
               split: str = "train") -> tuple[Tensor, Tensor]:
        """Draw a batch ``(x, y)``; ``x`` is ``(batch, length, input_size)``.

        Pass a ``torch.Generator`` to draw a stream of batches, or a ``seed`` for one
        reproducible batch (seed 0 if neither). ``split`` is ``"train"`` or ``"test"``
        (the same distribution for synthetic tasks; held-out years for real data).
        """
        raise NotImplementedError

    def loss(self, prediction: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
        """This task's loss, see :func:`sequence_loss`."""
        return sequence_loss(prediction, target, reduction)

    def step_labels(self, x) -> list[str]:
        """A short description of each step of one input sequence ``x (time, features)``, for hover texts."""
        return [", ".join(f"{v:.2f}" for v in row) for row in _rows(x)]

    def model_kwargs(self) -> dict:
        """The :class:`SequenceModel` arguments this task fixes: sizes and readout."""
        return {"input_size": self.input_size, "output_size": self.output_size, "readout": self.readout}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(length={self.length})"


class AddingProblem(Task):
    """The adding problem: output the sum of the two marked numbers in a sequence.

    Each step has two features: a number drawn uniformly from [0, 1] and a marker
    (0 or 1). One marker falls in the first half of the sequence, one in the
    second half; the target is the sum of the two marked numbers. Predicting the
    mean, 1, gives MSE = Var(U1 + U2) = 1/6 ≈ 0.167.
    """

    name = "adding"
    title = "Adding problem"
    input_size = 2
    output_size = 1
    readout = "last"
    baseline_label = "predict the mean (MSE 0.167)"
    description = (
        "Each step shows a random number and a marker. Two numbers are marked, one in each half of the "
        "sequence; the model must output their sum at the end. Always answering 1 gives MSE 0.167: a model "
        "must carry the first marked number across the whole sequence to do better."
    )

    @property
    def baseline(self) -> float:
        return 1.0 / 6.0

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        gen = _generator(generator, seed)
        values = torch.rand(batch_size, self.length, generator=gen)
        half = self.length // 2
        first = torch.randint(0, half, (batch_size,), generator=gen)
        second = torch.randint(half, self.length, (batch_size,), generator=gen)
        markers = torch.zeros(batch_size, self.length)
        rows = torch.arange(batch_size)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        x = torch.stack([values, markers], dim=-1)
        y = (values * markers).sum(1, keepdim=True)
        return x, y

    def step_labels(self, x) -> list[str]:
        return [f"{value:.2f}" + (" (marked)" if marker > 0.5 else "") for value, marker in _rows(x)]


class CopyTask(Task):
    """Delayed recall: see a few symbols, wait, then recall them in order.

    A sequence is ``remember`` random symbols (one-hot, out of ``symbols``), then a
    blank delay, then ``remember`` steps with the "recall now" channel on, at
    which the model must output the symbols it saw. Only the recall steps are
    scored (cross-entropy); guessing gives ln(symbols).
    """

    name = "copy"
    title = "Copy (delayed recall)"
    readout = "all"
    description = (
        "The model sees a few symbols, then a blank delay, then a 'recall now' signal, and must output the "
        "symbols it saw, in order. The longer the delay, the longer it must hold them. Guessing scores "
        "cross-entropy ln(number of symbols)."
    )

    def __init__(self, length: int = 30, symbols: int = 4, remember: int = 3) -> None:
        if not isinstance(symbols, int) or not 2 <= symbols <= len(SYMBOL_NAMES):
            raise ValueError(f"Copy task: symbols must be an integer from 2 to {len(SYMBOL_NAMES)}; got {symbols!r}.")
        if not isinstance(remember, int) or remember < 1:
            raise ValueError(f"Copy task: remember must be a positive integer; got {remember!r}.")
        self.symbols = symbols
        self.remember = remember
        self.min_length = 2 * remember + 1
        super().__init__(length)
        self.delay = length - 2 * remember
        self.input_size = symbols + 1
        self.output_size = symbols
        self.baseline_label = f"guess (cross-entropy ln {symbols} = {math.log(symbols):.2f})"

    @property
    def baseline(self) -> float:
        return math.log(self.symbols)

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        gen = _generator(generator, seed)
        k = self.remember
        shown = torch.randint(0, self.symbols, (batch_size, k), generator=gen)
        x = torch.zeros(batch_size, self.length, self.input_size)
        x[:, :k, : self.symbols] = F.one_hot(shown, self.symbols).float()
        x[:, -k:, self.symbols] = 1.0
        y = torch.full((batch_size, self.length), IGNORE, dtype=torch.long)
        y[:, -k:] = shown
        return x, y

    def step_labels(self, x) -> list[str]:
        labels = []
        for row in _rows(x):
            if row[self.symbols] > 0.5:
                labels.append("recall now")
            elif max(row[: self.symbols]) > 0.5:
                labels.append(f"symbol {SYMBOL_NAMES[row.index(max(row[: self.symbols]))]}")
            else:
                labels.append("blank")
        return labels

    def __repr__(self):
        return f"CopyTask(length={self.length}, symbols={self.symbols}, remember={self.remember})"


@lru_cache(maxsize=1)
def load_sunspots(path: str | None = None) -> Tensor:
    """The monthly mean sunspot numbers, January 1749 to June 2009, as a ``(months,)`` tensor.

    Read from ``data/sunspots_monthly.csv`` (public domain; see ``data/README.md``).
    """
    path = Path(path) if path else DATA_DIR / "sunspots_monthly.csv"
    if not path.exists():
        raise FileNotFoundError(f"the sunspot data is missing: {path}. It ships with grutools; reinstall it from its wheel "
                                "or sdist (pip install --force-reinstall grutools).")
    with open(path, newline="") as handle:
        values = [float(row["sunspot_number"]) for row in csv.DictReader(handle)]
    return torch.tensor(values)


class Sunspots(Task):
    """Predict next month's sunspot number from the months before (real data, 1749-2009).

    The series is standardised with the training years' mean and spread. The
    first 80% of months are for training, the last 20% (from 1957) for testing.
    Readout ``"all"``: the model predicts the next month at every step. Predicting
    the mean gives MSE ≈ 1; repeating the last month is a much stronger baseline
    (see :attr:`persistence`).
    """

    name = "sunspots"
    title = "Sunspots (real data)"
    input_size = 1
    output_size = 1
    readout = "all"
    baseline_label = "predict the mean"
    description = (
        "Monthly sunspot numbers observed since 1749 (about 11 years per solar cycle). At every month the "
        "model predicts the next one. The last 20% of the record is held out for testing."
    )

    def __init__(self, length: int = 60) -> None:
        super().__init__(length)
        series = load_sunspots()
        split_at = int(0.8 * len(series))
        if length + 1 > len(series) - split_at:
            raise ValueError(f"Sunspots: the sequence length must be at most {len(series) - split_at - 1}; got {length}.")
        train = series[:split_at]
        self.mean, self.std = train.mean().item(), train.std().item()
        self.series = (series - self.mean) / self.std
        self.split_at = split_at

    def _part(self, split: str) -> Tensor:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test'; got {split!r}.")
        return self.series[: self.split_at] if split == "train" else self.series[self.split_at :]

    @property
    def baseline(self) -> float:
        train = self._part("train")
        return train[1:].var(unbiased=False).item()

    def step_labels(self, x) -> list[str]:
        return [f"sunspot number {row[0] * self.std + self.mean:.0f}" for row in _rows(x)]

    @property
    def persistence(self) -> float:
        """MSE of repeating the last month, on the training part."""
        return self.persistence_on("train")

    def persistence_on(self, split: str) -> float:
        """MSE of repeating the last month, on ``split`` (``"train"`` or ``"test"``)."""
        part = self._part(split)
        return (part[1:] - part[:-1]).pow(2).mean().item()

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        gen = _generator(generator, seed)
        part = self._part(split)
        starts = torch.randint(0, len(part) - self.length, (batch_size,), generator=gen)
        windows = torch.stack([part[s : s + self.length + 1] for s in starts.tolist()])
        return windows[:, :-1, None], windows[:, 1:, None]


class TwoTimescales(Task):
    """Track a fast and a slow running average of the same noisy input (memory on two time scales).

    The input is white noise, one value per step. The two targets at every step
    are exponential moving averages of it, y_fast = a_f y_fast + (1 − a_f) x and
    y_slow likewise with a_s, each scaled to unit variance. With ``fast=2`` and
    ``slow=20`` steps (a = 1 − 1/steps) a network needs units that forget within
    a few steps and units that remember for tens of steps.
    """

    name = "timescales"
    title = "Two time scales"
    input_size = 1
    output_size = 2
    readout = "all"
    baseline_label = "predict 0"
    description = (
        "The input is noise. At every step the model must output two running averages of it: one over the "
        "last couple of steps (fast) and one over the last twenty or so (slow)."
    )

    def __init__(self, length: int = 100, fast: float = 2.0, slow: float = 20.0) -> None:
        super().__init__(length)
        if not 1.0 <= fast < slow:
            raise ValueError(f"Two time scales: need 1 <= fast < slow; got fast={fast}, slow={slow}.")
        self.fast, self.slow = fast, slow
        self.decays = (1.0 - 1.0 / fast, 1.0 - 1.0 / slow)

    @property
    def baseline(self) -> float:
        # predicting 0: the mean variance of the scaled targets, 1 - a^(2t) at step t (both start at 0)
        t = torch.arange(1, self.length + 1, dtype=torch.float64)
        return float(sum((1 - a ** (2 * t)).mean() for a in self.decays) / 2)

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        gen = _generator(generator, seed)
        x = torch.randn(batch_size, self.length, 1, generator=gen)
        targets = []
        for a in self.decays:
            state = torch.zeros(batch_size)
            values = []
            for t in range(self.length):
                state = a * state + (1 - a) * x[:, t, 0]
                values.append(state)
            targets.append(torch.stack(values, 1) / math.sqrt((1 - a) / (1 + a)))
        return x, torch.stack(targets, -1)

    def step_labels(self, x) -> list[str]:
        return [f"input {row[0]:+.2f}" for row in _rows(x)]

    def __repr__(self):
        return f"TwoTimescales(length={self.length}, fast={self.fast}, slow={self.slow})"


TASKS = {"adding": AddingProblem, "copy": CopyTask, "sunspots": Sunspots, "timescales": TwoTimescales}


def make_task(name: str, length: int, **options) -> Task:
    """Build a task by name (``"adding"``, ``"copy"``, ``"sunspots"``) with ``length`` steps."""
    try:
        task_class = TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose one of {sorted(TASKS)}.") from None
    return task_class(length=length, **options)
