"""Start Voilà and a headless Chromium: shared by the browser tests, the screenshot script and the benchmarks.

Playwright is a development dependency, imported only when a browser is needed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from ..core.resources import notebook_names, notebooks_dir, root  # noqa: F401 (notebook_names: for the tests)

ROOT = root()
NOTEBOOKS = notebooks_dir()
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


class ServerURL(str):
    """The base URL of a running Voilà server; ``.pid`` is its process id."""

    def __new__(cls, url: str, pid: int):
        self = super().__new__(cls, url)
        self.pid = pid
        return self


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def voila_server(port: int | None = None, extra_args: list[str] | None = None, timeout: float = 60.0,
                 log_path: str | os.PathLike | None = None) -> Iterator[str]:
    """Serve the dashboards as ``grutools serve`` does (same command, folder and environment); yield the base URL."""
    from ..classroom.serve import environment, voila_command

    port = port or free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(voila_command(port, "127.0.0.1", extra_args), cwd=root(), stdout=log,
                               stderr=subprocess.STDOUT, env=environment())
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"voila exited with code {process.returncode} before serving {url}")
            try:
                urllib.request.urlopen(url + "/voila/api/contents", timeout=2)  # noqa: S310 (localhost)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"voila did not answer on {url} within {timeout:.0f} s") from None
                time.sleep(0.3)
        yield ServerURL(url, process.pid)
    finally:
        stop_and_wait(process)
        if log_path:
            log.close()


def stop_and_wait(process: subprocess.Popen, grace: float = 15.0) -> list[int]:
    """Stop a server as a service manager does (SIGTERM), then make sure it and every process below it are gone:
    what is still alive after ``grace`` seconds is killed. Returns the processes that had to be killed."""
    family = descendants([process.pid])
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    deadline = time.monotonic() + grace
    alive = [pid for pid in family if pid != process.pid]
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if is_alive(pid)]
        time.sleep(0.1)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return alive


def is_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def launch_chromium(playwright):
    """A headless Debian Chromium driven by Playwright (Playwright's own browser download does not work here)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (make chromium).")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def is_local(url: str) -> bool:
    """True for addresses on this machine (and for data:, blob: and about: URLs, which fetch nothing)."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    return parsed.hostname in ("127.0.0.1", "localhost", "::1")


def dashboard_url(base: str, notebook: str) -> str:
    """The Voilà URL of a notebook in ``notebooks/``."""
    return f"{base}/voila/render/{notebook}"


def wait_for_dashboard(page, timeout_ms: int = 90_000, plots: int = 1) -> None:
    """Wait until Voilà has run every cell and at least ``plots`` plotly graphs are drawn."""
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=plots, timeout=timeout_ms)
    page.wait_for_function("() => !document.querySelector('.voila-spinner, #loading')"
                           " || getComputedStyle(document.querySelector('.voila-spinner, #loading')).display === 'none'",
                           timeout=timeout_ms)




def seconds_to_draw(browser, url: str, timeout_ms: int = 120_000) -> tuple[float, str]:
    """Open ``url`` in a fresh 1280x800 page: the seconds until every plot has drawn (not the "load" event, which
    Voilà fires after the last cell), and the id of the page's kernel."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        started = time.monotonic()
        page.goto(url, wait_until="commit")
        wait_for_dashboard(page, timeout_ms=timeout_ms)
        return time.monotonic() - started, page_kernel_id(page.content())
    finally:
        page.close()


def pools_filled(log_path: str | os.PathLike) -> int:
    """How many times Voilà has logged a filled pre-heated kernel pool (at start and after each refill)."""
    try:
        return Path(log_path).read_text(errors="replace").count("Kernel pool of ")
    except FileNotFoundError:
        return 0


def wait_for_pools(log_path: str | os.PathLike, count: int, timeout: float = 180.0) -> None:
    """Wait until Voilà has logged ``count`` filled pools in all (see :func:`pools_filled`)."""
    deadline = time.monotonic() + timeout
    while pools_filled(log_path) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kernel pools were not filled within {timeout:.0f} s (see {log_path})")
        time.sleep(0.2)


def wait_for_every_pool_since(log_path: str | os.PathLike, offset: int, notebooks: list[str],
                              timeout: float = 300.0) -> None:
    """Wait until every one of ``notebooks`` has logged a filled pool after character ``offset`` of the log: each
    pool refilled since then (a calm CPU is no sign of it: a refill may wait for a student's kernel)."""
    deadline = time.monotonic() + timeout
    while True:
        text = Path(log_path).read_text(errors="replace")[offset:]
        missing = [nb for nb in notebooks if f"Kernel pool of {nb} is filled" not in text]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"not refilled within {timeout:.0f} s: the pools of {', '.join(missing)} (see {log_path})")
        time.sleep(0.5)


