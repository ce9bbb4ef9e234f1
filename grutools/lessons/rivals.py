"""The GRU among its rivals (dashboard 07): the same tasks, the same training, measured.

* :data:`MODELS`: the GRU, the LSTM and the rivals of :mod:`grutools.core.rivals` (a
  feed-forward window, a causal TCN, the minGRU, a causal Transformer).
* :class:`RunningParity`: the task where the minGRU's simplification costs it. Its gates
  see the input only, never the state, and its state is a positive mix of the past, so it
  cannot *flip* on a 1 (a GRU's reset and update gates, which see the state, can).
* :func:`rival_race`: train several models in lock step on the same batches, timing each.
* :func:`rivals_study`: parameters, final test loss, time per step and time to a target
  loss over seeds and tasks (``grutools rivals-study``, shipped in ``data/results/rivals.csv``).
* :func:`fit_slope`: the log-log slope of time against length (``benchmarks/rivals_scaling.py``).
* :func:`verdicts`: what the numbers say, in sentences for the page.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..core.models import SequenceModel
from ..core.rivals import RIVAL_NAMES
from ..core.tasks import AddingProblem, Sunspots, Task, _generator
from ..core.training import History, Trainer, TrainingDiverged, evaluate
from .studies import run_jobs
from .vanishing import write_table

MODELS = ("gru", "lstm", "mlp", "tcn", "mingru", "transformer")
NAMES = {"gru": "GRU", "lstm": "LSTM", **RIVAL_NAMES}
STUDY = {"adding100": ("adding", 100), "adding600": ("adding", 600), "sunspots": ("sunspots", 60),
         "parity": ("parity", 30)}
TARGETS = {"adding": 0.01, "sunspots": 0.2, "parity": 0.05}  # "time to a target loss": the first step below it
# (sunspots: 0.2 is near "repeat last month", MSE 0.18 of the standardised series)
STUDY_COMMAND = "python -m grutools rivals-study --out data/results/rivals.csv"
RESULTS = "rivals.csv"
# Bai, Kolter & Koltun 2018, table 1: the adding problem at T = 600 (test MSE), for the page
BAI_ADDING_600 = {"tcn": 5.8e-5, "gru": 5.3e-5, "lstm": 0.164}


class RunningParity(Task):
    """Running parity: a stream of bits; after every bit, say whether the ones so far are odd or even.

    Input: one-hot bits ``(length, 2)``. Target at every step: the parity of the bits up to
    it (cross-entropy; guessing scores ln 2). A GRU solves it with one unit that flips on a
    1; a model whose state is a positive, input-gated mix of its past (the minGRU) cannot.
    """

    name = "parity"
    title = "Running parity"
    readout = "all"
    input_size = 2
    output_size = 2
    baseline_label = "guess (cross-entropy ln 2 = 0.69)"
    description = ("A stream of bits: after every bit, say whether the number of ones so far is odd or even. "
                   "One unit that flips on every 1 solves it, if its gates can see what it holds.")

    @property
    def baseline(self) -> float:
        return math.log(2)

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        bits = torch.randint(0, 2, (batch_size, self.length), generator=_generator(generator, seed))
        return F.one_hot(bits, 2).float(), torch.cumsum(bits, 1) % 2

    def step_labels(self, x) -> list[str]:
        return [f"bit {int(row[1] > 0.5)}" for row in x.tolist()]


def make_study_task(name: str, length: int) -> Task:
    """A task of the study by name: ``adding``, ``sunspots`` or ``parity``."""
    tasks = {"adding": AddingProblem, "sunspots": Sunspots, "parity": RunningParity}
    if name not in tasks:
        raise ValueError(f"a task of the rivals' study is one of {sorted(tasks)}; got {name!r}.")
    return tasks[name](length)


@dataclass
class RivalRace:
    """What :func:`rival_race` returns: per model, its history, its seconds per step and any divergence."""

    histories: dict[str, History] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=dict)
    models: dict[str, SequenceModel] = field(default_factory=dict)
    diverged: dict[str, TrainingDiverged] = field(default_factory=dict)
    stopped: bool = False

    def ms_per_step(self, kind: str) -> float:
        """The median milliseconds one training step of ``kind`` took."""
        return 1000 * float(np.median(self.seconds[kind])) if self.seconds.get(kind) else float("nan")


def rival_race(task: Task, models: Sequence[str] = MODELS, hidden_size: int = 32, steps: int = 300,
               lr: float = 3e-3, batch_size: int = 32, seed: int = 0,
               callback: Callable[[RivalRace], None] | None = None,
               stop: threading.Event | None = None) -> RivalRace:
    """Train one model of each kind in ``models`` in lock step on the same batches; each step is timed apart.

    Every model has the same hidden size, seed, optimiser (Adam, ``lr``) and gradient
    clipping (1.0). A model whose loss turns NaN stops (``diverged``); the others go on.

    >>> result = rival_race(AddingProblem(10), models=("gru", "mingru"), hidden_size=4, steps=2)
    >>> sorted(result.histories), len(result.seconds["mingru"])
    (['gru', 'mingru'], 2)
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"models are some of {MODELS}; got {list(models)!r}.")
    result = RivalRace()
    trainers = {}
    for kind in models:
        model = SequenceModel(kind, hidden_size=hidden_size, seed=seed, **task.model_kwargs())
        trainers[kind] = Trainer(model, task, lr=lr, settings={"steps": steps, "batch_size": batch_size, "seed": seed})
        result.models[kind], result.histories[kind], result.seconds[kind] = model, trainers[kind].history, []
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        if stop is not None and stop.is_set():
            result.stopped = True
            break
        x, y = task.sample(batch_size, generator=generator)
        for kind, trainer in trainers.items():
            if kind in result.diverged:
                continue
            started = time.perf_counter()
            try:
                trainer.step(x, y)
            except TrainingDiverged as error:
                result.diverged[kind] = error
            result.seconds[kind].append(time.perf_counter() - started)
        if callback is not None:
            callback(result)
        if len(result.diverged) == len(trainers):
            break
    for trainer in trainers.values():
        trainer.finish(stopped=result.stopped)
    return result


