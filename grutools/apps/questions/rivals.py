"""Dashboard 07's questions: who leaves the guess on running parity, whose step is faster in the race, who wins the
shipped study on the adding problem, and what a GRU keeps while a sequence streams in."""

from __future__ import annotations

import numpy as np

from ...lessons.rivals import MODELS, NAMES, make_study_task
from ..predict import Check, Question

LEAVES = ["the GRU only", "the minGRU only", "both", "neither"]
FASTER = ["the GRU's", "the minGRU's", "about the same (within 10%)"]
STREAM = ["the same", "more, but not in proportion", "in proportion to the steps seen"]
TAIL = 20  # the race's last steps averaged for "where the loss ended"


def questions(app, dashboard: str) -> dict[str, Question]:
    def race(task: str):
        """The last finished race of the GRU and the minGRU on ``task``: ``(result, the race's task)``, or a sentence."""
        what = f"Choose {task}, tick GRU and minGRU, and press Race first"
        if app.job.running:
            return "Wait for the race to end (or press Stop): the check reads the finished race."
        if app.result is None or app._running is None:
            return what + "."
        ran, models, _ = app._running
        if ran.name != task or not {"gru", "mingru"} <= set(models):
            return what + f": the last race was on {ran.name} with {', '.join(NAMES[m] for m in models)}."
        if not all(app.result.histories[k].loss for k in ("gru", "mingru")):
            return what + ": the last race stopped before its first step."
        return app.result, ran

    def parity() -> Check | str:
        found = race("parity")
        if isinstance(found, str):
            return found
        result, task = found
        ends = {k: float(np.mean(result.histories[k].loss[-TAIL:])) for k in ("gru", "mingru")}
        half = task.baseline / 2
        below = {k for k, v in ends.items() if v < half}
        answer = LEAVES[0] if below == {"gru"} else LEAVES[1] if below == {"mingru"} else \
            LEAVES[2] if below else LEAVES[3]
        steps = len(result.histories["gru"].loss)
        return Check(answer, f"After {steps} steps at length {task.length}, the mean loss of the last {TAIL} steps is "
                             f"{ends['gru']:.3f} for the GRU and {ends['mingru']:.3f} for the minGRU; guessing scores "
                             f"ln 2 = {task.baseline:.3f} (counted as left below {half:.3f}). To keep a running "
                             "parity a unit must flip on every 1, which needs gates that see the state: the GRU's "
                             "do; the minGRU's see only the input, and its state is a positive blend of its past.")

    def speed() -> Check | str:
        found = race(app._running[0].name if app._running else "parity")
        if isinstance(found, str):
            return found
        result, task = found
        gru, mingru = result.ms_per_step("gru"), result.ms_per_step("mingru")
        answer = FASTER[2] if abs(gru - mingru) <= 0.1 * max(gru, mingru) else FASTER[0] if gru < mingru else FASTER[1]
        return Check(answer, f"In this race ({task.name}, length {task.length}, {app.hidden_size} units), a training "
                             f"step took {gru:.1f} ms for the GRU and {mingru:.1f} ms for the minGRU (medians). The "
                             "scan computes all steps at once, which pays with thousands of cores and long "
                             "sequences; " + ("on this CPU at this length the GRU's fused step-by-step kernel does "
                                              "less work." if answer == FASTER[0] else
                                              "here that paid." if answer == FASTER[1] else
                                              "here the two come out even.")
                             + " The study and the cost against length below have the same comparison, measured "
                             "apart.")

    def study() -> Check | str:
        if not app.summary:
            return "This page has no shipped study to read; make it with the command its table names."
        kinds = [k for k in MODELS if ("adding", 100, k) in app.summary]
        if not kinds:
            return "The shipped study has no runs on the adding problem at length 100."
        means = {k: app.summary[("adding", 100, k)]["mean"] for k in kinds}
        best = min(means, key=means.get)
        spread = app.summary[("adding", 100, best)]
        listed = ", ".join(f"{NAMES[k]} {v:.3g}" for k, v in sorted(means.items(), key=lambda kv: kv[1]))
        luckiest = min(kinds, key=lambda k: app.summary[("adding", 100, k)]["min"])
        lucky = (f"The best single seed is {NAMES[luckiest]}'s ({app.summary[('adding', 100, luckiest)]['min']:.3g}): "
                 "a mean and a best seed name different winners, which is why one race decides nothing."
                 if luckiest != best else f"{NAMES[best]} also has the best single seed.")
        guess = make_study_task("adding", 100).baseline
        return Check(NAMES[best], f"Mean test loss over {spread['seeds']} seeds: {listed} (guessing scores "
                                  f"{guess:.3g}). {lucky} Bai et al.'s TCN result came after far longer training "
                                  "than a fixed budget of steps.")

    def stream() -> Check | str:
        if not app.scaling:
            return "This page has no shipped streaming benchmark to read; make it with the command its section names."
        at, kept = app.scaling["stream_at"], app.scaling["stream"]
        gru, transformer = kept["gru"]["bytes"], kept["transformer"]["bytes"]
        ratio, steps = gru[-1] / gru[0], at[-1] / at[0]
        answer = STREAM[0] if ratio < 1.2 else STREAM[2] if ratio > 0.5 * steps else STREAM[1]
        return Check(answer, f"The GRU keeps {gru[0]} bytes after {at[0]} steps and {gru[-1]} bytes after {at[-1]}: "
                             f"one state vector, whatever the length. The Transformer keeps {transformer[0] / 1024:.0f} "
                             f"KiB after {at[0]} steps and {transformer[-1] / 1024:.0f} KiB after {at[-1]}, the keys "
                             "and values of every step seen, and attends over all of them for each new step.")

    race_names = [NAMES[k] for k in MODELS]
    return {
        "parity": Question("parity", dashboard, "Race the GRU and the minGRU on running parity (length 30, 300 steps). "
                           "Whose loss will leave the guess line (ln 2 = 0.69) and fall below half of it?", parity,
                           expected="The GRU only: here its loss ended at 0.004 after 300 steps, the minGRU's at "
                                    "0.684 (the guess is 0.693).", choices=LEAVES),
        "speed": Question("speed", dashboard, "The minGRU computes all its steps at once with a parallel scan; the GRU "
                          "takes them one after another. In the same race, whose training step will be faster?",
                          speed, expected="The GRU's: 4.6 to 5.2 ms a step against the minGRU's 11.6 to 13.3 ms in two "
                                          "races here (parity, length 30, 32 units).", choices=FASTER),
        "study": Question("study", dashboard, "In the shipped study (three seeds, 600 steps each), which model has the "
                          "lowest mean test loss on the adding problem at length 100?", study,
                          expected="The GRU (0.073); the Transformer's best seed reached 0.0003 but its mean is 0.115, "
                                   "and the TCN stayed at the guess (0.174).", choices=race_names),
        "stream": Question("stream", dashboard, "A sequence arrives one step at a time. After 2000 steps, how much "
                           "memory will the GRU keep, compared with after 10 steps?", stream,
                           expected="The same: 128 bytes at 10 and at 2000 steps; the Transformer grows from 5 KiB to "
                                    "1000 KiB.", choices=STREAM),
    }
