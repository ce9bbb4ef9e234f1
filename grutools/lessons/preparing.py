"""Preparing the data (dashboard 08): scaling a real series, and targets misaligned with their inputs.

* :class:`Transform`: raw numbers, standardised, or log-then-standardised, fitted on the
  training months only, with its inverse (to read predictions in sunspot numbers again).
* :class:`PreparedSunspots`: the sunspot task seen through one transform and one window length.
* :func:`preparation_race`: three GRUs, the same seed and the same windows, one per transform;
  each is scored on held-out months *in sunspot numbers* (the only fair common unit).
* :func:`shift_targets` and :class:`ShiftedEcho`: targets moved k steps against their inputs. A
  target that lags the input by k asks the GRU to remember k steps; one that leads asks for the
  future, which no causal model can learn.
* :func:`shift_sweep`: the loss against k.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..core.models import SequenceModel
from ..core.tasks import Sunspots, Task, _generator, load_sunspots
from ..core.training import History, Trainer, TrainingDiverged

TRANSFORMS = ("raw", "standardised", "log")
TRANSFORM_NAMES = {"raw": "raw numbers", "standardised": "standardised", "log": "log, then standardised"}


@dataclass(frozen=True)
class Transform:
    """A fitted pre-processing step: ``forward`` turns sunspot numbers into what the GRU sees, ``inverse`` back.

    ``kind`` is ``"raw"`` (nothing), ``"standardised"`` (minus the mean, over the standard
    deviation) or ``"log"`` (``log(1 + x)``, then standardised). Fit it on training data only.

    >>> t = Transform.fit("standardised", np.array([1.0, 3.0]))
    >>> t.forward(np.array([1.0, 3.0])).tolist(), t.inverse(np.array([0.0])).tolist()
    ([-1.0, 1.0], [2.0])
    """

    kind: str
    shift: float = 0.0
    scale: float = 1.0

    @classmethod
    def fit(cls, kind: str, train) -> Transform:
        if kind not in TRANSFORMS:
            raise ValueError(f"a transform is one of {TRANSFORMS}; got {kind!r}.")
        values = np.asarray(train, dtype=float)
        if values.size < 2 or not np.all(np.isfinite(values)):
            raise ValueError("fit a transform on at least two finite values.")
        if kind == "raw":
            return cls("raw")
        if kind == "log":
            if values.min() <= -1:
                raise ValueError("log(1 + x) needs values above -1; this series has "
                                 f"{values.min():g}.")
            values = np.log1p(values)
        scale = float(values.std())
        return cls(kind, float(values.mean()), scale if scale > 0 else 1.0)

    def forward(self, values):
        """What the GRU sees (NumPy array or tensor in, the same out)."""
        log = torch.log1p if isinstance(values, Tensor) else np.log1p
        if self.kind == "log":
            values = log(values)
        return (values - self.shift) / self.scale

    def inverse(self, values):
        """Back to the series' own numbers."""
        expm1 = torch.expm1 if isinstance(values, Tensor) else np.expm1
        values = values * self.scale + self.shift
        return expm1(values) if self.kind == "log" else values


class PreparedSunspots(Sunspots):
    """The sunspot task through ``transform`` (see :class:`Transform`), on windows of ``length`` months.

    The model trains on the transformed numbers; :meth:`relative_error` scores it in sunspot
    numbers, as a share of the held-out months' variance (1: no better than their mean).
    """

    def __init__(self, length: int = 60, transform: str = "standardised") -> None:
        super().__init__(length)
        raw = load_sunspots()
        self.transform = Transform.fit(transform, raw[: self.split_at].numpy())
        self.raw = raw
        self.series = self.transform.forward(raw.double()).float()
        self.title = f"Sunspots, {TRANSFORM_NAMES[transform]}"

    def step_labels(self, x) -> list[str]:
        values = self.transform.inverse(torch.as_tensor(x)[..., 0].double()).tolist()
        return [f"sunspot number {v:.0f}" for v in values]

    def windows(self, starts: Sequence[int], split: str = "train") -> tuple[Tensor, Tensor]:
        """The windows beginning at ``starts`` (months into the split): inputs and next-month targets."""
        part = self._part(split)
        windows = torch.stack([part[s: s + self.length + 1] for s in starts])
        return windows[:, :-1, None], windows[:, 1:, None]

    @torch.no_grad()
    def relative_error(self, model, starts: Sequence[int], split: str = "test") -> float:
        """Mean squared error in sunspot numbers on the windows at ``starts``, over the split's variance."""
        x, _ = self.windows(starts, split)
        raw_part = self.raw[: self.split_at] if split == "train" else self.raw[self.split_at:]
        target = torch.stack([raw_part[s + 1: s + self.length + 1] for s in starts]).double()
        prediction = self.transform.inverse(model(x)[..., 0].double())
        error = (prediction - target).pow(2).mean().item()
        return error / raw_part.double().var(unbiased=False).item()


