"""Dashboard 04's questions: is the GRU's step faster here, the LSTM's size at an equal budget, and data against noise."""

from __future__ import annotations

import statistics

from ...core.tasks import TASKS
from ..predict import Check, Number, Question

SPEED = {"faster": "faster", "slower": "slower", "too close": "too close to call"}
SMALL, NOISY = (16, 0.0), (8192, 1.0)  # (train set size, label noise) of the two runs the last question compares
MEMORISES = ["yes: far above it (10 times or more)", "no: about the same"]
LOWER = ["16 clean sequences", "8192 sequences with label noise 1.0"]


def label(size: int, noise: float) -> str:
    """The name the data panel gives a run (``ClaimsExplorer.train_data``)."""
    return f"{size} sequences, noise {noise:.1f}"


def questions(app, dashboard: str) -> dict[str, Question]:
    def faster() -> Check:
        speed = app.speed
        step = {cell: 1000 * statistics.median(times) for cell, times in speed.times.items()}
        shipped = ""
        if app.benchmark:
            from ...lessons.speed import benchmark_row

            row = benchmark_row(app.benchmark, app.task.value, app.budget_sizes["gru"], app.mode.value)
            if row:
                shipped = (f" The shipped benchmark ({app.benchmark['date']}, {app.benchmark['machine']['cpu']}) "
                           f"measured {row['ratio']:.2f} at {row['hidden']} GRU units: {SPEED[row['decision']]}.")
        return Check(SPEED[speed.decision],
                     f"Timed on this page just now, {app.budget_sizes['gru']} GRU units, {app.mode.value}: one training "
                     f"step takes {step.get('gru', float('nan')):.1f} ms for the GRU and "
                     f"{step.get('lstm', float('nan')):.1f} ms for the LSTM (medians); the GRU's time is "
                     f"{speed.ratio:.2f} of the LSTM's ({speed.level:.0%} interval {speed.low:.2f}-{speed.high:.2f}, "
                     f"{speed.rounds} rounds). Only an interval wholly below or above 1 decides.{shipped} Three gate "
                     "blocks against four is a promise; the kernels that run them decide, and a busy machine can "
                     "leave it too close to call.")

    def lstm_size() -> Check | str:
        if app.mode.value != "equal budget":
            return "Press 'equal budget' above the plot first: then the page sizes every model to the GRU's budget."
        sizes, parameters = app.budget_sizes, app.budget_parameters
        return Check(float(sizes["lstm"]),
                     f"The GRU with {sizes['gru']} units has {parameters['gru']:,} parameters on the "
                     f"{TASKS[app.task.value].title.lower()}; the LSTM closest to that budget has {sizes['lstm']} "
                     f"units and {parameters['lstm']:,} parameters (the tanh RNN {sizes['rnn']} units). Four blocks "
                     f"of weights against three: roughly sqrt(3/4) = 0.87 of the GRU's units, as the recurrent "
                     f"weights grow with the square of the size ({sizes['lstm'] / sizes['gru']:.2f} here).")

    def runs() -> dict[str, dict]:
        return dict(app.data_runs)  # label -> {"step", "train", "test"}; the latest run of a label wins

    def memorises() -> Check | str:
        if app.data_job.running:
            return "Wait for the run to finish, then check."
        out = runs().get(label(*SMALL))
        if out is None:
            return "Set train set size to 16 and label noise to 0.0, then press Train first."
        train, test = out["train"][-1], out["test"][-1]
        ratio = test / max(train, 1e-12)
        return Check(MEMORISES[0] if ratio >= 10 else MEMORISES[1],
                     f"On {SMALL[0]} clean sequences of the {TASKS[app.data_task.value].title.lower()}, after "
                     f"{out['step'][-1]} steps: training loss {train:.2g}, clean test loss {test:.4f} "
                     f"({ratio:.3g} times the training loss). A 16-unit GRU has thousands of weights: enough to "
                     "memorise 16 sequences' answers without learning to add.")

    def lower() -> Check | str:
        if app.data_job.running:
            return "Wait for the run to finish, then check."
        found = runs()
        missing = [f"{size} and {noise:.1f}" for size, noise in (SMALL, NOISY)
                   if label(size, noise) not in found]
        if missing:
            return ("Train both first: set train set size and label noise to " + ", then to ".join(missing)
                    + ", pressing Train each time.")
        small, noisy = found[label(*SMALL)]["test"][-1], found[label(*NOISY)]["test"][-1]
        return Check(LOWER[0] if small < noisy else LOWER[1],
                     f"Clean test loss: {small:.4f} after 16 clean sequences, {noisy:.4f} after 8192 sequences with "
                     "label noise 1.0. Random label noise averages out over many sequences: the model still learns "
                     "the mean answer, which is the right one. Too few sequences cannot be averaged into the task.")

    return {
        "faster": Question("faster", dashboard, "Will the GRU's training step be faster than the LSTM's here, "
                           "on this machine, at 32 units?", faster,
                           expected="Faster: the shipped benchmark gives 0.69 of the LSTM's time; live on this busy "
                                    "machine one check gave 0.61 (30 ms against 72 ms, interval 0.07-0.99), another "
                                    "too close to call (30 ms against 128 ms, interval 0.01-1.00).",
                           choices=list(SPEED.values())),
        "lstm_size": Question("lstm_size", dashboard, "Switch to equal budget. How many hidden units will the LSTM "
                              "get to match the parameters of a GRU with 32 units?", lstm_size,
                              expected="27 units: 3,376 parameters, the closest to the 32-unit GRU's 3,489.",
                              number=Number(8, 64, 1, 32, tolerance=1, unit="units")),
        "memorises": Question("memorises", dashboard, "Train on 16 clean sequences. Will the clean test loss end far "
                              "above the training loss?", memorises,
                              expected="Yes: this machine's run ended at training loss 6.8e-10 and test loss 0.199; "
                                       "with 8192 sequences they were 0.00082 and 0.00073.",
                              choices=MEMORISES),
        "lower": Question("lower", dashboard, "Which gives the lower clean test loss: 16 clean sequences, or 8192 "
                          "sequences with label noise 1.0?", lower,
                          expected="8192 noisy sequences: test loss 0.0074 (training loss 0.18) against 0.199 for 16 "
                                   "clean ones.",
                          choices=LOWER),
    }
