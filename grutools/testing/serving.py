"""Start Voilà and a headless Chromium: shared by the browser tests, the screenshot script and the benchmarks.

Playwright is a development dependency, imported only when a browser is needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..core.resources import notebook_names, notebooks_dir, root  # noqa: F401 (notebook_names: for the tests)
from .kernel_socket import page_kernel_id

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


def preheat_args(preheat: bool | Iterable[str] = True) -> list[str]:
    """Voilà settings that pre-heat a kernel for every dashboard (``True``, as ``grutools serve`` does), for none
    (``False``), or for the named notebooks only.

    Pre-heating all eleven dashboards keeps one core busy for about a minute and a half after every start: a test
    about something else (a page's accessibility, the class's tally) pre-heats nothing, and a test about the pools
    pre-heats the few it opens."""
    if preheat is True:
        return []
    names = [] if preheat is False else list(preheat)
    if not names:
        return ["--VoilaConfiguration.preheat_kernel=False"]
    unknown = sorted(set(names) - set(notebook_names()))
    if unknown:
        raise ValueError(f"not dashboards: {', '.join(unknown)}; choose from {', '.join(notebook_names())}")
    pools = {"default": {"pool_size": 0}, **{name: {"pool_size": 1} for name in names}}
    return ["--VoilaKernelManager.kernel_pools_config=" + json.dumps(pools)]


@contextlib.contextmanager
def voila_server(port: int | None = None, extra_args: list[str] | None = None, timeout: float = 60.0,
                 log_path: str | os.PathLike | None = None, env: dict | None = None,
                 preheat: bool | Iterable[str] = True) -> Iterator[str]:
    """Serve the dashboards as ``grutools serve`` does (same command, folder and environment); yield the base URL.

    ``env`` adds to the server's environment (e.g. ``GRUTOOLS_TALLY``, the class's tally); ``preheat``: see
    :func:`preheat_args`."""
    from ..classroom.serve import environment, voila_command

    port = port or free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    args = [*preheat_args(preheat), *(extra_args or [])]
    process = subprocess.Popen(voila_command(port, "127.0.0.1", args), cwd=root(), stdout=log,
                               stderr=subprocess.STDOUT, env={**environment(), **(env or {})})
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
    what is still alive after ``grace`` seconds is killed (and a killed Voila's connection folder removed, as
    ``grutools serve`` does). Returns the processes that had to be killed."""
    from ..classroom.serve import remove_stale_connection_folders

    family = descendants([process.pid])
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        remove_stale_connection_folders()
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




HELD_VIEWS_SHOWN = """() => [...document.querySelectorAll('.grutools-veiled')]
                          .every(box => box.children[1] && box.children[1].getClientRects().length > 0)"""


def reveal_all(page, held: bool = True, timeout_ms: int = 30_000) -> None:
    """Fold every question of a dashboard's page away, and wait until every view held behind one shows (for tests
    of the views, not of the questions). ``held``: the page must have held something back."""
    from playwright.sync_api import expect

    notes = page.locator(".grutools-veil >> visible=true")
    if held:
        assert notes.count() >= 1, "nothing on this page was kept behind a question"
    folds = page.get_by_role("button", name="Hide the question")  # a folded one reads "Show the question"
    for _ in range(folds.count()):
        count = folds.count()
        folds.first.click()
        expect(folds).to_have_count(count - 1, timeout=timeout_ms)
    expect(notes).to_have_count(0, timeout=timeout_ms)
    page.wait_for_function(HELD_VIEWS_SHOWN, timeout=timeout_ms)


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
