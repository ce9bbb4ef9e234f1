"""Dashboard 05's questions: the longest time scale, which units follow the slow average, what training did, who
forgets a nudge first."""

from __future__ import annotations

import numpy as np

from ...lessons.memory import impulse_response, lifetimes
from ..predict import Check, Number, Question

FOLLOW = ["the units that follow the slow average", "the units that follow the fast average"]
LENGTHENED = ["every unit", "more than half, not all", "half of them or fewer"]
FIRST = ["a GRU unit", "a tanh RNN unit", "both at the same step"]


def questions(app, dashboard: str) -> dict[str, Question]:
    def longest() -> Check:
        scales = app.scales
        best = int(np.argmax(scales))
        return Check(float(scales[best]),
                     f"Read from the GRU's update gates on {app.x.shape[0]} test sequences: unit {best} has the "
                     f"longest time scale, {scales[best]:.1f} steps (1 / (1 − mean z)); the median unit's is "
                     f"{np.median(scales):.1f}. The slow target averages over about {app.task.slow:g} steps, yet no "
                     "unit needs to hold its state that long: a running average can be built from several shorter "
                     "memories, and the candidate keeps writing new input in.")

    def follow() -> Check:
        slow = app.alignment[:, 1] > app.alignment[:, 0]  # (hidden,): follows the slow average more than the fast
        if slow.all() or not slow.any():
            which = "slow" if slow.all() else "fast"
            return Check(FOLLOW[0] if slow.all() else FOLLOW[1],
                         f"Every unit follows the {which} average more than the other one; their median time scale "
                         f"is {np.median(app.scales):.1f} steps.")
        slow_scale, fast_scale = np.median(app.scales[slow]), np.median(app.scales[~slow])
        return Check(FOLLOW[0] if slow_scale > fast_scale else FOLLOW[1],
                     f"{int(slow.sum())} units follow the slow average more than the fast one; their median time "
                     f"scale is {slow_scale:.1f} steps, against {fast_scale:.1f} for the {int((~slow).sum())} units "
                     "that follow the fast one. A unit that keeps more of its state each step averages over more "
                     "steps: its update gate sets how slowly it moves.")

    def lengthened() -> Check | str:
        if app.initial_scales is None:
            return "This checkpoint keeps no snapshot of its initial weights, so this page cannot answer it."
        start, end = app.initial_scales, app.scales
        longer, total = int(np.sum(end > start)), len(start)
        answer = LENGTHENED[0] if longer == total else LENGTHENED[1] if longer > total / 2 else LENGTHENED[2]
        return Check(answer, f"Training lengthened the time scale of {longer} of {total} units. Before training they "
                             f"ran from {start.min():.1f} to {start.max():.1f} steps (median {np.median(start):.1f}); "
                             f"after, from {end.min():.1f} to {end.max():.1f} (median {np.median(end):.1f}). The fast "
                             "target needs units that forget within a step or two, so training shortened those: it "
                             "spreads the time scales to fit the task, in both directions.")

    def forgets() -> Check:
        step, sequence = app.nudge_step.value, app.sequence.value
        lives = {cell: lifetimes(impulse_response(model, app.x[sequence], step), step)
                 for cell, model in app.models.items()}
        first = {cell: int(v.min()) for cell, v in lives.items()}
        answer = (FIRST[2] if first["gru"] == first["rnn"] else FIRST[0] if first["gru"] < first["rnn"] else FIRST[1])
        quickest = int(np.argmin(lives["gru"]))
        return Check(answer, f"A nudge of +1 at step {step + 1} of test sequence {sequence}: the quickest GRU unit "
                             f"(unit {quickest}, time scale {app.scales[quickest]:.1f} steps) keeps it above 10% of "
                             f"its peak for {first['gru']} steps, the quickest tanh RNN unit for {first['rnn']}. The "
                             f"longest keep it {int(lives['gru'].max())} steps in the GRU and "
                             f"{int(lives['rnn'].max())} in the RNN. Each GRU unit has its own gate, so it can forget "
                             "fast or slowly; the RNN's units share one matrix and fade together.")

    return {
        "longest": Question("longest", dashboard, "The task's slow target averages over about 20 steps. How long "
                            "will this GRU's longest time scale be?", longest,
                            expected="7.0 steps (unit 3; median 1.5): far shorter than the slow target's 20.",
                            number=Number(0, 40, 1, 20, tolerance=2, unit="steps")),
        "follow": Question("follow", dashboard, "Which units will have the longer time scales?", follow,
                           expected="Those that follow the slow average: 7 units, median 5.6 steps, against 1.3 for "
                                    "the 9 that follow the fast one.",
                           choices=FOLLOW),
        "lengthened": Question("lengthened", dashboard, "Did training lengthen the memory of every unit?", lengthened,
                               expected="Half of them or fewer: 7 of 16 units got longer (1.7-2.4 steps at "
                                        "initialisation, 1.2-7.0 after).",
                               choices=LENGTHENED),
        "forgets": Question("forgets", dashboard, "You nudge the input at one step. Which unit will forget the nudge "
                            "first (fall below 10% of its peak)?", forgets,
                            expected="A GRU unit: at step 21 of sequence 0 the quickest GRU unit keeps it 3 steps, "
                                     "the quickest RNN unit 5 (longest: GRU 54, RNN 25).",
                            choices=FIRST),
    }
