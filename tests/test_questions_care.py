"""Dashboard 08's questions: refused before a commitment, then checked from the page's runs and its shipped grid."""


import numpy as np
import pytest
from questionkit import checked, fresh, said

from grutools.apps.questions.care import CARRY, ECHO, LAGS
from grutools.core.tasks import DATA_DIR
from grutools.lessons.monitoring import monitored_run
from grutools.lessons.tuning import read_grid

FIRST = {"raw": 1.0, "carry": CARRY[0], "saturation": 20.0, "echo": ECHO[0]}


@pytest.fixture(scope="module")
def app():
    from grutools.apps import CareExplorer

    return CareExplorer()


def test_every_question_refuses_a_check_before_a_commitment(app):
    for name in app.question_names:
        question = fresh(app, name)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""
        assert "Commit to a prediction first" in said(question)


def test_the_preparation_question_reads_the_three_grus_just_trained(app):
    question, found = checked(app, "raw", FIRST["raw"])
    assert found is None and "Press Train in section 1 first" in said(question)
    answers = []
    for steps in (50, 100):
        app.prepare.length.value, app.prepare.steps.value = 12, steps
        app.prepare.start(wait=True)
        result = app.prepare.result
        raw, standardised = result.validation["raw"][-1], result.validation["standardised"][-1]
        _, found = checked(app, "raw", FIRST["raw"])
        assert found.answer == pytest.approx(raw / standardised)
        assert f"After {steps} steps" in found.explanation and f"{raw:.3f} / {standardised:.3f}" in found.explanation
        answers.append(found.answer)
    assert answers[0] != answers[1]


def best_rate(rows, lrs, size) -> int:
    """The index of the learning rate with the lowest mean loss over seeds at ``size`` units."""
    means = [np.mean([r["test_loss"] for r in rows if r["hidden_size"] == size and r["lr"] == lr]) for lr in lrs]
    return int(np.argmin(means))


def test_the_learning_rate_question_follows_the_task_chosen_on_the_page(app):
    rows = [r for r in read_grid(DATA_DIR / "results" / "tuning.csv") if r["model"] == "gru"]
    for task in ("sunspots", "adding"):
        app.settings.task.value = task
        mine = [r for r in rows if r["task"] == task]
        lrs = sorted({r["lr"] for r in mine})
        small, large = best_rate(mine, lrs, 8), best_rate(mine, lrs, 64)
        _, found = checked(app, "carry", FIRST["carry"])
        assert found.answer == CARRY[min(abs(small - large), 2)]
        assert f"On the {task} task" in found.explanation and f"best at {lrs[small]:g}" in found.explanation
    app.settings.task.value = "sunspots"


def test_the_saturation_question_reads_the_last_run_of_rate_too_high(app):
    question, found = checked(app, "saturation", FIRST["saturation"])
    assert found is None and "Pick 'rate too high' under scenario and press Train" in said(question)
    app.monitor.result = monitored_run("healthy", steps=20, hidden_size=4, length=12, check_every=10)
    question, found = checked(app, "saturation", FIRST["saturation"])
    assert found is None and "the last run was 'healthy'" in said(question)
    run = monitored_run("too_high", steps=40, hidden_size=4, length=12, check_every=20)
    app.monitor.result = run  # what the view keeps when its run ends
    _, found = checked(app, "saturation", FIRST["saturation"])
    assert found.answer == pytest.approx(100 * run.saturation[-1])
    assert f"At step 40, {100 * run.saturation[-1]:.0f}% of the update and reset gate values" in found.explanation
    assert f"reached {max(run.grad_norm):.3g}" in found.explanation


def test_the_echo_question_needs_the_whole_sweep_and_follows_its_losses(app):
    app.shift.only.value, app.shift.shift.value = True, 16
    app.shift.start(wait=True)  # one GRU, at k = 16 only
    assert 16 in app.shift.losses
    question, found = checked(app, "echo", FIRST["echo"])
    assert found is None and "none yet at k = 1, 2, 4, 8, 12" in said(question)
    losses = dict(zip(LAGS, [0.02, 0.05, 0.1, 0.3, 0.7, 0.9]))
    app.shift.losses.update(losses)
    _, found = checked(app, "echo", FIRST["echo"])
    assert found.answer == "k = 8" and "0.30 (k = 8), 0.70 (k = 12)" in found.explanation
    app.shift.losses[12] = 0.4
    _, found = checked(app, "echo", FIRST["echo"])
    assert found.answer == "k = 12"
    app.shift.losses.update({k: 1.0 for k in LAGS})
    _, found = checked(app, "echo", FIRST["echo"])
    assert found.answer == "none of them"
