"""A dashboard's kernel, spoken to over its websocket as the page's JavaScript does: messages, frames, ids.

Used by the tests that play a hostile page and by the shutdown tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable

PROTOCOL = "v1.kernel.websocket.jupyter.org"  # the kernel websocket's binary protocol, as JupyterLab's pages speak it


def kernel_message(msg_type: str, content: dict, session: str, metadata: dict | None = None,
                   channel: str = "shell") -> dict:
    """A Jupyter message (header, parent header, metadata, content) for the kernel websocket."""
    import uuid

    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "student", "session": session,
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": metadata or {}, "content": content, "channel": channel, "buffers": []}


def encode_frame(msg: dict) -> bytes:
    """``msg`` in the v1 protocol: a count and offsets (8-byte little-endian), the channel, then the JSON parts."""
    import json

    parts = [json.dumps(msg[key]).encode() for key in ("header", "parent_header", "metadata", "content")]
    channel = msg["channel"].encode()
    offsets = [8 * (len(parts) + 3), 8 * (len(parts) + 3) + len(channel)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    head = b"".join(n.to_bytes(8, "little") for n in [len(offsets), *offsets])
    return head + channel + b"".join(parts)


def decode_frame(frame: str | bytes) -> dict:
    """A message from the kernel websocket (the v1 protocol's binary form, or JSON text); buffers are left out."""
    import json

    if isinstance(frame, str):
        return json.loads(frame)
    count = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
    parts = [frame[offsets[i]:offsets[i + 1]] for i in range(1, count - 1)]
    msg = {key: json.loads(part) for key, part in zip(("header", "parent_header", "metadata", "content"), parts)}
    msg["channel"] = frame[offsets[0]:offsets[1]].decode()
    return msg


def page_kernel_id(html: str) -> str:
    """The id of the kernel behind a Voilà page, from the page's configuration."""
    import re

    found = re.search(r'"kernelId": "([0-9a-f-]+)"', html)
    if not found:
        raise RuntimeError("no kernel id in the page")
    return found.group(1)


def shutdown_request(base: str, kernel_id: str) -> tuple[str, dict]:
    """URL and headers of the POST with which a closing Voilà page shuts its kernel down (with an XSRF token pair)."""
    import secrets

    token = secrets.token_hex(16)
    return f"{base}/voila/api/shutdown/{kernel_id}", {"Cookie": f"_xsrf={token}", "X-XSRFToken": token}


class KernelSocket:
    """The websocket of a dashboard's kernel, spoken to as the page's JavaScript does (``await KernelSocket.open``)."""

    def __init__(self, connection, session: str) -> None:
        self.connection = connection
        self.session = session
        self.kernel_errors: list[str] = []

    @classmethod
    async def open(cls, base: str, kernel_id: str, timeout: float = 60.0) -> KernelSocket:
        import uuid

        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        session = uuid.uuid4().hex
        url = base.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels?session_id={session}"
        request = HTTPRequest(url, request_timeout=timeout)
        return cls(await websocket_connect(request, subprotocols=[PROTOCOL], max_message_size=256 * 2**20), session)

    def send(self, msg_type: str, content: dict, metadata: dict | None = None) -> str:
        """Send a message on the shell channel; returns its id."""
        msg = kernel_message(msg_type, content, self.session, metadata)
        self.connection.write_message(encode_frame(msg), binary=True)
        return msg["header"]["msg_id"]

    async def receive(self, until: Callable[[dict], bool], timeout: float = 60.0) -> dict:
        """Read messages until one satisfies ``until`` (``TimeoutError`` after ``timeout`` s); records kernel errors."""
        import asyncio

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no such message within {timeout} s")
            frame = await asyncio.wait_for(self.connection.read_message(), left)
            if frame is None:
                raise ConnectionError("the kernel websocket closed")
            msg = decode_frame(frame)
            if msg["header"]["msg_type"] == "error":
                self.kernel_errors.append(f"{msg['content'].get('ename')}: {msg['content'].get('evalue')}")
            if until(msg):
                return msg

    async def idle_after(self, msg_id: str, timeout: float = 60.0) -> None:
        """Wait until the kernel is idle again after handling message ``msg_id``."""
        await self.receive(lambda m: m["header"]["msg_type"] == "status" and m["parent_header"].get("msg_id") == msg_id
                           and m["content"]["execution_state"] == "idle", timeout)

    async def widget_states(self, timeout: float = 60.0) -> dict:
        """Every widget's state, asked for as the page's widget manager does (``jupyter.widget.control``)."""
        import uuid

        comm_id = uuid.uuid4().hex
        opened = self.send("comm_open", {"comm_id": comm_id, "target_name": "jupyter.widget.control", "data": {}},
                           metadata={"version": "1.0.0"})
        await self.idle_after(opened, timeout)  # the kernel may take the next message before this one otherwise
        self.send("comm_msg", {"comm_id": comm_id, "data": {"method": "request_states"}})
        reply = await self.receive(lambda m: m["header"]["msg_type"] == "comm_msg"
                                   and m["content"]["data"].get("method") == "update_states", timeout)
        return reply["content"]["data"]["states"]

    async def code_is_refused(self, code: str, wait: float = 3.0) -> bool:
        """Send ``code`` in an ``execute_request``; True if nothing answers it within ``wait`` s (Voilà drops it)."""
        msg_id = self.send("execute_request", {"code": code, "silent": False, "store_history": False,
                                               "user_expressions": {}, "allow_stdin": False})
        try:
            await self.receive(lambda m: m["parent_header"].get("msg_id") == msg_id, timeout=wait)
        except TimeoutError:
            return True
        return False

    def update(self, comm_id: str, state: dict) -> str:
        """Send a widget update as the page does when a control changes; returns its message id."""
        return self.send("comm_msg", {"comm_id": comm_id, "data": {"method": "update", "state": state,
                                                                    "buffer_paths": []}})

    def click(self, comm_id: str) -> str:
        """Click a button as the page does; returns the message id."""
        return self.send("comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}})

    def commit(self, comm_id: str, value, presses: int) -> str:
        """Press a question's *Commit my prediction* as the page does: its ``presses``-th press, carrying the
        prediction the page shows (a slider's value, or a choice's index); returns the message id."""
        return self.update(comm_id, {"value": value, "presses": presses})

    def close(self) -> None:
        self.connection.close()


def page_questions(states: dict) -> list[dict]:
    """The prediction questions among a page's widget ``states`` (see :class:`grutools.apps.predict.Question`).

    Each is a dict of comm ids, ``answer``, ``commit``, ``check``, ``again``, ``explanation``, ``status``, and its
    ``prompt`` text."""
    def child(comm_id: str, index: int) -> str:
        return states[comm_id]["state"]["children"][index].removeprefix("IPY_MODEL_")

    found = []
    for comm_id, model in states.items():
        if "grutools-question" in model["state"].get("_dom_classes", ()):
            body = child(comm_id, 1)
            prompt, answer, buttons, explanation, status = (child(body, i) for i in range(5))
            commit, check, again = (child(buttons, i) for i in range(3))
            found.append({"answer": answer, "commit": commit, "check": check, "again": again, "status": status,
                          "explanation": explanation, "prompt": states[prompt]["state"]["value"]})
    return found
