"""Dashboard 06's questions, on the model the page shows (the shipped adding GRU until an upload replaces it): its
update gate at the marked steps, its units' longest time scale, and which of its gates saturates."""

from __future__ import annotations

import numpy as np

from ..predict import Check, Number, Question

EXAMPLE = "Try the example"
MARKED = ["lower at the marked steps", "about the same", "higher at the marked steps"]
GATES = ["the update gate z", "the reset gate r", "about the same"]
SAME = 0.05  # two means closer than this count as "about the same"


def questions(app, dashboard: str) -> dict[str, Question]:
    def shown():
        """The page's exploration and its chosen layer, or the sentence saying what to do first."""
        if app.explorer is None:
            return None, f"Press '{EXAMPLE}' (or upload a model and a CSV) first: then this page has a model to read."
        return app.explorer.exploration, app.explorer.entry.value

    def marked() -> Check | str:
        ex, entry = shown()
        if ex is None:
            return entry
        if ex.kind != "gru":
            return f"The model shown is an {ex.kind.upper()}, which has no update gate z: press '{EXAMPLE}' first."
        names = [name.lower() for name in ex.data.feature_names]
        if ex.data.tokens or "marker" not in names:
            return (f"These sequences have no 'marker' column: press '{EXAMPLE}' first (its CSV marks the two numbers "
                    "to add with marker = 1).")
        column = names.index("marker")
        count = min(len(ex.data), 64)  # the sequences Exploration.pooled stacks
        marks = np.concatenate([s[:, column] for s in ex.data.sequences[:count]]) > 0.5
        if not marks.any() or marks.all():
            return "The marker column of these sequences is never 1 (or always 1): nothing to compare. Press " \
                   f"'{EXAMPLE}' first."
        update = ex.pooled("update", entry)  # (steps, hidden)
        at_marks, elsewhere = update[marks].mean(0), update[~marks].mean(0)
        gap = float(at_marks.mean() - elsewhere.mean())
        answer = MARKED[0] if gap < -SAME else MARKED[2] if gap > SAME else MARKED[1]
        lower = int((at_marks < elsewhere).sum())
        return Check(answer, f"Averaged over its {update.shape[1]} units, z is {at_marks.mean():.2f} at the "
                             f"{int(marks.sum())} marked steps and {elsewhere.mean():.2f} at the other "
                             f"{int((~marks).sum())}; {lower} of the {update.shape[1]} units have a lower z at the "
                             "marks. In h(t) = (1 − z)·n + z·h(t−1), a low z lets the new input in and a high z "
                             "keeps the past: a GRU that adds the marked numbers takes them in at the marks and "
                             "holds its sum in between.")

    def timescale() -> Check | str:
        ex, entry = shown()
        if ex is None:
            return entry
        scales = ex.timescales(entry)
        if scales is None:
            return f"A tanh RNN has no keeping gate, so no time scale to read: press '{EXAMPLE}' first."
        gate = "z" if ex.kind == "gru" else "f"
        longest, unit = float(scales.max()), int(scales.argmax())
        lengths = sorted({len(s) for s in ex.data.sequences})
        return Check(longest, f"Unit {unit} keeps the most: its mean {gate} is {1 - 1 / longest:.3f}, so its time "
                              f"scale is 1 / (1 − {1 - 1 / longest:.3f}) = {longest:.1f} steps; the median unit's is "
                              f"{float(np.median(scales)):.1f}, and {int((scales > 10).sum())} of {len(scales)} units "
                              f"exceed 10 steps. The sequences here are {lengths[-1]} steps long. The time scale is "
                              f"an average: a unit can hold a number longer when its {gate} stays near 1 between "
                              "the steps that matter.")

    def saturation() -> Check | str:
        ex, entry = shown()
        if ex is None:
            return entry
        if ex.kind != "gru":
            return f"The model shown is an {ex.kind.upper()}, not a GRU with z and r: press '{EXAMPLE}' first."
        shares = {gate: ex.saturation(entry)[gate] for gate in ("update", "reset")}
        share = {gate: float(left.mean() + right.mean()) for gate, (left, right) in shares.items()}
        gap = share["update"] - share["reset"]
        answer = GATES[0] if gap > SAME else GATES[1] if gap < -SAME else GATES[2]
        z_low, z_high = (float(v.mean()) for v in shares["update"])
        r_low, r_high = (float(v.mean()) for v in shares["reset"])
        return Check(answer, f"Over its units and steps, z is below 0.1 {z_low:.0%} and above 0.9 {z_high:.0%} of "
                             f"the time ({share['update']:.0%} saturated); r is below 0.1 {r_low:.0%} and above 0.9 "
                             f"{r_high:.0%} ({share['reset']:.0%}). A saturated gate is switched hard on or off: a "
                             "z near 1 copies the state unchanged, which is how a GRU holds a number for many steps; "
                             "a gate in between mixes old and new.")

    return {
        "marked": Question("marked", dashboard, "The example GRU was trained to add the two numbers marked with a 1. "
                           "Its update gate z is the share of the old state it keeps. At the marked steps, will z be "
                           "lower, about the same, or higher than at the other steps?", marked,
                           expected="Lower at the marked steps: the shipped GRU's z averages 0.65 at the 10 marked "
                                    "steps and 0.88 at the other 240 (14 of its 16 units lower at the marks).",
                           choices=MARKED),
        "timescale": Question("timescale", dashboard, "A unit's time scale is 1 / (1 − its mean z), in steps: how "
                              "long it keeps a nudge. What will the longest time scale among the model's units be?",
                              timescale, expected="About 20 steps: the shipped GRU's longest is 20.4 (unit 9), its "
                                                  "median 12.0, on sequences of 50 steps.",
                              number=Number(1, 60, 1, 5, tolerance=4, unit="steps")),
        "saturation": Question("saturation", dashboard, "Which gate will spend more of its time saturated (below 0.1 "
                               "or above 0.9): the update gate z or the reset gate r?", saturation,
                               expected="The update gate z: the shipped GRU's z is above 0.9 64% of the time, its r "
                                        "saturated under 1% of the time.", choices=GATES),
    }
