"""Training on spoken digits, and the two studies of dashboard 09: does order matter, and a voice never heard.

``grutools speech-study`` runs both over seeds and writes ``data/results/speech_order.csv`` and
``data/results/speech_speakers.csv``; the dashboard reads them.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ..core.models import SequenceModel
from ..core.training import History, train
from ..lessons.studies import read_rows, run_jobs, write_rows
from .digits import SPEAKERS, SpokenDigits, accuracy

LR = 3e-3
BATCH = 32
STUDY_STEPS = 1500
HIDDEN = 64


class FrameMean(nn.Module):
    """A model that ignores order: the mean of a recording's frames into a small MLP (one hidden layer)."""

    cell = "mean"
    readout = "last"

    def __init__(self, input_size: int, hidden_size: int, output_size: int, seed: int | None = None) -> None:
        super().__init__()
        self.input_size = input_size
        with torch.random.fork_rng(enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.net = nn.Sequential(nn.Linear(input_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, output_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.mean(dim=1))


# what each row of "does order matter?" trains: (label, model kind, frame order)
ORDER_RUNS = {
    "GRU": ("gru", "forward"),
    "LSTM": ("lstm", "forward"),
    "tanh RNN": ("rnn", "forward"),
    "mean of frames (MLP)": ("mean", "forward"),
    "GRU, frames reversed": ("gru", "reversed"),
    "GRU, frames shuffled": ("gru", "shuffled"),
}


def digit_model(kind: str, hidden: int = HIDDEN, seed: int = 0) -> nn.Module:
    """A model for :class:`SpokenDigits`: ``"gru"``, ``"lstm"``, ``"rnn"`` (answering at every frame) or ``"mean"``."""
    task_sizes = {"input_size": SpokenDigits.input_size, "output_size": SpokenDigits.output_size}
    if kind == "mean":
        return FrameMean(hidden_size=hidden, seed=seed, **task_sizes)
    return SequenceModel(kind, hidden_size=hidden, seed=seed, readout="all", **task_sizes)


def train_digits(model: nn.Module, task: SpokenDigits, steps: int, seed: int = 0, lr: float = LR,
                 callback: Callable[[History], None] | None = None, stop: threading.Event | None = None,
                 progress: bool = False) -> History:
    """Train ``model`` on ``task`` with the settings of the shipped model (Adam 3e-3, batches of 32, clipping at 1)."""
    return train(model, task, steps=steps, lr=lr, batch_size=BATCH, seed=seed, clip_grad=1.0, callback=callback,
                 stop=stop, progress=progress)


def order_run(label: str, seed: int, steps: int = STUDY_STEPS) -> dict:
    """One row of "does order matter?": train ``ORDER_RUNS[label]`` and measure it on the standard test split."""
    kind, order = ORDER_RUNS[label]
    task = SpokenDigits(order=order)
    model = digit_model(kind, seed=seed)
    started = time.perf_counter()
    train_digits(model, task, steps, seed=seed)
    return {"model": label, "seed": seed, "steps": steps, "parameters": sum(p.numel() for p in model.parameters()),
            "accuracy": accuracy(model, task), "seconds": time.perf_counter() - started}


def speaker_run(speaker: str, seed: int, steps: int = STUDY_STEPS) -> dict:
    """One row of "a voice never heard": a GRU trained on the other five speakers, tested on all of ``speaker``'s."""
    task = SpokenDigits(held_out=speaker)
    model = digit_model("gru", seed=seed)
    train_digits(model, task, steps, seed=seed)
    return {"speaker": speaker, "seed": seed, "steps": steps, "accuracy": accuracy(model, task)}


ORDER_FIELDS = ("model", "seed", "steps", "parameters", "accuracy", "seconds")
SPEAKER_FIELDS = ("speaker", "seed", "steps", "accuracy")


def speech_study(seeds=(0, 1, 2), steps: int = STUDY_STEPS, jobs: int = 1, progress: bool = True,
                 order_out: str | Path | None = None, speakers_out: str | Path | None = None
                 ) -> tuple[list[dict], list[dict]]:
    """Both studies over ``seeds``; each written to its CSV when given. About 15 s a run on one core."""
    order_runs = [(label, seed, steps) for label in ORDER_RUNS for seed in seeds]
    speaker_runs = [(speaker, seed, steps) for speaker in SPEAKERS for seed in seeds]
    done = run_jobs(order_run, order_runs, jobs, progress, label=lambda run: f"{run[0]}, seed {run[1]}")
    order = [done[run] for run in order_runs]
    done = run_jobs(speaker_run, speaker_runs, jobs, progress, label=lambda run: f"without {run[0]}, seed {run[1]}")
    speakers = [done[run] for run in speaker_runs]
    if order_out:
        write_rows(order_out, order, ORDER_FIELDS)
    if speakers_out:
        write_rows(speakers_out, speakers, SPEAKER_FIELDS)
    return order, speakers


def read_order(path: str | Path) -> list[dict]:
    return read_rows(path, ORDER_FIELDS, ("seed", "steps", "parameters"), ("accuracy", "seconds"),
                     "a speech order study")


def read_speakers(path: str | Path) -> list[dict]:
    return read_rows(path, SPEAKER_FIELDS, ("seed", "steps"), ("accuracy",), "a speech speaker study")


def summary(rows: list[dict], key: str) -> dict[str, tuple[float, float, float, int]]:
    """``{name: (mean, lowest, highest, runs)}`` of the accuracy, by ``key`` (``"model"`` or ``"speaker"``)."""
    groups: dict[str, list[float]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row["accuracy"])
    return {name: (statistics.fmean(v), min(v), max(v), len(v)) for name, v in groups.items()}


def _pct(values: tuple[float, float, float, int]) -> str:
    return f"{100 * values[0]:.1f}% (seeds {100 * values[1]:.1f}-{100 * values[2]:.1f})"


def _apart(a: tuple, b: tuple) -> bool:
    """Whether two models' seed ranges do not overlap."""
    return a[1] > b[2] or b[1] > a[2]


def order_findings(rows: list[dict]) -> list[str]:
    """What "does order matter?" shows, read from the numbers (seed ranges compared, not just means)."""
    s = summary(rows, "model")
    if "GRU" not in s:
        return []
    gru = s["GRU"]
    out = []
    mean, shuffled, reversed_ = (s.get(k) for k in ("mean of frames (MLP)", "GRU, frames shuffled",
                                                     "GRU, frames reversed"))
    if mean:
        out.append(f"The mean of the frames, which ignores order, gets {_pct(mean)}; the GRU in time order "
                   f"{_pct(gru)}: {100 * (gru[0] - mean[0]):.0f} points more.")
    if shuffled:
        sentence = (f"Shuffled frames keep which sounds occur but not when: the GRU still gets {_pct(shuffled)}, "
                    f"{100 * (gru[0] - shuffled[0]):.1f} points under time order")
        if mean and shuffled[0] > mean[0]:
            sentence += (f", and {100 * (shuffled[0] - mean[0]):.0f} above the mean of frames. Most of what tells a "
                         "digit is which sounds it has, more than their average; their order adds the last few points")
        if not _apart(shuffled, gru):
            sentence += " (the seeds overlap, so even those are not certain)"
        out.append(sentence + ".")
    if reversed_:
        if _apart(reversed_, gru):
            better = "more" if reversed_[0] > gru[0] else "less"
            out.append(f"Read backwards, the GRU gets {_pct(reversed_)}, {better} than forwards, beyond the seeds' "
                       "spread. Backwards, its last frame is the word's first sound; that the onsets tell these "
                       "digits apart best is one explanation, not tested here.")
        else:
            out.append(f"Read backwards, the GRU gets {_pct(reversed_)}: as well as forwards (the seeds overlap). "
                       "A recording reversed is still a sequence, with every neighbour kept.")
    for name in ("LSTM", "tanh RNN"):
        if name not in s:
            continue
        other = s[name]
        params = {row["model"]: row["parameters"] for row in rows}
        size = (f" with {params[name]:,} parameters to the GRU's {params['GRU']:,}" if name in params and "GRU" in params
                else "")
        if _apart(other, gru):
            verdict = "better than" if other[0] > gru[0] else "worse than"
        else:
            verdict = "as good as"
        out.append(f"The {name} gets {_pct(other)}{size}: {verdict} the GRU over {gru[3]} seeds.")
    return out


def speaker_findings(speakers: list[dict], standard: float | None) -> list[str]:
    """How much worse a voice never heard is than the standard split's ``standard`` accuracy."""
    s = summary(speakers, "speaker")
    if not s:
        return []
    overall = statistics.fmean(v[0] for v in s.values())
    worst = min(s, key=lambda name: s[name][0])
    best = max(s, key=lambda name: s[name][0])
    sentence = (f"Trained without a speaker, the GRU names {100 * overall:.0f}% of that speaker's digits on average: "
                f"{100 * s[best][0]:.0f}% for {best}, {100 * s[worst][0]:.0f}% for {worst}.")
    if standard is not None:
        sentence += (f" With every voice in training (the standard split) it gets {100 * standard:.1f}%: "
                     f"{100 * (standard - overall):.0f} points more. Five voices to learn from are not enough to "
                     "know a new one: what a GRU learns here is partly the speakers, not only the digits.")
    return [sentence]
