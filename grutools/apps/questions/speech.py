"""Dashboard 09's questions: when the GRU settles on a recording, how many test recordings it names right, what a
GRU trained here reaches, and what shuffling the frames costs."""

from __future__ import annotations

import numpy as np

from ...speech.audio import HOP, RATE, from_decibels
from ...speech.belief import settling
from ...speech.digits import DIGIT_NAMES, predict
from ..predict import Check, Number, Question

SHUFFLED, FORWARD, MEAN = "GRU, frames shuffled", "GRU", "mean of frames (MLP)"


def _bars(app) -> dict[str, tuple[float, float, float]] | None:
    """The "does order matter?" bars the page shows: ``{model: (mean, lowest seed, highest seed)}``."""
    row = app.study.view.children[0]
    plots = getattr(row, "children", ())
    if not plots or not getattr(plots[0], "data", None):
        return None
    bars = plots[0].data[0]
    return {name: (float(mean), float(low), float(high))
            for name, mean, (low, high, _) in zip(bars.y, bars.x, bars.customdata)}


def questions(app, dashboard: str) -> dict[str, Question]:
    hearing = app.hearing

    def settle() -> Check | str:
        model = hearing.current_model()
        if model is None:
            return "This page has no GRU to listen with: make the shipped one with `python -m grutools speech-data`."
        if hearing._recording_db is None:
            return "Pick a test recording in section 1 first (or upload a WAV)."
        probabilities = predict(model, from_decibels(hearing._recording_db)).numpy()  # (frames, 10)
        s = settling(probabilities)
        truth = hearing._digit if hearing.source == "shipped" else None
        right = "" if truth is None else (" (right)" if s.answer == truth else
                                          f" (wrong: it was {DIGIT_NAMES[truth]})")
        before = (f"; before that it thought {DIGIT_NAMES[s.rival]}" if s.rival is not None else
                  "; it had that answer on top from the first frame")
        return Check(100 * s.share, f"On {hearing._title}, the GRU's answer at the last frame is "
                                    f"{DIGIT_NAMES[s.answer]}{right}, with probability "
                                    f"{probabilities[-1, s.answer]:.2f}. It stays on top from frame {s.frame + 1} of "
                                    f"{s.frames} ({(s.frame + 1) * HOP / RATE:.2f} s){before}. A word's first sounds "
                                    "are shared by several digits; the GRU's belief settles once the frames that tell "
                                    "them apart have gone by.")

    def accuracy() -> Check | str:
        plot = app.confusion.plot
        if plot is None or not plot.data or plot.data[0].customdata is None:
            return "This page has no confusion matrix yet: it needs the shipped GRU (`python -m grutools speech-data`)."
        matrix = np.array(plot.data[0].customdata, dtype=int)  # said (rows) by named (columns)
        right, total = int(np.trace(matrix)), int(matrix.sum())
        wrong = matrix.copy()
        np.fill_diagonal(wrong, 0)
        said, named = np.unravel_index(int(wrong.argmax()), wrong.shape)
        times = int(wrong[said, named])
        worst = (f" The most common mistake: {DIGIT_NAMES[said]} taken for {DIGIT_NAMES[named]}, "
                 f"{'once' if times == 1 else f'{times} times'}." if wrong.any() else " It makes no mistake at all.")
        which = "Your GRU" if hearing.model.value == "yours" and hearing.models.get("yours") else "The shipped GRU"
        return Check(100 * right / total, f"{which} names {right} of the {total} test recordings right "
                                          f"({right / total:.1%}); guessing would name 10%.{worst} These voices were "
                                          "heard in training, other takes of them; section 4 tests a voice never "
                                          "heard.")

    def yours() -> Check | str:
        train = app.train
        if train.job.running:
            return "Wait for the training to end (or press Stop): the check reads the finished run."
        if train.result is None:
            return "Press Train in section 3 first: then this page has your GRU's test accuracy."
        result = train.result
        final = result["accuracy"][-1]
        shipped = (f" The shipped GRU (64 units, 3000 steps) names {train.shipped:.1%}." if train.shipped is not None
                   else "")
        return Check(100 * final, f"After {result['done']} steps your GRU of {result['hidden']} units names "
                                  f"{final:.1%} of the 300 test recordings (it started at "
                                  f"{result['accuracy'][0]:.1%}, about chance).{shipped} A small GRU trained for "
                                  "seconds learns most of it; the last points take more units and steps.")

    def shuffled() -> Check | str:
        bars = _bars(app)
        if bars is None or SHUFFLED not in bars or FORWARD not in bars:
            return "This page has no shipped study to read; make it with `python -m grutools speech-study --jobs 2`."
        mean, low, high = bars[SHUFFLED]
        forward = bars[FORWARD][0]
        average = (f" The mean of the frames, which ignores order altogether, gets {bars[MEAN][0]:.1%}."
                   if MEAN in bars else "")
        return Check(100 * mean, f"With its frames shuffled the GRU names {mean:.1%} of the test recordings (seeds "
                                 f"{low:.1%} to {high:.1%}), against {forward:.1%} in time order: "
                                 f"{100 * (forward - mean):.1f} points less.{average} Which sounds a digit has tells "
                                 "most of it; when they come adds the last points.")

    return {
        "settle": Question("settle", dashboard, "Pick a recording (the page opens on “seven” said by jackson). How far "
                           "into it, as a share of its frames, will the GRU settle on its final answer?", settle,
                           expected="Seven by jackson: 39% (frame 12 of 28, after leaning to four); six by george: "
                                    "52% (frame 18 of 33).", number=Number(0, 100, 5, 50, tolerance=10, unit="%")),
        "accuracy": Question("accuracy", dashboard, "Of the 300 test recordings (other takes of the same six voices), "
                             "what share will the GRU chosen above name right?", accuracy,
                             expected="98.3% for the shipped GRU (295 of 300).",
                             number=Number(50, 100, 1, 75, tolerance=3, unit="%")),
        "yours": Question("yours", dashboard, "Your GRU trains from scratch with the units and steps set below. What "
                          "share of the 300 test recordings will it name right?", yours,
                          expected="At the page's 32 units and 600 steps: 90.7% here (8 s); at 16 units: 70.0%; the "
                                   "shipped GRU names 98.3%.",
                          number=Number(0, 100, 5, 50, tolerance=10, unit="%")),
        "shuffled": Question("shuffled", dashboard, "Shuffle every recording's frames: which sounds occur stays, when "
                             "they occur goes. What test accuracy will the GRU get?", shuffled,
                             expected="93.7% over three seeds, against 97.0% in time order (the mean of frames: "
                                      "83.4%).", number=Number(10, 100, 5, 50, tolerance=5, unit="%")),
    }