def window_starts(task: Sunspots, count: int, split: str, generator: torch.Generator) -> list[int]:
    """``count`` random window starts in ``split`` (the same for every transform: the windows are months)."""
    return torch.randint(0, len(task._part(split)) - task.length, (count,), generator=generator).tolist()


@dataclass
class PreparationRace:
    """What :func:`preparation_race` returns: per transform, its history and its held-out error over training."""

    histories: dict[str, History] = field(default_factory=dict)
    models: dict[str, SequenceModel] = field(default_factory=dict)
    checked_at: list[int] = field(default_factory=list)
    validation: dict[str, list[float]] = field(default_factory=dict)  # relative error in sunspot numbers
    diverged: dict[str, TrainingDiverged] = field(default_factory=dict)
    stopped: bool = False

    def final(self, kind: str) -> float:
        values = self.validation.get(kind) or [float("nan")]
        return values[-1]


def preparation_race(length: int = 60, steps: int = 300, transforms: Sequence[str] = TRANSFORMS,
                     hidden_size: int = 32, lr: float = 1e-2, batch_size: int = 32, seed: int = 0,
                     check_every: int = 25, callback: Callable[[PreparationRace], None] | None = None,
                     stop: threading.Event | None = None) -> PreparationRace:
    """Train one GRU per transform in lock step: the same initial weights, the same windows (months), same steps.

    Every ``check_every`` steps each is scored on the same 128 held-out windows in sunspot
    numbers (:meth:`PreparedSunspots.relative_error`).

    >>> race = preparation_race(length=12, steps=2, hidden_size=4, check_every=1)
    >>> sorted(race.validation), len(race.checked_at)
    (['log', 'raw', 'standardised'], 3)
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    unknown = [t for t in transforms if t not in TRANSFORMS]
    if unknown or not transforms:
        raise ValueError(f"transforms are some of {TRANSFORMS}; got {list(transforms)!r}.")
    tasks = {kind: PreparedSunspots(length, kind) for kind in transforms}
    first = tasks[transforms[0]]
    result = PreparationRace()
    trainers = {}
    for kind, task in tasks.items():
        model = SequenceModel("gru", hidden_size=hidden_size, seed=seed, **task.model_kwargs())
        trainers[kind] = Trainer(model, task, lr=lr, settings={"steps": steps, "batch_size": batch_size, "seed": seed,
                                                                 "transform": kind})
        result.models[kind], result.histories[kind], result.validation[kind] = model, trainers[kind].history, []
    held_out = window_starts(first, 128, "test", torch.Generator().manual_seed(1234))
    generator = torch.Generator().manual_seed(seed)

    def check(step: int) -> None:
        result.checked_at.append(step)
        for kind, task in tasks.items():
            result.validation[kind].append(task.relative_error(result.models[kind], held_out))

    check(0)
    done = 0
    for step in range(1, steps + 1):
        if stop is not None and stop.is_set():
            result.stopped = True
            break
        done = step
        starts = window_starts(first, batch_size, "train", generator)
        for kind, trainer in trainers.items():
            if kind not in result.diverged:
                try:
                    trainer.step(*tasks[kind].windows(starts))
                except TrainingDiverged as error:
                    result.diverged[kind] = error
        if step % check_every == 0 or step == steps:
            check(step)
        if callback is not None:
            callback(result)
    if result.checked_at[-1] != done:  # stopped between two checks: score where it stopped
        check(done)
    for trainer in trainers.values():
        trainer.finish(stopped=result.stopped)
    return result


def shift_targets(x, y, k: int):
    """Move the targets ``k`` steps against the inputs (along axis 1), trimming both to the steps that stay paired.

    After the shift the target at step t is the old target at step t - k: for k > 0 it
    *lags* the input (it belongs to an input seen k steps ago), for k < 0 it *leads* (it
    belongs to an input not yet seen).

    >>> x = np.arange(6)[None]; y = 10 * np.arange(6)[None]
    >>> [a.tolist() for a in shift_targets(x, y, 2)]
    [[[2, 3, 4, 5]], [[0, 10, 20, 30]]]
    >>> [a.tolist() for a in shift_targets(x, y, -2)]
    [[[0, 1, 2, 3]], [[20, 30, 40, 50]]]
    """
    if not isinstance(k, (int, np.integer)):
        raise TypeError(f"the shift must be a whole number of steps; got {k!r}.")
    steps = x.shape[1]
    if x.shape[:2] != y.shape[:2]:
        raise ValueError(f"inputs and targets must have the same batch and length; got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}.")
    if abs(k) >= steps:
        raise ValueError(f"a shift of {k} steps leaves nothing of sequences {steps} steps long.")
    if k >= 0:
        return x[:, k:], y[:, : steps - k]
    return x[:, : steps + k], y[:, -k:]


class ShiftedEcho(Task):
    """Random numbers in; the target is the input moved ``shift`` steps (:func:`shift_targets` of an echo).

    ``shift`` > 0: repeat the number seen ``shift`` steps ago (the GRU must hold it that long).
    ``shift`` < 0: name the number that comes ``-shift`` steps later: the future, unlearnable.
    ``length`` is the length after trimming. Guessing 0 scores 1 (the inputs' variance).
    """

    name = "shifted"
    title = "Shifted echo"
    input_size = 1
    output_size = 1
    readout = "all"
    baseline_label = "guess 0 (variance 1)"
    description = "Random numbers in; the target is the same numbers moved k steps."

    def __init__(self, length: int = 40, shift: int = 0) -> None:
        super().__init__(length)
        if not isinstance(shift, int):
            raise TypeError(f"the shift must be a whole number of steps; got {shift!r}.")
        self.shift = shift

    @property
    def baseline(self) -> float:
        return 1.0

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        values = torch.randn(batch_size, self.length + abs(self.shift), 1, generator=_generator(generator, seed))
        return shift_targets(values, values, self.shift)

    def step_labels(self, x) -> list[str]:
        return [f"input {row[0]:+.2f}" for row in torch.as_tensor(x).tolist()]

    def __repr__(self) -> str:
        return f"ShiftedEcho(length={self.length}, shift={self.shift})"


def shift_sweep(shifts: Sequence[int], length: int = 40, steps: int = 300, hidden_size: int = 32, lr: float = 1e-2,
                batch_size: int = 32, seed: int = 0, callback: Callable[[dict], None] | None = None,
                stop: threading.Event | None = None) -> dict[int, History]:
    """Train one GRU per shift (the same seed); ``{shift: history}``, each history's ``test_loss`` in its settings.

    >>> sorted(shift_sweep([-1, 1], length=6, steps=2, hidden_size=4))
    [-1, 1]
    """
    from ..core.training import evaluate, train

    histories: dict[int, History] = {}
    for shift in shifts:
        if stop is not None and stop.is_set():
            break
        task = ShiftedEcho(length, shift)
        model = SequenceModel("gru", hidden_size=hidden_size, seed=seed, **task.model_kwargs())
        history = train(model, task, steps=steps, lr=lr, batch_size=batch_size, seed=seed, stop=stop)
        if history.stopped:  # half-trained: its loss would say nothing of the shift
            break
        history.settings["test_loss"] = evaluate(model, task)
        histories[shift] = history
        if callback is not None:
            callback(histories)
    return histories
