"""What a test session started, found again: its processes by an environment mark, and a watch that ends them.

Every process the tests start inherits ``GRUTOOLS_TEST_SESSION=<mark>`` (set in ``tests/conftest.py``), so
``marked_processes`` finds them wherever they were re-parented. ``Watch`` starts a small process that
waits on a pipe from the test session: if the session ends without saying "done" (it was killed, even
with SIGKILL), the watch ends every marked process and removes the session's temporary folder.
``python grutools/testing/leftovers.py MARK FOLDER`` is that process (by its path, so that it imports
nothing but the standard library). A test session that runs a fork of itself without exec (a
``fork``-started worker) keeps the pipe open while that child lives: the watch then waits for it too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SESSION_MARK = "GRUTOOLS_TEST_SESSION"
TERM_GRACE_S = 10.0  # how long what was left may take to end on SIGTERM before SIGKILL


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


def end_marked(mark: str, grace_s: float = TERM_GRACE_S) -> list[int]:
    """SIGTERM every marked process, then SIGKILL what is still alive after ``grace_s``; the pids found."""
    found = [pid for pid, _ in marked_processes(mark)]
    for number in (signal.SIGTERM, signal.SIGKILL):
        for pid, _ in marked_processes(mark):
            try:
                os.kill(pid, number)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace_s
        while number == signal.SIGTERM and marked_processes(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
    return found


class Watch:
    """A process that ends what the session started if the session dies without calling ``done``."""

    def __init__(self, mark: str, folder: Path):
        env = {key: value for key, value in os.environ.items() if key != SESSION_MARK}
        # this file alone, by its path (-I: nothing of the session's own path): the standard library, no torch
        self.process = subprocess.Popen([sys.executable, "-I", str(Path(__file__).resolve()), mark, str(folder)],
                                        stdin=subprocess.PIPE, env=env, start_new_session=True)

    def done(self) -> None:
        """The session ends on its own: the watch leaves without touching anything (a second call does nothing)."""
        if self.process.returncode is not None:
            return
        try:
            self.process.communicate(b"done", timeout=10)
        except (subprocess.TimeoutExpired, OSError):
            self.process.kill()
            self.process.wait()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python grutools/testing/leftovers.py MARK FOLDER", file=sys.stderr)
        return 2
    mark, folder = argv
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a stop is the session's; the watch ends with it
        signal.signal(number, signal.SIG_IGN)
    if sys.stdin.buffer.read() == b"done":
        return 0
    ended = end_marked(mark)
    shutil.rmtree(folder, ignore_errors=True)
    print(f"grutools tests: the test session ended without cleaning up; ended {len(ended)} process(es) it "
          f"started and removed {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
