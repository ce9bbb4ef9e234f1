"""When does the GRU know? Its belief frame by frame: the frame it settles on its answer, and the digit it leaned to
before, for one recording and over the test set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .audio import HOP, RATE
from .digits import DIGIT_NAMES, SpokenDigits


@dataclass
class Settling:
    """``answer``: the last frame's most probable digit; ``frame``: the first frame from which it stays on top (0: from
    the start); ``rival``: the digit on top just before that (the one it changed its mind from), or ``None``;
    ``frames``: the recording's length."""

    answer: int
    frame: int
    rival: int | None
    frames: int

    @property
    def seconds(self) -> float:
        """The end of the settling frame's hop, in seconds."""
        return (self.frame + 1) * HOP / RATE

    @property
    def share(self) -> float:
        """How far into the recording the answer settled (0 to 1)."""
        return self.frame / self.frames


def settling(probabilities) -> Settling:
    """Where a recording's belief ``(frames, 10)`` settles.

    >>> p = np.array([[0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    >>> settling(p)
    Settling(answer=1, frame=1, rival=0, frames=3)
    """
    top = np.asarray(probabilities).argmax(axis=1)
    answer = int(top[-1])
    frame = len(top) - 1
    while frame > 0 and top[frame - 1] == answer:
        frame -= 1
    rival = int(top[frame - 1]) if frame > 0 else None
    return Settling(answer, frame, rival, len(top))


def belief_sentences(probabilities, true_digit: int | None = None) -> list[str]:
    """What one recording's belief shows, in words."""
    p = np.asarray(probabilities)
    s = settling(p)
    said = "" if true_digit is None else (" (right)" if s.answer == true_digit else
                                          f" (wrong: it was {DIGIT_NAMES[true_digit]})")
    out = [f"The GRU's answer at the last frame: {DIGIT_NAMES[s.answer]}, with probability {p[-1, s.answer]:.2f}{said}."]
    if s.frame == 0:
        out.append(f"It put {DIGIT_NAMES[s.answer]} on top from the first frame and kept it there.")
    else:
        leaned = f"; just before, it thought {DIGIT_NAMES[s.rival]}" if s.rival is not None else ""
        out.append(f"It settled on {DIGIT_NAMES[s.answer]} at {s.seconds:.2f} s, frame {s.frame + 1} of {s.frames} "
                   f"({s.share:.0%} of the way in){leaned}.")
    return out


@torch.no_grad()
def settling_over_tests(model, task: SpokenDigits) -> list[tuple[int, Settling]]:
    """``(digit said, Settling)`` for every test recording."""
    from .digits import predict

    recordings = task.recordings
    return [(int(recordings.digits[i]), settling(predict(model, recordings.frames[i]).numpy()))
            for i in task.parts["test"]]


def settling_sentences(results: list[tuple[int, Settling]]) -> list[str]:
    """Over the test set: how far into a recording the GRU settles, and which digits it takes longest to tell apart
    (the digit it leaned to before settling, counted over the recordings it got right)."""
    right = [(d, s) for d, s in results if s.answer == d]
    if not right:
        return []
    shares = np.array([s.share for _, s in right])
    out = [f"Over the {len(right)} test recordings it names right, the GRU settles on its answer a median "
           f"{np.median(shares):.0%} of the way in (a quarter of them after {np.percentile(shares, 75):.0%})."]
    by_digit = {d: [s for dd, s in right if dd == d] for d in range(10)}
    late = sorted(((np.median([s.share for s in v]), d) for d, v in by_digit.items() if v), reverse=True)[:3]
    parts = []
    for median, d in late:
        rivals = [s.rival for s in by_digit[d] if s.rival is not None and s.rival != d]
        if rivals:
            counts = np.bincount(rivals, minlength=10)
            lean = f", changing its mind from {DIGIT_NAMES[counts.argmax()]} in {counts.max()} of {len(rivals)}"
        else:
            lean = ""
        parts.append(f"{DIGIT_NAMES[d]} at {median:.0%} of the way in{lean}")
    out.append("The latest to settle (medians): " + "; ".join(parts) + ". Open one in section 1: what does the spectrogram "
               "show at the frame where it changes its mind?")
    return out
