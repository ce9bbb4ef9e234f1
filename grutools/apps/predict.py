"""Predict, then check: a question asked just before the experiment that answers it, enforced in the kernel.

A student first commits to a prediction (a choice, or a number on a slider), and only
then may ask for the check. The check is computed from *this page's* state: the
numbers its controls set, the run its student trained. Where that run has not
happened yet, the check says what to do first and reveals nothing. A prediction the
page's numbers do not bear out gets an explanation with those numbers, never a red
cross; after the check the student may predict again.

The order is the kernel's, not the page's: the check button is disabled until a
prediction is committed (:mod:`.guard` refuses a click on a disabled button), the
choice is disabled once committed, and :meth:`Question.check` refuses again on its own.
Under ``grutools serve`` a commitment is also the page's one anonymous vote on the
question (:mod:`grutools.core.tally`), which the teacher's page counts: a changed mind
before the check replaces it; a prediction made after the page's check is not a vote.

A question folds away; ``GRUTOOLS_QUESTIONS=off`` (``grutools serve --no-questions``)
turns every question off for a whole server, for a demo.
"""

from __future__ import annotations

import html
import logging
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets

from ..core.tally import QUESTIONS, TallyError, class_tally
from .commit import CommitButton
from .common import StatusLine, guarded
from .guard import protect

log = logging.getLogger("grutools.predict")
PAGE = secrets.token_hex(8)  # this kernel's page (Voilà starts one kernel per page): the only id a vote carries
BUTTON = dict(width="auto", min_width="170px", margin="2px 8px 4px 0")  # the layout of each of the three buttons


def questions_on() -> bool:
    """Whether this server asks questions (``$GRUTOOLS_QUESTIONS`` is not ``off``)."""
    return os.environ.get(QUESTIONS, "on").strip().lower() not in ("off", "0", "no", "false")


@dataclass(frozen=True)
class Number:
    """A prediction on a slider: its range, step and unit, and how close counts as right."""

    low: float
    high: float
    step: float
    start: float
    tolerance: float
    unit: str = ""

    def label(self, value: float) -> str:
        decimals = max(0, -int(math.floor(math.log10(self.step)))) if self.step < 1 else 0
        return f"{value:.{decimals}f}{(' ' + self.unit) if self.unit else ''}"


def _opening(prompt: str, most: int = 70) -> str:
    """The start of a question's prompt, cut at a word, for the note that stands in for the view it answers."""
    if len(prompt) <= most:
        return prompt
    return prompt[:most].rsplit(" ", 1)[0].rstrip(",;:") + "…"


@dataclass(frozen=True)
class Check:
    """What the page measured: the answer (one of the choices, or a number) and why, with its numbers."""

    answer: str | float
    explanation: str


