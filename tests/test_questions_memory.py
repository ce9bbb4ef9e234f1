"""Dashboard 05's questions: refused before a commitment, then read from the page's models and its nudge controls."""

import numpy as np
import pytest
import torch
from questionkit import commit

from grutools.apps import MemoryExplorer
from grutools.apps.questions.memory import FIRST, FOLLOW, LENGTHENED
from grutools.core.trace import trace


@pytest.fixture(scope="module")
def app():
    return MemoryExplorer()


def test_the_questions_refuse_before_a_commitment(app):
    assert app.question_names == ["longest", "follow", "lengthened", "forgets"]
    for name in app.question_names:
        question = app.question(name)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""


def test_longest_and_follow_read_the_units_time_scales(app):
    update = trace(app.models["gru"], app.x).update[-1].numpy()
    scales = 1 / (1 - update.reshape(-1, update.shape[-1]).mean(0))  # independently, from the gates
    longest, follow = commit(app.question("longest")), commit(app.question("follow"))
    assert longest.check().answer == pytest.approx(scales.max(), rel=1e-4)
    slow = app.alignment[:, 1] > app.alignment[:, 0]
    answer = FOLLOW[0] if np.median(scales[slow]) > np.median(scales[~slow]) else FOLLOW[1]
    assert follow.check().answer == answer
    kept = app.scales
    try:  # the page's numbers, not a stored answer: give the fast-following units the long time scales
        app.scales = np.where(slow, 1.1, 30.0)
        for question in (longest, follow):
            question.again()
            commit(question)
        assert longest.check().answer == 30.0 and follow.check().answer == FOLLOW[1]
    finally:
        app.scales = kept


def test_lengthened_compares_before_and_after(app):
    question = commit(app.question("lengthened"))
    longer = int(np.sum(app.scales > app.initial_scales))
    total = len(app.scales)
    found = question.check()
    assert found.answer == (LENGTHENED[0] if longer == total else LENGTHENED[1] if longer > total / 2
                            else LENGTHENED[2])
    assert f"{longer} of {total} units" in found.explanation
    kept = app.initial_scales
    try:
        app.initial_scales = None
        question.again()
        commit(question)
        assert question.check() is None and "no snapshot" in question.status.value
    finally:
        app.initial_scales = kept


def lifetimes_here(model, x, step):
    """Independently: how many steps each unit's |Δh| stays at or above 10% of its peak after a +1 nudge at step."""
    nudged = x.clone()
    nudged[step] += 1.0
    with torch.no_grad():
        h = trace(model, torch.stack([x, nudged])).hidden[-1]
    response = (h[1] - h[0]).abs().numpy()[step:]
    above = response >= 0.1 * np.maximum(response.max(0), 1e-12)
    return np.array([np.flatnonzero(above[:, u]).max() + 1 if above[:, u].any() else 0
                     for u in range(response.shape[1])])


def test_forgets_follows_the_nudge_controls(app):
    question = commit(app.question("forgets"))
    explanations = []
    for step, sequence in ((20, 0), (60, 3)):
        app.nudge_step.value, app.sequence.value = step, sequence
        x = app.x[sequence]
        first = {cell: int(lifetimes_here(model, x, step).min()) for cell, model in app.models.items()}
        found = question.check()
        assert found.answer == (FIRST[2] if first["gru"] == first["rnn"] else FIRST[0] if first["gru"] < first["rnn"]
                                else FIRST[1])
        assert f"for {first['gru']} steps, the quickest tanh RNN unit for {first['rnn']}" in found.explanation
        explanations.append(found.explanation)
        question.again()
        commit(question)
    assert explanations[0] != explanations[1] and f"step {60 + 1} of test sequence 3" in explanations[1]
