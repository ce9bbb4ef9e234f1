"""Vanishing (and exploding) gradients, measured: a tanh RNN, a GRU and an LSTM side by side.

* :func:`make_models`: the three models with the same hidden size and seed, their
  recurrent weights optionally scaled (:func:`scale_recurrent`).
* :func:`decay_per_step`: the fitted factor by which |dLoss/dh_t| shrinks per step back.
* :func:`step_jacobian_norms`: the spectral norm of the one-step Jacobian dh_t/dh_{t-1}.
* :func:`race`: train the models in lock step on the same batches, recording the
  gradient through time as they learn; :func:`race_table`: final losses over seeds.
"""

from __future__ import annotations

import csv
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.func import jacrev, vmap

from ..core.equations import gru_step, lstm_step, rnn_step
from ..core.gradients import gradient_norms
from ..core.models import CELLS, SequenceModel
from ..core.tasks import AddingProblem, Task
from ..core.trace import layer_weights, trace
from ..core.training import History, Trainer, TrainingDiverged, evaluate


def scale_recurrent(model: SequenceModel, scale: float) -> SequenceModel:
    """Multiply every recurrent weight matrix ``weight_hh_l*`` of ``model`` by ``scale``, in place, and return it."""
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale >= 0):
        raise ValueError(f"the recurrent weight scale must be a number >= 0; got {scale!r}.")
    with torch.no_grad():
        for layer in range(model.num_layers):
            getattr(model.core, f"weight_hh_l{layer}").mul_(scale)
    return model


def make_models(task: Task, hidden_size: int | Mapping[str, int], scale: float = 1.0, seed: int = 0,
                cells: Sequence[str] = CELLS, chrono: float | None = None) -> dict[str, SequenceModel]:
    """One model per cell type for ``task``, same seed, recurrent weights times ``scale``.

    ``hidden_size`` is one size for all, or a size per cell (e.g. matched parameter budgets).
    ``chrono`` (``T_max``) gives the gated cells chrono-initialised biases
    (:func:`grutools.core.models.chrono_init`); the tanh RNN, which has no gates, keeps its default.
    """
    sizes = hidden_size if isinstance(hidden_size, Mapping) else dict.fromkeys(cells, hidden_size)
    return {cell: scale_recurrent(SequenceModel(cell, hidden_size=sizes[cell], seed=seed,
                                                chrono=None if cell == "rnn" else chrono, **task.model_kwargs()), scale)
            for cell in cells}


def spectral_radius(model: SequenceModel, layer: int = 0) -> float:
    """Largest absolute eigenvalue of a layer's recurrent matrix (for an RNN: < 1 makes gradients shrink)."""
    weight = getattr(model.core, f"weight_hh_l{layer}").detach()
    hidden = model.hidden_size
    blocks = weight.reshape(-1, hidden, hidden)
    block = blocks[{"rnn": 0, "gru": 2, "lstm": 2}[model.cell]]  # the candidate's block for gated cells
    return torch.linalg.eigvals(block).abs().max().item()


def mean_gradient_norms(model: SequenceModel, x: Tensor, y: Tensor) -> np.ndarray:
    """|dLoss/dh_t| averaged over the batch, ``(time,)``, from :func:`grutools.gradient_norms`."""
    return gradient_norms(model, x, y).mean(0).numpy()


