"""Training: :func:`train` returns a :class:`History` with the loss per step and weight snapshots."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from .tasks import Task


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite. The model keeps its last finite weights.

    Attributes: ``step`` (where it happened), ``loss`` and ``history`` (up to that step).
    """

    def __init__(self, step: int, loss: float, lr: float, clip_grad: float | None, history: History) -> None:
        self.step, self.loss, self.history = step, loss, history
        fixes = f"a lower learning rate (now {lr:g}, try {lr / 10:g})"
        if clip_grad is None:
            fixes += " or gradient clipping (clip_grad=1.0)"
        else:
            fixes += f" or stronger gradient clipping (now {clip_grad:g})"
        super().__init__(
            f"Training diverged at step {step}: the loss became {loss}. "
            f"The model keeps the weights it had before that step. Try {fixes}."
        )


@dataclass
class History:
    """What happened during training.

    Attributes:
        step: the step numbers (1-based), one per entry of ``loss``.
        loss: training loss at each step (before that step's update).
        wall_time: seconds since the start of training at each step.
        snapshots: ``(step, state_dict)`` pairs, step 0 being the untrained model.
        stopped: ``True`` if training was stopped early (Stop button or ``stop`` event).
        settings: the arguments of the run (task, steps, lr, seed, ...).
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    wall_time: list[float] = field(default_factory=list)
    snapshots: list[tuple[int, dict[str, torch.Tensor]]] = field(default_factory=list)
    stopped: bool = False
    settings: dict = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        """Mean of the last 10% of the recorded losses (at least one), a less noisy "final" value."""
        if not self.loss:
            raise ValueError("this history has no steps yet.")
        tail = max(1, len(self.loss) // 10)
        return sum(self.loss[-tail:]) / tail

    def to_dict(self) -> dict:
        """Plain data (lists, numbers, tensors) that ``torch.load(weights_only=True)`` accepts."""
        return {
            "step": list(self.step),
            "loss": list(self.loss),
            "wall_time": list(self.wall_time),
            "snapshots": [[s, dict(sd)] for s, sd in self.snapshots],
            "stopped": self.stopped,
            "settings": dict(self.settings),
        }

    @classmethod
    def from_dict(cls, data: dict) -> History:
        return cls(
            step=list(data["step"]),
            loss=list(data["loss"]),
            wall_time=list(data["wall_time"]),
            snapshots=[(int(s), sd) for s, sd in data["snapshots"]],
            stopped=bool(data["stopped"]),
            settings=dict(data["settings"]),
        )


def _copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


class Trainer:
    """One model, its optimiser and its :class:`History`, advanced one batch at a time.

    :func:`train` runs one ``Trainer`` in a loop; a race runs several in lock step on
    the same batches. Arguments as in :func:`train`.
    """

    def __init__(self, model: nn.Module, task: Task, lr: float = 1e-2, clip_grad: float | None = 1.0,
                 snapshot_every: int | None = None, settings: dict | None = None) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module (e.g. a grutools.SequenceModel); got {type(model).__name__}.")
        if not isinstance(task, Task):
            hint = f" Make one with grutools.make_task({task!r}, length)." if isinstance(task, str) else ""
            raise TypeError(f"task must be a grutools Task, e.g. AddingProblem(100); got {type(task).__name__}.{hint}")
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"lr (the learning rate) must be a positive number; got {lr!r}.")
        if clip_grad is not None and not (isinstance(clip_grad, (int, float)) and clip_grad > 0):
            raise ValueError(f"clip_grad must be a positive number or None; got {clip_grad!r}.")
        expected = getattr(model, "input_size", task.input_size)
        if expected != task.input_size:
            raise ValueError(f"the model takes {expected} input features but the task {task.title!r} has "
                             f"{task.input_size}; build the model with SequenceModel(cell, hidden_size=..., "
                             "**task.model_kwargs()).")
        self.model, self.task, self.lr, self.clip_grad, self.snapshot_every = model, task, lr, clip_grad, snapshot_every
        self.history = History(settings=dict(settings or {}, task=task.name, length=task.length, lr=lr,
                                             clip_grad=clip_grad, snapshot_every=snapshot_every))
        self.history.snapshots.append((0, _copy_state(model)))
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self._last_good = _copy_state(model)
        self._start = time.perf_counter()
        self.steps_done = 0
        self.grad_norm = float("nan")  # the last step's gradient norm, before clipping

    def step(self, x: Tensor, y: Tensor) -> float:
        """One optimiser step on the batch ``(x, y)``; returns the loss before the step.

        Raises:
            TrainingDiverged: the loss is NaN or infinite; the model is put back to
                its weights before this step.
        """
        model = self.model
        model.train()
        step = self.steps_done + 1
        x, y = batch_for(model, x, y)
        loss = self.task.loss(model(x), y)
        value = loss.item()
        if not math.isfinite(value):
            model.load_state_dict(self._last_good)
            model.eval()
            raise TrainingDiverged(step, value, self.lr, self.clip_grad, self.history)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip_grad is not None:  # the norm before clipping, for a run's monitor (dashboard 08)
            norm = nn.utils.clip_grad_norm_(model.parameters(), self.clip_grad)
        else:
            norm = nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
        self.grad_norm = float(norm)
        self._last_good = _copy_state(model)
        self.optimizer.step()
        model.eval()
        self.steps_done = step
        history = self.history
        history.step.append(step)
        history.loss.append(value)
        history.wall_time.append(time.perf_counter() - self._start)
        if self.snapshot_every and step % self.snapshot_every == 0:
            history.snapshots.append((step, _copy_state(model)))
        return value

    def finish(self, stopped: bool = False) -> History:
        """Close the history: mark it stopped or not and keep a final snapshot."""
        history = self.history
        history.stopped = history.stopped or stopped
        final_step = history.step[-1] if history.step else 0
        if history.snapshots[-1][0] != final_step:
            history.snapshots.append((final_step, _copy_state(self.model)))
        return history


def train(
    model: nn.Module,
    task: Task,
    steps: int = 1000,
    lr: float = 1e-2,
    batch_size: int = 64,
    seed: int = 0,
    clip_grad: float | None = 1.0,
    snapshot_every: int | None = None,
    callback: Callable[[History], None] | None = None,
    stop: threading.Event | None = None,
    progress: bool = False,
) -> History:
    """Train ``model`` on batches from ``task`` with Adam, in place, and return the :class:`History`.

    Args:
        model: usually a :class:`grutools.SequenceModel` sized for the task.
        task: where the batches come from, e.g. ``AddingProblem(100)``.
        steps: number of optimiser steps (one fresh batch each).
        lr: Adam's learning rate.
        batch_size: sequences per step.
        seed: seeds the batches; the same model, task and seed give the same run.
        clip_grad: clip the gradient norm to this value (``None``: no clipping).
        snapshot_every: keep a copy of the weights every this many steps (and at
            steps 0 and the end) for scrubbing through training; ``None`` keeps the
            first and the last only.
        callback: called as ``callback(history)`` after every step; keep it cheap,
            or throttle it, as it runs in the training loop.
        stop: a ``threading.Event``; when set (say by a dashboard's Stop button in
            another thread) training ends after the current step, keeping what it
            learned, and ``history.stopped`` is ``True``.
        progress: show a progress bar (tqdm).

    Raises:
        TrainingDiverged: the loss became NaN or infinite; the model is left with
            the last finite weights.

    >>> from grutools import SequenceModel, AddingProblem
    >>> task = AddingProblem(20)
    >>> model = SequenceModel("gru", hidden_size=8, seed=0, **task.model_kwargs())
    >>> history = train(model, task, steps=5)
    >>> len(history.loss)
    5
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    trainer = Trainer(model, task, lr=lr, clip_grad=clip_grad, snapshot_every=snapshot_every,
                      settings={"steps": steps, "batch_size": batch_size, "seed": seed})
    history = trainer.history
    generator = torch.Generator().manual_seed(seed)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"training {getattr(model, 'cell', 'model')} on {task.name}", unit="step")
    try:
        for step in range(1, steps + 1):
            if stop is not None and stop.is_set():
                history.stopped = True
                break
            value = trainer.step(*task.sample(batch_size, generator=generator))
            if bar is not None:
                bar.update(1)
                if step % 10 == 0:
                    bar.set_postfix(loss=f"{value:.4f}")
            if callback is not None:
                callback(history)
    finally:
        if bar is not None:
            bar.close()
        model.eval()
    return trainer.finish()


def batch_for(model: nn.Module, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """A task's batch (float32, on the CPU) in the model's floating dtype and on its device; class labels stay integers."""
    parameter = next(model.parameters(), None)
    if parameter is None:
        return x, y

    def move(t: Tensor) -> Tensor:
        return t.to(parameter.device, parameter.dtype) if t.is_floating_point() else t.to(parameter.device)

    return move(x), move(y)


@torch.no_grad()
def evaluate(model: nn.Module, task: Task, batch_size: int = 256, seed: int = 1234, split: str = "test") -> float:
    """The model's loss on one fixed batch of the task (held-out years for real data)."""
    was_training = model.training
    model.eval()
    x, y = batch_for(model, *task.sample(batch_size, seed=seed, split=split))
    value = task.loss(model(x), y).item()
    model.train(was_training)
    return value
