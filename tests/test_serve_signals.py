"""``grutools serve`` and ``grutools lab`` stop cleanly under every signal a service manager or a terminal sends.

Each test starts the real command in a session of its own, marked in its environment, waits until it serves
(and, for ``serve``, until a kernel runs), sends one signal, and checks within 15 s: every process carrying the
mark is gone, and the port is free for the next server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from grutools.testing.serving import free_port

STOP_WITHIN_S = 15.0


def marked(mark: str) -> list[tuple[int, str]]:
    """Live processes whose environment carries ``GRUTOOLS_SIGNAL_TEST=mark``, with their command lines."""
    needle = f"GRUTOOLS_SIGNAL_TEST={mark}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if needle in environ.read_bytes().split(b"\0"):
                state = (environ.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    command = (environ.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    found.append((int(environ.parent.name), command[:120]))
        except OSError:
            continue
    return found


def port_is_free(port: int) -> bool:
    """Whether a new server could listen on ``port`` (as servers do, with SO_REUSEADDR: closed connections of
    the old one may linger in TIME_WAIT, which keeps no new server out)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(arguments: list[str], port: int, tmp_path: Path, ready: str) -> tuple[subprocess.Popen, str, Path]:
    """Start ``python -m grutools ARGUMENTS`` marked, in its own session; wait until ``ready`` answers 200."""
    mark = uuid.uuid4().hex
    log = tmp_path / "server.log"
    env = dict(os.environ, GRUTOOLS_SIGNAL_TEST=mark, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    process = subprocess.Popen([sys.executable, "-m", "grutools", *arguments], cwd=tmp_path, env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=2).status == 200:  # noqa: S310
                return process, mark, log
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the server did not answer; its log:\n{log.read_text()[-2000:]}")
        time.sleep(0.5)


def stop_and_check(process: subprocess.Popen, mark: str, port: int, log: Path, signal_number: int) -> float:
    """Send ``signal_number``; assert that within 15 s nothing marked is left and the port is free. Returns the time."""
    started = time.monotonic()
    os.kill(process.pid, signal_number)
    while (marked(mark) or not port_is_free(port)) and time.monotonic() - started < STOP_WITHIN_S:
        time.sleep(0.1)
    took = time.monotonic() - started
    left = marked(mark)
    try:
        assert not left, f"left after {signal.Signals(signal_number).name}: {left}\n{log.read_text()[-2000:]}"
        assert port_is_free(port), f"port {port} still taken after {signal.Signals(signal_number).name}"
    finally:
        for pid, _ in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):  # never hide the assertion above
            process.wait(10)
    return took


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL],
                         ids=lambda s: signal.Signals(s).name)
def test_grutools_serve_stops_with_its_kernels_under_every_signal(signal_number, tmp_path):
    port = free_port()
    process, mark, log = start(["serve", f"--port={port}"], port, tmp_path, "/voila/api/contents")
    deadline = time.monotonic() + 90  # a pre-heated kernel running: the thing that used to be left behind
    while not any("ipykernel" in command for _, command in marked(mark)):
        assert time.monotonic() < deadline, "no kernel started"
        time.sleep(0.5)
    stop_and_check(process, mark, port, log, signal_number)
    if signal_number != signal.SIGKILL:
        assert "stopping the server and its kernels" in log.read_text()  # the message a teacher sees


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: signal.Signals(s).name)
def test_grutools_lab_stops_under_signals(signal_number, tmp_path):
    port = free_port()
    process, mark, log = start(["lab", str(tmp_path / "notebooks"), "--no-browser", "--", f"--port={port}",
                                "--IdentityProvider.token=", "--allow-root"], port, tmp_path, "/api/status")
    stop_and_check(process, mark, port, log, signal_number)


