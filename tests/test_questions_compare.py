"""Dashboard 04's questions: refused before a commitment, then read from the page's timing, sizes and data runs."""

import pytest
from questionkit import commit

import grutools.apps.compare as compare_app
from grutools.apps import ClaimsExplorer
from grutools.apps.questions.compare import LOWER, MEMORISES
from grutools.core.tasks import AddingProblem
from grutools.lessons.compare import model_parameters
from grutools.lessons.speed import speed_verdict


@pytest.fixture
def app(monkeypatch, tmp_path):
    ratios = {"now": [0.5, 0.6, 0.55] * 10}
    monkeypatch.setattr(compare_app, "compare_speed", lambda task, sizes, budget: speed_verdict(
        ratios["now"], times={"gru": [0.002] * 30, "lstm": [0.004] * 30}))
    real = compare_app.matched_hidden_sizes  # the app's search goes to 1024 units; 64 is enough for these sizes
    monkeypatch.setattr(compare_app, "matched_hidden_sizes", lambda task, budget: real(task, budget, largest=64))
    app = ClaimsExplorer(tmp_path / "none.json", speed_budget=0.2)
    app.ratios = ratios
    return app


def test_the_questions_refuse_before_a_commitment(app):
    assert app.question_names == ["faster", "lstm_size", "memorises", "lower"]
    for name in app.question_names:
        question = app.question(name)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""


def test_faster_reads_the_verdict_the_page_just_measured(app):
    question = commit(app.question("faster"))
    for hidden, ratios, answer in ((8, [0.5, 0.6, 0.55] * 10, "faster"), (16, [2.0, 2.1, 1.9] * 10, "slower"),
                                   (24, [0.9, 1.1] * 10, "too close to call")):
        app.ratios["now"] = ratios
        app.hidden.value = hidden  # moving a control measures again
        found = question.check()
        expected = speed_verdict(ratios)
        assert found.answer == answer and f"{expected.ratio:.2f} of the LSTM's" in found.explanation
        assert f"{app.hidden.value} GRU units" in found.explanation
        question.again()
        commit(question)


def test_lstm_size_needs_equal_budget_and_follows_the_gru_units(app):
    question = commit(app.question("lstm_size"))
    assert question.check() is None and "equal budget" in question.status.value
    app.mode.value = "equal budget"
    task = AddingProblem(50)
    for hidden in (32, 16):
        app.hidden.value = hidden
        size = int(question.check().answer)
        budget = model_parameters("gru", task, hidden)
        gap = abs(model_parameters("lstm", task, size) - budget)
        assert gap <= abs(model_parameters("lstm", task, size - 1) - budget)
        assert gap <= abs(model_parameters("lstm", task, size + 1) - budget)
        question.again()
        commit(question)


def test_memorises_and_lower_read_the_data_runs(app):
    memorises, lower = commit(app.question("memorises")), commit(app.question("lower"))
    assert memorises.check() is None and "train set size to 16" in memorises.status.value
    app.train_size.value = 16
    app.train_data(wait=True)  # a real run: 400 steps on 16 sequences
    out = dict(app.data_runs)["16 sequences, noise 0.0"]
    ratio = out["test"][-1] / max(out["train"][-1], 1e-12)
    found = memorises.check()
    assert found.answer == (MEMORISES[0] if ratio >= 10 else MEMORISES[1]) and f"{out['test'][-1]:.4f}" in found.explanation
    assert lower.check() is None and "8192 and 1.0" in lower.status.value
    for small, noisy, answer in ((0.2, 0.01, LOWER[1]), (0.01, 0.2, LOWER[0])):
        app.data_runs = [("16 sequences, noise 0.0", {"step": [400], "train": [0.0], "test": [small]}),
                         ("8192 sequences, noise 1.0", {"step": [400], "train": [0.2], "test": [noisy]})]
        found = lower.check()
        assert found.answer == answer and f"{small:.4f}" in found.explanation
        lower.again()
        commit(lower)
    memorises.again()
    commit(memorises)
    app.data_runs = [("16 sequences, noise 0.0", {"step": [400], "train": [0.01], "test": [0.012]})]
    assert memorises.check().answer == MEMORISES[1]
