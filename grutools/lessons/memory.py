"""Memory on different time scales: the update gate as a leaky integrator, impulse responses, trajectories.

* :func:`unit_timescales`: each unit's time scale 1 / (1 − mean z) on a batch.
* :func:`unit_alignment`: how strongly each unit follows each target signal (correlation).
* :func:`impulse_response`: how long a nudge to the input at one step lives in each unit's state.
* :func:`pca_trajectory`: the hidden states of a sequence projected to their two main directions.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..core.models import SequenceModel
from ..core.trace import trace
from .gates import timescales


def unit_timescales(model: SequenceModel, x: Tensor, layer: int = -1) -> np.ndarray:
    """Per unit of a GRU, 1 / (1 − mean update gate) over the batch ``x``: its memory in steps."""
    if model.cell != "gru":
        raise ValueError(f"time scales from the update gate need a GRU; this model is a {model.cell}.")
    return timescales(trace(model, x).update[layer])


def unit_alignment(model: SequenceModel, x: Tensor, targets: Tensor, layer: int = -1) -> np.ndarray:
    """|correlation| of each unit's state with each target signal over batch and time: ``(hidden, targets)``.

    ``targets`` is ``(batch, time, k)`` (e.g. the fast and the slow average of the
    two-time-scales task).
    """
    hidden = trace(model, x).hidden[layer].reshape(-1, model.hidden_size).numpy()
    signals = targets.reshape(-1, targets.shape[-1]).numpy()
    h = (hidden - hidden.mean(0)) / np.maximum(hidden.std(0), 1e-12)
    s = (signals - signals.mean(0)) / np.maximum(signals.std(0), 1e-12)
    return np.abs(h.T @ s) / len(h)


@torch.no_grad()
def impulse_response(model: SequenceModel, x: Tensor, step: int, size: float = 1.0, layer: int = -1) -> np.ndarray:
    """|h'_t − h_t| per unit for t >= ``step`` when the input at ``step`` is nudged by ``size``: ``(time, hidden)``.

    ``x`` is one sequence ``(time, features)``; every input feature is nudged.
    Steps before ``step`` are zero (nothing has happened yet).
    """
    if not 0 <= step < x.shape[0]:
        raise ValueError(f"the nudged step must be between 0 and {x.shape[0] - 1}; got {step}.")
    nudged = x.clone()
    nudged[step] += size
    both = trace(model, torch.stack([x, nudged])).hidden[layer]
    return (both[1] - both[0]).abs().numpy()


def lifetimes(response: np.ndarray, step: int, fraction: float = 0.1) -> np.ndarray:
    """Per unit, how many steps after ``step`` its response stays above ``fraction`` of the response's peak.

    >>> lifetimes(np.array([[0.0], [1.0], [0.5], [0.05], [0.0]]), step=1).tolist()
    [2]
    """
    after = response[step:]
    peak = np.maximum(after.max(0), 1e-12)
    above = after >= fraction * peak
    # the last step still above the threshold, plus one
    last = np.where(above.any(0), len(after) - 1 - np.argmax(above[::-1], axis=0), -1)
    return last + 1


def pca_trajectory(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project states ``(time, hidden)`` on their two principal directions: ``(time, 2)`` and explained variance."""
    states = np.asarray(states, dtype=float)
    centred = states - states.mean(0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    variance = singular**2 / max((singular**2).sum(), 1e-12)
    components = vt[:2]
    projected = centred @ components.T
    if projected.shape[1] < 2:
        projected = np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))
    return projected, variance[:2]