class Question:
    """One prediction question; :attr:`view` is the widget to place before the experiment that answers it.

    ``check()`` computes the answer from the page's state: a :class:`Check`, or a sentence saying what
    the student must do first (e.g. press *Train*). ``expected`` is the answer key for the teacher's page
    and the lesson plan: what this machine's runs gave."""

    def __init__(self, key: str, dashboard: str, prompt: str, check: Callable[[], Check | str], expected: str,
                 choices: list[str] | None = None, number: Number | None = None) -> None:
        if (choices is None) == (number is None):
            raise ValueError("a question takes either choices or a number, not both.")
        self.key, self.dashboard, self.prompt, self.expected = f"{dashboard}/{key}", dashboard, prompt, expected
        self.choices, self.number, self._check = choices, number, check
        self.committed: str | float | None = None
        self.revealed: Check | None = None
        self.status = StatusLine()
        guard = guarded(self.status)
        if choices is not None:
            self.answer = widgets.RadioButtons(options=choices, value=None, description="My prediction",
                                               style={"description_width": "initial"},
                                               layout=widgets.Layout(width="auto"))
        else:  # continuous: every move reaches the kernel before a click on Commit (the page's messages keep order)
            self.answer = widgets.FloatSlider(value=number.start, min=number.low, max=number.high, step=number.step,
                                              description=f"My prediction ({number.unit})" if number.unit
                                              else "My prediction", style={"description_width": "initial"},
                                              layout=widgets.Layout(width="420px"), continuous_update=True,
                                              readout_format=f".{max(0, -int(math.floor(math.log10(number.step))))}f")
        # the click carries the prediction as the page showed it (an ordinary button's click overtook moves the
        # page still held back, see .commit)
        self.commit_button = CommitButton(self.answer, layout=widgets.Layout(**BUTTON))
        self.check_button = widgets.Button(description="Check it on this page", disabled=True, icon="search",
                                           layout=widgets.Layout(**BUTTON))
        self.again_button = widgets.Button(description="Predict again", disabled=True, icon="redo",
                                           layout=widgets.Layout(**BUTTON))
        self.commit_button.on_commit(guard(self._commit_shown))
        self.check_button.on_click(guard(lambda _: self.check()))
        self.again_button.on_click(guard(lambda _: self.again()))
        self.explanation = widgets.HTML("", layout=widgets.Layout(width="100%"))
        self.fold = widgets.ToggleButton(value=True, description="Hide the question", icon="chevron-up",
                                         tooltip="Fold this question away (or open it again)",
                                         layout=widgets.Layout(width="auto"))
        self.fold.observe(lambda change: self._show(change["new"]), names="value")
        self.body = widgets.VBox([
            widgets.HTML(f'<div class="grutools-question-prompt" style="font-size:16px;line-height:1.4">'
                         f'{html.escape(prompt)}</div>'),
            self.answer,
            widgets.HBox([self.commit_button, self.check_button, self.again_button],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.explanation, self.status,
        ])
        header = widgets.HBox([widgets.HTML('<b style="font-size:15px;margin-right:12px">Predict, then check</b>'),
                               self.fold], layout=widgets.Layout(align_items="center"))
        self.view = widgets.VBox([header, self.body], layout=widgets.Layout(
            border="1px solid #b0bec5", padding="6px 12px", margin="8px 0", width="100%", max_width="900px"))
        self.view.add_class("grutools-question")
        protect(self.view, self.status)  # guarded even when hidden: its controls are in the kernel all the same
        if not questions_on():
            self.view = widgets.VBox(layout=widgets.Layout(display="none"))
            protect(self.view, self.status)
        self.checked_once = False  # once the page has shown its check, later predictions are not votes
        self._veiled: list[tuple[widgets.Widget, widgets.Widget]] = []  # (a note, the view it stands in for)
        self._lifted = False  # the veils were lifted once: they stay lifted, and a veil made later starts lifted

    # ---- the student's three steps ----
    def prediction(self) -> str | float | None:
        """The prediction now on the control (``None`` while no choice is made)."""
        return self.answer.value

    def commit(self) -> None:
        """Commit to the prediction on the control: the check opens, the control locks, the page's vote is cast."""
        value = self.prediction()
        if value is None:
            self.status.error("Choose your prediction first, then commit to it.")
            return
        if self.committed is not None:
            self.status.info("Your prediction is already committed; check it, or predict again after the check.")
            return
        self.committed = value
        self.answer.disabled = self.commit_button.disabled = True
        self.check_button.disabled = self.again_button.disabled = False
        self.status.ok(f"Committed: {self._label(value)}. Now run the experiment below, then check.")
        self._vote(value)
        self._unveil()

    def _commit_shown(self, shown) -> None:
        """A press of *Commit*: the prediction the page showed then (checked by the guard) is the one committed."""
        if self.committed is None and shown is not None:
            if self.number is None:
                self.answer.index = shown
            else:
                self.answer.value = shown
        self.commit()

    def check(self) -> Check | None:
        """The page's own answer, against the committed prediction; refused before a commitment."""
        if self.committed is None:
            self.status.error("Commit to a prediction first: the check opens only after that.")
            return None
        found = self._check()
        if isinstance(found, str):  # the page has not measured it yet
            self.status.info(found)
            return None
        self.revealed = found
        self.checked_once = True
        self.check_button.disabled = True
        self.again_button.disabled = False
        self.explanation.value = self._explain(self.committed, found)
        self.status.info("")
        return found

    def again(self) -> None:
        """Open the question again: to change one's mind before the check (the vote is replaced at the next
        commitment), or to try again after it (the vote stays: it was made before the check)."""
        if self.committed is None:
            self.status.error("Commit a prediction first.")
            return
        self.committed = self.revealed = None
        self.answer.disabled = self.commit_button.disabled = False
        self.check_button.disabled = self.again_button.disabled = True
        self.explanation.value = ""
        self.status.info("Predict again, commit, and check.")

    # ---- helpers ----
    def agrees(self, prediction: str | float, found: Check) -> bool:
        """Whether a prediction matches what the page measured (a number: within the question's tolerance)."""
        if self.number is None:
            return prediction == found.answer
        return abs(float(prediction) - float(found.answer)) <= self.number.tolerance

    def _label(self, value: str | float) -> str:
        return str(value) if self.number is None else self.number.label(float(value))

    def _explain(self, prediction: str | float, found: Check) -> str:
        agree = self.agrees(prediction, found)
        lead = ("Your prediction matches what this page measured." if agree else
                "This page measured something else. Here is why:")
        colour = "#1a7f37" if agree else "#1f4e79"
        return (f'<div class="grutools-reveal" role="status" style="border-left:4px solid {colour};background:#f7f9fb;'
                f'padding:6px 12px;font-size:15px;line-height:1.45">'
                f'<div>You predicted <b>{html.escape(self._label(prediction))}</b>; this page measured '
                f'<b class="grutools-measured">{html.escape(self._label(found.answer))}</b>.</div>'
                f'<div style="margin-top:4px"><b>{lead}</b> {html.escape(found.explanation)}</div></div>')

    def veil(self, view: widgets.Widget) -> widgets.Widget:
        """``view`` in a box that shows, in its place, a note until a prediction is committed (or the question is
        folded away): for results that answer the question at a glance, such as a shipped study's bars just below
        it. With questions off it is ``view`` itself. Once shown it stays."""
        if not questions_on():
            return view
        note = widgets.HTML(f'<div class="grutools-veil" data-question="{html.escape(self.key)}" style="border:1px '
                            'dashed #90a4ae;padding:8px 12px;font-size:15px;color:#37474f;max-width:860px">The '
                            f'results here answer “{html.escape(_opening(self.prompt))}”: commit your prediction '
                            'first (or hide the question) to see them.</div>')
        box = widgets.VBox([note, view])
        box.add_class("grutools-veiled")
        protect(box, self.status)
        self._veiled.append((note, view))
        self._unveil(self._lifted or self.committed is not None or not self.fold.value)
        return box

    def _unveil(self, shown: bool = True) -> None:
        for note, view in self._veiled:  # the view first: a page never shows neither (a veil inside shows its note)
            view.layout.display = "" if shown else "none"
            note.layout.display = "none" if shown else ""
        if shown:
            self._veiled, self._lifted = [], True

    def _show(self, shown: bool) -> None:
        if not shown:
            self._unveil()  # folded away: the question is in nobody's way, and hides nothing either
        self.body.layout.display = "" if shown else "none"
        self.fold.description = "Hide the question" if shown else "Show the question"
        self.fold.icon = "chevron-up" if shown else "chevron-down"

    def register(self, position: int) -> None:
        """Make the question known to the teacher's page, ``position``-th on its dashboard (under ``grutools serve``)."""
        try:
            tally = class_tally()
            if tally is not None and questions_on():
                choices = self.choices or [f"{self.number.low:g}..{self.number.high:g} {self.number.unit}".strip()]
                tally.register(self.key, self.dashboard, position, self.prompt, choices, self.expected)
        except TallyError as error:  # the question still works; only the teacher's count misses it
            log.warning("%s", error)

    def _vote(self, value: str | float) -> None:
        """The page's vote: its prediction before it saw the check (a later one, made knowing, is not counted)."""
        if self.checked_once or not questions_on():
            return
        try:
            tally = class_tally()
            if tally is not None:
                tally.record(self.key, PAGE, self._label(value))
        except TallyError as error:
            log.warning("%s", error)
