"""Dashboard 02's questions: which units hold the marked numbers, how long the longest memory is, which gate saturates."""

from __future__ import annotations

import numpy as np

from ...lessons.gates import HIGH, LOW, event_steps, saturation, timescales
from ..predict import Check, Number, Question

CLEAR = 0.2  # a unit is a clear memory when its update gate drops by more than this at the marks (describe_run)
HOLDERS = ["no unit yet: every gate stays near 0.5", "one unit alone", "several units, not all", "every unit"]
GATES = ["the update gate z", "the reset gate r", "neither: both stay dials"]
DIAL = 0.1  # a gate saturated (below LOW or above HIGH) less than 10% of the time is a dial


def questions(app, dashboard: str) -> dict[str, Question]:
    def final_trace():
        return app._trace(len(app.history.snapshots) - 1) if app.history.snapshots else app.current_trace

    def where() -> str:
        steps = len(app.history.loss)
        return (f"the GRU shown ({app.model.hidden_size} units, layer {app.layer.value + 1}, {app.task.title}, "
                f"length {app.task.length}, after {steps} training steps, on {app.x_test.shape[0]} test sequences)")

    def holders() -> Check | str:
        if app.job.running:
            return "Wait for training to finish: the views switch to your model when it ends."
        if app.task.name not in ("adding", "copy"):
            return ("Choose the Adding problem (or the Copy task) under task first: only those tasks mark the steps "
                    "to remember.")
        found = final_trace()
        layer = app.layer.value
        update, x = found.update[layer].numpy(), found.x.numpy()  # (batch, time, hidden), (batch, time, features)
        marked = np.zeros(update.shape[:2], dtype=bool)
        for sample in range(update.shape[0]):
            marked[sample, event_steps(app.task, x[sample])] = True
        ordinary, at_marks = update[~marked].mean(0), update[marked].mean(0)  # per unit
        drop = ordinary - at_marks
        memories = np.flatnonzero(drop > CLEAR)
        count, hidden = len(memories), update.shape[-1]
        answer = HOLDERS[0] if count == 0 else HOLDERS[1] if count == 1 else HOLDERS[3] if count == hidden else HOLDERS[2]
        best = int(np.argmax(drop))
        thing = "number" if app.task.name == "adding" else "symbol"
        listed = ", ".join(str(u) for u in memories[np.argsort(-drop[memories])]) or "none"
        return Check(answer, f"In {where()}, {count} of {hidden} units hold their update gate higher on ordinary "
                             f"steps than at the marked steps by more than {CLEAR} (units {listed}). The clearest is "
                             f"unit {best}: z = {ordinary[best]:.2f} on ordinary steps (keep the state) and "
                             f"{at_marks[best]:.2f} at the marks (let the {thing} in). The other units' gates barely "
                             "react to the marks: a GRU shares the work of remembering among a few units.")

    def longest() -> Check | str:
        if app.job.running:
            return "Wait for training to finish: the views switch to your model when it ends."
        update = final_trace().update[app.layer.value]
        scales = timescales(update)
        best = int(np.argmax(scales))
        mean_z = float(update[..., best].mean())
        return Check(float(scales[best]),
                     f"In {where()}, the longest memory is unit {best}: its mean update gate is {mean_z:.3f}, so it "
                     f"keeps a fraction {mean_z:.3f} of its state per step, a time scale of 1 / (1 − {mean_z:.3f}) = "
                     f"{scales[best]:.1f} steps. The median unit's is {np.median(scales):.1f}. A time scale is an "
                     f"average: the unit can still hold a number far longer by keeping z even nearer 1 between the "
                     "marks and opening it only at them.")

    def saturated() -> Check | str:
        if app.job.running:
            return "Wait for training to finish: the views switch to your model when it ends."
        layer = app.layer.value
        found, untrained = final_trace(), app._trace(0)
        share = {}
        for gate in ("update", "reset"):
            closed, opened = saturation(getattr(found, gate)[layer])
            before_closed, before_opened = saturation(getattr(untrained, gate)[layer])
            share[gate] = (closed.mean(), opened.mean(), before_closed.mean() + before_opened.mean())
        total = {gate: c + o for gate, (c, o, _) in share.items()}
        answer = (GATES[2] if max(total.values()) < DIAL else GATES[0] if total["update"] >= total["reset"]
                  else GATES[1])
        said = "; ".join(f"the {gate} gate is below {LOW} {100 * c:.0f}% and above {HIGH} {100 * o:.0f}% of the time "
                         f"({100 * b:.0f}% saturated before training)" for gate, (c, o, b) in share.items())
        why = ("The update gate's job rewards a switch: hold the state, or write the new input."
               + (" Here the reset gate became a switch too: it decides, step by step, whether the candidate may read "
                  "the old state." if total["reset"] >= DIAL else
                  " The reset gate only shapes the candidate, and here it stays a dial."))
        return Check(answer, f"In {where()}: {said}. A gate saturated less than {100 * DIAL:.0f}% of the time is a "
                             f"dial. {why}")

    return {
        "holders": Question("holders", dashboard, "The model below was trained on the adding problem. Which units will "
                            "hold the marked numbers (update gate near 1 between the marks, lower at them)?", holders,
                            expected="Several units, not all: in the shipped adding GRU 8 of 16 units drop their update "
                                     "gate by more than 0.2 at the marks (unit drops 0.55 down to -0.13); a fresh "
                                     "300-step run with 8 units gave 5 of 8.",
                            choices=HOLDERS),
        "longest": Question("longest", dashboard, "How many steps will the longest memory of this GRU last, as its "
                            "time scale 1 / (1 − mean z)? The adding problem's sequences are 50 steps long.", longest,
                            expected="About 24 steps in the shipped adding GRU (median unit 12); a fresh 300-step run "
                                     "with 8 units gave 17.5.",
                            number=Number(0, 100, 1, 50, tolerance=5, unit="steps")),
        "saturated": Question("saturated", dashboard, "After training, which gate will be saturated (below 0.1 or "
                              "above 0.9) more often?", saturated,
                              expected="The update gate z: in the shipped adding GRU it is above 0.9 67% of the time "
                                       "(0% before training), the reset gate saturated under 1%.",
                              choices=GATES),
    }
