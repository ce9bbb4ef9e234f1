"""Choosing the settings (dashboard 08): a grid of learning rate by hidden size, over seeds, GRU and LSTM.

* :func:`grid_run`: one cell of the grid, one seed: the held-out loss after a fixed budget.
* :func:`tuning_study`: the whole grid (``grutools tuning-study``, shipped in
  ``data/results/tuning.csv``), with ``--jobs`` worker processes.
* :func:`summarise_grid`: per task and model, the mean and spread over seeds of every cell.
* :func:`importance`: how much of the spread of log-loss the learning rate, the hidden size,
  their interaction and the seeds explain (a two-way analysis of variance), to test Greff et
  al. (2017): the learning rate matters most, and interacts little with size.
* :func:`stability`: the seed-to-seed spread and the width of the learning-rate range that
  trains, to test the claim that a GRU is "more stable" than an LSTM.
* :func:`tuning_claims`: both claims, in sentences, as the numbers say.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from ..core.models import SequenceModel
from ..core.tasks import AddingProblem, Sunspots, Task
from ..core.training import TrainingDiverged, evaluate, train
from .studies import read_rows, run_jobs
from .vanishing import write_table

LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)  # four decades, half a decade apart
HIDDEN_SIZES = (8, 32, 64)
CELLS = ("gru", "lstm")
TASKS = {"sunspots": ("sunspots", 60), "adding": ("adding", 50)}
STEPS = 300
FIELDS = ["task", "length", "model", "hidden_size", "lr", "seed", "steps", "test_loss", "bar", "diverged", "seconds"]
STUDY_COMMAND = "python -m grutools tuning-study --jobs 2 --out data/results/tuning.csv"


def make_task(name: str, length: int) -> Task:
    tasks = {"adding": AddingProblem, "sunspots": Sunspots}
    if name not in tasks:
        raise ValueError(f"a task of the tuning study is one of {sorted(tasks)}; got {name!r}.")
    return tasks[name](length)


def training_bar(task: Task) -> float:
    """The held-out loss below which a run counts as trained: the adding problem's 0.01 (a twentieth of guessing);
    for the sunspots, repeating last month's number on the held-out months."""
    if isinstance(task, Sunspots):
        return task.persistence_on("test")
    return 0.01


def grid_run(name: str, length: int, model_kind: str, hidden_size: int, lr: float, seed: int,
             steps: int = STEPS, batch_size: int = 32, stop=None) -> dict:
    """One cell and seed of the grid: train, then the loss on 256 held-out sequences (``inf`` if it diverged).
    ``stop`` (a ``threading.Event``) ends the training early; ``steps`` in the row says how far it got.

    >>> row = grid_run("adding", 10, "gru", 4, 1e-2, 0, steps=2)
    >>> sorted(row)[:3], row["diverged"]
    (['bar', 'diverged', 'hidden_size'], 0)
    """
    torch.set_num_threads(1)
    task = make_task(name, length)
    model = SequenceModel(model_kind, hidden_size=hidden_size, seed=seed, **task.model_kwargs())
    started = time.perf_counter()
    diverged = 0
    done = steps
    try:
        done = len(train(model, task, steps=steps, lr=lr, batch_size=batch_size, seed=seed, stop=stop).loss)
    except TrainingDiverged:
        diverged = 1
    loss = evaluate(model, task)
    if diverged or not math.isfinite(loss):
        loss, diverged = float("inf"), 1
    return {"task": name, "length": length, "model": model_kind, "hidden_size": hidden_size, "lr": lr, "seed": seed,
            "steps": done, "test_loss": loss, "bar": training_bar(task), "diverged": diverged,
            "seconds": round(time.perf_counter() - started, 3)}


def tuning_study(tasks: Mapping[str, tuple[str, int]] = TASKS, models: Sequence[str] = CELLS,
                 learning_rates: Sequence[float] = LEARNING_RATES, hidden_sizes: Sequence[int] = HIDDEN_SIZES,
                 seeds: Sequence[int] = (0, 1, 2), steps: int = STEPS, out: str | Path | None = None,
                 progress: bool = True, jobs: int = 1) -> list[dict]:
    """Every task, model, learning rate, hidden size and seed (:func:`grid_run`); one row each, written to ``out``."""
    runs = [(name, length, kind, hidden, lr, seed, steps) for name, length in tasks.values() for kind in models
            for hidden in hidden_sizes for lr in learning_rates for seed in seeds]
    results = run_jobs(grid_run, runs, jobs, progress,
                       label=lambda r: f"{r[0]} {r[2]} {r[3]} units, lr {r[4]:g}, seed {r[5]}")
    rows = [results[run] for run in runs]
    if out is not None:
        write_table(out, rows, FIELDS)
    return rows


def read_grid(path: str | Path) -> list[dict]:
    """Read a CSV written by :func:`tuning_study` (numbers converted)."""
    return read_rows(path, FIELDS, ("length", "hidden_size", "seed", "steps", "diverged"),
                     ("lr", "test_loss", "bar", "seconds"), "a tuning study")


