"""Dashboard 07's questions: refused before a commitment, then checked from the page's race and its shipped files."""

import csv
import json
import math

import numpy as np
import pytest
from questionkit import checked, fresh, said

from grutools.apps.questions.rivals import FASTER, LEAVES, STREAM
from grutools.core.tasks import DATA_DIR
from grutools.lessons.rivals import MODELS, NAMES, STUDY_FIELDS, read_study

FIRST = {"parity": LEAVES[0], "speed": FASTER[0], "study": "GRU", "stream": STREAM[0]}


@pytest.fixture(scope="module")
def app():
    from grutools.apps import RivalsExplorer

    return RivalsExplorer(hidden_size=4)  # the shipped study and benchmark; a tiny race


def race(app, task, length, steps, models=("gru", "mingru")):
    app.task.value = task
    app.length.value, app.steps.value = length, steps
    for kind in MODELS:
        app.choices[kind].value = kind in models
    app.race(wait=True)


def test_every_question_refuses_a_check_before_a_commitment(app):
    for name in app.question_names:
        question = fresh(app, name)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""
        assert "Commit to a prediction first" in said(question)


def test_the_race_questions_wait_for_a_race_of_the_gru_and_the_mingru_on_parity(app):
    from grutools.apps import RivalsExplorer

    unraced = RivalsExplorer(hidden_size=4)
    question, found = checked(unraced, "parity", FIRST["parity"])
    assert found is None and "Choose parity, tick GRU and minGRU, and press Race first." in said(question)
    race(app, "adding", 20, 50)
    question, found = checked(app, "parity", FIRST["parity"])
    assert found is None and "the last race was on adding" in said(question)
    race(app, "parity", 10, 50, models=("gru", "lstm"))
    question, found = checked(app, "parity", FIRST["parity"])
    assert found is None and "with GRU, LSTM" in said(question)


def test_the_race_questions_read_the_race_just_run(app):
    race(app, "parity", 10, 100)
    result = app.result
    ends = {k: np.mean(result.histories[k].loss[-20:]) for k in ("gru", "mingru")}
    below = {k for k, v in ends.items() if v < math.log(2) / 2}
    want = {frozenset({"gru"}): LEAVES[0], frozenset({"mingru"}): LEAVES[1], frozenset(): LEAVES[3]}.get(
        frozenset(below), LEAVES[2])
    _, found = checked(app, "parity", FIRST["parity"])
    assert found.answer == want
    assert f"{ends['gru']:.3f} for the GRU and {ends['mingru']:.3f} for the minGRU" in found.explanation
    assert "After 100 steps at length 10" in found.explanation
    gru, mingru = (1000 * np.median(result.seconds[k]) for k in ("gru", "mingru"))
    _, found = checked(app, "speed", FIRST["speed"])
    assert f"{gru:.1f} ms for the GRU and {mingru:.1f} ms for the minGRU" in found.explanation
    assert found.answer == (FASTER[2] if abs(gru - mingru) <= 0.1 * max(gru, mingru) else
                            FASTER[0] if gru < mingru else FASTER[1])
    race(app, "parity", 10, 50)  # another race: the numbers follow it
    _, again = checked(app, "parity", FIRST["parity"])
    assert "After 50 steps" in again.explanation


def test_the_study_and_streaming_questions_read_the_pages_files(app, tmp_path):
    from grutools.apps import RivalsExplorer

    rows = read_study(DATA_DIR / "results" / "rivals.csv")
    means = {k: np.mean([r["test_loss"] for r in rows if (r["task"], r["length"], r["model"]) == ("adding", 100, k)])
             for k in MODELS}
    _, found = checked(app, "study", FIRST["study"])
    assert found.answer == NAMES[min(means, key=means.get)] and f"{NAMES['gru']} {means['gru']:.3g}" in found.explanation
    _, found = checked(app, "stream", FIRST["stream"])
    assert found.answer == STREAM[0]  # the shipped benchmark: a GRU keeps one state vector

    study = tmp_path / "rivals.csv"
    with open(study, "w", newline="") as handle:
        writer = csv.DictWriter(handle, STUDY_FIELDS)
        writer.writeheader()
        for kind in MODELS:
            for seed in (0, 1):
                writer.writerow({"task": "adding", "length": 100, "model": kind, "seed": seed, "hidden_size": 4,
                                 "steps": 2, "parameters": 10, "test_loss": 0.01 if kind == "tcn" else 0.1 + seed,
                                 "ms_per_step": 1.0, "steps_to_target": "", "seconds_to_target": "", "target": 0.01})
    scaling = tmp_path / "scaling.json"
    at = [10, 1000]
    scaling.write_text(json.dumps({
        "machine": {"cpu": "test"}, "date": "2026-12-01", "rounds": 1, "command": "test", "lengths": [50, 100],
        "stream_at": at, "train_ms": {k: [1.0, 2.0] for k in MODELS}, "slope": {k: 1.0 for k in MODELS},
        "scan_ratio": {"256": 2.0}, "stream": {k: {"bytes": [128 * a for a in at], "ms": [0.1, 0.2]} for k in MODELS}}))
    other = RivalsExplorer(study_path=study, scaling_path=scaling, hidden_size=4)
    _, found = checked(other, "study", FIRST["study"])
    assert found.answer == NAMES["tcn"] and "over 2 seeds" in found.explanation
    _, found = checked(other, "stream", FIRST["stream"])
    assert found.answer == STREAM[2] and "128000 bytes after 1000" in found.explanation

    missing = RivalsExplorer(study_path=tmp_path / "none.csv", scaling_path=tmp_path / "none.json", hidden_size=4)
    for name in ("study", "stream"):
        question, found = checked(missing, name, FIRST[name])
        assert found is None and "no shipped" in said(question)
