"""Running a study's runs, one after another or side by side in worker processes (``--jobs``).

Each run is a tuple of arguments for a module-level function (worker processes import it
by name); the results come back keyed by run, whatever order they finished in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path


def run_jobs(function: Callable, runs: Sequence[tuple], jobs: int = 1, progress: bool = True,
             label: Callable[[tuple], str] = lambda run: " ".join(map(str, run))) -> dict[tuple, object]:
    """``{run: function(*run)}`` for every run; ``jobs`` > 1 runs them in that many spawned worker processes.

    Each worker runs torch with one thread (the machines have 2 cores; two workers with two
    threads each would fight over them). Progress lines name each run by ``label(run)``.

    >>> run_jobs(pow, [(2, 3), (3, 2)], progress=False)
    {(2, 3): 8, (3, 2): 9}
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer; got {jobs!r}.")
    results: dict[tuple, object] = {}
    if jobs == 1:
        for done, run in enumerate(runs, 1):
            if progress:
                print(f"{label(run)} ... ({done} of {len(runs)})", flush=True)
            results[run] = function(*run)
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread) as pool:
        futures = {pool.submit(function, *run): run for run in runs}
        for done, future in enumerate(as_completed(futures), 1):
            run = futures[future]
            results[run] = future.result()
            if progress:
                print(f"{label(run)} done ({done} of {len(runs)})", flush=True)
    return results


def read_rows(path: str | Path, fields: Sequence[str], ints: Sequence[str], floats: Sequence[str],
              what: str) -> list[dict]:
    """The rows of a study's CSV, with ``ints`` and ``floats`` converted; ``ValueError`` naming ``what`` the file
    should be if it is empty or lacks one of ``fields``."""
    import csv

    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or set(fields) - set(rows[0]):
        raise ValueError(f"{path} is not {what} (columns {list(fields)}).")
    for row in rows:
        for key in ints:
            row[key] = int(row[key])
        for key in floats:
            row[key] = float(row[key])
    return rows


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def write_rows(path: str | Path, rows: Sequence[dict], fields: Sequence[str]) -> None:
    """A study's rows as a CSV with the columns ``fields`` (floats to 4 decimals), creating the folder."""
    import csv

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fields))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})


def study_arguments(parser, steps: int, out: str) -> None:
    """The options every study command takes: ``--seeds``, ``--steps``, ``--jobs``, ``--quiet``, ``--out``."""
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (weights and batches)")
    parser.add_argument("--steps", type=int, default=steps, help=f"training steps per run (default: {steps})")
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side in worker processes (default: 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--out", default=out, help="CSV to write")