def summarise_grid(rows: Sequence[dict]) -> dict[tuple[str, str], dict]:
    """Per ``(task, model)``: the learning rates and hidden sizes, and ``(hidden, lr)`` arrays over seeds of the
    held-out loss (``mean``, ``std``, ``log`` the per-seed log10 losses), with the task's ``bar``."""
    summary: dict[tuple[str, str], dict] = {}
    for task, model in sorted({(r["task"], r["model"]) for r in rows}):
        mine = [r for r in rows if r["task"] == task and r["model"] == model]
        lrs = sorted({r["lr"] for r in mine})
        sizes = sorted({r["hidden_size"] for r in mine})
        seeds = sorted({r["seed"] for r in mine})
        values = np.full((len(sizes), len(lrs), len(seeds)), np.nan)
        for r in mine:
            values[sizes.index(r["hidden_size"]), lrs.index(r["lr"]), seeds.index(r["seed"])] = r["test_loss"]
        finite = values[np.isfinite(values)]
        worst = float(finite.max()) if finite.size else 1.0
        capped = np.where(np.isinf(values), worst * 10, values)  # a diverged run counts as ten times the worst
        if np.isnan(capped).any():
            raise ValueError(f"the study lacks runs of {model} on {task}: every learning rate, size and seed is needed.")
        summary[(task, model)] = {"lrs": lrs, "hidden_sizes": sizes, "seeds": seeds, "values": values,
                                  "mean": capped.mean(axis=2), "std": capped.std(axis=2),
                                  "log": np.log10(capped), "bar": mine[0]["bar"],
                                  "diverged": int(np.sum(np.isinf(values)))}
    return summary


def importance(cell: Mapping) -> dict[str, float]:
    """Shares of the total variance of log10(loss) explained by the learning rate, the hidden size, their interaction
    and the seeds: a two-way analysis of variance with the seeds as replicates. The shares add up to 1.

    >>> lrs = np.log10([1e-3, 1e-2, 1e-1])[None, :, None] * np.ones((2, 3, 2))
    >>> shares = importance({"log": lrs})
    >>> round(float(shares["learning rate"]), 3), round(float(shares["seeds"]), 3)
    (1.0, 0.0)
    """
    y = np.asarray(cell["log"], dtype=float)
    grand = y.mean()
    cells = y.mean(axis=2)
    size_means, lr_means = cells.mean(axis=1), cells.mean(axis=0)
    replicates = y.shape[2]
    ss_lr = y.shape[0] * replicates * np.sum((lr_means - grand) ** 2)
    ss_size = y.shape[1] * replicates * np.sum((size_means - grand) ** 2)
    ss_cells = replicates * np.sum((cells - grand) ** 2)
    ss_total = np.sum((y - grand) ** 2)
    if ss_total == 0:
        return {"learning rate": 0.0, "hidden size": 0.0, "interaction": 0.0, "seeds": 0.0}
    return {"learning rate": ss_lr / ss_total, "hidden size": ss_size / ss_total,
            "interaction": (ss_cells - ss_lr - ss_size) / ss_total, "seeds": (ss_total - ss_cells) / ss_total}


def best_learning_rates(cell: Mapping) -> dict[int, float]:
    """Per hidden size, the learning rate with the lowest mean loss."""
    return {size: cell["lrs"][int(np.argmin(cell["mean"][i]))] for i, size in enumerate(cell["hidden_sizes"])}


def stability(cell: Mapping) -> dict[str, float]:
    """``spread``: the median over trained cells of the seeds' standard deviation of log10(loss) (0.3 is a factor
    of two); ``decades``: the width, in decades, of the longest unbroken run of neighbouring learning rates at which
    every hidden size trains on average (mean loss under the task's bar), each rate counting one grid step;
    ``trained``: the share of single runs under the bar."""
    trained = cell["mean"] < cell["bar"]
    spread = np.std(cell["log"], axis=2)[trained]
    every_size = np.all(trained, axis=0)
    logs = np.log10(np.asarray(cell["lrs"], dtype=float))
    step = float(np.median(np.diff(logs))) if logs.size > 1 else 0.5  # the grid's spacing, in decades
    longest = run = 0
    for ok in every_size:  # the longest unbroken run of neighbouring rates that train at every size
        run = run + 1 if ok else 0
        longest = max(longest, run)
    return {"spread": float(np.median(spread)) if spread.size else float("nan"), "decades": longest * step,
            "trained": float(np.mean(cell["values"] < cell["bar"]))}


def _favours(gru: float, lstm: float, margin: float) -> str | None:
    """"GRU" if ``gru`` exceeds ``lstm`` by more than ``margin``, "LSTM" the other way round, else None."""
    if gru - lstm > margin:
        return "GRU"
    if lstm - gru > margin:
        return "LSTM"
    return None


