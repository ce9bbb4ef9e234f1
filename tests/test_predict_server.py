"""The class's predictions on the real server: the kernel's order, the teacher's page, the tally of a class.

Pages are spoken to over their real kernel websockets, as ``tests/test_hostile.py`` does.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, Request, build_opener, urlopen

import pytest

from grutools.classroom.teacher import teacher_token
from grutools.core.tally import TALLY
from grutools.testing.kernel_socket import KernelSocket, page_kernel_id, page_questions, shutdown_request
from grutools.testing.serving import dashboard_url, voila_server

NOTEBOOK = "01_gru_cell.ipynb"
CLASS = 30
SHARE = "what share of the"  # dashboard 01's number question: its check needs no run first
R_ZERO = "reset gate at r = 0"


@pytest.fixture(scope="module")
def tally(tmp_path_factory):
    return tmp_path_factory.mktemp("server") / "tally.sqlite3"


@pytest.fixture(scope="module")
def server(tally, tmp_path_factory):
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with voila_server(log_path=log, env={TALLY: str(tally)}, preheat=False) as url:  # every page starts its kernel
        yield url


def get(url: str, method: str = "GET") -> tuple[int, bytes]:
    try:
        with urlopen(Request(url, method=method, data=b"" if method == "POST" else None), timeout=60) as response:  # noqa: S310
            return response.status, response.read()
    except HTTPError as error:
        return error.code, error.read()


def open_page(server: str) -> str:
    with urlopen(dashboard_url(server, NOTEBOOK), timeout=180) as response:  # noqa: S310 (localhost)
        return page_kernel_id(response.read().decode())


def leave(server: str, kernel_id: str) -> None:
    url, headers = shutdown_request(server, kernel_id)
    with urlopen(Request(url, method="POST", data=b"", headers=headers), timeout=30):  # noqa: S310
        pass


def find(questions: list[dict], words: str) -> dict:
    return next(q for q in questions if words in q["prompt"])


async def settle(socket: KernelSocket, msg_id: str) -> dict:
    await socket.idle_after(msg_id, timeout=120)
    return await socket.widget_states()


def test_the_teacher_page_answers_403_without_its_token(server, tally):
    token = teacher_token(tally)
    for path in ("/teacher", "/teacher/counts"):
        assert get(server + path)[0] == 403
        assert get(server + path + "?token=" + token[:-1] + "x")[0] == 403
    assert get(server + "/teacher/counts?token=" + token)[0] == 200
    assert get(server + "/teacher/new", "POST")[0] == 403
    assert get(server + "/teacher/new?token=wrong", "POST")[0] == 403
    # opened with its token, the page moves it into a cookie and shows its bare address
    browser = build_opener(HTTPCookieProcessor(CookieJar()))
    with browser.open(server + "/teacher?token=" + token, timeout=60) as response:
        assert response.status == 200 and response.url == server + "/teacher" and "token" not in response.url
        body = response.read()
    assert b"The class's predictions" in body and b"New lesson" in body
    with browser.open(server + "/teacher/counts", timeout=60) as response:  # the cookie alone is enough
        assert "questions" in json.loads(response.read())
    assert get(server + "/teacher")[0] == 403  # and without it, nothing


def test_the_kernel_refuses_a_check_before_a_commitment_over_the_websocket(server):
    kernel_id = open_page(server)

    async def crafted_page():
        socket = await KernelSocket.open(server, kernel_id)
        try:
            states = await socket.widget_states()
            share = find(page_questions(states), SHARE)
            socket.click(share["check"])  # a click on the disabled check button
            socket.update(share["check"], {"disabled": False})  # and an attempt to enable it first
            states = await settle(socket, socket.click(share["check"]))
            assert states[share["explanation"]]["state"]["value"] == "", "the check was revealed before a commitment"
            assert states[share["check"]]["state"]["disabled"] is True
            # committed (the press carries the slider's value as the page shows it), the same click reveals the
            # page's own number
            socket.commit(share["commit"], states[share["answer"]]["state"]["value"], 1)
            states = await settle(socket, socket.click(share["check"]))
            revealed = states[share["explanation"]]["state"]["value"]
            assert "grutools-reveal" in revealed and "0.75" in revealed and "3,456" in revealed
            # the check button is disabled again after its check: the guard itself refuses the click (not check())
            states = await settle(socket, socket.click(share["check"]))
            assert "disabled right now" in states[share["status"]]["state"]["value"]
        finally:
            socket.close()

    asyncio.run(crafted_page())
    leave(server, kernel_id)


def test_a_class_of_30_counts_once_each_and_a_crafted_page_once(server, tally):
    token = teacher_token(tally)
    assert get(server + "/teacher/new?token=" + token, "POST")[0] == 200

    async def student(index: int, seats: asyncio.Semaphore) -> None:
        async with seats:
            loop = asyncio.get_running_loop()
            kernel_id = await loop.run_in_executor(None, open_page, server)
            socket = await KernelSocket.open(server, kernel_id)
            try:
                question = find(page_questions(await socket.widget_states()), R_ZERO)
                socket.update(question["answer"], {"index": index % 2})  # "yes" for even students, "no" for odd
                await socket.idle_after(socket.commit(question["commit"], index % 2, 1), timeout=120)
            finally:
                socket.close()
            await loop.run_in_executor(None, leave, server, kernel_id)

    async def lesson() -> None:
        seats = asyncio.Semaphore(4)  # four pages opening at once keep both cores busy
        await asyncio.gather(*(student(index, seats) for index in range(CLASS)))

    asyncio.run(lesson())

    async def stuffer(kernel_id: str) -> None:
        socket = await KernelSocket.open(server, kernel_id)
        try:
            questions = page_questions(await socket.widget_states())
            r_zero, share = find(questions, R_ZERO), find(questions, SHARE)
            for press in range(1, 1001):  # a vote sent 1,000 times (refused after the first: it is committed)
                socket.update(r_zero["answer"], {"index": 0})
                socket.commit(r_zero["commit"], 0, press)
            for step in range(1000):  # commit, predict again: 1,000 changes of mind, each replacing the vote
                socket.update(share["answer"], {"value": 0.5 + 0.05 * (step % 5)})
                socket.commit(share["commit"], 0.5 + 0.05 * (step % 5), step + 1)
                socket.click(share["again"])
            socket.update(share["answer"], {"value": 0.7})
            socket.commit(share["commit"], 0.7, 1001)
            socket.click(share["check"])  # then the check, and a prediction made knowing the answer: not a vote
            socket.click(share["again"])
            socket.update(share["answer"], {"value": 0.75})
            last = socket.commit(share["commit"], 0.75, 1002)
            await socket.idle_after(last, timeout=300)
        finally:
            socket.close()

    kernel_id = open_page(server)
    asyncio.run(stuffer(kernel_id))
    leave(server, kernel_id)
    status, body = get(server + "/teacher/counts?token=" + token)
    counts = next(q for q in json.loads(body)["questions"] if q["key"] == "01/r_zero")
    assert counts["votes"] == CLASS + 1
    assert counts["counts"] == {"yes": CLASS // 2 + 1, "no": CLASS // 2}
    share = next(q for q in json.loads(body)["questions"] if q["key"] == "01/share")
    assert share["votes"] == 1 and share["counts"] == {"0.70": 1}  # its last prediction before its check
    with sqlite3.connect(tally) as db:  # the rows themselves: one per page
        rows = db.execute("SELECT COUNT(*), COUNT(DISTINCT page) FROM votes WHERE key = '01/r_zero'").fetchone()
    assert rows == (CLASS + 1, CLASS + 1)


def test_the_counts_survive_a_restart_and_new_lesson_clears_them(server, tally, tmp_path):
    token = teacher_token(tally)
    before = json.loads(get(server + "/teacher/counts?token=" + token)[1])
    assert any(q["votes"] for q in before["questions"]), "the class test left no votes to keep"
    with voila_server(env={TALLY: str(tally)}, log_path=tmp_path / "again.log", preheat=False) as again:
        after = json.loads(get(again + "/teacher/counts?token=" + token)[1])
        assert [(q["key"], q["counts"]) for q in after["questions"]] == [(q["key"], q["counts"]) for q in before["questions"]]
        assert get(again + "/teacher/new?token=" + token, "POST")[0] == 200
        cleared = json.loads(get(again + "/teacher/counts?token=" + token)[1])
        assert cleared["questions"] and not any(q["votes"] for q in cleared["questions"])
