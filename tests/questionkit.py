"""What the dashboards' question tests share: a fresh question, a commitment, the check, the status's words."""

from __future__ import annotations

import html


def commit(question, value=None):
    """Commit ``question`` to ``value`` (default: its first choice, or its slider's start); returns it."""
    if value is None:
        value = question.choices[0] if question.choices else question.number.start
    question.answer.value = value
    question.commit()
    return question


def fresh(app, name):
    """The question ``name`` of ``app`` made anew: no commitment left over from another test."""
    app._asked = None
    return app.question(name)


def checked(app, name, prediction):
    """A fresh question committed to ``prediction`` and checked: ``(question, check or None)``."""
    question = commit(fresh(app, name), prediction)
    return question, question.check()


def said(question) -> str:
    """The question's status line as text."""
    return html.unescape(question.status.value)
