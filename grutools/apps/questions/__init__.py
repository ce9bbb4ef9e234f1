"""Every dashboard's prediction questions, one module per app (the stem of ``grutools/apps/<stem>.py``).

Each module has ``questions(app) -> dict[name, Question]``: two to four
:class:`~grutools.apps.predict.Question`, in the order the notebook asks them, each
checked from the app's own state (its controls, its student's run). A notebook places
``app.ask(name)`` just before the experiment that answers it. docs/lessons/ has the
lesson plan of each dashboard, with these questions and the answers this machine gave.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import ipywidgets as widgets

from ..predict import Question

# the app's class -> (its dashboard's number, the module of its questions)
ASKED = {
    "TrainingDemo": ("00", "welcome"),
    "GRUCellExplorer": ("01", "cell"),
    "GatesExplorer": ("02", "gates"),
    "GradientExplorer": ("03", "vanishing"),
    "ClaimsExplorer": ("04", "compare"),
    "MemoryExplorer": ("05", "memory"),
    "YourModelDashboard": ("06", "yours"),
    "RivalsExplorer": ("07", "rivals"),
    "CareExplorer": ("08", "care"),
    "SpeechExplorer": ("09", "speech"),
    "TextExplorer": ("10", "text"),
}


def questions_for(app) -> dict[str, Question]:
    """The questions of ``app``'s dashboard, made from (and checked against) ``app`` itself."""
    name = type(app).__name__
    if name not in ASKED:
        raise KeyError(f"{name} has no questions; the dashboards' apps are {', '.join(ASKED)}.")
    dashboard, module = ASKED[name]
    made = importlib.import_module(f".{module}", __name__).questions(app, dashboard)
    for position, question in enumerate(made.values()):
        question.register(position)
    return made


class Asking:
    """What an app gains from its questions: ``app.ask(name)`` is the question's view, made on first use.

    The app's questions are made by :func:`questions_for`, from the app's own state."""

    def ask(self, name: str) -> widgets.Widget:
        """The view of the question ``name`` (one of :attr:`question_names`)."""
        return self.question(name).view

    def question(self, name: str) -> Question:
        """The :class:`Question` called ``name``."""
        questions = self._questions()
        if name not in questions:
            raise KeyError(f"no question {name!r} here; this dashboard asks {', '.join(questions)}.")
        return questions[name]

    def answer_after(self, names: str | Sequence[str], view: widgets.Widget) -> widgets.Widget:
        """``view``, kept behind a note until the question ``names`` (or each of several, a list) has a committed
        prediction or is folded away (see :meth:`~grutools.apps.predict.Question.veil`): for a view that shows the
        answer at a glance, such as a plot drawn when the page opens just below the question it answers."""
        names = [names] if isinstance(names, str) else list(names)
        if not names:
            raise ValueError("answer_after needs the name of at least one question.")
        for name in reversed(names):  # one veil inside another: the first question's note shows first
            view = self.question(name).veil(view)
        return view

    @property
    def question_names(self) -> list[str]:
        return list(self._questions())

    def _questions(self) -> dict[str, Question]:
        if getattr(self, "_asked", None) is None:
            self._asked = questions_for(self)
        return self._asked
