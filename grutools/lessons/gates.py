"""Reading the gates of a trained GRU: unit ordering, saturation, time scales, and what a run shows.

Everything here takes arrays from a :class:`~grutools.Trace` and returns plain
NumPy arrays or sentences, so the dashboards only draw.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core.models import SequenceModel
from ..core.tasks import Task
from ..core.trace import Trace

SORTS = {"none": "unit number", "mean": "mean update gate", "similarity": "similar units together"}
LOW, HIGH = 0.1, 0.9  # a gate below LOW is "left saturated" (closed), above HIGH "right saturated" (open)


def unit_order(values: np.ndarray, method: str = "mean") -> np.ndarray:
    """A permutation of the units (columns of ``values``, shaped ``(time, hidden)``) for display.

    ``"none"`` keeps unit numbers; ``"mean"`` puts the units with the highest mean
    first (for the update gate: the longest memories at the top); ``"similarity"``
    puts units whose time courses are correlated next to each other (spectral
    seriation: units sorted by the Fiedler vector of their correlation graph).

    >>> unit_order(np.array([[0.1, 0.9, 0.5]]), "mean").tolist()
    [1, 2, 0]
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must be (time, hidden); got shape {values.shape}.")
    hidden = values.shape[1]
    if method == "none":
        return np.arange(hidden)
    if method == "mean":
        return np.argsort(-values.mean(0), kind="stable")
    if method == "similarity":
        if hidden < 3:
            return np.argsort(-values.mean(0), kind="stable")
        centred = values - values.mean(0)
        spread = np.linalg.norm(centred, axis=0)
        spread[spread == 0] = 1.0
        correlation = (centred / spread).T @ (centred / spread)
        affinity = (1.0 + correlation) / 2.0  # 0 (opposite) .. 1 (identical)
        laplacian = np.diag(affinity.sum(1)) - affinity
        _, vectors = np.linalg.eigh(laplacian)
        fiedler = vectors[:, 1]
        if fiedler[np.argmax(values.mean(0))] < 0:  # orient it so the most open unit comes first
            fiedler = -fiedler
        return np.argsort(-fiedler, kind="stable")
    raise ValueError(f"unknown sort {method!r}; choose one of {sorted(SORTS)}.")


def saturation(gate: np.ndarray | torch.Tensor, low: float = LOW, high: float = HIGH) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the fraction of values below ``low`` (left saturated) and above ``high`` (right saturated).

    ``gate`` is ``(..., hidden)``: all leading axes (batch, time) are pooled, as in
    Karpathy, Johnson & Fei-Fei (2015), "Visualizing and understanding recurrent networks".

    >>> left, right = saturation(np.array([[0.05, 0.5], [0.95, 0.99]]))
    >>> left.tolist(), right.tolist()
    ([0.5, 0.0], [0.5, 0.5])
    """
    if isinstance(gate, torch.Tensor):
        gate = gate.detach().cpu().numpy()
    gate = np.asarray(gate).reshape(-1, np.shape(gate)[-1])
    return (gate < low).mean(0), (gate > high).mean(0)


def timescales(update: np.ndarray | torch.Tensor) -> np.ndarray:
    """Each unit's memory time scale in steps, 1 / (1 − mean z), from update gates shaped ``(..., hidden)``.

    With the update gate held at z, a unit keeps a fraction z of its state per
    step, so a perturbation decays like z^t, with time constant about 1/(1 − z).

    >>> timescales(np.array([[0.0, 0.5, 0.9]])).round(1).tolist()
    [1.0, 2.0, 10.0]
    """
    if isinstance(update, torch.Tensor):
        update = update.detach().cpu().numpy()
    mean = np.asarray(update, dtype=float).reshape(-1, np.shape(update)[-1]).mean(0)
    return 1.0 / np.clip(1.0 - mean, 1e-6, None)


def model_at(model: SequenceModel, state_dict: dict) -> SequenceModel:
    """A copy of ``model`` (same configuration) with the weights ``state_dict``, e.g. a training snapshot."""
    copy = SequenceModel(**model.config)
    copy.load_state_dict(state_dict)
    copy.eval()
    return copy


def event_steps(task: Task, x: np.ndarray) -> np.ndarray:
    """The time steps (0-based) where something happens in one input sequence ``x (time, features)``.

    Adding problem: the two marked steps. Copy task: the steps showing a symbol
    and the recall steps. Real data: none (every step matters).
    """
    x = np.asarray(x)
    if task.name == "adding":
        return np.flatnonzero(x[:, 1] > 0.5)
    if task.name == "copy":
        return np.flatnonzero(x.any(1))
    return np.array([], dtype=int)


def describe_run(trace: Trace, untrained: Trace, task: Task, layer: int = -1) -> list[str]:
    """Sentences about what the gates of ``trace`` do on its batch, read from the numbers.

    ``untrained`` is the same model before training on the same batch, for
    comparison. Nothing here is written in advance: every figure and every
    verdict comes from the two traces.
    """
    update = trace.update[layer].numpy()  # (batch, time, hidden)
    x = trace.x.numpy()
    sentences = []
    mean_z = update.mean()
    _, right_now = saturation(update)
    _, right_before = saturation(untrained.update[layer])
    sentences.append(
        f"On average the update gate is {mean_z:.2f}. It is above {HIGH} (holding the state) "
        f"{100 * right_now.mean():.0f}% of the time, against {100 * right_before.mean():.0f}% before training."
    )
    reset_closed, _ = saturation(trace.reset[layer])
    reset_before, _ = saturation(untrained.reset[layer])
    sentences.append(
        f"The reset gate is below {LOW} (ignoring the past when it writes) {100 * reset_closed.mean():.0f}% of the "
        f"time, against {100 * reset_before.mean():.0f}% before training."
    )
    events = np.zeros(update.shape[:2], dtype=bool)
    for sample in range(update.shape[0]):
        events[sample, event_steps(task, x[sample])] = True
    if events.any() and (~events).any():
        at_events = update[events].mean(0)  # per unit
        elsewhere = update[~events].mean(0)
        unit = int(np.argmax(elsewhere - at_events))
        what = "marked steps" if task.name == "adding" else "steps that show a symbol or ask for recall"
        drop = elsewhere[unit] - at_events[unit]
        if drop > 0.2:
            sentences.append(
                f"Unit {unit} is a clear memory: its update gate is {elsewhere[unit]:.2f} on ordinary steps "
                f"(keep the state) and {at_events[unit]:.2f} at the {what} (let new input in)."
            )
        else:
            sentences.append(
                f"No unit yet treats the {what} very differently: the largest drop of the update gate there is "
                f"{drop:.2f} (unit {unit}). Train longer and look again."
            )
    longest = timescales(update)
    best = int(np.argmax(longest))
    sentences.append(f"The longest memory is unit {best}, with a time scale of about {longest[best]:.0f} steps "
                     f"(1 / (1 − mean z)); the median unit's is {np.median(longest):.1f}.")
    return sentences
