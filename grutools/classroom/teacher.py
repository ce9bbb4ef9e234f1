"""The teacher's page: the class's predictions, counted live, to project for peer instruction.

``grutools serve`` keeps the class's votes in an SQLite file (:mod:`grutools.core.tally`)
and serves, beside the dashboards:

- ``/teacher?token=T``: one page that lists every question the class's pages have shown,
  with how many pages voted. The counts stay hidden until the teacher shows them (vote,
  discuss in pairs, vote again, then show), and so does the answer key;
- ``/teacher/counts?token=T``: the same as JSON, which the page polls every 2 s;
- ``POST /teacher/new?token=T``: "New lesson": every vote cleared.

Without the right token each of them answers 403. Opened with it, the page keeps it
in a cookie of that browser (HttpOnly, same site only) and shows its bare address, as
it is projected. The token is random, made once and
kept in ``teacher.token`` beside the tally (readable by its owner only), so that a server
restarted mid-lesson keeps both the counts and the teacher's address.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import secrets
from pathlib import Path

from tornado import web

from ..core.tally import Tally, TallyError

TOKEN_FILE = "teacher.token"
COOKIE = "grutools-teacher"  # the token, once the page has been opened with it (so its address bar shows none)
PAGE = Path(__file__).with_name("teacher.html")


def teacher_token(tally_path: str | os.PathLike) -> str:
    """The token of the teacher's page for the tally at ``tally_path``: read from beside it, or made and kept there."""
    path = Path(tally_path).expanduser().with_name(TOKEN_FILE)
    try:
        token = path.read_text().strip()
        if len(token) >= 16:
            return token
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return token


class _TeacherHandler(web.RequestHandler):
    """A request of the teacher's: refused (403) without the token, answered from the tally with it."""

    def initialize(self, tally: Tally, token: str) -> None:
        self.tally, self.token = tally, token

    def prepare(self) -> None:
        given = self.get_argument("token", "") or self.get_cookie(COOKIE, "")
        if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
            raise web.HTTPError(403, "the teacher's page needs the token that 'grutools serve' printed")

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")  # the token stays off other sites' logs

    def _request_summary(self) -> str:
        # what Tornado's access log writes: the path without its query, so that the token stays out of the log
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"

    def write_error(self, status_code: int, **kwargs) -> None:
        reason = kwargs.get("exc_info", (None, None))[1]
        text = getattr(reason, "log_message", None) or self._reason
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code}: {text}\n")

    async def summary(self) -> dict:
        """The tally's summary, read in a thread: a writer holding the file never stalls the server's event loop."""
        try:
            return await asyncio.to_thread(self.tally.summary)
        except TallyError as error:
            raise web.HTTPError(503, str(error)) from error


class TeacherPage(_TeacherHandler):
    def get(self) -> None:
        if self.get_argument("token", ""):
            # the page is projected: the token moves from the address bar into a cookie of this browser's alone
            # (HttpOnly, same site only), and the page is opened again at its bare address
            self.set_cookie(COOKIE, self.token, path=self.request.path, httponly=True, samesite="Strict",
                            max_age=12 * 3600)
            self.redirect(self.request.path)
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; "
                                                   "style-src 'unsafe-inline'; connect-src 'self'")
        self.finish(PAGE.read_text(encoding="utf-8"))


class TeacherCounts(_TeacherHandler):
    async def get(self) -> None:
        summary = await self.summary()
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(summary))


class NewLesson(_TeacherHandler):
    def check_xsrf_cookie(self) -> None:
        pass  # the token in the request is the proof; the page holds no cookie to forge

    async def post(self) -> None:
        try:
            await asyncio.to_thread(self.tally.new_lesson)
        except TallyError as error:
            raise web.HTTPError(503, str(error)) from error
        summary = await self.summary()
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(summary))


def teacher_handlers(server_url: str, tally: Tally, token: str) -> list[tuple]:
    """The teacher's page's three routes under ``server_url`` (Voilà's base URL), for a Tornado application."""
    base = server_url.rstrip("/")
    options = {"tally": tally, "token": token}
    return [(f"{base}/teacher", TeacherPage, options), (f"{base}/teacher/counts", TeacherCounts, options),
            (f"{base}/teacher/new", NewLesson, options)]
