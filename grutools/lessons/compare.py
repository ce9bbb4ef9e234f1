"""Testing the textbook claims about GRUs against LSTMs (and tanh RNNs), with measurements.

* :func:`matched_hidden_sizes`: hidden sizes that give every cell type the same parameter budget.
* :func:`time_training_steps`: wall-clock seconds of one training step, measured here.
* :func:`learning_curves` / :func:`summarise_curves` / :func:`verdict`: multi-seed learning curves
  on several tasks, at equal hidden size and at equal budget, and what they say.
* :class:`LimitedData`: a task with a finite, possibly noisy training set ("depends on data").
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from ..core.models import CELL_NAMES, CELLS, SequenceModel
from ..core.tasks import Task, make_task
from ..core.training import Trainer, evaluate
from .vanishing import race

# the tasks and lengths of the GRU-vs-LSTM study (dashboard 04)
STUDY_TASKS = {"adding": 50, "copy": 30, "sunspots": 60}
BLOCK = 10  # learning curves are stored as means over blocks of this many steps


def model_parameters(cell: str, task: Task, hidden_size: int) -> int:
    """Trainable parameters of a :class:`SequenceModel` for ``task`` (core and head), counted by PyTorch."""
    return SequenceModel(cell, hidden_size=hidden_size, **task.model_kwargs()).parameter_count()


def matched_hidden_sizes(task: Task, budget: int, cells: Sequence[str] = CELLS, largest: int = 1024) -> dict[str, int]:
    """For each cell type, the hidden size whose model's parameter count is closest to ``budget``.

    >>> from grutools import AddingProblem
    >>> matched_hidden_sizes(AddingProblem(10), 3489)  # the budget of a 32-unit GRU
    {'rnn': 57, 'gru': 32, 'lstm': 27}
    """
    if not isinstance(budget, int) or budget < 1:
        raise ValueError(f"the parameter budget must be a positive integer; got {budget!r}.")
    sizes = {}
    for cell in cells:
        counts = {h: model_parameters(cell, task, h) for h in range(1, largest + 1)}
        sizes[cell] = min(counts, key=lambda h: (abs(counts[h] - budget), h))
    return sizes


def time_training_steps(cell: str, task: Task, hidden_size: int, batch_size: int = 64, repeats: int = 5,
                        warmup: int = 2, seed: int = 0) -> list[float]:
    """Seconds for one training step (forward, backward, Adam update) of a fresh model, ``repeats`` times."""
    model = SequenceModel(cell, hidden_size=hidden_size, seed=seed, **task.model_kwargs())
    trainer = Trainer(model, task)
    x, y = task.sample(batch_size, seed=seed)
    times = []
    for i in range(warmup + repeats):
        start = time.perf_counter()
        trainer.step(x, y)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def block_means(values: Sequence[float], block: int = BLOCK) -> list[float]:
    """Means over consecutive blocks of ``block`` values (the last block may be shorter)."""
    values = np.asarray(values, dtype=float)
    return [float(values[i:i + block].mean()) for i in range(0, len(values), block)]


def learning_curves(tasks: Mapping[str, int] = STUDY_TASKS, seeds: Sequence[int] = (0, 1, 2), hidden_size: int = 32,
                    steps: int = 800, lr: float = 1e-2, out: str | Path | None = None, progress: bool = True) -> dict:
    """Train RNN, GRU and LSTM on each task over seeds, at equal hidden size and at the GRU's parameter budget.

    Returns (and writes to ``out`` as JSON) ``{"settings": ..., "runs": [...]}``, one run
    per task, mode (``"equal size"``/``"equal budget"``), cell and seed, with its
    hidden size, parameter count, loss curve (means over blocks of ``BLOCK`` steps),
    final test loss and seconds per step.
    """
    runs = []
    for name, length in tasks.items():
        task = make_task(name, length)
        budget = model_parameters("gru", task, hidden_size)
        modes = {"equal size": dict.fromkeys(CELLS, hidden_size), "equal budget": matched_hidden_sizes(task, budget)}
        for mode, sizes in modes.items():
            for seed in seeds:
                result = race(task, hidden_size=sizes, steps=steps, lr=lr, seed=seed, record_every=steps,
                              progress=progress)
                for cell, history in result.histories.items():
                    model = result.models[cell]
                    test = evaluate(model, task)  # a held-out batch of 256, the same for every run
                    runs.append({"task": name, "length": length, "mode": mode, "cell": cell, "seed": seed,
                                 "hidden_size": sizes[cell], "parameters": model.parameter_count(),
                                 "curve": [round(v, 6) for v in block_means(history.loss)], "test_loss": round(test, 6),
                                 "baseline": task.baseline})
    data = {"settings": {"steps": steps, "lr": lr, "batch_size": 64, "block": BLOCK, "hidden_size": hidden_size,
                         "seeds": list(seeds), "tasks": dict(tasks)}, "runs": runs}
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=0))
    return data


def read_curves(path: str | Path) -> dict:
    """Read a JSON file written by :func:`learning_curves`."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "runs" not in data or "settings" not in data:
        raise ValueError(f"{path} is not a learning-curves file written by grutools (no 'runs'/'settings').")
    return data


