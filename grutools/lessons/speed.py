"""Which trains faster, a GRU or an LSTM? A speed verdict that survives a noisy machine.

A single timing on a shared server is noise: two loads of the same dashboard gave the
GRU "1.8x slower" and then "1.2x faster". Here the two models are timed **interleaved**
(one training step of each per round, the order alternating), so that a drift in the
machine's speed hits both alike, and each round gives one paired ratio GRU/LSTM.

* :func:`median_interval`: a distribution-free confidence interval for the median of
  those ratios (order statistics; one slow step cannot tip it, and no normality is assumed).
* :func:`speed_verdict`: "faster" or "slower" only when the interval excludes 1; otherwise
  "too close to call".
* :func:`compare_speed`: time in rounds until the interval excludes 1 or a time budget
  runs out.
* :func:`read_benchmark`: the figures measured by ``benchmarks/gru_vs_lstm.py``, shipped in
  ``data/results/speed.json`` with their date and machine.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..core.models import SequenceModel
from ..core.tasks import DATA_DIR, Task
from ..core.training import Trainer

LEVEL = 0.99  # checked after every round, so stricter than the usual 95%: optional stopping inflates false verdicts
MIN_ROUNDS = 10
BENCHMARK = DATA_DIR / "results" / "speed.json"
BENCHMARK_COMMAND = "python benchmarks/gru_vs_lstm.py --out data/results/speed.json"


def median_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float, float]:
    """The median of ``values`` and a distribution-free confidence interval for it, ``(median, low, high)``.

    The interval runs between the k-th smallest and the k-th largest value, with the
    largest k for which P(Binomial(n, 1/2) < k) <= (1 - level) / 2: whatever the
    distribution, the true median lies outside it with probability at most 1 - level.
    With too few values for the level (fewer than 8 at 99%), the interval is infinite.

    >>> median_interval([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], level=0.95)
    (5.5, 2.0, 9.0)
    """
    data = sorted(float(v) for v in values)
    n = len(data)
    if n == 0:
        raise ValueError("no timings to summarise.")
    if not 0 < level < 1:
        raise ValueError(f"the confidence level must be between 0 and 1; got {level!r}.")
    median = (data[(n - 1) // 2] + data[n // 2]) / 2
    alpha = (1 - level) / 2
    below, k = 0.0, 0  # below = P(B <= k - 1)
    while k < n // 2:
        below_next = below + math.comb(n, k) / 2 ** n
        if below_next > alpha:
            break
        below, k = below_next, k + 1
    if k == 0:
        return median, -math.inf, math.inf
    return median, data[k - 1], data[n - k]


@dataclass
class SpeedVerdict:
    """The GRU's step time over the LSTM's: median ratio, its interval, rounds, and the decision."""

    ratio: float
    low: float
    high: float
    rounds: int
    decision: str  # "faster", "slower" or "too close"
    level: float = LEVEL
    times: dict[str, list[float]] = field(default_factory=dict)  # seconds per step, per cell, in round order

    def sentence(self, a: str = "GRU", b: str = "LSTM") -> str:
        """The verdict in plain words, with the numbers it rests on."""
        interval = (f"{self.ratio:.2f} times the {b}'s time ({self.level:.0%} interval {self.low:.2f}-{self.high:.2f}, "
                    f"{self.rounds} interleaved rounds)")
        if self.decision == "faster":
            return f"the {a} is faster here: one step takes {interval}."
        if self.decision == "slower":
            return f"the {a} is slower here: one step takes {interval}."
        return (f"too close to call on this machine right now: one {a} step takes {interval}, and the interval "
                "includes 1.")


def speed_verdict(ratios: Sequence[float], level: float = LEVEL, times: dict | None = None) -> SpeedVerdict:
    """Decide from paired per-round ratios (GRU time / LSTM time): faster, slower, or too close to call.

    "faster" needs the whole confidence interval of the median ratio below 1, "slower"
    above 1; anything else is "too close", never a coin flip.
    """
    if any(not (math.isfinite(r) and r > 0) for r in ratios):
        raise ValueError("every ratio of step times must be a positive, finite number.")
    ratio, low, high = median_interval(ratios, level)
    decision = "faster" if high < 1 else "slower" if low > 1 else "too close"
    return SpeedVerdict(ratio, low, high, len(ratios), decision, level, dict(times or {}))


def compare_speed(task: Task, hidden_size: dict[str, int], batch_size: int = 64, budget: float = 2.0,
                  min_rounds: int = MIN_ROUNDS, max_rounds: int = 2000, level: float = LEVEL, warmup: int = 2,
                  seed: int = 0, stop_early: bool = True, clock=time.perf_counter) -> SpeedVerdict:
    """Time training steps of a GRU and an LSTM interleaved, until the verdict is clear or ``budget`` seconds pass.

    ``hidden_size`` maps ``"gru"`` and ``"lstm"`` to their sizes. Each round times one
    training step (forward, backward, Adam update) of each model on the same batch,
    the order alternating between rounds. After ``min_rounds`` the interval of the
    median ratio is checked each round; timing stops as soon as it excludes 1
    (``stop_early=False``: only at the budget, for the tightest interval, as the
    benchmark does).
    """
    models = {cell: SequenceModel(cell, hidden_size=hidden_size[cell], seed=seed, **task.model_kwargs())
              for cell in ("gru", "lstm")}
    trainers = {cell: Trainer(model, task) for cell, model in models.items()}
    x, y = task.sample(batch_size, seed=seed)
    for _ in range(warmup):
        for trainer in trainers.values():
            trainer.step(x, y)
    times: dict[str, list[float]] = {"gru": [], "lstm": []}
    ratios: list[float] = []
    start = clock()
    while len(ratios) < max_rounds:
        order = ("gru", "lstm") if len(ratios) % 2 == 0 else ("lstm", "gru")
        for cell in order:
            begin = clock()
            trainers[cell].step(x, y)
            times[cell].append(clock() - begin)
        ratios.append(times["gru"][-1] / max(times["lstm"][-1], 1e-12))
        if len(ratios) >= min_rounds:
            if clock() - start > budget or (stop_early and speed_verdict(ratios, level).decision != "too close"):
                break
    return speed_verdict(ratios, level, times)


def machine() -> dict[str, str | int]:
    """What a timing was measured on: CPU model, cores, Python and torch versions, threads."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count() or 1, "threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__.split("+")[0]}


def read_benchmark(path: str | Path = BENCHMARK) -> dict:
    """The shipped speed benchmark (written by ``benchmarks/gru_vs_lstm.py``): date, machine and one row per setting."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or not {"date", "machine", "rows"} <= set(data):
        raise ValueError(f"{path} is not a speed benchmark written by grutools (no date, machine or rows).")
    return data


def benchmark_row(data: dict, task: str, hidden: int, mode: str) -> dict | None:
    """The benchmark row for ``task`` and ``mode`` at the hidden size nearest ``hidden`` (``None`` if none)."""
    rows = [r for r in data["rows"] if r["task"] == task and r["mode"] == mode]
    return min(rows, key=lambda r: abs(r["hidden"] - hidden)) if rows else None
