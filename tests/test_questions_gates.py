"""Dashboard 02's questions: refused before a commitment, then read from the model the page shows."""

import numpy as np
import pytest
from questionkit import commit

from grutools import trace
from grutools.apps import GatesExplorer
from grutools.apps.questions.gates import GATES, HOLDERS


def independent(app):
    """The shown model's update and reset gates on the test batch, traced here, and the marked steps of adding."""
    found = trace(app.model, app.x_test)
    marked = app.x_test[..., 1].numpy() > 0.5  # (batch, time): the adding problem's markers
    return found.update[-1].numpy(), found.reset[-1].numpy(), marked


def expected_holders(update, marked):
    drop = update[~marked].mean(0) - update[marked].mean(0)
    count = int(np.sum(drop > 0.2))
    return count, (HOLDERS[0] if count == 0 else HOLDERS[1] if count == 1
                   else HOLDERS[3] if count == update.shape[-1] else HOLDERS[2])


@pytest.fixture(scope="module")
def app():
    return GatesExplorer()


def test_the_questions_refuse_before_a_commitment(app):
    assert app.question_names == ["holders", "longest", "saturated"]
    for name in app.question_names:
        question = app.question(name)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""


def test_every_check_follows_the_model_shown_pretrained_then_trained(app):
    questions = {name: commit(app.question(name)) for name in app.question_names}
    seen = []
    for round in range(2):
        update, reset, marked = independent(app)
        count, answer = expected_holders(update, marked)
        found = questions["holders"].check()
        assert found.answer == answer and f"{count} of {app.model.hidden_size} units" in found.explanation
        scales = 1 / (1 - update.reshape(-1, update.shape[-1]).mean(0))
        longest = questions["longest"].check()
        assert longest.answer == pytest.approx(scales.max(), rel=1e-4)
        saturated = {name: np.mean((gate < 0.1) | (gate > 0.9)) for name, gate in (("update", update), ("reset", reset))}
        which = questions["saturated"].check().answer
        assert which == (GATES[2] if max(saturated.values()) < 0.1 else GATES[0]
                         if saturated["update"] >= saturated["reset"] else GATES[1])
        seen.append((found.explanation, longest.answer))
        for question in questions.values():
            question.again()
            commit(question)
        if round == 0:  # now a tiny run of the student's own: the checks must read the new model
            app.hidden.value = 4
            app.train(steps=100, wait=True)
            assert "Trained 100 steps" in app.status.value
    assert seen[0] != seen[1] and "(4 units," in seen[1][0]


def test_holders_needs_a_task_with_marks(app):
    question = commit(app.question("holders"))
    app.task_choice.value = "sunspots"
    assert question.check() is None and "Choose the Adding problem" in question.status.value
    app.task_choice.value = "copy"
    assert question.check() is not None and "Copy" in question.explanation.value