def summarise_curves(data: dict, task: str, mode: str) -> dict[str, dict]:
    """Per cell: mean and spread (min, max over seeds) of the curve, test losses, hidden size and parameters."""
    out = {}
    for cell in CELLS:
        runs = [r for r in data["runs"] if r["task"] == task and r["mode"] == mode and r["cell"] == cell]
        if not runs:
            continue
        curves = np.array([r["curve"] for r in runs])
        out[cell] = {"mean": curves.mean(0), "low": curves.min(0), "high": curves.max(0),
                     "test": np.array([r["test_loss"] for r in runs]), "hidden_size": runs[0]["hidden_size"],
                     "parameters": runs[0]["parameters"], "baseline": runs[0]["baseline"], "seeds": len(runs)}
    return out


def steps_to_reach(curve: Sequence[float], threshold: float, block: int = BLOCK) -> int | None:
    """The first training step at which a block-mean curve is below ``threshold`` (``None`` if never)."""
    below = np.flatnonzero(np.asarray(curve) < threshold)
    return int((below[0] + 1) * block) if len(below) else None


def verdict(summary: Mapping[str, dict], a: str = "gru", b: str = "lstm") -> str:
    """One plain sentence comparing two cell types' final test losses and convergence, read from ``summary``.

    "Better" is claimed only when every seed of one is below every seed of the
    other; otherwise the result is called a tie within the spread of the seeds.
    """

    sa, sb = summary[a], summary[b]
    ta, tb = sa["test"], sb["test"]
    if min(sa["seeds"], sb["seeds"]) < 2:
        lower = a if ta.mean() < tb.mean() else b
        result = (f"the {CELL_NAMES[lower]} ends lower in this single run (one seed shows no spread, so this is no "
                  "evidence either way)")
    elif ta.max() < tb.min():
        result = f"the {CELL_NAMES[a]} ends lower than the {CELL_NAMES[b]} for every seed"
    elif tb.max() < ta.min():
        result = f"the {CELL_NAMES[b]} ends lower than the {CELL_NAMES[a]} for every seed"
    else:
        result = f"the {CELL_NAMES[a]} and the {CELL_NAMES[b]} are tied within the spread of the seeds"
    threshold = 0.1 * sa["baseline"]
    reach_a, reach_b = steps_to_reach(sa["mean"], threshold), steps_to_reach(sb["mean"], threshold)
    def say(cell: str, reach: int | None) -> str:
        if reach:
            return f"the {CELL_NAMES[cell]}'s training loss reaches 10% of the 'learned nothing' loss at step {reach}"
        return f"the {CELL_NAMES[cell]}'s never reaches 10% of the 'learned nothing' loss"

    return (f"Test loss {CELL_NAMES[a]} {ta.mean():.4f} (seeds {ta.min():.4f}-{ta.max():.4f}) against {CELL_NAMES[b]} "
            f"{tb.mean():.4f} ({tb.min():.4f}-{tb.max():.4f}): {result}; {say(a, reach_a)}, {say(b, reach_b)}.")


