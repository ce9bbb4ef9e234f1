"""Dashboard 08's questions: how much raw numbers cost, whether a small GRU's best learning rate carries to a large
one, how saturated a run at too high a rate ends, and how far back a GRU still echoes a number."""

from __future__ import annotations

import math

import numpy as np

from ...lessons.monitoring import SCENARIOS
from ...lessons.preparing import TRANSFORM_NAMES
from ..care import SWEEP
from ..predict import Check, Number, Question

RATIO_TOP = 10.0  # the slider's end: a raw run that diverged is put there
CARRY = ["the same rate", "one step of the grid away (a factor of about 3)", "further away"]
LAGS = [k for k in SWEEP if k > 0]
ECHO = ["none of them"] + [f"k = {k}" for k in LAGS]
ECHOED = 0.5  # held-out loss under which a shift counts as echoed (guessing scores 1)


def _waiting(view, what: str) -> str | None:
    """What to do first if ``view`` has no finished run."""
    if view.job.running:
        return "Wait for the run to end (or press Stop): the check reads the finished run."
    if view.result is None:
        return what
    return None


def questions(app, dashboard: str) -> dict[str, Question]:
    def raw() -> Check | str:
        first = _waiting(app.prepare, "Press Train in section 1 first: then this page has the three GRUs' errors.")
        if first:
            return first
        result = app.prepare.result
        finals = {k: result.final(k) for k in ("raw", "standardised")}
        steps = result.checked_at[-1]
        errors = ", ".join(f"{TRANSFORM_NAMES[k]} {result.final(k):.3f}" for k in result.validation)
        if "standardised" in result.diverged or not math.isfinite(finals["standardised"]):
            return "The standardised GRU's run diverged: press Train in section 1 again (fewer steps, or another window)."
        if "raw" in result.diverged or not math.isfinite(finals["raw"]):
            return Check(RATIO_TOP, f"The raw GRU's loss became NaN after {steps} steps (put at the slider's end); "
                                    f"held-out errors: {errors}. Numbers in the hundreds saturate every gate.")
        ratio = finals["raw"] / finals["standardised"]
        return Check(ratio, f"After {steps} steps the held-out errors (a share of the months' variance) are: {errors}. "
                            f"Raw over standardised: {finals['raw']:.3f} / {finals['standardised']:.3f} = {ratio:.1f}. "
                            "Numbers up to 250 push the gates' sums far into the flat ends of σ and tanh, where "
                            "the gradient is nearly zero; the same seed and windows, scaled, train well.")

    def carry() -> Check | str:
        settings = app.settings
        task = settings.task.value
        if not settings.summary or (task, "gru") not in settings.summary:
            return "This page has no shipped grid for this task; make it with the command under the heatmaps."
        cell = settings.summary[(task, "gru")]
        sizes, lrs, mean = cell["hidden_sizes"], cell["lrs"], cell["mean"]
        small, large = 0, len(sizes) - 1
        best_small, best_large = int(np.argmin(mean[small])), int(np.argmin(mean[large]))
        apart = abs(best_small - best_large)
        answer = CARRY[0] if apart == 0 else CARRY[1] if apart == 1 else CARRY[2]
        cost = mean[large, best_small] / mean[large, best_large]
        return Check(answer, f"On the {task} task (mean over {len(cell['seeds'])} seeds), the GRU of {sizes[small]} "
                             f"units does best at {lrs[best_small]:g} and the GRU of {sizes[large]} at "
                             f"{lrs[best_large]:g}. At {sizes[large]} units, {lrs[best_small]:g} gives "
                             f"{mean[large, best_small]:.3g} against the best {mean[large, best_large]:.3g} "
                             f"({cost:.2f} times). " + (
                                 "The rate found on a small network lands at, or next to, the large one's best, as "
                                 "Greff et al. found: tune the rate first, on something small." if apart <= 1 else
                                 "Here the best rates lie apart: check the rate again at the size you will use."))

    def saturation() -> Check | str:
        label = SCENARIOS["too_high"].label
        first = _waiting(app.monitor, f"Pick '{label}' under scenario and press Train in section 3 first.")
        if first:
            return first
        run = app.monitor.result
        if run.scenario != "too_high":
            return (f"Pick '{label}' under scenario and press Train in section 3 first (the last run was "
                    f"'{SCENARIOS[run.scenario].label}').")
        share = 100 * run.saturation[-1]
        start = 100 * run.saturation[0]
        largest = max(run.grad_norm) if run.grad_norm else float("nan")
        return Check(share, f"At step {run.checked_at[-1]}, {share:.0f}% of the update and reset gate values are "
                            f"below 0.05 or above 0.95 (at the start: {start:.0f}%). The gradient norm reached "
                            f"{largest:.3g}. Steps of Adam at 0.3 throw the weights far out, and the "
                            "gates' sums with them: a gate stuck at 0 or 1 passes almost no gradient, so the run "
                            "can hardly learn its way back.")

    def echo() -> Check | str:
        shift = app.shift
        if shift.job.running:
            return "Wait for the sweep to end (or press Stop): the check reads every shift's loss."
        missing = [k for k in LAGS if k not in shift.losses]
        if missing:
            return (f"Untick 'this k only' and press Sweep k first: the check needs a GRU trained at every k "
                    f"(none yet at k = {', '.join(map(str, missing))}).")
        echoed = [k for k in LAGS if shift.losses[k] < ECHOED]
        answer = f"k = {max(echoed)}" if echoed else ECHO[0]
        listed = ", ".join(f"{shift.losses[k]:.2f} (k = {k})" for k in LAGS)
        return Check(answer, f"Held-out loss at each lag: {listed}; guessing scores 1, and a loss under {ECHOED} "
                             "counts as echoed here. The GRU must hold each number for k steps while new ones "
                             "arrive: the further back, the more it has to keep apart in 32 units, and the worse it "
                             "does.")

    return {
        "raw": Question("raw", dashboard, "Three GRUs learn the sunspots: raw, standardised, log then standardised. How "
                        "many times the standardised GRU's held-out error will the raw GRU's be?", raw,
                        expected="About 4.5 times: 0.452 against 0.103 here (60 months, 300 steps; 0.461 against "
                                 "0.101 at 12 months).", number=Number(0.5, RATIO_TOP, 0.5, 1.0, tolerance=1.0)),
        "carry": Question("carry", dashboard, "In the shipped grid, how far is the GRU's best learning rate at 8 units "
                          "from its best at 64 units?", carry,
                          expected="Sunspots: one step (0.01 at 8 units, 0.003 at 64); the adding problem: the same "
                                   "rate (0.03 at every size).", choices=CARRY),
        "saturation": Question("saturation", dashboard, "Under 'rate too high' (Adam at 0.3, no clipping), what share "
                               "of the gate values will be saturated (below 0.05 or above 0.95) at the end of the "
                               "run?", saturation,
                               expected="Almost all: 96% here after 600 steps (the healthy run: 4%; the shipped "
                                        "seeds 84-92%).", number=Number(0, 100, 5, 20, tolerance=15, unit="%")),
        "echo": Question("echo", dashboard, "Sweep k. Up to which lag will a GRU of 32 units still echo a number "
                         "(held-out loss under 0.5; guessing scores 1)?", echo,
                         expected="k = 8: loss 0.21 at k = 8, 0.62 at k = 12 and 0.81 at k = 16 here.",
                         choices=ECHO),
    }