def cpu_busy(interval: float = 0.5) -> float:
    """The fraction of this machine's CPU time that was busy over the next ``interval`` seconds (Linux)."""
    def read():
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total0, idle0 = read()
    time.sleep(interval)
    total1, idle1 = read()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def wait_until_idle(threshold: float = 0.15, timeout: float = 120.0) -> float:
    """Wait until the CPU is busy less than ``threshold`` of the time (a pre-heated kernel has run its notebook)."""
    deadline = time.monotonic() + timeout
    while True:
        busy = cpu_busy()
        if busy < threshold or time.monotonic() > deadline:
            return busy


def process_memory(pid: int) -> tuple[float, float]:
    """``(rss, pss)`` of a process in MiB. PSS shares the pages of common libraries (torch) among processes."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        values[key] = int(rest.split()[0]) / 1024
    return values.get("Rss", 0.0), values.get("Pss", 0.0)


def processes() -> dict[int, tuple[int, bytes]]:
    """Every process on this machine: ``{pid: (parent pid, command line with spaces)}``, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ValueError, IndexError):
            continue
        found[int(entry.name)] = (parent, command)
    return found


def descendants(pids: list[int], table: dict[int, tuple[int, bytes]] | None = None) -> list[int]:
    """``pids`` and every process below them."""
    table = table if table is not None else processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    out, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def kernel_processes(server_pid: int) -> list[int]:
    """The process ids of the kernels Voilà started (children of the server running ``ipykernel``)."""
    return [pid for pid, (parent, command) in processes().items() if parent == server_pid and b"ipykernel" in command]


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

    def close(self) -> None:
        self.connection.close()


class WireMeter:
    """Bytes a page receives, as the network carries them (compressed), counted by Chromium's DevTools protocol.

    ``http`` sums every response's encoded length (headers included; a response served
    from the browser's cache counts nothing), ``websocket`` every websocket frame's
    payload, ``files`` maps each URL to its encoded length.
    """

    def __init__(self, page) -> None:
        self.http = 0
        self.websocket = 0
        self.files: dict[str, int] = {}
        self.websocket_extensions: list[str] = []  # what each websocket's handshake agreed (permessage-deflate...)
        urls: dict[str, str] = {}
        client = page.context.new_cdp_session(page)
        client.send("Network.enable")
        client.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))

        def finished(event):
            self.http += event["encodedDataLength"]
            self.files[urls.get(event["requestId"], "?")] = event["encodedDataLength"]

        def frame(event):
            self.websocket += len(event["response"]["payloadData"])

        def handshake(event):
            headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
            self.websocket_extensions.append(headers.get("sec-websocket-extensions", ""))

        client.on("Network.webSocketHandshakeResponseReceived", handshake)
        client.on("Network.loadingFinished", finished)
        client.on("Network.webSocketFrameReceived", frame)

    @property
    def total(self) -> int:
        return self.http + self.websocket

    def largest(self, count: int = 5) -> list[tuple[str, int]]:
        return sorted(self.files.items(), key=lambda item: -item[1])[:count]