# ------------------------------------------------------------------------------------------------
# Data quality


class LimitedData(Task):
    """A task seen through a finite training set of ``train_size`` sequences, with noisy labels.

    ``label_noise`` is, for a regression task, the standard deviation of Gaussian
    noise added to every training target, in units of the targets' own spread; for
    a classification task, the probability that a scored training label is replaced
    by a random class. The noise is drawn once (a fixed, noisy data set, not fresh
    noise per step). Test batches (``split="test"``) come clean from the underlying task.
    """

    def __init__(self, task: Task, train_size: int, label_noise: float = 0.0, seed: int = 0) -> None:
        if not isinstance(train_size, int) or train_size < 1:
            raise ValueError(f"the training-set size must be a positive integer; got {train_size!r}.")
        if not (0.0 <= label_noise <= 10.0):
            raise ValueError(f"label noise must be between 0 and 10; got {label_noise!r}.")
        self.task = task
        self.length = task.length
        self.name, self.title, self.readout = task.name, task.title, task.readout
        self.input_size, self.output_size = task.input_size, task.output_size
        self.baseline_label = task.baseline_label
        self.train_size, self.label_noise = train_size, label_noise
        gen = torch.Generator().manual_seed(seed + 4242)
        x, y = task.sample(train_size, generator=gen)
        if y.is_floating_point():
            spread = float(y.std()) if y.numel() > 1 else 1.0
            y = y + label_noise * spread * torch.randn(y.shape, generator=gen)
        elif label_noise > 0:
            flip = (torch.rand(y.shape, generator=gen) < min(label_noise, 1.0)) & (y >= 0)
            random = torch.randint(0, task.output_size, y.shape, generator=gen)
            y = torch.where(flip, random, y)
        self.x, self.y = x, y

    @property
    def baseline(self) -> float:
        return self.task.baseline

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        if split == "test":
            return self.task.sample(batch_size, generator=generator, seed=seed, split="test")
        gen = generator if generator is not None else torch.Generator().manual_seed(0 if seed is None else seed)
        index = torch.randint(0, self.train_size, (batch_size,), generator=gen)
        return self.x[index], self.y[index]

    def __repr__(self) -> str:
        return f"LimitedData({self.task!r}, train_size={self.train_size}, label_noise={self.label_noise})"


def data_quality_run(task: Task, train_size: int, label_noise: float, hidden_size: int = 16, steps: int = 400,
                     seed: int = 0, eval_every: int = 20, stop=None, callback=None) -> dict[str, list]:
    """Train a GRU on ``LimitedData(task, train_size, label_noise)``; training and clean test loss over steps."""
    data = LimitedData(task, train_size, label_noise, seed=seed)
    model = SequenceModel("gru", hidden_size=hidden_size, seed=seed, **task.model_kwargs())
    trainer = Trainer(model, data)
    generator = torch.Generator().manual_seed(seed)
    x_test, y_test = task.sample(256, seed=1234, split="test")
    out = {"step": [], "train": [], "test": []}
    for step in range(1, steps + 1):
        if stop is not None and stop.is_set():
            break
        trainer.step(*data.sample(64, generator=generator))
        if step % eval_every == 0 or step == steps:
            with torch.no_grad():
                test = task.loss(model(x_test), y_test).item()
            out["step"].append(step)
            out["train"].append(float(np.mean(trainer.history.loss[-eval_every:])))
            out["test"].append(test)
            if callback is not None:
                callback(out)
    return out
