"""Dashboard 00's questions: refused before a commitment, then checked from the page's own runs."""

import numpy as np
import pytest
from questionkit import commit

from grutools.apps import TrainingDemo
from grutools.apps.questions.welcome import NEAR, SOONER, UNDER
from grutools.core.training import History

BASELINE = 1 / 6


def made_history(loss, length):
    return History(step=list(range(1, len(loss) + 1)), loss=list(loss), wall_time=[0.0] * len(loss),
                   settings={"length": length})


def first_under(loss, level=0.3 * BASELINE, window=20):
    """Independently: the first step at which the trailing 20-step mean is under 30% of the line."""
    loss = np.asarray(loss, dtype=float)
    means = [loss[max(0, i - window + 1):i + 1].mean() for i in range(len(loss))]
    below = [i + 1 for i, m in enumerate(means) if m < level]
    return below[0] if below else None


@pytest.fixture
def demo():
    return TrainingDemo(length=20, steps=50)


def test_the_questions_come_in_the_notebooks_order_and_refuse_before_a_commitment(demo):
    assert demo.question_names == ["gru_under", "rnn_long", "sooner"]
    for name in demo.question_names:
        question = demo.question(name)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""
        assert "Commit to a prediction first" in question.status.value


def test_gru_under_asks_for_the_run_then_reads_it(demo):
    question = commit(demo.question("gru_under"))
    assert question.check() is None and "press Train first" in question.status.value
    demo.train(wait=True)  # the GRU, length 20, 50 steps
    history = demo.runs["gru"]
    final = np.mean(history.loss[-5:])  # the last 10% of 50 steps
    found = question.check()
    assert found.answer == (UNDER if final < 0.3 * BASELINE else NEAR)
    assert f"{final:.4f}" in found.explanation and "50 steps at sequence length 20" in found.explanation
    for loss, answer in (([0.2] * 20 + [0.01] * 30, UNDER), ([0.17] * 50, NEAR)):
        question.again()
        commit(question)
        demo.runs["gru"] = made_history(loss, 20)
        assert question.check().answer == answer


def test_rnn_long_wants_length_100_and_a_tanh_rnn_run(demo):
    question = commit(demo.question("rnn_long"))
    assert question.check() is None and "Set sequence length to 100 (it is 20)" in question.status.value
    demo.length.value = 100
    assert question.check() is None and "Choose tanh RNN under model and press Train" in question.status.value
    demo.cell.value = "rnn"
    demo.train(wait=True)
    history = demo.runs["rnn"]
    final = np.mean(history.loss[-5:])
    found = question.check()
    assert found.answer == (UNDER if final < 0.3 * BASELINE else NEAR) and f"{final:.4f}" in found.explanation
    question.again()
    commit(question)
    demo.runs["rnn"] = made_history([0.01] * 50, 100)
    assert question.check().answer == UNDER


def test_sooner_compares_the_first_steps_under_the_line(demo):
    question = commit(demo.question("sooner"))
    assert question.check() is None and "GRU and LSTM" in question.status.value
    early, late, flat = [0.17] * 30 + [0.0] * 70, [0.17] * 60 + [0.0] * 40, [0.17] * 100
    for gru, lstm, answer in ((early, late, SOONER[0]), (late, early, SOONER[1]), (flat, flat, SOONER[2])):
        demo.runs.update(gru=made_history(gru, 20), lstm=made_history(lstm, 20))
        found = question.check()
        assert found.answer == answer
        for loss in (gru, lstm):
            if first_under(loss):
                assert f"under it at step {first_under(loss)} of 100" in found.explanation
        question.again()
        commit(question)
