"""Does chrono initialisation help? Default against chrono-initialised gate biases, over seeds.

:func:`chrono_table` trains a GRU and an LSTM with PyTorch's default biases and with
chrono initialisation (:func:`grutools.core.models.chrono_init`, ``T_max`` = the sequence
length) on the same batches, at the longest lengths of the adding and copy tasks, and
writes the test losses per seed; :func:`chrono_findings` reads what the numbers show.
The shipped table is ``data/results/chrono.csv`` (dashboard 03).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..core.models import CELL_NAMES
from ..core.tasks import DATA_DIR, make_task
from ..core.training import evaluate
from .vanishing import race, write_table

CHRONO_TABLE = DATA_DIR / "results" / "chrono.csv"
CHRONO_COMMAND = "python -m grutools chrono-table --out data/results/chrono.csv"
CHRONO_TASKS = {"adding": 400, "copy": 200}
FIELDS = ("task", "length", "cell", "init", "seed", "hidden_size", "steps", "test_loss", "baseline")
INITS = ("default", "chrono")


def chrono_table(tasks: Mapping[str, int] = CHRONO_TASKS, seeds: Sequence[int] = (0, 1, 2, 3, 4), hidden_size: int = 32,
                 steps: int = 600, out: str | Path | None = None, progress: bool = True) -> list[dict]:
    """Test losses of a GRU and an LSTM, default and chrono-initialised (``T_max`` = length), per task and seed.

    Both initialisations of a seed share the other weights and the batches, so the
    comparison is paired. Written to ``out`` as CSV when given.
    """
    rows = []
    for name, length in tasks.items():
        task = make_task(name, length)
        for seed in seeds:
            for init in INITS:
                result = race(task, hidden_size=hidden_size, steps=steps, cells=("gru", "lstm"), seed=seed,
                              record_every=steps, progress=progress, chrono=length if init == "chrono" else None)
                for cell, model in result.models.items():
                    rows.append({"task": name, "length": length, "cell": cell, "init": init, "seed": seed,
                                 "hidden_size": hidden_size, "steps": steps,
                                 "test_loss": round(evaluate(model, task), 6), "baseline": round(task.baseline, 6)})
    if out is not None:
        write_table(out, rows, FIELDS)
    return rows


def read_chrono_table(path: str | Path = CHRONO_TABLE) -> list[dict]:
    """Read a CSV written by :func:`chrono_table` (numbers converted); a clear error for any other file."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or set(FIELDS) - set(rows[0]):
        raise ValueError(f"{path} is not a chrono table written by grutools (expected the columns {', '.join(FIELDS)}).")
    for row in rows:
        for key in ("length", "seed", "hidden_size", "steps"):
            row[key] = int(row[key])
        for key in ("test_loss", "baseline"):
            row[key] = float(row[key])
    return rows


def summarise_chrono(rows: Sequence[dict]) -> dict[tuple[str, str], dict]:
    """Per (task, cell): the test losses per seed of each initialisation, paired by seed, and the baseline."""
    out: dict[tuple[str, str], dict] = {}
    for row in rows:
        entry = out.setdefault((row["task"], row["cell"]), {"length": row["length"], "baseline": row["baseline"],
                                                           "default": {}, "chrono": {}})
        entry[row["init"]][row["seed"]] = row["test_loss"]
    return out


def chrono_findings(rows: Sequence[dict]) -> list[str]:
    """One sentence per task and cell, read from the numbers: does chrono beat default for every seed?

    "Helps" needs a lower test loss for every seed (paired); "hurts" a higher one for
    every seed; anything else is mixed, and said so.
    """
    from ..core.tasks import TASKS

    sentences = []
    for (task, cell), entry in summarise_chrono(rows).items():
        seeds = sorted(set(entry["default"]) & set(entry["chrono"]))
        if not seeds:
            continue
        default = np.array([entry["default"][s] for s in seeds])
        chrono = np.array([entry["chrono"][s] for s in seeds])
        better = int(np.sum(chrono < default))
        threshold = 0.1 * entry["baseline"]
        if better == len(seeds):
            verdict = f"chrono initialisation helps: a lower test loss for all {len(seeds)} seeds"
        elif better == 0:
            verdict = f"chrono initialisation does not help: a higher test loss for all {len(seeds)} seeds"
        else:
            verdict = f"mixed: chrono is lower for {better} of {len(seeds)} seeds"
        sentences.append(
            f"{TASKS[task].title}, length {entry['length']}, {CELL_NAMES[cell]}: {verdict} (median {np.median(chrono):.4f} "
            f"against {np.median(default):.4f}; below 10% of 'learned nothing': {int(np.sum(chrono < threshold))} of "
            f"{len(seeds)} seeds with chrono, {int(np.sum(default < threshold))} with the default).")
    return sentences
