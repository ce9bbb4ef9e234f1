"""Watching a run (dashboard 08): the signs of the classic failures, read from the numbers, and their fixes.

* :data:`SCENARIOS`: a healthy run, a learning rate too high (without and with clipping), one too
  low, and too few training sequences (with early stopping).
* :func:`monitored_run`: a GRU trained with everything a practitioner watches: training and
  validation loss, the gradient norm before clipping, the gates' saturation, each unit's mean
  update gate; the weights of the best validation step are kept.
* :func:`early_stopping`: the step with the lowest validation loss, and where patience would stop.
* :func:`monitor`: what the curves show, in a plain sentence ("validation loss has risen for 200
  steps while training loss falls: overfitting").
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..core.models import SequenceModel
from ..core.tasks import Sunspots, Task
from ..core.trace import trace
from ..core.training import Trainer, TrainingDiverged, _copy_state
from .compare import LimitedData


@dataclass(frozen=True)
class Scenario:
    """One run's settings: its label, the learning rate, gradient clipping, and the training-set size."""

    label: str
    lr: float
    clip_grad: float | None
    train_size: int | None = None  # None: fresh windows every step (all the training months)
    what: str = ""


SCENARIOS = {
    "healthy": Scenario("healthy", 3e-3, 1.0, None, "Adam at 0.003, gradients clipped at norm 1, every training month."),
    "too_high": Scenario("rate too high", 0.3, None, None, "Adam at 0.3, no clipping."),
    "clipped": Scenario("too high, clipped", 0.3, 1.0, None, "Adam at 0.3, gradients clipped at norm 1."),
    "lowered": Scenario("rate lowered", 0.03, None, None, "Adam at 0.03, no clipping: a tenth of the rate too high."),
    "too_low": Scenario("rate too low", 1e-5, 1.0, None, "Adam at 0.00001."),
    "few": Scenario("few sequences", 3e-3, 1.0, 6, "Six training windows only, the healthy settings otherwise."),
}
SATURATED = (0.05, 0.95)  # a gate value outside this range counts as saturated (switched off or on)


def monitor_task(length: int = 60) -> Sunspots:
    return Sunspots(length)


@dataclass
class MonitoredRun:
    """What :func:`monitored_run` returns (lists grow while it runs; ``callback`` sees them)."""

    scenario: str
    baseline: float
    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)  # before clipping
    checked_at: list[int] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)
    saturation: list[float] = field(default_factory=list)  # share of update and reset gate values saturated
    update_means: list[np.ndarray] = field(default_factory=list)  # each unit's mean update gate, per check
    best_step: int | None = None
    best_state: dict | None = None
    diverged: TrainingDiverged | None = None
    stopped: bool = False
    model: SequenceModel | None = None