def steps_below(losses: Sequence[float], target: float, window: int = 20) -> int | None:
    """The first step (1-based) at which the mean of the last ``window`` losses is below ``target``; ``None``: never.

    >>> steps_below([1.0] * 5 + [0.0] * 5, 0.5, window=2)
    7
    """
    values = np.asarray(losses, dtype=float)
    if values.size < window:
        return None
    means = np.convolve(values, np.ones(window) / window, mode="valid")
    below = np.flatnonzero(means < target)
    return int(below[0]) + window if below.size else None


STUDY_FIELDS = ("task", "length", "model", "seed", "hidden_size", "steps", "parameters", "test_loss",
                "ms_per_step", "steps_to_target", "seconds_to_target", "target")


def _study_rows(name: str, length: int, seed: int, models: Sequence[str], hidden_size: int, steps: int,
                lr: float) -> list[dict]:
    """The rows of one task and seed of :func:`rivals_study` (one torch thread: runs in a worker process too)."""
    torch.set_num_threads(1)
    task = make_study_task(name, length)
    result = rival_race(task, models=models, hidden_size=hidden_size, steps=steps, lr=lr, seed=seed)
    rows = []
    for kind in models:
        history, seconds = result.histories[kind], result.seconds[kind]
        reached = steps_below(history.loss, TARGETS[name])
        rows.append({"task": name, "length": length, "model": kind, "seed": seed, "hidden_size": hidden_size,
                     "steps": steps, "parameters": result.models[kind].parameter_count(),
                     "test_loss": round(evaluate(result.models[kind], task), 6),
                     "ms_per_step": round(result.ms_per_step(kind), 3),
                     "steps_to_target": reached,  # None (never) is written as an empty cell
                     "seconds_to_target": None if reached is None else round(sum(seconds[:reached]), 2),
                     "target": TARGETS[name]})
    return rows


def rivals_study(tasks: Mapping[str, tuple[str, int]] = STUDY, seeds: Sequence[int] = (0, 1, 2),
                 models: Sequence[str] = MODELS, hidden_size: int = 32, steps: int = 600, lr: float = 3e-3,
                 out: str | Path | None = None, progress: bool = True, jobs: int = 1) -> list[dict]:
    """For each task and seed, a :func:`rival_race` of ``models``; one row per model (see :data:`STUDY_FIELDS`).

    ``test_loss`` is on a held-out batch of 256; ``ms_per_step`` the median of the run's
    training steps (the models alternate step by step, so the machine's drift hits all
    alike); ``steps_to_target`` from :func:`steps_below` on the training loss with the
    task's :data:`TARGETS` (empty if never reached). ``jobs`` worker processes run the
    (task, seed) races side by side, one torch thread each. Written to ``out`` as CSV.
    """
    runs = [(name, length, seed, tuple(models), hidden_size, steps, lr) for name, length in tasks.values()
            for seed in seeds]
    results = run_jobs(_study_rows, runs, jobs, progress, label=lambda run: f"{run[0]} {run[1]}: seed {run[2]}")
    rows = [row for run in runs for row in results[run]]
    if out is not None:
        write_table(out, rows, STUDY_FIELDS)
    return rows


