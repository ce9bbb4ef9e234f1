"""Dashboard 10's questions: refused before a commitment, then checked from the passage, the readings, the run and the
study the page shows, against correlations computed here with NumPy and the shipped files."""

import csv

import numpy as np
import pytest
from questionkit import checked, fresh, said

from grutools.apps.questions.text import BEATS, BETTER, YES_NO
from grutools.text.corpus import load_text
from grutools.text.patterns import scan
from grutools.text.reading import read

FIRST = {"string": YES_NO[0], "nameless": 50.0, "baselines": BEATS[0], "lstm": BETTER[0]}


@pytest.fixture(scope="module")
def app():
    from grutools.apps import TextExplorer

    return TextExplorer()


def best_r(values, signal) -> np.ndarray:
    """Each unit's Pearson r with the signal, by np.corrcoef (constant units: 0)."""
    return np.array([np.corrcoef(column, signal)[0, 1] if column.std() > 0 else 0.0 for column in values.T])


def test_every_question_refuses_a_check_before_a_commitment(app):
    for name in app.question_names:
        question = fresh(app, name)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""
        assert "Commit to a prediction first" in said(question)


def test_the_string_question_follows_the_passage_chosen(app):
    model = app.reader.models["shipped"]
    explanations = set()
    for name in list(app.read.passages)[:2]:
        app.read.passage.value = name
        text = app.read.passages[name]
        r = best_r(read(model, text).hidden.astype(np.float64), scan(text)["string"])
        unit = int(np.argmax(np.abs(r)))
        _, found = checked(app, "string", FIRST["string"])
        assert found.answer == (YES_NO[0] if abs(r[unit]) >= 0.5 else YES_NO[1])
        assert f"unit {unit}, r = {r[unit]:+.2f}" in found.explanation
        explanations.add(found.explanation)
    assert len(explanations) == 2
    app.read.own.value = "x = 1\ny = x + 2\n"  # code with no string in it
    app.read._on_own()
    question, found = checked(app, "string", FIRST["string"])
    assert found is None and "no string literal" in said(question)
    app.read.passage.value = next(iter(app.read.passages))


def test_the_nameless_share_is_the_share_of_units_under_05_for_every_pattern(app):
    held_out = load_text("test")[:20_000]
    hidden = read(app.reader.models["shipped"], held_out).hidden.astype(np.float64)
    strongest = np.max([np.abs(best_r(hidden, signal)) for signal in scan(held_out).values()], axis=0)
    _, found = checked(app, "nameless", FIRST["nameless"])
    assert found.answer == pytest.approx(100 * np.mean(strongest < 0.5))
    assert f"of the {hidden.shape[1]} units have |r| under 0.5" in found.explanation


def test_the_baselines_question_reads_the_run_of_this_page(app):
    from grutools.apps.text_runs import BASELINES_PATH
    from grutools.text.study import read_baselines

    question, found = checked(app, "baselines", FIRST["baselines"])
    assert found is None and "Press Train in section 5 first" in said(question)
    app.train.start()
    app.train.job.stop()  # a run stopped at once: the page keeps its bits per character all the same
    app.train.job.join()
    result = app.train.result
    assert result is not None
    shipped = read_baselines(BASELINES_PATH)
    levels = sorted([shipped["unigram"], shipped["bigram"], shipped["kneser-ney-5"]], reverse=True)
    for bpc in (result["bpc"][-1], 4.0, 3.0, 2.0):
        result["bpc"][-1] = bpc
        _, found = checked(app, "baselines", FIRST["baselines"])
        assert found.answer == BEATS[sum(bpc < level for level in levels)]
        assert f"at {bpc:.2f} bits per character" in found.explanation
    app.read.model.value = "shipped"  # the stopped run became "yours"; back to the shipped GRU


def test_the_study_question_reads_the_study_on_the_page(app, tmp_path, monkeypatch):
    import grutools.apps.text_runs as runs
    from grutools.text.study import FIELDS, read_study

    rows = read_study(runs.STUDY_PATH)
    means = {cell: np.mean([r["test_bpc"] for r in rows if r["cell"] == cell]) for cell in ("gru", "lstm")}
    gru, lstm = ([r["test_bpc"] for r in rows if r["cell"] == cell] for cell in ("gru", "lstm"))
    apart = min(gru) > max(lstm) or min(lstm) > max(gru)
    _, found = checked(app, "lstm", FIRST["lstm"])
    assert found.answer == (BETTER[2] if not apart else BETTER[0] if means["gru"] < means["lstm"] else BETTER[1])
    assert f"the GRU {means['gru']:.3f}" in found.explanation and f"the LSTM {means['lstm']:.3f}" in found.explanation
    shipped = app.study
    path = tmp_path / "study.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        for cell, values in (("gru", (2.0, 2.4)), ("lstm", (2.1, 2.2))):
            for seed, value in enumerate(values):
                writer.writerow({"cell": cell, "seed": seed, "hidden": 8, "parameters": 100, "steps": 2,
                                 "test_bpc": value, "ms_per_step": 1.0})
    monkeypatch.setattr(runs, "STUDY_PATH", path)
    try:
        app.study = runs.StudyView()  # the page's study view, from another file
        _, found = checked(app, "lstm", FIRST["lstm"])
        assert found.answer == BETTER[2] and "the LSTM 2.150 (2.100 to 2.200)" in found.explanation
        monkeypatch.setattr(runs, "STUDY_PATH", tmp_path / "none.csv")
        app.study = runs.StudyView()
        question, found = checked(app, "lstm", FIRST["lstm"])
        assert found is None and "no shipped study" in said(question)
    finally:
        app.study = shipped