def gradient_gain(norms: Tensor | np.ndarray) -> np.ndarray:
    """How much of the gradient survives each step back: |dL/dh_{t−1}| / |dL/dh_t|, per step, ``(time,)``.

    ``norms`` is ``(batch, time)`` from :func:`grutools.gradient_norms`; the ratio is
    averaged over the batch geometrically (the mean of logs), and the first step,
    which has no step before it, is NaN. When the loss only reads the last step
    (the adding problem), dL/dh_{t−1} = J_tᵀ dL/dh_t, so this is the gain of the one-step
    Jacobian on the direction the gradient actually takes: the product of these
    gains over the steps back is exactly the decay of the left-hand plot.

    >>> gradient_gain(np.array([[0.25, 0.5, 1.0]])).tolist()
    [nan, 0.5, 0.5]
    """
    norms = np.asarray(norms, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(norms[:, :-1]) - np.log(norms[:, 1:])
    logs[~np.isfinite(logs)] = np.nan
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gain = np.exp(np.nanmean(logs, axis=0))
    return np.concatenate([[np.nan], gain])


def decay_per_step(norms: Sequence[float], skip_last: int = 1) -> float:
    """The factor by which the gradient norm changes per step *back* in time, fitted on a log scale.

    A least-squares line through log |dL/dh_t| against t, excluding the last
    ``skip_last`` steps (where the loss itself enters); returns exp(−slope): 0.8
    means the gradient loses 20% per step back, 1.0 that it carries, above 1 that
    it explodes. Steps with a zero or non-finite norm are ignored.

    >>> round(decay_per_step([0.5 ** (10 - t) for t in range(11)], skip_last=0), 6)
    0.5
    """
    norms = np.asarray(norms, dtype=float)
    if skip_last:
        norms = norms[:-skip_last]
    steps = np.arange(len(norms))
    keep = np.isfinite(norms) & (norms > 0)
    if keep.sum() < 2:
        raise ValueError("need at least two positive, finite gradient norms to fit a decay rate.")
    slope = np.polyfit(steps[keep], np.log(norms[keep]), 1)[0]
    return float(np.exp(-slope))


def _step_function(model: SequenceModel) -> Callable[[Tensor, Tensor], Tensor]:
    """The top layer's state update ``state, x -> state`` for one sequence (LSTM state: h and c concatenated)."""
    weights = layer_weights(model.core, model.num_layers - 1)
    hidden = model.hidden_size
    if model.cell == "gru":
        return lambda state, x: gru_step(x, state, *weights).hidden
    if model.cell == "lstm":
        def lstm(state, x):
            h, c = lstm_step(x, state[:hidden], state[hidden:], *weights)
            return torch.cat([h, c])
        return lstm
    return lambda state, x: rnn_step(x, state, *weights, nonlinearity=model.core.nonlinearity)


@torch.no_grad()
def step_jacobian_norms(model: SequenceModel, x: Tensor, steps: Sequence[int] | None = None) -> Tensor:
    """Spectral norm of the one-step Jacobian d state_t / d state_{t−1} of the top layer: ``(batch, time)``.

    The state is h for an RNN and a GRU, (h, c) for an LSTM. The gradient that
    reaches step t from step T is a product of these Jacobians, so where their
    norms stay below 1 it vanishes geometrically. Computed exactly with
    ``torch.func`` (one Jacobian per step, vectorised), at the states the model
    actually visits on ``x``. ``steps`` (0-based) limits it to those time steps:
    the result is then ``(batch, len(steps))``.
    """
    if model.num_layers != 1:
        raise ValueError("step_jacobian_norms() supports one-layer models; this one has "
                         f"{model.num_layers} layers.")
    t = trace(model, x)
    hidden = t.hidden[0]  # (batch, time, hidden)
    batch, length, size = hidden.shape
    previous = torch.cat([hidden.new_zeros(batch, 1, size), hidden[:, :-1]], dim=1)
    if model.cell == "lstm":
        cell = t.cell[0]
        previous_cell = torch.cat([cell.new_zeros(batch, 1, size), cell[:, :-1]], dim=1)
        previous = torch.cat([previous, previous_cell], dim=-1)
    if steps is not None:
        index = torch.as_tensor(list(steps), dtype=torch.long)
        if index.numel() == 0 or index.min() < 0 or index.max() >= length:
            raise ValueError(f"steps must be time steps from 0 to {length - 1}; got {list(steps)[:10]}.")
        previous, x = previous[:, index], x[:, index]
    count = previous.shape[1]
    with torch.enable_grad():
        jacobians = vmap(jacrev(_step_function(model)))(previous.reshape(batch * count, -1),
                                                        x.reshape(batch * count, -1))
    return _spectral_norms(jacobians).reshape(batch, count)


def sampled_steps(length: int, most: int = 50) -> np.ndarray:
    """At most ``most`` time steps (0-based) spread evenly over ``length``, the first and last included.

    >>> sampled_steps(5).tolist(), sampled_steps(100, 5).tolist()
    ([0, 1, 2, 3, 4], [0, 25, 50, 74, 99])
    """
    return np.unique(np.linspace(0, length - 1, min(length, most)).round().astype(int))


def _spectral_norms(matrices: Tensor) -> Tensor:
    """The largest singular value of each matrix in a batch: the square root of the largest eigenvalue of JᵀJ.

    Same value as ``torch.linalg.matrix_norm(J, ord=2)`` (to ~1e-6 relative in float32),
    measured 1.4x (32 units) to 1.8x (64: an LSTM's h and c) faster, because a symmetric
    eigensolver is cheaper than an SVD.
    """
    return torch.linalg.eigvalsh(matrices.mT @ matrices)[..., -1].clamp_min(0).sqrt()


# ------------------------------------------------------------------------------------------------
# The race


@dataclass
class RaceResult:
    """What :func:`race` returns: per cell type, the training history, the gradient record and any divergence.

    ``gradients[cell]`` is ``(record_steps, norms)``: the training steps at which the
    gradient was measured and an array ``(records, time)`` of |dLoss/dh_t| averaged
    over a fixed batch. ``diverged[cell]`` is the :class:`TrainingDiverged` error of a
    model that stopped (the others carry on).
    """

    histories: dict[str, History] = field(default_factory=dict)
    gradients: dict[str, tuple[list[int], list[np.ndarray]]] = field(default_factory=dict)
    diverged: dict[str, TrainingDiverged] = field(default_factory=dict)
    models: dict[str, SequenceModel] = field(default_factory=dict)
    stopped: bool = False


def race(task: Task, hidden_size: int | Mapping[str, int] = 32, steps: int = 500, cells: Sequence[str] = CELLS, lr: float = 1e-2,
         batch_size: int = 64, seed: int = 0, scale: float = 1.0, clip_grad: float | None = 1.0,
         record_every: int = 10, callback: Callable[[RaceResult], None] | None = None,
         stop: threading.Event | None = None, progress: bool = False, chrono: float | None = None) -> RaceResult:
    """Train one model per cell type in lock step, on the same batches, recording the gradient through time.

    ``hidden_size`` is one size for all models or a size per cell type.
    Every ``record_every`` steps, |dLoss/dh_t| is measured on a fixed batch of 16
    sequences for each model (the heatmap of the race). A model whose loss becomes
    NaN stops (``result.diverged``) with its last finite weights; the others go on.
    ``callback(result)`` is called after every step; ``stop`` ends the race early.
    ``chrono`` (``T_max``) chrono-initialises the GRU's and the LSTM's gate biases.

    >>> result = race(AddingProblem(10), hidden_size=4, steps=3, record_every=2)
    >>> sorted(result.histories), len(result.histories["gru"].loss)
    (['gru', 'lstm', 'rnn'], 3)
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    models = make_models(task, hidden_size, scale=scale, seed=seed, cells=cells, chrono=chrono)
    trainers = {cell: Trainer(model, task, lr=lr, clip_grad=clip_grad,
                              settings={"steps": steps, "batch_size": batch_size, "seed": seed, "scale": scale,
                                        **({"chrono": chrono} if chrono is not None else {})})
                for cell, model in models.items()}
    result = RaceResult(histories={cell: t.history for cell, t in trainers.items()},
                        gradients={cell: ([], []) for cell in cells}, models=models)
    probe_x, probe_y = task.sample(16, seed=seed + 999, split="test")
    generator = torch.Generator().manual_seed(seed)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"race on {task.name}, length {task.length}", unit="step")

    def record(step: int) -> None:
        for cell, model in models.items():
            if cell not in result.diverged:
                norms = mean_gradient_norms(model, probe_x, probe_y)
                result.gradients[cell][0].append(step)
                result.gradients[cell][1].append(norms)

    try:
        record(0)
        for step in range(1, steps + 1):
            if stop is not None and stop.is_set():
                result.stopped = True
                break
            x, y = task.sample(batch_size, generator=generator)
            for cell, trainer in trainers.items():
                if cell in result.diverged:
                    continue
                try:
                    trainer.step(x, y)
                except TrainingDiverged as error:
                    result.diverged[cell] = error
            if step % record_every == 0 or step == steps:
                record(step)
            if bar is not None:
                bar.update(1)
            if callback is not None:
                callback(result)
            if len(result.diverged) == len(trainers):
                break
    finally:
        if bar is not None:
            bar.close()
    for trainer in trainers.values():
        trainer.finish(stopped=result.stopped)
    return result


TABLE_FIELDS = ("cell", "length", "seed", "hidden_size", "steps", "final_train_loss", "test_loss", "seconds")


def race_table(lengths: Sequence[int], seeds: Sequence[int], hidden_size: int = 32, steps: int = 1000,
               lr: float = 1e-2, out: str | Path | None = None, progress: bool = True) -> list[dict]:
    """Final losses of the RNN, GRU and LSTM on the adding problem, per length and seed, from :func:`race`.

    Each row: ``cell, length, seed, hidden_size, steps, final_train_loss`` (mean of
    the last 10% of steps), ``test_loss`` (a held-out batch of 256) and the seconds
    the race took. Written to ``out`` as CSV when given.
    """
    rows = []
    for length in lengths:
        for seed in seeds:
            task = AddingProblem(length)
            result = race(task, hidden_size=hidden_size, steps=steps, lr=lr, seed=seed, record_every=steps,
                          progress=progress)
            for cell, history in result.histories.items():
                rows.append({"cell": cell, "length": length, "seed": seed, "hidden_size": hidden_size, "steps": steps,
                             "final_train_loss": round(history.final_loss, 6),
                             "test_loss": round(evaluate(result.models[cell], task), 6),
                             "seconds": round(history.wall_time[-1], 2)})
    if out is not None:
        write_table(out, rows, TABLE_FIELDS)
    return rows


def write_table(out: str | Path, rows: Sequence[dict], fields: Sequence[str]) -> Path:
    """Write ``rows`` (dicts) to the CSV file ``out`` with the columns ``fields``, creating its folder."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fields))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_table(path: str | Path) -> list[dict]:
    """Read a CSV written by :func:`race_table` (numbers converted)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("length", "seed", "hidden_size", "steps"):
            row[key] = int(row[key])
        for key in ("final_train_loss", "test_loss", "seconds"):
            row[key] = float(row[key])
    return rows


def summarise_table(rows: Sequence[dict]) -> dict[tuple[str, int], dict[str, float]]:
    """Per (cell, length): mean, standard deviation, min and max of the test loss over seeds, and the seed count."""
    groups: dict[tuple[str, int], list[float]] = {}
    for row in rows:
        groups.setdefault((row["cell"], row["length"]), []).append(row["test_loss"])
    return {key: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
                  "min": float(np.min(v)), "max": float(np.max(v)), "seeds": len(v)}
            for key, v in groups.items()}
