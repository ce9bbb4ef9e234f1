"""Dashboard 03's questions: refused before a commitment, then read from the page's measurements and its race."""

import pytest
from questionkit import commit

from grutools.apps import GradientExplorer
from grutools.apps.questions.vanishing import FURTHER, LEARNS, REACH, questions
from grutools.core.gradients import gradient_norms
from grutools.core.tasks import AddingProblem
from grutools.core.training import History
from grutools.lessons.vanishing import RaceResult, make_models


@pytest.fixture(scope="module")
def app():
    app = GradientExplorer()
    app.hidden.value = 8
    return app


@pytest.fixture
def asked(app):
    """Fresh questions on the shared page (the page is costly to build)."""
    return questions(app, "03")


def reach_now(app, cell):
    """Independently: fresh models with the page's settings, their gradient at step 1 over that at the last step."""
    task = AddingProblem(app.length.value)
    models = make_models(task, app.hidden.value, scale=app.scale.value, seed=app.seed,
                         chrono=task.length if app.chrono.value else None)
    x, y = task.sample(16, seed=app.seed + 7)
    norms = gradient_norms(models[cell], x, y).numpy().mean(0)
    return norms[0] / norms[-1]


def test_the_questions_refuse_before_a_commitment(app):
    assert app.question_names == ["rnn_reach", "gru_reach", "rnn_race"]
    for name in app.question_names:
        question = app.question(name)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""


def test_rnn_reach_follows_the_length(app, asked):
    question = commit(asked["rnn_reach"])
    answers = []
    for length in (10, 60):
        app.length.value = length
        share = reach_now(app, "rnn")
        found = question.check()
        assert found.answer == (REACH[0] if share >= 1e-2 else REACH[1] if share >= 1e-10 else REACH[2])
        assert f"{share:.1e}" in found.explanation and f"length {length}," in found.explanation
        answers.append(found.answer)
        question.again()
        commit(question)
    assert answers[0] != answers[1]
    app.weights.value = "trained"  # no race yet: the page says so, and so does the question
    assert question.check() is None and "under weights first" in question.status.value
    app.weights.value = "init"


def test_gru_reach_follows_chrono(app, asked):
    question = commit(asked["gru_reach"])
    app.length.value = 40
    answers = []
    for chrono in (False, True):
        app.chrono.value = chrono
        ratio = reach_now(app, "gru") / reach_now(app, "rnn")
        found = question.check()
        assert found.answer == (FURTHER[0] if ratio >= 100 else FURTHER[2] if ratio <= 0.01 else FURTHER[1])
        answers.append(found.answer)
        question.again()
        commit(question)
    app.chrono.value = False
    assert answers == [FURTHER[1], FURTHER[0]]


def test_rnn_race_wants_a_race_at_length_100_and_reads_it(app, asked):
    question = commit(asked["rnn_race"])
    assert question.check() is None and "press Race first" in question.status.value
    app.race_length.value, app.race_steps.value = 10, 100
    app.start_race(wait=True)  # a tiny real race, at the wrong length
    assert question.check() is None and "last race was at sequence length 10" in question.status.value
    for loss, answer in ((0.005, LEARNS[0]), (0.05, LEARNS[1]), (0.16, LEARNS[2])):
        histories = {cell: History(step=[1, 2], loss=[0.2, value], settings={"length": 100})
                     for cell, value in (("rnn", loss), ("gru", 0.001))}
        app.result = RaceResult(histories=histories)
        found = question.check()
        assert found.answer == answer and f"loss is {loss:.4f}" in found.explanation
        question.again()
        commit(question)
