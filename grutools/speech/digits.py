"""The Free Spoken Digit Dataset as the suite ships it, a task to train on, and a model's answers.

``data/speech/fsdd.pt`` holds the log-mel frames of all 3,000 recordings (quantised to 0.31 dB, see
:func:`build_features`); ``data/speech/recordings/`` the 300 test recordings as WAV files, to listen to.
The standard split (FSDD's README): indexes 0-4 of every speaker are the test set, 5-49 the training set.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ..core.resources import data_dir
from ..core.tasks import Task
from .audio import FLOOR_DB, N_MELS, SILENCE, decibels, features, from_decibels, read_audio

DATA = data_dir() / "speech"  # the clone's data/speech, or the installed package's copy
FEATURES = DATA / "fsdd.pt"
LISTEN = DATA / "recordings"
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEST_INDEXES = range(5)  # FSDD's standard split
NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
STEP_DB = -FLOOR_DB / 255  # the shipped frames' quantisation


@dataclass
class Recordings:
    """Every recording's frames (what a model reads) with its digit, speaker and index."""

    frames: list[Tensor]
    digits: Tensor
    speakers: list[str]
    indexes: Tensor

    def __len__(self) -> int:
        return len(self.frames)

    def split(self, which: str, held_out: str | None = None) -> list[int]:
        """Positions of the ``"train"`` or ``"test"`` recordings: FSDD's standard split, or with ``held_out`` a
        speaker, every recording of the other speakers (train) against all of that speaker's (test)."""
        if which not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test'; got {which!r}.")
        if held_out is not None:
            if held_out not in SPEAKERS:
                raise ValueError(f"held_out must be one of the speakers {SPEAKERS}; got {held_out!r}.")
            return [i for i, s in enumerate(self.speakers) if (s == held_out) == (which == "test")]
        test = [int(i) in TEST_INDEXES for i in self.indexes]
        return [i for i, t in enumerate(test) if t == (which == "test")]

    def find(self, digit: int, speaker: str, index: int = 0) -> int:
        """The position of recording ``{digit}_{speaker}_{index}``."""
        for i, (d, s, n) in enumerate(zip(self.digits.tolist(), self.speakers, self.indexes.tolist())):
            if (d, s, n) == (digit, speaker, index):
                return i
        raise KeyError(f"there is no recording {digit}_{speaker}_{index}.")


def build_features(recordings: str | Path, out: str | Path = FEATURES, listen: str | Path | None = LISTEN) -> Path:
    """Write the shipped features of FSDD's WAV files in ``recordings`` and copy the test recordings (indexes 0-4,
    300 files) into ``listen``, to listen to and to check :func:`predict` on. ``FileNotFoundError`` if none are found."""
    folder = Path(recordings)
    files = sorted(p for p in folder.glob("*.wav") if NAME.match(p.name)) if folder.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no FSDD recordings ({{digit}}_{{speaker}}_{{index}}.wav) in {folder}; get them "
                                "with `git clone https://github.com/Jakobovski/free-spoken-digit-dataset` (commit "
                                "26eb9aa) and pass its recordings/ folder.")
    rows, lengths, digits, speakers, indexes = [], [], [], [], []
    for path in files:
        digit, speaker, index = NAME.match(path.name).groups()
        db = decibels(read_audio(path))
        rows.append(np.round(-db / STEP_DB).clip(0, 255).astype(np.uint8))
        lengths.append(len(db))
        digits.append(int(digit))
        speakers.append(speaker)
        indexes.append(int(index))
    payload = {"format": "grutools-fsdd", "version": 1, "source": "Free Spoken Digit Dataset, commit 26eb9aa",
               "db_step": STEP_DB, "quantised": torch.from_numpy(np.concatenate(rows)),
               "lengths": torch.tensor(lengths), "digits": torch.tensor(digits), "speakers": speakers,
               "indexes": torch.tensor(indexes)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, out)
    if listen is not None:
        import shutil

        Path(listen).mkdir(parents=True, exist_ok=True)
        for path in files:
            digit, speaker, index = NAME.match(path.name).groups()
            if int(index) in TEST_INDEXES:
                shutil.copyfile(path, Path(listen) / path.name)
    return out


@functools.lru_cache(maxsize=2)
def load_recordings(path: str | Path = FEATURES) -> Recordings:
    """The shipped features (cached): see :func:`build_features`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; `make data RECORDINGS=...` writes it (see data/README.md).")
    payload = torch.load(path, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != "grutools-fsdd":
        raise ValueError(f"{path} is not the grutools FSDD features file.")
    db = -payload["quantised"].float() * payload["db_step"]
    frames = list(from_decibels(db.numpy()).split(payload["lengths"].tolist()))
    return Recordings(frames, payload["digits"], list(payload["speakers"]), payload["indexes"])


def listen_path(digit: int, speaker: str, index: int = 0) -> Path:
    """The shipped WAV of ``digit`` said by ``speaker`` (a test recording: index 0-4)."""
    return LISTEN / f"{digit}_{speaker}_{index}.wav"


ORDERS = ("forward", "reversed", "shuffled")


def reorder(frames: Tensor, order: str, generator: torch.Generator | None = None) -> Tensor:
    """A recording's frames in time order, reversed, or shuffled (for "does order matter?")."""
    if order == "forward":
        return frames
    if order == "reversed":
        return frames.flip(0)
    if order == "shuffled":
        return frames[torch.randperm(len(frames), generator=generator)]
    raise ValueError(f"order must be one of {ORDERS}; got {order!r}.")


