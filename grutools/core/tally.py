"""The class's predictions: one anonymous vote per page and question, in an SQLite file both sides can reach.

Under ``grutools serve`` every dashboard kernel records what its page committed to
(:class:`grutools.apps.predict.Question`) and the server's teacher's page reads the
counts (:mod:`grutools.classroom.teacher`). Both sides open the same file, named by
``$GRUTOOLS_TALLY`` (``grutools serve`` sets it for its kernels; a hub on one machine
sets it to a path every user's server can write, docs/teachers.md). SQLite serialises
the writers; each vote is one short transaction.

- A vote is keyed by question and page: a page's changed mind replaces its vote, and a
  crafted page that commits 1,000 times still has one vote.
- A page is a random id made in its kernel: no name, account or address is stored.
- ``new_lesson()`` clears the votes (the questions the pages registered stay).
- The file outlives the server: a server restarted mid-lesson keeps the lesson's counts.

This module is standard library only: the server reads it without torch's help.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import time
from pathlib import Path

TALLY = "GRUTOOLS_TALLY"  # the environment variable that names the file; unset: nothing is recorded
QUESTIONS = "GRUTOOLS_QUESTIONS"  # "off": the dashboards ask no questions (``grutools serve --no-questions``)
MAX_ANSWER = 200  # characters of an answer's label kept
SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    key TEXT PRIMARY KEY, dashboard TEXT NOT NULL, position INTEGER NOT NULL, prompt TEXT NOT NULL,
    choices TEXT NOT NULL, expected TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS votes (
    key TEXT NOT NULL, page TEXT NOT NULL, answer TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (key, page));
CREATE TABLE IF NOT EXISTS lesson (id INTEGER PRIMARY KEY CHECK (id = 1), started REAL NOT NULL);
"""


class TallyError(RuntimeError):
    """The tally file cannot be opened or written (a message for the teacher, never a traceback)."""


class Tally:
    """The votes of one server's class, in the SQLite file ``path`` (made, with its folder, if missing)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")  # readers (the teacher's page) never wait for a writer
                db.executescript(SCHEMA)
                db.execute("INSERT OR IGNORE INTO lesson (id, started) VALUES (1, ?)", (time.time(),))
        except (OSError, sqlite3.Error) as error:
            raise TallyError(f"the class's predictions cannot be kept in {self.path}: {error}") from error

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10.0)  # waits up to 10 s for another writer

    def _write(self, sql: str, parameters: tuple = ()) -> None:
        try:
            db = self._connect()
            try:
                with db:
                    db.execute(sql, parameters)
            finally:
                db.close()
        except sqlite3.Error as error:
            raise TallyError(f"the class's predictions could not be written to {self.path}: {error}") from error

    def register(self, key: str, dashboard: str, position: int, prompt: str, choices: list[str], expected: str) -> None:
        """Make a question known to the teacher's page (done by each page that shows it; the same text each time)."""
        self._write("INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?, ?)",
                    (key, dashboard, int(position), prompt, json.dumps(list(choices)), expected))

    def record(self, key: str, page: str, answer: str) -> None:
        """The vote of ``page`` on question ``key``: it replaces any earlier vote of the same page."""
        if not isinstance(answer, str) or not isinstance(page, str) or not page:
            raise TallyError("a vote needs a page and an answer as text.")
        self._write("INSERT OR REPLACE INTO votes VALUES (?, ?, ?, ?)", (key, page, answer[:MAX_ANSWER], time.time()))

    def new_lesson(self) -> None:
        """Clear every vote: the next lesson starts from nothing."""
        try:
            db = self._connect()
            try:
                with db:
                    db.execute("DELETE FROM votes")
                    db.execute("UPDATE lesson SET started = ? WHERE id = 1", (time.time(),))
            finally:
                db.close()
        except sqlite3.Error as error:
            raise TallyError(f"the lesson could not be cleared in {self.path}: {error}") from error

    def summary(self) -> dict:
        """Every registered question with its counts, in dashboard order: what the teacher's page shows.

        ``{"started": time, "questions": [{"key", "dashboard", "prompt", "choices", "expected", "counts", "votes"}]}``
        where ``counts`` maps each answer given to its number of pages."""
        try:
            db = self._connect()
            try:
                started = db.execute("SELECT started FROM lesson WHERE id = 1").fetchone()
                rows = db.execute("SELECT key, dashboard, position, prompt, choices, expected FROM questions "
                                  "ORDER BY dashboard, position, key").fetchall()
                counts: dict[str, dict[str, int]] = {}
                for key, answer, number in db.execute("SELECT key, answer, COUNT(*) FROM votes GROUP BY key, answer"):
                    counts.setdefault(key, {})[answer] = number
            finally:
                db.close()
        except sqlite3.Error as error:
            raise TallyError(f"the class's predictions cannot be read from {self.path}: {error}") from error
        questions = []
        for key, dashboard, _position, prompt, choices, expected in rows:
            found = counts.get(key, {})
            questions.append({"key": key, "dashboard": dashboard, "prompt": prompt, "choices": json.loads(choices),
                              "expected": expected, "counts": found, "votes": sum(found.values())})
        return {"started": started[0] if started else None, "questions": questions}


def class_tally() -> Tally | None:
    """The tally this kernel's server keeps (``$GRUTOOLS_TALLY``), or ``None`` where there is none (JupyterLab, tests).

    Opened (and its tables made) once per path in a process, not at every vote."""
    path = os.environ.get(TALLY)
    return _opened(path) if path else None


@functools.lru_cache(maxsize=4)
def _opened(path: str) -> Tally:
    return Tally(path)
