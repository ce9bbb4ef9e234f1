"""Predict, then check: the question widget's order (commit, then check), its votes, and the class's tally."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path

import pytest

import grutools.apps.questions as questions_package
from grutools.apps.predict import Check, Number, Question
from grutools.apps.questions import ASKED
from grutools.core.tally import QUESTIONS, TALLY, Tally, TallyError


def question(state: dict, **kwargs) -> Question:
    """A question whose check reads ``state['value']``: a stand-in for a page's state."""
    def check():
        if state.get("value") is None:
            return "Press Train first."
        return Check(state["value"], f"the page measured {state['value']}")
    options = kwargs or {"choices": ["a", "b", "c"]}
    return Question("q", "99", "Which?", check, expected="b", **options)


def test_a_check_before_a_commitment_is_refused_and_reveals_nothing():
    state = {"value": "b"}
    q = question(state)
    assert q.check_button.disabled and not q.commit_button.disabled
    assert q.check() is None and q.explanation.value == ""
    assert "Commit to a prediction first" in q.status.value
    q.commit()  # nothing chosen yet
    assert q.committed is None and "Choose your prediction first" in q.status.value


def test_the_check_reads_the_page_state_at_the_time_of_the_check():
    state = {"value": None}
    q = question(state)
    q.answer.value = "a"
    q.commit()
    assert q.answer.disabled and q.commit_button.disabled and not q.check_button.disabled
    assert q.check() is None and "Press Train first" in q.status.value and q.explanation.value == ""
    state["value"] = "c"  # the student's run happened
    found = q.check()
    assert found.answer == "c" and "measured c" in q.explanation.value
    assert "You predicted <b>a</b>" in q.explanation.value and "something else" in q.explanation.value
    assert "✗" not in q.explanation.value and "wrong" not in q.explanation.value.lower()
    q.again()
    state["value"] = "a"
    q.answer.value = "a"
    q.commit()
    q.check()
    assert "matches what this page measured" in q.explanation.value


def test_a_number_prediction_agrees_within_the_tolerance_only():
    state = {"value": 0.75}
    q = question(state, number=Number(0.0, 1.0, 0.05, 0.5, tolerance=0.03))
    for guess, agrees in ((0.75, True), (0.8, False), (0.7, False), (0.5, False)):
        assert q.agrees(guess, Check(0.75, "")) is agrees
    q.answer.value = 0.75
    q.commit()
    q.check()
    assert "You predicted <b>0.75</b>" in q.explanation.value and "matches" in q.explanation.value


def test_again_needs_a_commitment_first():
    q = question({"value": "a"})
    q.again()
    assert "Commit a prediction first" in q.status.value and q.answer.disabled is False


def test_questions_off_for_a_server_hide_every_question(monkeypatch):
    monkeypatch.setenv(QUESTIONS, "off")
    q = question({"value": "a"})
    assert q.view.layout.display == "none" and not q.view.children


def test_fold_hides_the_body_and_opens_it_again():
    q = question({"value": "a"})
    q.fold.value = False
    assert q.body.layout.display == "none" and q.fold.description == "Show the question"
    q.fold.value = True
    assert q.body.layout.display == "" and q.fold.description == "Hide the question"