def monitored_run(scenario: str = "healthy", steps: int = 600, hidden_size: int = 32, length: int = 60,
                  batch_size: int = 32, seed: int = 0, check_every: int = 20,
                  callback: Callable[[MonitoredRun], None] | None = None,
                  stop: threading.Event | None = None) -> MonitoredRun:
    """Train a GRU on the sunspots under ``scenario`` (a key of :data:`SCENARIOS`), watching everything.

    Validation is on 256 held-out windows (the last 20% of the record). The model ends with
    the weights of its best validation step (early stopping's choice) if the run got worse
    after it; ``best_step`` says which.

    >>> run = monitored_run("healthy", steps=4, hidden_size=4, length=12, check_every=2)
    >>> run.checked_at, len(run.grad_norm), len(run.update_means[-1])
    ([0, 2, 4], 4, 4)
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"a scenario is one of {sorted(SCENARIOS)}; got {scenario!r}.")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    settings = SCENARIOS[scenario]
    task: Task = monitor_task(length)
    data = task if settings.train_size is None else LimitedData(task, settings.train_size, seed=seed)
    model = SequenceModel("gru", hidden_size=hidden_size, seed=seed, **task.model_kwargs())
    trainer = Trainer(model, data, lr=settings.lr, clip_grad=settings.clip_grad,
                      settings={"steps": steps, "batch_size": batch_size, "seed": seed, "scenario": scenario})
    result = MonitoredRun(scenario, task.baseline, model=model)
    x_val, y_val = task.sample(256, seed=1234, split="test")
    generator = torch.Generator().manual_seed(seed)

    def check(step: int) -> None:
        with torch.no_grad():
            value = task.loss(model(x_val), y_val).item()
            gates = trace(model, x_val[:64])
        result.checked_at.append(step)
        result.validation.append(value)
        low, high = SATURATED
        both = torch.cat([gates.update[-1].flatten(), gates.reset[-1].flatten()])
        result.saturation.append(float(((both < low) | (both > high)).float().mean()))
        result.update_means.append(gates.update[-1].mean(dim=(0, 1)).numpy())
        if math.isfinite(value) and (result.best_step is None or value < min(result.validation[:-1])):
            result.best_step, result.best_state = step, _copy_state(model)

    check(0)
    for step in range(1, steps + 1):
        if stop is not None and stop.is_set():
            result.stopped = True
            break
        try:
            value = trainer.step(*data.sample(batch_size, generator=generator))
        except TrainingDiverged as error:
            result.diverged = error
            break
        result.step.append(step)
        result.loss.append(value)
        result.grad_norm.append(trainer.grad_norm)
        if step % check_every == 0 or step == steps:
            check(step)
        if callback is not None:
            callback(result)
    if result.best_state is not None and result.best_step != trainer.steps_done:
        model.load_state_dict(result.best_state)  # early stopping: the best validation weights
    trainer.finish(stopped=result.stopped)
    return result


def early_stopping(checked_at: Sequence[int], validation: Sequence[float], patience: int = 200) -> tuple[int, int | None]:
    """Early stopping with ``patience``: ``(best, stop)``. ``stop`` is the first check ``patience`` steps or more
    after the best so far with no new best (``None``: patience never ran out); ``best`` is the step of the lowest
    validation loss up to then, whose weights it keeps.

    >>> early_stopping([0, 100, 200, 300, 400], [1.0, 0.5, 0.6, 0.7, 0.8], patience=200)
    (100, 300)
    """
    values = np.asarray(validation, dtype=float)
    if values.size == 0 or len(checked_at) != values.size:
        raise ValueError("give one validation loss per checked step.")
    finite = np.where(np.isfinite(values), values, np.inf)
    best = 0
    for i in range(1, values.size):
        if finite[i] < finite[best]:
            best = i
        elif checked_at[i] - checked_at[best] >= patience:
            return int(checked_at[best]), int(checked_at[i])  # the best seen before it stopped
    return int(checked_at[best]), None


def spikes(grad_norm: Sequence[float]) -> np.ndarray:
    """Which steps' gradient norms are spikes: over 10 times the first step's (which the learning rate has not
    touched yet; a healthy run's gradients are largest at the start), or, past the first 5% of steps, over 20
    times the run's median.

    >>> spikes([1.0, 0.8, 0.5] + [0.1] * 40 + [3.0, 50.0]).nonzero()[0].tolist()
    [43, 44]
    """
    norms = np.asarray(grad_norm, dtype=float)
    if norms.size == 0:
        return np.zeros(0, dtype=bool)
    marked = norms > 10 * norms[0] if norms[0] > 0 else np.zeros(norms.size, dtype=bool)
    warm = max(20, norms.size // 20)
    marked[warm:] |= norms[warm:] > 20 * np.median(norms)
    return marked


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def monitor(loss: Sequence[float], checked_at: Sequence[int], validation: Sequence[float], grad_norm: Sequence[float],
            baseline: float, diverged_at: int | None = None, window: int = 200) -> str:
    """What a run's curves show, in one sentence: divergence, spikes, a flat curve, overfitting, or a healthy run.

    ``loss`` and ``grad_norm`` hold one value per training step (from step 1), ``validation``
    one per step of ``checked_at``; ``baseline`` is the loss of guessing.

    >>> monitor([1.0] * 300, [0, 300], [1.0, 1.0], [0.1] * 300, baseline=1.0)[:40]
    'The training loss has barely moved in 30'
    """
    loss = np.asarray(loss, dtype=float)
    norms = np.asarray(grad_norm, dtype=float)
    if diverged_at is not None or (loss.size and not np.all(np.isfinite(loss))):
        at = diverged_at if diverged_at is not None else int(np.flatnonzero(~np.isfinite(loss))[0]) + 1
        return (f"The loss became NaN at step {at}: the run diverged. Lower the learning rate, or clip the "
                "gradient norm.")
    if loss.size < 20:
        return "Too few steps to judge yet."
    tenth = max(1, loss.size // 10)
    start, end = _mean(loss[:tenth]), _mean(loss[-tenth:])
    median_norm = float(np.median(norms)) if norms.size else float("nan")
    marked = spikes(norms)
    if marked.any():
        at = int(np.flatnonzero(marked)[np.argmax(norms[marked])])
        return (f"Spikes: at step {at + 1} the gradient norm reached {norms[at]:.3g}, {norms[at] / median_norm:.3g} "
                f"times its median, and the loss jumped to {loss[at]:.3g}. The learning rate is too high: lower it "
                "(clipping the gradient norm cuts the spikes).")
    if end > 1.1 * start:
        above = f", above guessing ({baseline:.3g})" if end > baseline else ""
        return (f"The training loss rose from {start:.3g} to {end:.3g}{above}: the learning rate is too high. "
                "Lower it.")
    if loss.size >= 100 and end > 0.9 * start:
        return (f"The training loss has barely moved in {loss.size} steps ({start:.3g} to {end:.3g}): a flat curve. "
                "The learning rate may be too low: try it ten times higher.")
    values = np.asarray(validation, dtype=float)
    if values.size >= 3:
        best = int(np.nanargmin(values))
        rose_for = int(checked_at[-1] - checked_at[best])
        since = [i for i in range(loss.size) if i + 1 > checked_at[best]]
        train_then = _mean(loss[max(0, int(checked_at[best]) - tenth): int(checked_at[best])]) if best else start
        if rose_for >= window and values[-1] > 1.1 * values[best] and _mean(loss[since[-tenth:]]) < train_then:
            return (f"Validation loss has risen for {rose_for} steps while training loss falls: overfitting. "
                    f"Early stopping keeps the weights of step {checked_at[best]} (validation {values[best]:.3g}).")
        return (f"Training and validation loss fall together (validation {values[-1]:.3g} at step {checked_at[-1]}, "
                f"guessing {baseline:.3g}): a healthy run.")
    return f"The training loss fell from {start:.3g} to {end:.3g}."


SCENARIO_FIELDS = ["scenario", "seed", "steps", "final_validation", "best_validation", "best_step", "spikes",
                   "max_grad_norm", "median_grad_norm", "saturation", "diverged"]


def scenario_row(scenario: str, seed: int, steps: int = 600) -> dict:
    """One scenario and seed, summarised: the validation at the end and at its best, the spikes of the gradient
    norm (:func:`spikes`), the final gate saturation."""
    torch.set_num_threads(1)
    run = monitored_run(scenario, steps=steps, seed=seed)
    norms = np.asarray(run.grad_norm, dtype=float)
    median = float(np.median(norms)) if norms.size else float("nan")
    return {"scenario": scenario, "seed": seed, "steps": steps, "final_validation": run.validation[-1],
            "best_validation": min(run.validation), "best_step": run.best_step,
            "spikes": int(np.sum(spikes(norms))), "max_grad_norm": float(norms.max(initial=0.0)),
            "median_grad_norm": median, "saturation": run.saturation[-1], "diverged": int(run.diverged is not None)}


def scenario_study(seeds: Sequence[int] = (0, 1, 2), steps: int = 600, jobs: int = 1, progress: bool = True,
                   out=None) -> list[dict]:
    """Every scenario over ``seeds`` (:func:`scenario_row`), written to ``out`` as CSV."""
    from .studies import run_jobs
    from .vanishing import write_table

    runs = [(name, seed, steps) for name in SCENARIOS for seed in seeds]
    results = run_jobs(scenario_row, runs, jobs, progress, label=lambda r: f"scenario {r[0]}, seed {r[1]}")
    rows = [results[run] for run in runs]
    if out is not None:
        write_table(out, rows, SCENARIO_FIELDS)
    return rows


def read_scenarios(path) -> list[dict]:
    """Read a CSV written by :func:`scenario_study`."""
    from .studies import read_rows

    return read_rows(path, SCENARIO_FIELDS, ("seed", "steps", "best_step", "spikes", "diverged"),
                     ("final_validation", "best_validation", "max_grad_norm", "median_grad_norm", "saturation"),
                     "a scenario study")


def scenario_findings(rows: Sequence[dict]) -> list[str]:
    """What the scenarios did over seeds, and whether each fix worked, as the numbers say."""
    by: dict[str, list[dict]] = {}
    for row in rows:
        by.setdefault(row["scenario"], []).append(row)

    def values(name: str, key: str) -> str:
        return ", ".join(f"{r[key]:.3g}" for r in sorted(by[name], key=lambda r: r["seed"]))

    def mean(name: str, key: str) -> float:
        return float(np.mean([r[key] for r in by[name]]))

    needed = {"healthy", "too_high", "clipped", "lowered", "too_low", "few"}
    if needed - set(by):
        return [f"The scenario study lacks {', '.join(sorted(needed - set(by)))}."]
    n = len(by["healthy"])
    out = [f"Over {n} seeds, final validation loss: healthy {values('healthy', 'final_validation')}; rate too high "
           f"{values('too_high', 'final_validation')}, with {values('too_high', 'spikes')} spikes of the gradient norm "
           f"(largest {max(r['max_grad_norm'] for r in by['too_high']):.2g}) and {mean('too_high', 'saturation'):.0%} "
           "of the gates saturated."]
    spikes_cut = mean("clipped", "spikes") < mean("too_high", "spikes")
    better = mean("clipped", "final_validation") < mean("too_high", "final_validation")
    out.append(f"Clipping at norm 1 {'cut' if spikes_cut else 'did not cut'} the spikes "
               f"({values('clipped', 'spikes')}) and {'lowered' if better else 'did not lower'} the final loss "
               f"({values('clipped', 'final_validation')})" + ("." if better else
               ": with Adam, whose steps are scaled to the gradient's size, clipping alone is no cure here.")
               + (" A tenth of the rate did better: " if mean("lowered", "final_validation") <
                  mean("too_high", "final_validation") else " A tenth of the rate did no better: ")
               + f"{values('lowered', 'final_validation')}.")
    out.append(f"Rate too low: validation still {values('too_low', 'final_validation')} after "
               f"{by['too_low'][0]['steps']} steps, where the healthy run reached {values('healthy', 'final_validation')}.")
    out.append(f"Few sequences: the best validation {values('few', 'best_validation')} came at steps "
               f"{', '.join(str(r['best_step']) for r in sorted(by['few'], key=lambda r: r['seed']))}; by the end it "
               f"was {values('few', 'final_validation')}. Early stopping keeps the best.")
    return out
