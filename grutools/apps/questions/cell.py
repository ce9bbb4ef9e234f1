"""Dashboard 01's questions: what z = 1 does, what r = 0 does, and the GRU's share of an LSTM's parameters."""

from __future__ import annotations

from ..predict import Check, Number, Question

COPY, IGNORE = "z = 1 (copy)", "r = 0 (ignore past)"
Z_CHOICES = ["h(t−1), unchanged", "the candidate n", "0", "halfway between h(t−1) and n"]


def questions(app, dashboard: str) -> dict[str, Question]:
    def z_one() -> Check | str:
        if app.mode.value != COPY:
            return f"Press '{COPY}' above the equations first: then this page computes the step with z = 1."
        unit = app.unit.value
        step = app.current_step()
        h_prev, n, h = app.h_prev[unit].item(), step.candidate[unit].item(), step.hidden[unit].item()
        answer = Z_CHOICES[0] if abs(h - h_prev) < 1e-6 else Z_CHOICES[1] if abs(h - n) < 1e-6 else "something else"
        return Check(answer, f"With z = 1, h(t) = (1 − z)·n + z·h(t−1) = 0·({n:+.2f}) + 1·({h_prev:+.2f}) = {h:+.2f} "
                             f"for unit {unit + 1}: the candidate is computed but weighs nothing, and the state is "
                             "copied whatever the input. That is the GRU's perfect memory.")

    def r_zero() -> Check | str:
        if app.mode.value != IGNORE:
            return f"Press '{IGNORE}' above the equations first: then this page computes the candidate with r = 0."
        unit = app.unit.value
        here = app.current_step().candidate[unit].item()
        moved = app.h_prev.clone()
        moved[unit] = -moved[unit] if abs(moved[unit].item()) > 0.05 else 0.9
        there = app.gru.step(app.x, moved, IGNORE).candidate[unit].item()
        answer = "no" if abs(here - there) < 1e-6 else "yes"
        return Check(answer, f"This page moved h{unit + 1}(t−1) from {app.h_prev[unit].item():+.2f} to "
                             f"{moved[unit].item():+.2f} with r = 0: the candidate n went from {here:+.2f} to "
                             f"{there:+.2f}. The reset gate multiplies the old state's term inside the candidate, "
                             "r·(W_hn·h(t−1) + b_hn), so at r = 0 the candidate sees only the input. It does not reset "
                             "the state itself: h(t) still mixes in h(t−1) through z.")

    def share() -> Check:
        from ...lessons.cell import parameter_rows

        rows = parameter_rows(app.count_input.value, app.count_hidden.value)
        gru, lstm = rows[1].from_pytorch, rows[2].from_pytorch
        return Check(gru / lstm, f"At input size {app.count_input.value} and hidden size {app.count_hidden.value}, "
                                 f"PyTorch's GRU has {gru:,} parameters and its LSTM {lstm:,}: {gru / lstm:.2f}. Three "
                                 "blocks of weights against four, whatever the sizes: the GRU's update gate does the "
                                 "work of the LSTM's input and forget gates.")

    return {
        "z_one": Question("z_one", dashboard, "You are about to pin the update gate at z = 1. What will the new "
                          "state h(t) be?", z_one, expected="h(t−1), unchanged: the state is copied.",
                          choices=Z_CHOICES),
        "r_zero": Question("r_zero", dashboard, "With the reset gate at r = 0, you move the previous state h(t−1). "
                           "Will the candidate n change?", r_zero,
                           expected="No: at r = 0 the candidate sees only the input.", choices=["yes", "no"]),
        "share": Question("share", dashboard, "A GRU and an LSTM of the same sizes: what share of the LSTM's "
                          "parameters does the GRU have?", share, expected="0.75 at every size (3 blocks against 4).",
                          number=Number(0.25, 1.0, 0.05, 0.5, tolerance=0.03)),
    }
