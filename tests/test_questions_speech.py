"""Dashboard 09's questions: refused before a commitment, then checked from the recording, model, run and study
the page shows, against the model's own forward pass and the shipped files."""

import csv

import numpy as np
import pytest
import torch
from questionkit import checked, fresh, said

from grutools.speech.audio import from_decibels, read_audio
from grutools.speech.digits import accuracy, listen_path
from grutools.speech.study import ORDER_FIELDS, SPEAKER_FIELDS, read_order

FIRST = {"settle": 50.0, "accuracy": 75.0, "yours": 50.0, "shuffled": 50.0}


@pytest.fixture(scope="module")
def app():
    from grutools.apps import SpeechExplorer

    return SpeechExplorer()


def settling_share(model, recording) -> float:
    """Written out here: the share of frames before the one from which the last frame's answer stays on top."""
    with torch.no_grad():
        top = model.eval()(from_decibels(recording)[None])[0].argmax(-1).numpy()
    frame = len(top) - 1
    while frame > 0 and top[frame - 1] == top[-1]:
        frame -= 1
    return frame / len(top)


def test_every_question_refuses_a_check_before_a_commitment(app):
    for name in app.question_names:
        question = fresh(app, name)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""
        assert "Commit to a prediction first" in said(question)


def test_the_settling_question_follows_the_recording_chosen(app):
    from grutools.speech.audio import decibels

    model = app.hearing.models["shipped"]
    answers = []
    for digit, speaker in ((7, "jackson"), (6, "george")):
        app.hearing.speaker.value, app.hearing.digit.value = speaker, digit
        recording = decibels(read_audio(listen_path(digit, speaker, 0)))
        _, found = checked(app, "settle", FIRST["settle"])
        assert found.answer == pytest.approx(100 * settling_share(model, recording))
        assert f"said by {speaker}" in found.explanation
        answers.append(found.answer)
    assert answers[0] != answers[1]
    app.hearing.speaker.value, app.hearing.digit.value = "jackson", 7


def test_the_accuracy_questions_read_the_confusion_matrix_and_the_run_of_this_page(app):
    task = app.confusion.task  # the page's own test recordings, loaded once
    _, found = checked(app, "accuracy", FIRST["accuracy"])
    assert found.answer == pytest.approx(100 * accuracy(app.hearing.models["shipped"], task), abs=1e-3)
    assert found.explanation.startswith("The shipped GRU names")
    question, found = checked(app, "yours", FIRST["yours"])
    assert found is None and "Press Train in section 3 first" in said(question)
    app.train.hidden.value, app.train.steps.value = 16, 300
    app.train.start(wait=True)  # the trained GRU becomes "yours" in section 1, and the confusion matrix follows it
    _, found = checked(app, "yours", FIRST["yours"])
    assert found.answer == pytest.approx(100 * app.train.result["accuracy"][-1])
    assert "After 300 steps your GRU of 16 units" in found.explanation
    _, found = checked(app, "accuracy", FIRST["accuracy"])  # the matrix of the page, against the run's own last measurement
    assert found.answer == pytest.approx(100 * app.train.result["accuracy"][-1], abs=1e-3)
    assert found.explanation.startswith("Your GRU names")
    app.hearing.model.value = "shipped"


def test_the_shuffling_question_reads_the_study_on_the_page(app, tmp_path):
    from grutools.apps.speech_runs import ORDER_PATH, StudyView

    shuffled = [r["accuracy"] for r in read_order(ORDER_PATH) if r["model"] == "GRU, frames shuffled"]
    _, found = checked(app, "shuffled", FIRST["shuffled"])
    assert found.answer == pytest.approx(100 * np.mean(shuffled))
    shipped = app.study
    order, speakers = tmp_path / "order.csv", tmp_path / "speakers.csv"
    with open(order, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ORDER_FIELDS)
        writer.writeheader()
        for model, value in (("GRU", 0.9), ("GRU, frames shuffled", 0.4), ("GRU, frames shuffled", 0.5)):
            writer.writerow({"model": model, "seed": 0, "steps": 2, "parameters": 1, "accuracy": value, "seconds": 1})
    with open(speakers, "w", newline="") as handle:
        writer = csv.DictWriter(handle, SPEAKER_FIELDS)
        writer.writeheader()
        writer.writerow({"speaker": "theo", "seed": 0, "steps": 2, "accuracy": 0.5})
    try:
        app.study = StudyView(order, speakers)  # the page's study view, read from other files
        _, found = checked(app, "shuffled", FIRST["shuffled"])
        assert found.answer == pytest.approx(45.0) and "45.0% of the test recordings (seeds 40.0% to 50.0%)" in \
            found.explanation and "45.0 points less" in found.explanation
        app.study = StudyView(tmp_path / "none.csv", speakers)
        question, found = checked(app, "shuffled", FIRST["shuffled"])
        assert found is None and "no shipped study" in said(question)
    finally:
        app.study = shipped