def test_every_dashboard_has_two_to_four_questions_placed_in_its_notebook():
    from grutools.core.resources import notebooks_dir

    modules = {stem for _number, stem in ASKED.values()}
    assert len({number for number, _ in ASKED.values()}) == len(list(notebooks_dir().glob("*.ipynb"))) == 11
    for number, stem in ASKED.values():
        notebook = next(notebooks_dir().glob(f"{number}_*.ipynb"))
        sources = ["".join(c["source"]) for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
        asked = [m for s in sources for m in re.findall(r'\.ask\("(\w+)"\)', s)]
        assert 2 <= len(asked) <= 4, f"{notebook.name} asks {len(asked)} questions"
        assert len(set(asked)) == len(asked), f"{notebook.name} asks a question twice"
        source = Path(questions_package.__file__).parent / f"{stem}.py"  # the module itself, clone or installed
        names = set(re.findall(r'^        "(\w+)": Question\(', source.read_text(), flags=re.M))
        assert set(asked) == names, f"{notebook.name} asks {sorted(asked)}; {stem}.py has {sorted(names)}"
        for code in sources:  # a view kept behind a question comes after that question's cell
            for held in re.findall(r'\.answer_after\((\[[^\]]*\]|"\w+")', code):
                for name in re.findall(r'"(\w+)"', held):
                    assert name in asked and sources.index(code) > min(i for i, s in enumerate(sources)
                                                                       if f'.ask("{name}")' in s), (notebook.name, name)
    assert modules
    behind = {n.name[:2] for n in notebooks_dir().glob("*.ipynb") if ".answer_after(" in n.read_text()}
    # every dashboard whose views show an answer when the page opens (a shipped study, the loaded model's numbers);
    # 00's answers all come from runs the student starts
    assert behind == {f"{n:02d}" for n in range(1, 11)}


def test_a_view_that_answers_at_a_glance_waits_for_a_commitment_or_a_fold(monkeypatch):
    import ipywidgets as widgets

    def veiled():
        q = question({"value": "b"})
        study = widgets.HTML("the bars")
        box = q.veil(study)
        note = box.children[0]
        return q, box, note, study

    q, box, note, study = veiled()
    assert box.children[1] is study and study.layout.display == "none" and note.layout.display == ""
    assert "commit your prediction first" in note.value and "“Which?”" in note.value  # it names its question
    q.answer.value = "a"
    q.commit()
    assert study.layout.display == "" and note.layout.display == "none"
    q.check()
    q.again()  # once shown, it stays
    assert study.layout.display == ""
    later = widgets.HTML("made after the reveal")
    later_box = q.veil(later)  # a view held later, behind a question already answered once, shows at once
    assert later.layout.display == "" and later_box.children[0].layout.display == "none"
    q, box, note, study = veiled()
    q.fold.value = False  # the question folded away hides nothing either
    assert study.layout.display == "" and note.layout.display == "none"
    q.fold.value = True
    assert study.layout.display == ""
    assert note.layout.display == "none"
    box.children[0].set_state({"layout": None})  # guarded like the rest of the question
    assert "refused" in q.status.value
    monkeypatch.setenv(QUESTIONS, "off")
    off = question({"value": "b"})
    bare = widgets.HTML("the bars")
    assert off.veil(bare) is bare and bare.layout.display is None


def test_a_view_held_behind_several_questions_shows_once_each_has_a_commitment_or_a_fold():
    import ipywidgets as widgets

    from grutools.apps.questions import Asking

    app = Asking()
    first, second = question({"value": "b"}), question({"value": "b"})
    app._asked = {"first": first, "second": second}
    plot = widgets.HTML("the plot")
    outer = app.answer_after(["first", "second"], plot)

    def visible(widget, box=outer):  # shown, and every box around it shown
        if box is widget:
            return box.layout.display != "none"
        if box.layout.display == "none" or not isinstance(box, widgets.Box):
            return False
        return any(visible(widget, child) for child in box.children)

    notes = [outer.children[0], outer.children[1].children[0]]
    assert not visible(plot) and [visible(n) for n in notes] == [True, False]  # one note at a time
    second.answer.value = "a"
    second.commit()  # the second question alone: the first's note still stands
    assert not visible(plot) and [visible(n) for n in notes] == [True, False]
    first.fold.value = False  # the first folded away
    assert visible(plot) and not any(visible(n) for n in notes)
    with pytest.raises(KeyError, match="no question 'third' here"):
        app.answer_after("third", plot)
    with pytest.raises(ValueError, match="at least one question"):
        app.answer_after([], plot)


# ---- the tally ----

def test_one_vote_per_page_and_question_a_changed_mind_replaces_it(tmp_path):
    tally = Tally(tmp_path / "t.sqlite3")
    tally.register("01/q", "01", 0, "Which?", ["a", "b"], "b")
    for page in range(30):
        tally.record("01/q", f"page{page}", "a" if page < 10 else "b")
    for _ in range(1000):  # a crafted page's thousand votes
        tally.record("01/q", "page0", "b")
    summary = tally.summary()
    (q,) = summary["questions"]
    assert q["votes"] == 30 and q["counts"] == {"a": 9, "b": 21}
    with sqlite3.connect(tmp_path / "t.sqlite3") as db:  # independently of summary(): the rows themselves
        assert db.execute("SELECT COUNT(*) FROM votes").fetchone()[0] == 30


def test_the_tally_survives_a_reopen_and_a_new_lesson_clears_only_the_votes(tmp_path):
    path = tmp_path / "folder" / "t.sqlite3"
    Tally(path).register("02/q", "02", 1, "Which?", ["x"], "x")
    Tally(path).record("02/q", "p", "x")
    again = Tally(path)
    assert again.summary()["questions"][0]["counts"] == {"x": 1}
    started = again.summary()["started"]
    again.new_lesson()
    summary = Tally(path).summary()
    assert summary["questions"][0]["votes"] == 0 and summary["questions"][0]["prompt"] == "Which?"
    assert summary["started"] >= started


def test_writers_at_once_lose_no_vote(tmp_path):
    tally = Tally(tmp_path / "t.sqlite3")

    def student(page: int) -> None:
        Tally(tally.path).record("01/q", f"p{page}", str(page % 3))

    threads = [threading.Thread(target=student, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sqlite3.connect(tally.path) as db:
        assert db.execute("SELECT COUNT(DISTINCT page) FROM votes").fetchone()[0] == 30


def test_a_tally_that_cannot_be_written_says_where(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TallyError, match="cannot be kept in"):
        Tally(blocker / "t.sqlite3")


def test_a_commitment_is_the_pages_vote_under_a_served_tally(tmp_path, monkeypatch):
    monkeypatch.setenv(TALLY, str(tmp_path / "t.sqlite3"))
    state = {"value": "b"}
    q = question(state)
    q.register(0)
    q.answer.value = "a"
    q.commit()
    q.again()  # a changed mind before the check (peer instruction's second vote) replaces the vote
    q.answer.value = "c"
    q.commit()
    tally = Tally(tmp_path / "t.sqlite3")
    (found,) = tally.summary()["questions"]
    assert found["key"] == "99/q" and found["counts"] == {"c": 1} and found["choices"] == ["a", "b", "c"]
    q.check()
    q.again()  # after the check the page knows the answer: its next prediction is not a vote
    q.answer.value = "b"
    q.commit()
    assert tally.summary()["questions"][0]["counts"] == {"c": 1}


def test_a_press_of_commit_commits_the_prediction_the_page_showed_not_the_kernels_last_move():
    """ipywidgets holds a slider's later moves back while the kernel works on the first: the click of an ordinary
    button overtook them. The press carries what the page showed, and the moves that arrive late change nothing."""
    q = question({"value": 0.75}, number=Number(0, 1, 0.05, 0.5, tolerance=0.05))
    q.answer.set_state({"value": 0.55})  # the first of five moves reached the kernel; four are held in the page
    q.commit_button.set_state({"value": 0.75, "presses": 1})  # the page showed 0.75 when Enter was pressed
    assert q.committed == 0.75 and q.answer.value == 0.75 and "Committed: 0.75" in q.status.value
    q.answer.set_state({"value": 0.75})  # the held-back move, sent once the kernel was idle: it changes nothing
    assert q.answer.value == 0.75 and "refused" not in q.status.value
    q.answer.set_state({"value": 0.3})  # a real change after the commitment is refused
    assert q.answer.value == 0.75 and "disabled right now" in q.status.value


def test_a_press_of_commit_is_refused_with_a_value_the_control_would_not_take_or_out_of_turn():
    q = question({"value": 0.75}, number=Number(0, 1, 0.05, 0.5, tolerance=0.05))
    for state in ({"value": 7.0, "presses": 1}, {"value": "0.5", "presses": 1}, {"value": 0.5, "presses": 3},
                  {"value": 0.5, "presses": True}, {"description": "Reveal", "presses": 1}):
        q.commit_button.set_state(state)
        assert q.committed is None and q.commit_button.presses == 0, state
        assert "refused" in q.status.value
    choice = question({"value": "b"})
    choice.commit_button.set_state({"value": 3, "presses": 1})  # there is no fourth choice
    assert choice.committed is None
    choice.commit_button.set_state({"value": 1, "presses": 1})  # a choice arrives as its position
    assert choice.committed == "b" and choice.answer.value == "b"
    choice.commit_button.set_state({"value": 1, "presses": 2})  # committed: the button is disabled
    assert choice.commit_button.presses == 1 and "disabled right now" in choice.status.value
    fresh = question({"value": "b"})
    fresh.commit_button.set_state({"value": None, "presses": 1})  # nothing chosen on the page
    assert fresh.committed is None and "refused" in fresh.status.value
