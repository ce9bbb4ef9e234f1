"""Dashboard 00's questions: does the GRU get under the line, does the tanh RNN at length 100, which learns sooner."""

from __future__ import annotations

import numpy as np

from ...core.tasks import AddingProblem
from ...plots import NAMES, smooth
from ..predict import Check, Question

FAR = 0.3  # "far below the line": under 30% of the baseline, the page's own verdict (TrainingDemo._on_done)
WINDOW = 20  # the bold curve is a moving average over 20 steps
UNDER, NEAR = "yes: far below the line", "no: still near the line"
RNN_LENGTH = 100
SOONER = ["the GRU", "the LSTM", "neither gets there in these steps"]


def first_step_under(history, baseline: float) -> int | None:
    """The first training step at which the bold (smoothed) curve is under ``FAR`` × the baseline, or None."""
    below = np.flatnonzero(smooth(history.loss, WINDOW) < FAR * baseline)
    return int(history.step[below[0]]) if len(below) else None


def questions(app, dashboard: str) -> dict[str, Question]:
    def run_of(cell: str, what: str) -> str | tuple:
        history = app.runs.get(cell)
        if app.job.running:
            return "Wait for the run to finish, then check."
        if history is None or not history.loss:
            return f"Choose {NAMES[cell]} under model and press Train first{what}."
        task = AddingProblem(int(history.settings.get("length", app.length.value)))
        return history, task, history.final_loss, len(history.loss)

    def verdict(cell: str, history, task, final: float, steps: int) -> Check:
        far = final < FAR * task.baseline
        first = first_step_under(history, task.baseline)
        when = (f" The bold curve first went under {FAR * task.baseline:.3f} at step {first}." if first
                else f" The bold curve never went under {FAR * task.baseline:.3f}.")
        why = ("It carried the first marked number across the sequence." if far else
               "It has not learned to carry the first marked number: always answering about 1 gives the line.")
        return Check(UNDER if far else NEAR,
                     f"Your {NAMES[cell]} ended at a final loss of {final:.4f} (mean of the last 10% of steps) after "
                     f"{steps} steps at sequence length {task.length}; the dashed line is {task.baseline:.3f}, and far "
                     f"below it means under {FAR * task.baseline:.3f}.{when} {why}")

    def gru_under() -> Check | str:
        found = run_of("gru", "")
        return found if isinstance(found, str) else verdict("gru", *found)

    def rnn_long() -> Check | str:
        if app.length.value != RNN_LENGTH:
            return (f"Set sequence length to {RNN_LENGTH} (it is {app.length.value}), choose {NAMES['rnn']} under "
                    "model and press Train first.")
        found = run_of("rnn", f" at sequence length {RNN_LENGTH}")
        if isinstance(found, str):
            return found
        check = verdict("rnn", *found)
        gru = app.runs.get("gru")
        if gru is not None and gru.loss:
            check = Check(check.answer, check.explanation + f" Your GRU at the same length ended at {gru.final_loss:.4f}.")
        if check.answer == NEAR:
            check = Check(NEAR, check.explanation + " A tanh RNN's gradient shrinks at every step back, so over "
                                                    "100 steps almost nothing reaches the first mark (dashboard 03).")
        return check

    def sooner() -> Check | str:
        if app.job.running:
            return "Wait for the run to finish, then check."
        missing = [NAMES[c] for c in ("gru", "lstm") if not app.runs.get(c) or not app.runs[c].loss]
        if missing:
            return (f"Train both models at the same sequence length first: choose {' and '.join(missing)} under model "
                    "and press Train.")
        task = AddingProblem(app.length.value)
        firsts = {c: first_step_under(app.runs[c], task.baseline) for c in ("gru", "lstm")}
        steps = {c: len(app.runs[c].loss) for c in ("gru", "lstm")}
        done = {c: s for c, s in firsts.items() if s is not None}
        answer = SOONER[2] if not done else SOONER[0] if min(done, key=done.get) == "gru" else SOONER[1]
        said = "; ".join(f"{NAMES[c]}: " + (f"under it at step {firsts[c]} of {steps[c]}" if firsts[c]
                                              else f"not under it in {steps[c]} steps (final loss "
                                                   f"{app.runs[c].final_loss:.4f})") for c in ("gru", "lstm"))
        return Check(answer, f"At sequence length {task.length}, the step at which each bold curve first went under "
                             f"{FAR * task.baseline:.3f} (30% of the line): {said}. The LSTM has one more gate to "
                             "learn, and with PyTorch's default forget-gate bias it starts forgetting quickly; on a "
                             "short run it often lags the GRU. More training steps may change the picture.")

    return {
        "gru_under": Question("gru_under", dashboard, "You are about to train the GRU with the settings on the left. "
                              "Will its final loss end far below the dashed 'learned nothing' line?", gru_under,
                              expected="Yes at length 50 and 300 steps: this machine's GRU ended at 0.0020 (line "
                                       "0.167), its bold curve under 0.05 from step 195.",
                              choices=[UNDER, NEAR]),
        "rnn_long": Question("rnn_long", dashboard, f"Now set the sequence length to {RNN_LENGTH}. Will the tanh RNN "
                             "learn the adding problem (end far below the line)?", rnn_long,
                             expected="No: at length 100 and 300 steps this machine's tanh RNN ended at 0.170, on the "
                                      "line; the GRU at the same length ended at 0.0083.",
                             choices=[UNDER, NEAR]),
        "sooner": Question("sooner", dashboard, "Train the LSTM too, at the same length. Which gets far below the "
                           "line first: the GRU or the LSTM?", sooner,
                           expected="The GRU: in 300 steps this machine's GRU got under 0.05 at step 195 (length 50) "
                                    "and 251 (length 100); the LSTM did not get there (0.165 and 0.169).",
                           choices=SOONER),
    }