def test_voila_itself_stops_cleanly_on_sighup(tmp_path):
    """A closed terminal sends SIGHUP to Voila too: it shuts its kernels down, as on SIGTERM."""
    port = free_port()
    process, mark, log = start(["serve", f"--port={port}"], port, tmp_path, "/voila/api/contents")
    voila = next(pid for pid, command in marked(mark) if "voila_app" in command)
    deadline = time.monotonic() + 90
    while not any("ipykernel" in command for _, command in marked(mark)):
        assert time.monotonic() < deadline, "no kernel started"
        time.sleep(0.5)
    started = time.monotonic()
    os.kill(voila, signal.SIGHUP)
    while marked(mark) and time.monotonic() - started < STOP_WITHIN_S:
        time.sleep(0.1)
    assert not marked(mark), marked(mark)
    assert "Handle signal 1" in log.read_text()  # Voila's own clean stop ran, not the default kill


def test_a_second_server_can_take_the_port_at_once(tmp_path):
    port = free_port()
    first, mark, log = start(["serve", f"--port={port}"], port, tmp_path, "/voila/api/contents")
    stop_and_check(first, mark, port, log, signal.SIGTERM)
    second, mark, log = start(["serve", f"--port={port}"], port, tmp_path, "/voila/api/contents")
    stop_and_check(second, mark, port, log, signal.SIGTERM)


STUBBORN_SERVER = """
import os, signal, sys, tempfile, time
from pathlib import Path
from grutools.classroom.serve import OWNER
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a Voila too busy to stop within the grace period
folder = Path(tempfile.mkdtemp(prefix="voila_"))  # as Voila makes its connection folder
(folder / OWNER).write_text(str(os.getpid()))
print(folder, flush=True)
time.sleep(120)
"""

DRIVER = """
import sys
from grutools.classroom import serve
serve.GRACE_S = 1.0
serve.voila_command = lambda *args, **kwargs: [sys.executable, "-c", sys.argv[1]]
sys.exit(serve.serve())
"""


def test_a_voila_that_had_to_be_killed_leaves_no_connection_folder(tmp_path):
    """On main, ``grutools serve`` killed a Voila that did not stop within its grace period and left that server's
    folder of kernel connection files in the temp folder, until some later server started there."""
    env = dict(os.environ, TMPDIR=str(tmp_path))
    process = subprocess.Popen([sys.executable, "-c", DRIVER, STUBBORN_SERVER], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("voila_*/grutools-server.pid")):
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out
    assert "did not stop within 1 s; killing it" in out
    assert list(tmp_path.glob("voila_*")) == [], out
    assert "the kernel connection folder of the server that was killed" in out


LATE_KERNEL = """
import sys, time
from pathlib import Path
time.sleep(2)  # still importing when the server stops, as a pre-heated kernel can be
folder = Path(sys.argv[1])
folder.mkdir(exist_ok=True)  # ipykernel writes the connection file it does not find, and its folder
(folder / "kernel-late.json").write_text("{}")
"""

STOPPING_SERVER = """
import subprocess, sys
from pathlib import Path
from tornado import web
from grutools.classroom.voila_app import CompressedVoila

folder = Path(sys.argv[1])


class KernelStillPending:
    async def shutdown_all(self):
        subprocess.Popen([sys.executable, "-c", sys.argv[2], str(folder)])  # a kernel started just before
        raise web.HTTPError(404, "Kernel does not exist: late")  # as jupyter_server said of a pending kernel


app = CompressedVoila()
app.connection_dir = str(folder)
app.kernel_manager = KernelStillPending()
app.stop()
"""


def test_voila_removes_its_connection_folder_after_every_kernel_process_ended(tmp_path):
    """On main (Voila's own stop: the folder first, then the kernels) a kernel still starting when the server
    stopped wrote its connection file into a new folder of the same name, left for good (the CI run's leftover)."""
    folder = tmp_path / "voila_test"
    folder.mkdir()
    done = subprocess.run([sys.executable, "-c", STOPPING_SERVER, str(folder), LATE_KERNEL], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "shutting the kernels down failed; ending their processes" in done.stderr
    time.sleep(3)  # the late kernel's write would have come by now
    assert not folder.exists()
