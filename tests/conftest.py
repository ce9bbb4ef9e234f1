import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import torch

from grutools.testing.leftovers import SESSION_MARK, Watch, marked_processes

# Every process the tests start (servers, kernels, browsers, builds) inherits SESSION_MARK; at the end of the session
# a check fails the run if any of them is still alive, or a kernel connection folder or a temporary venv is left.
# A session stopped by SIGTERM or SIGHUP stops as on Ctrl-C (its fixtures stop their servers); one killed outright
# leaves a watch behind it that ends what it started (grutools/testing/leftovers.py).
LEFTOVER_GRACE_S = 20.0


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield


# figures are validated property by property in the tests (the dashboards skip it for speed: grutools/plots/sketch.py)
os.environ.setdefault("GRUTOOLS_VALIDATE_FIGURES", "1")


def leftovers(folder: Path) -> list[Path]:
    """Kernel connection folders and files, and grutools' temporary venvs, under the session's own temp folder."""
    patterns = ("voila_*", "runtime/kernel-*.json", "runtime/voila_*", "grutools-package-*")
    return sorted(path for pattern in patterns for path in folder.glob(pattern))


def pytest_configure(config):
    if hasattr(config, "workerinput") or SESSION_MARK in os.environ:
        return  # a pytest run inside the tests: the outer session checks
    os.environ[SESSION_MARK] = uuid.uuid4().hex
    # a temp folder of the session's own, for everything the tests and their servers write there (Voila's
    # connection folders, kernels' connection files, venvs, browsers): what is left in it at the end was left by us
    folder = Path(tempfile.mkdtemp(prefix="grutools-tests-"))
    os.environ["TMPDIR"] = str(folder)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(folder / "runtime")
    os.environ["GRUTOOLS_TALLY"] = str(folder / "tally.sqlite3")  # the class's predictions: never the user's own
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    config._grutools_session_tmp = folder
    config._grutools_watch = Watch(os.environ[SESSION_MARK], folder)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _stop_as_on_ctrl_c)


def _stop_as_on_ctrl_c(number, _frame):
    """A service manager's or ``timeout``'s stop: the session ends as on Ctrl-C, tearing its fixtures down.

    Once: a second signal (``timeout`` signals the process and then its group) must not cut the teardown short;
    a SIGKILL after it is the watch's to handle.
    """
    for each in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, signal.SIG_IGN)
    raise KeyboardInterrupt(f"the test session got {signal.Signals(number).name}")


@pytest.hookimpl(trylast=True)  # after pytest's own, which tears down the fixtures still up (and their servers)
def pytest_sessionfinish(session, exitstatus):
    folder = getattr(session.config, "_grutools_session_tmp", None)
    mark = os.environ.get(SESSION_MARK)
    if folder is None or not mark:
        return
    session.config._grutools_checked = True
    deadline = time.monotonic() + LEFTOVER_GRACE_S  # a server's own shutdown may still be under way
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.5)
    files = leftovers(folder)
    if not left and not files:
        if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.INTERRUPTED):  # a failed run's logs are kept
            shutil.rmtree(folder, ignore_errors=True)
        return
    lines = [f"  process {pid}: {command}" for pid, command in left] + [f"  left on disk: {path}" for path in files]
    for pid, _ in left:  # so that one leaking run does not weigh on the next
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    session.config._grutools_leftovers = lines
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    """The session ends on its own: its watch leaves (a run that never started, as ``--help``, leaves no folder)."""
    watch = getattr(config, "_grutools_watch", None)
    if watch is None:
        return
    watch.done()
    if not getattr(config, "_grutools_checked", False):
        shutil.rmtree(config._grutools_session_tmp, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = getattr(config, "_grutools_leftovers", None)
    if lines:
        terminalreporter.section("the tests left things behind (the run fails)", red=True)
        for line in lines:
            terminalreporter.line(line)