def read_study(path: str | Path) -> list[dict]:
    """Read a CSV written by :func:`rivals_study` (numbers converted; an unreached target is ``None``)."""
    import csv

    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("length", "seed", "hidden_size", "steps", "parameters"):
            row[key] = int(row[key])
        for key in ("test_loss", "ms_per_step", "target"):
            row[key] = float(row[key])
        row["steps_to_target"] = int(row["steps_to_target"]) if row["steps_to_target"] else None
        row["seconds_to_target"] = float(row["seconds_to_target"]) if row["seconds_to_target"] else None
    return rows


def summarise_study(rows: Sequence[dict]) -> dict[tuple[str, int, str], dict]:
    """Per (task, length, model): parameters, test loss mean/sd/min/max, median ms per step, seeds that reached the
    target and their median seconds to it."""
    groups: dict[tuple[str, int, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["task"], row["length"], row["model"]), []).append(row)
    summary = {}
    for key, group in groups.items():
        losses = [r["test_loss"] for r in group]
        reached = [r["seconds_to_target"] for r in group if r["seconds_to_target"] is not None]
        summary[key] = {"parameters": group[0]["parameters"], "mean": float(np.mean(losses)),
                        "std": float(np.std(losses, ddof=1)) if len(losses) > 1 else 0.0,
                        "min": float(min(losses)), "max": float(max(losses)), "seeds": len(group),
                        "ms_per_step": float(np.median([r["ms_per_step"] for r in group])),
                        "reached": len(reached), "seconds_to_target": float(np.median(reached)) if reached else None,
                        "target": group[0]["target"]}
    return summary


def fit_slope(lengths: Sequence[float], times: Sequence[float]) -> float:
    """The least-squares slope of log(time) against log(length): 1 for time proportional to length, 2 for its square.

    >>> round(fit_slope([10, 100, 1000], [1, 100, 10000]), 6)
    2.0
    """
    if len(lengths) < 2 or len(lengths) != len(times) or min(lengths) <= 0 or min(times) <= 0:
        raise ValueError("fit_slope needs two or more positive (length, time) pairs.")
    return float(np.polyfit(np.log(lengths), np.log(times), 1)[0])


def verdicts(summary: Mapping[tuple[str, int, str], dict]) -> list[str]:
    """Sentences read from the study's numbers: on each task, who comes within a factor 2 of the best, and who fails.

    A model "fails" a task when its mean test loss is above half the guess (the task's
    baseline); "comparable" means within a factor 2 of the best mean test loss.
    """
    sentences = []
    tasks = sorted({(task, length) for task, length, _ in summary})
    for task, length in tasks:
        rows = {m: s for (t, n, m), s in summary.items() if (t, n) == (task, length)}
        baseline = make_study_task(task, length).baseline
        best = min(rows, key=lambda m: rows[m]["mean"])
        close = [m for m in rows if rows[m]["mean"] <= 2 * rows[best]["mean"]]
        failed = [m for m in rows if rows[m]["mean"] > 0.5 * baseline]
        if best in failed:  # nobody learned it: "best" and "within a factor 2" would only rank failures
            sentences.append(f"{task} (length {length}): no model got below half the guess ({0.5 * baseline:.3g}) "
                             f"in this budget; the lowest mean test loss, {NAMES[best]}'s {rows[best]['mean']:.3g}, "
                             f"is near the guess ({baseline:.3g}).")
            continue
        text = (f"{task} (length {length}): best {NAMES[best]} ({rows[best]['mean']:.3g}); within a factor 2: "
                f"{', '.join(NAMES[m] for m in close)}")
        if failed:
            text += f"; no better than half the guess ({0.5 * baseline:.3g}): {', '.join(NAMES[m] for m in failed)}"
        mixed = [m for m in rows if m != best and rows[m].get("min", rows[m]["mean"]) < rows[best]["mean"]]
        if mixed:  # the means hide a seed that did better than the best model's average
            text += "; mixed over seeds: " + ", ".join(f"{NAMES[m]}'s best seed ({rows[m]['min']:.3g})" for m in mixed)
            text += f" beat {NAMES[best]}'s mean"
        sentences.append(text + ".")
    return sentences