def _stable_sentence(task: str, gru: Mapping[str, float], lstm: Mapping[str, float]) -> str:
    width = (f"learning rates that train at every size span {gru['decades']:.1f} decades for the GRU and "
             f"{lstm['decades']:.1f} for the LSTM (single runs under the bar: {gru['trained']:.0%} of the GRU's, "
             f"{lstm['trained']:.0%} of the LSTM's)")
    if not gru["decades"] and not lstm["decades"]:
        return f"{task}: neither trains at every size within the budget: no stability to compare."
    if not gru["decades"] or not lstm["decades"]:
        better = "GRU" if gru["decades"] else "LSTM"
        return (f"{task}: {width}; only the {better} trains at every size within the budget, so its range is the "
                "wider; the seed-to-seed spread cannot be compared where the other never trains.")
    spread = (f"the seed-to-seed spread (std of log10 loss, trained cells) is {gru['spread']:.3f} against "
              f"{lstm['spread']:.3f}")
    counts = {  # which model each measure favours (None: alike)
        "the wider range": _favours(gru["decades"], lstm["decades"], 0.25),
        "the smaller spread": _favours(lstm["spread"], gru["spread"], 0.01),
        "more runs under the bar": _favours(gru["trained"], lstm["trained"], 0.02),
    }
    gru_wins = [name for name, who in counts.items() if who == "GRU"]
    lstm_wins = [name for name, who in counts.items() if who == "LSTM"]
    if gru_wins and not lstm_wins:
        said = f"the GRU is the more stable here ({', '.join(gru_wins)})"
    elif lstm_wins and not gru_wins:
        said = f"the LSTM is the more stable here ({', '.join(lstm_wins)})"
    elif gru_wins and lstm_wins:
        said = f"the numbers are mixed: the GRU has {', '.join(gru_wins)}, the LSTM {', '.join(lstm_wins)}"
    else:
        said = "alike on every count"
    return f"{task}: {width}; {spread}: {said}."


def tuning_claims(summary: Mapping[tuple[str, str], dict]) -> list[str]:
    """Greff et al.'s finding and the "more stable" claim, tested on the study, one sentence per test and task."""
    sentences = []
    for task in sorted({t for t, _ in summary}):
        kinds = [m for m in CELLS if (task, m) in summary]
        parts, top, ratios, idle = [], [], [], []
        for m in kinds:
            s_ = importance(summary[(task, m)])
            parts.append(f"{m.upper()}: learning rate {s_['learning rate']:.0%}, hidden size {s_['hidden size']:.0%}, "
                         f"interaction {s_['interaction']:.0%}, seeds {s_['seeds']:.0%}")
            if not stability(summary[(task, m)])["trained"]:
                idle.append(m.upper())  # it learned nothing: its variance says nothing about tuning
                continue
            top.append(s_["learning rate"] > max(s_["hidden size"], s_["interaction"]))
            ratios.append(s_["interaction"] / s_["learning rate"] if s_["learning rate"] > 0 else float("inf"))
        if not top:
            sentences.append(f"{task}: no model learned within the budget: nothing to say of the settings.")
        else:
            learners = [m.upper() for m in kinds if m.upper() not in idle]
            who = "for every model that learned" if len(learners) > 1 else f"for the {learners[0]}"
            lead = (f"the learning rate explains the most {who}, as Greff et al. found" if all(top) else
                    "unlike Greff et al.'s finding, the learning rate is not what explains the most")
            strength = max(ratios)
            link = ("; its interaction with the size is weak (under a quarter of its share)" if strength < 0.25 else
                    f"; its interaction with the size is not weak (up to {strength:.0%} of its share)"
                    if strength < 1 else "; the interaction matters as much as the rate or more")
            not_learned = f" ({', '.join(idle)}: learned nothing in this budget, so its shares are noise)" if idle else ""
            sentences.append(f"{task}: of the spread of log-loss, {'; '.join(parts)}: {lead}{link}{not_learned}.")
        moves = []
        for m in kinds:
            cell = summary[(task, m)]
            best = best_learning_rates(cell)
            sizes = sorted(best)
            trained = [size for size in sizes if cell["mean"][cell["hidden_sizes"].index(size)].min() < cell["bar"]]
            if len(trained) < 2:
                moves.append(f"the {m.upper()} trains at {len(trained)} of the sizes within the budget: no best rate "
                             "to carry over")
                continue
            small, large = trained[0], trained[-1]
            apart = round(abs(math.log10(best[large] / best[small])) / 0.5)
            moves.append(f"the {m.upper()}'s best rate is {best[small]:g} at {small} units and {best[large]:g} at "
                         f"{large}" + (" (tuning it on the small network works)" if apart <= 1 else
                                       f" ({apart} grid steps apart: tune it at the size you will use)"))
        sentences.append(f"{task}: {'; '.join(moves)}.")
        if set(kinds) == set(CELLS):
            sentences.append(_stable_sentence(task, stability(summary[(task, "gru")]),
                                              stability(summary[(task, "lstm")])))
    return sentences