def pad_left(frames: list[Tensor]) -> Tensor:
    """``(batch, longest, N_MELS)``: shorter recordings get frames of silence in front, so that every recording's
    last frame is the batch's last step (the step a model answers at)."""
    longest = max(len(f) for f in frames)
    batch = torch.full((len(frames), longest, N_MELS), SILENCE)
    for row, f in enumerate(frames):
        batch[row, longest - len(f):] = f
    return batch


class SpokenDigits(Task):
    """Which digit was spoken: a recording's log-mel frames in, the digit (0-9) out, read at the last frame.

    Args:
        order: ``"forward"``, ``"reversed"`` or ``"shuffled"`` frames.
        held_out: a speaker kept out of training (the test split is then all of their recordings).
        path: the features file.
    """

    name = "digits"
    title = "Spoken digits"
    description = "A recording of a spoken digit, as log-mel frames every 16 ms; name the digit at the last frame."
    input_size = N_MELS
    output_size = 10
    readout = "all"
    baseline_label = "chance (1 in 10)"

    def __init__(self, order: str = "forward", held_out: str | None = None, path: str | Path = FEATURES) -> None:
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}; got {order!r}.")
        self.recordings = load_recordings(path)
        self.order, self.held_out = order, held_out
        self.parts = {which: self.recordings.split(which, held_out) for which in ("train", "test")}
        lengths = {which: [len(self.recordings.frames[i]) for i in part] for which, part in self.parts.items()}
        self._by_length = {which: [part[j] for j in np.argsort(lengths[which], kind="stable")]
                           for which, part in self.parts.items()}
        super().__init__(max(len(f) for f in self.recordings.frames))

    @property
    def baseline(self) -> float:
        return float(np.log(10))

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        """A batch of recordings of about the same length (little padding), left-padded: ``(x, digits)``."""
        if generator is None:
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        ordered = self._by_length[split]
        size = min(batch_size, len(ordered))
        start = int(torch.randint(0, len(ordered) - size + 1, (1,), generator=generator))
        chosen = ordered[start:start + size]
        frames = [reorder(self.recordings.frames[i], self.order, generator) for i in chosen]
        return pad_left(frames), self.recordings.digits[chosen]

    def loss(self, prediction: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
        """Cross-entropy of the last frame's answer (``prediction`` is ``(batch, time, 10)`` or ``(batch, 10)``)."""
        last = prediction[:, -1] if prediction.dim() == 3 else prediction
        return nn.functional.cross_entropy(last, target, reduction=reduction)

    def step_labels(self, x) -> list[str]:
        return [f"{t * 0.016:.2f} s" for t in range(len(x))]

    def __repr__(self) -> str:
        return f"SpokenDigits(order={self.order!r}, held_out={self.held_out!r})"


@torch.no_grad()
def answers(model: nn.Module, task: SpokenDigits, split: str = "test", seed: int = 0) -> tuple[Tensor, Tensor]:
    """``(predicted, true)`` digits of every recording of ``split``, the last frame's most probable digit.

    Recordings of equal length go through together, so nothing is padded."""
    recordings = task.recordings
    groups: dict[int, list[int]] = {}
    for i in task.parts[split]:
        groups.setdefault(len(recordings.frames[i]), []).append(i)
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    predicted, true = [], []
    for chosen in groups.values():
        x = torch.stack([reorder(recordings.frames[i], task.order, generator) for i in chosen])
        out = model(x)
        predicted.append((out[:, -1] if out.dim() == 3 else out).argmax(-1))
        true.append(recordings.digits[chosen])
    model.train(was_training)
    return torch.cat(predicted), torch.cat(true)


def accuracy(model: nn.Module, task: SpokenDigits, split: str = "test") -> float:
    """The share of ``split``'s recordings named right."""
    predicted, true = answers(model, task, split)
    return float((predicted == true).float().mean())


def confusion(model: nn.Module, task: SpokenDigits, split: str = "test") -> np.ndarray:
    """``(10, 10)`` counts: row the digit said, column the digit the model named."""
    predicted, true = answers(model, task, split)
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (true.numpy(), predicted.numpy()), 1)
    return matrix


@torch.no_grad()
def predict(model: nn.Module, audio, sample_rate: int | None = None) -> Tensor:
    """The ten digits' probabilities after every frame, ``(frames, 10)``: what ``model`` (a
    ``SequenceModel(..., readout="all")`` trained on :class:`SpokenDigits`) believes as the recording goes on.
    Its answer for the recording is the last row's most probable digit.

    ``audio``: anything :func:`grutools.speech.features` takes (a WAV path or bytes, or samples at
    ``sample_rate``), or the features themselves, a ``(frames, 32)`` tensor.
    """
    if isinstance(audio, Tensor) and audio.dim() == 2 and audio.shape[1] == N_MELS and sample_rate is None:
        x = audio.float()
    else:
        x = features(audio, sample_rate)
    if getattr(model, "readout", "all") != "all":
        raise ValueError("predict needs a model that answers at every frame: SequenceModel(..., readout='all').")
    was_training = model.training
    model.eval()
    probabilities = torch.softmax(model(x[None])[0], dim=-1)
    model.train(was_training)
    return probabilities