def claims(summary: Mapping[tuple[str, int, str], dict]) -> list[str]:
    """The glossary's claims checked against the study: "comparable results at lower computational complexity" (against
    the LSTM and against the rivals) and "more complex than feed-forward and convolutional networks" (parameters, time)."""
    tasks = sorted({(task, length) for task, length, _ in summary})
    have = {kind for _, _, kind in summary}
    sentences = []
    if {"gru", "lstm"} <= have:
        params = summary[tasks[0] + ("gru",)]["parameters"] / summary[tasks[0] + ("lstm",)]["parameters"]
        time_ratios = [summary[t + ("gru",)]["ms_per_step"] / summary[t + ("lstm",)]["ms_per_step"] for t in tasks]
        close = [t for t in tasks if summary[t + ("gru",)]["mean"] <= 2 * summary[t + ("lstm",)]["mean"]]
        better = [t for t in tasks if summary[t + ("gru",)]["mean"] < summary[t + ("lstm",)]["mean"]]
        sentences.append(
            f"Against the LSTM: the GRU has {params:.0%} of its parameters and takes {min(time_ratios):.0%}-"
            f"{max(time_ratios):.0%} of its time per training step; its mean test loss is within a factor 2 of the "
            f"LSTM's on {len(close)} of {len(tasks)} tasks, and lower on {len(better)}.")
    others = [k for k in ("mlp", "tcn") if k in have]
    if "gru" in have and others:
        first = tasks[0]
        counts = ", ".join(f"{NAMES[k]} {summary[first + (k,)]['parameters']:,}" for k in others)
        slower = {k: sum(summary[t + ("gru",)]["ms_per_step"] > summary[t + (k,)]["ms_per_step"] for t in tasks)
                  for k in others}
        sentences.append(
            f"\"More complex than feed-forward and convolutional networks\": at the same width the GRU has "
            f"{summary[first + ('gru',)]['parameters']:,} parameters ({counts}); its training step is slower than the "
            + " and ".join(f"{NAMES[k]}'s on {slower[k]} of {len(tasks)} tasks" for k in others) + ".")
    rivals = [k for k in ("mlp", "tcn", "mingru", "transformer") if k in have]
    if "gru" in have and rivals:
        beaten = {k: sum(summary[t + ("gru",)]["mean"] < summary[t + (k,)]["mean"] for t in tasks) for k in rivals}
        sentences.append("Comparable results? The GRU's mean test loss is lower than the "
                         + ", ".join(f"{NAMES[k]}'s on {beaten[k]}" for k in rivals) + f" of {len(tasks)} tasks.")
    return sentences


def gru_choice(summary: Mapping[tuple[str, int, str], dict], scaling: Mapping | None) -> list[str]:
    """When the shipped numbers make a GRU the right choice, and when they do not (sentences for the verdict).

    ``scaling`` is ``data/results/rivals_scaling.json`` (or ``None``). Each sentence is
    read from the numbers: a condition that does not hold is not claimed.
    """
    right, wrong = [], []
    tasks = sorted({(task, length) for task, length, _ in summary})
    if scaling:
        stream = scaling["stream"]
        gru_bytes, cache = stream["gru"]["bytes"], stream["transformer"]["bytes"]
        if gru_bytes[0] == gru_bytes[-1] and cache[-1] > cache[0]:
            right.append(f"streaming: it keeps {gru_bytes[-1]} bytes a sequence however long, where the Transformer's "
                         f"cache reached {cache[-1] / 1024:,.0f} KiB after {scaling['stream_at'][-1]:,} steps")
        lengths, train = scaling["lengths"], scaling["train_ms"]
        parallel = [k for k in ("tcn", "mingru", "transformer") if k in train]
        faster = [n for i, n in enumerate(lengths) if all(train["gru"][i] < train[k][i] for k in parallel)]
        if faster:
            right.append(f"training on this CPU: its step was faster than every parallel model's at "
                         f"{len(faster)} of {len(lengths)} lengths ({faster[0]:,}-{faster[-1]:,})")
        if len(faster) < len(lengths):
            wrong.append("training long sequences where the parallel models were faster per step: lengths "
                         + ", ".join(f"{n:,}" for n in lengths if n not in faster))
    for task, length in tasks:
        rows = {m: s for (t, n, m), s in summary.items() if (t, n) == (task, length)}
        half = 0.5 * make_study_task(task, length).baseline
        if "gru" not in rows:
            continue
        gru = rows["gru"]["mean"]
        lost = [m for m in rows if m != "gru" and rows[m]["mean"] > half]
        if gru < half and lost:
            right.append(f"{task} (length {length}), where {', '.join(NAMES[m] for m in lost)} stayed above half the "
                         "guess")
        if "mlp" in rows and rows["mlp"]["mean"] <= 1.1 * gru and gru < half:
            wrong.append(f"{task} (length {length}), where the window, with no memory past 16 steps, did as well")
        better = [m for m in rows if m != "gru" and rows[m]["mean"] < gru]
        if better:
            wrong.append(f"{task} (length {length}), where {', '.join(NAMES[m] for m in better)} had a lower mean")
    sentences = []
    if right:
        sentences.append("The numbers favour a GRU for " + "; ".join(right) + ".")
    if wrong:
        sentences.append("They do not for " + "; ".join(wrong) + ". Parallel hardware (a GPU), where the "
                         "TCN and the Transformer gain most, was not measured here.")
    return sentences
