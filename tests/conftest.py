import os
import signal
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import torch

# Every process the tests start (servers, kernels, browsers, builds) inherits this mark; at the end of the session
# a check fails the run if any of them is still alive, or a kernel connection folder or a temporary venv is left.
SESSION_MARK = "GRUTOOLS_TEST_SESSION"
LEFTOVER_GRACE_S = 20.0


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield


# figures are validated property by property in the tests (the dashboards skip it for speed: grutools/plots/sketch.py)
os.environ.setdefault("GRUTOOLS_VALIDATE_FIGURES", "1")


def marked_processes(mark: str) -> list[tuple[int, str]]:
    """The live processes whose environment carries ``SESSION_MARK=mark``, with their command lines."""
    needle = f"{SESSION_MARK}={mark}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        pid = int(environ.parent.name)
        if pid == os.getpid():
            continue
        try:
            if needle not in environ.read_bytes().split(b"\0"):
                continue
            status = (environ.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (environ.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if status != "Z":
            found.append((pid, command.strip()[:160]))
    return found


def runtime_leftovers() -> set[Path]:
    """Kernel connection files and folders (Jupyter's runtime folder) and grutools' temporary venvs."""
    from jupyter_core.paths import jupyter_runtime_dir

    runtime = Path(jupyter_runtime_dir())
    found = set(runtime.glob("voila_*")) | set(runtime.glob("kernel-*.json"))
    return found | set(Path(tempfile.gettempdir()).glob("grutools-package-*"))


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        os.environ[SESSION_MARK] = uuid.uuid4().hex
        config._grutools_runtime_before = runtime_leftovers()


def pytest_sessionfinish(session, exitstatus):
    mark = os.environ.get(SESSION_MARK)
    if not mark or not hasattr(session.config, "_grutools_runtime_before"):
        return
    deadline = time.monotonic() + LEFTOVER_GRACE_S  # a server's own shutdown may still be under way
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.5)
    files = sorted(runtime_leftovers() - session.config._grutools_runtime_before)
    if not left and not files:
        return
    lines = [f"  process {pid}: {command}" for pid, command in left] + [f"  left on disk: {path}" for path in files]
    for pid, _ in left:  # so that one leaking run does not weigh on the next
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    session.config._grutools_leftovers = lines
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = getattr(config, "_grutools_leftovers", None)
    if lines:
        terminalreporter.section("the tests left things behind (the run fails)", red=True)
        for line in lines:
            terminalreporter.line(line)
