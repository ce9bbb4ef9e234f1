"""A test session leaves nothing behind even when it is stopped from outside: SIGTERM, SIGHUP or SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from grutools.testing.leftovers import SESSION_MARK, Watch, marked_processes

TESTS = Path(__file__).resolve().parent


def wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def sleeper(mark: str) -> subprocess.Popen:
    """A process of its own session (as a server is) carrying the mark."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                            env={**os.environ, SESSION_MARK: mark}, start_new_session=True)


def test_the_watch_ends_what_a_dead_session_started_and_removes_its_folder(tmp_path):
    mark, folder = uuid.uuid4().hex, tmp_path / "session"
    folder.mkdir()
    watch, started = Watch(mark, folder), sleeper(mark)
    try:
        assert wait_until(lambda: [pid for pid, _ in marked_processes(mark)] == [started.pid])
        watch.process.stdin.close()  # what the kernel does when the session dies, however it dies
        assert wait_until(lambda: started.poll() is not None), "the watch left the session's process alive"
        assert watch.process.wait(timeout=30) == 0
        assert not folder.exists()
    finally:
        started.kill()
        started.wait()


def test_a_session_that_ends_on_its_own_is_left_alone_by_its_watch(tmp_path):
    mark = uuid.uuid4().hex
    watch, started = Watch(mark, tmp_path), sleeper(mark)
    try:
        watch.done()
        assert watch.process.returncode == 0
        time.sleep(0.5)
        assert started.poll() is None and tmp_path.exists()
    finally:
        started.kill()
        started.wait()


INNER_TEST = '''
import os, subprocess, sys, time
from pathlib import Path
import pytest

@pytest.fixture(scope="module")
def server():
    """As the suite's servers are: in a session of its own, stopped by a module fixture's teardown."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    yield process
    process.terminate()
    process.wait()

def test_uses_the_server_and_waits(server):
    Path(os.environ["REPORT_TO"]).write_text(f"{server.pid} {os.environ['TMPDIR']}")
    time.sleep(600)
'''
STOPPED_WITHIN_S = 15.0  # the suite's leftover check waits 20 s for what is still alive: a clean stop never does


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=["SIGTERM", "SIGHUP", "SIGKILL"])
def test_a_test_session_stopped_from_outside_leaves_no_process_and_no_folder(tmp_path, number):
    """An inner pytest session, with this suite's conftest, is stopped as CI's timeout or a developer would."""
    (tmp_path / "conftest.py").write_text(textwrap.dedent(f'''
        import importlib.util
        spec = importlib.util.spec_from_file_location("grutools_suite_conftest", {str(TESTS / "conftest.py")!r})
        suite = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(suite)
        globals().update({{name: value for name, value in vars(suite).items() if name.startswith("pytest_")}})
    '''))
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    report = tmp_path / "started"
    env = {key: value for key, value in os.environ.items() if key != SESSION_MARK}  # a session of its own
    inner = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inner.py"],
                             cwd=tmp_path, env={**env, "REPORT_TO": str(report)}, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_until(lambda: report.exists() and report.read_text().strip(), timeout=60), inner.stdout.read()
        server, folder = report.read_text().split(" ", 1)
        server, folder = int(server), Path(folder)
        assert folder.name.startswith("grutools-tests-") and folder.exists()
        signalled = time.monotonic()
        inner.send_signal(number)
        output = inner.communicate(timeout=60)[0].decode()
        took = time.monotonic() - signalled
        assert wait_until(lambda: not Path(f"/proc/{server}").exists()
                          or "Z" == Path(f"/proc/{server}/stat").read_text().rsplit(")", 1)[1].split()[0]), (
            f"the session's server outlived a {signal.Signals(number).name}:\n{output}")
        assert wait_until(lambda: not folder.exists()), f"{folder} was left after {signal.Signals(number).name}"
        if number != signal.SIGKILL:  # stopped as on Ctrl-C, with a message, its fixtures torn down at once
            assert f"got {signal.Signals(number).name}" in output
            assert "left things behind" not in output and took < STOPPED_WITHIN_S, (took, output)
    finally:
        if inner.poll() is None:
            inner.kill()
            inner.wait()
        if report.exists() and report.read_text().strip():  # what a failure left is not the outer session's to see
            try:
                os.kill(int(report.read_text().split(" ", 1)[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass
