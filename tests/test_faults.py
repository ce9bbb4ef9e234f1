"""Faults survived: kernels killed at bad moments, then the server killed outright.

Kernels are killed while pre-heated, while starting, while training and while
building the fast GRU; afterwards every dashboard still opens on the idle server
from a refilled pool, the killed student's page says so, and once the server itself is killed
nothing is left behind: no kernel process, no stale connection folder, no lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from grutools.classroom.serve import OWNER, environment, voila_command
from grutools.core import build
from grutools.core.resources import root
from grutools.testing.kernel_socket import page_kernel_id
from grutools.testing.serving import (
    CHROMIUM,
    dashboard_url,
    free_port,
    kernel_processes,
    launch_chromium,
    preheat_args,
    seconds_to_draw,
    stop_and_wait,
    wait_for_dashboard,
    wait_for_every_pool_since,
    wait_for_pools,
    wait_until_idle,
)


def kernels_of(server_pid: int) -> set[int]:
    """Every live process that a kernel of this server is (by ``JPY_PARENT_PID``, which survives re-parenting)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"JPY_PARENT_PID={server_pid}".encode() in environ and state != "Z":
            found.add(int(entry.name))
    return found


def kernel_pid(server_pid: int, kernel_id: str) -> int:
    """The process of the kernel with this id (its connection file, named after the id, is on its command line)."""
    for pid in kernel_processes(server_pid):
        if kernel_id in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
            return pid
    raise AssertionError(f"no process for kernel {kernel_id}")


# The pools these tests kill and watch refill: four dashboards' (every pool is refilled by the same code; pre-heating
# all eleven kept one core busy for a minute and a half before each test could start)
POOLS = ["00_welcome.ipynb", "01_gru_cell.ipynb", "02_gates_over_time.ipynb", "05_memory_timescales.ipynb"]


def start_server(tmp: Path, log_name: str) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = tmp / log_name
    args = [*preheat_args(POOLS), "--ClassroomKernelManager.repair_interval=1", "--ClassroomKernelManager.max_kernels=20",
            "--Voila.log_format=%(asctime)s.%(msecs)03d %(message)s", "--Voila.log_datefmt=%H:%M:%S"]
    process = subprocess.Popen(voila_command(port, "127.0.0.1", args), cwd=root(), env=environment(),
                               stdout=open(log, "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urlopen(base + "/voila/api/contents", timeout=2)  # noqa: S310 (localhost)
            return process, base, log
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)


def connection_folder(server_pid: int) -> Path:
    import tempfile

    for marker in Path(tempfile.gettempdir()).glob(f"voila_*/{OWNER}"):
        if marker.read_text() == str(server_pid):
            return marker.parent
    raise AssertionError("the server marked no connection folder")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make chromium)")
def test_kernels_killed_at_bad_moments_and_a_killed_server_leave_nothing_behind(tmp_path):
    from playwright.sync_api import sync_playwright

    server, base, log = start_server(tmp_path, "voila.log")
    try:
        wait_for_pools(log, len(POOLS))
        # 1. every pre-heated kernel dies (the out-of-memory killer, a hard cull)
        faults_from = len(log.read_text(errors="replace"))
        preheated = kernel_processes(server.pid)
        assert len(preheated) == len(POOLS)
        for pid in preheated:
            os.kill(pid, signal.SIGKILL)
        # 2. a kernel killed while it starts and runs its notebook
        before = set(kernel_processes(server.pid))
        opened = threading.Thread(target=lambda: _ignore(lambda: urlopen(dashboard_url(base, "01_gru_cell.ipynb"),
                                                                         timeout=120).read()))
        opened.start()
        deadline = time.monotonic() + 30
        while not (set(kernel_processes(server.pid)) - before) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in set(kernel_processes(server.pid)) - before:
            os.kill(pid, signal.SIGKILL)
        opened.join(150)
        # 3. a kernel killed while it builds the fast GRU: its flock dies with it, the next build goes through
        target = tmp_path / "build"
        builder = subprocess.Popen([sys.executable, "-c", "from grutools.core import build; from pathlib import Path; "
                                    f"build.compile_into(Path({str(target)!r}))"])
        time.sleep(3)
        builder.send_signal(signal.SIGKILL)
        builder.wait(10)
        with build.build_lock(target):  # would wait forever on a lock that outlived its holder
            pass
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            # 4. a student training in 02 loses the kernel: the page says so
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(dashboard_url(base, "02_gates_over_time.ipynb"), wait_until="commit")
            wait_for_dashboard(page, timeout_ms=120_000)
            page.get_by_role("button", name="Train").click()
            page.wait_for_timeout(1000)
            os.kill(kernel_pid(server.pid, page_kernel_id(page.content())), signal.SIGKILL)
            page.wait_for_selector("#grutools-connection-lost", timeout=15_000)
            # 5. once the server is idle again, the repair has refilled every pool: each dashboard is served by a
            #    pre-heated kernel (the server's log names it), never by a cold start behind restarts. How fast that
            #    is belongs to benchmarks/recovery.py (a timed test on a machine that drifts measures the machine)
            wait_for_every_pool_since(log, faults_from, POOLS)
            wait_until_idle(timeout=240)
            for notebook in POOLS:
                # each open starts a refill of its pool (a kernel importing torch and running the notebook); on
                # 2 cores, opening the next one during three such refills measures the refills, not the repair
                wait_until_idle(timeout=90)
                fresh = browser.new_page(viewport={"width": 1280, "height": 800})
                started = time.monotonic()
                fresh.goto(dashboard_url(base, notebook), wait_until="commit")
                try:
                    wait_for_dashboard(fresh, timeout_ms=120_000)
                except Exception as error:  # say which dashboard, and what its page showed
                    shown = fresh.inner_text("body")[:400].replace("\n", " ")
                    raise AssertionError(f"{notebook} did not draw within 120 s after the faults; it showed: "
                                         f"{shown!r}") from error
                kernel_id = page_kernel_id(fresh.content())
                print(f"after the faults, {notebook} drew in {time.monotonic() - started:.1f} s")
                assert f"Using pre-heated kernel: {kernel_id} for" in log.read_text(), \
                    f"{notebook} was not served by a pre-heated kernel after the faults: its pool was not refilled"
                fresh.close()
            browser.close()
        # 6. the server itself is killed outright
        folder = connection_folder(server.pid)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        deadline = time.monotonic() + 15
        while kernels_of(server.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert kernels_of(server.pid) == set(), "kernels outlived their killed server"
        assert folder.exists()  # a killed server cannot clean up after itself ...
        second, _, _ = start_server(tmp_path, "voila2.log")
        try:
            assert not folder.exists()  # ... the next one does
        finally:
            stop_and_wait(second)
        torch_locks = [p for d in build.candidate_directories() for p in d.glob("lock")]
        assert torch_locks == [], f"stale lock files: {torch_locks}"
    finally:
        if server.poll() is None:
            stop_and_wait(server)


RECOVERY_RUNS = 5


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make chromium)")
def test_after_every_kernel_dies_at_once_the_next_page_waits_for_nothing_but_its_kernel(tmp_path):
    """Every kernel killed (the pre-heated ones too, as a memory-pressure kill can), a student opens 05 three seconds
    later, five runs one right after the other (whatever was refilling is killed too). On main before this fix the
    page waited 34 s to over 120 s: jupyter_client restarted every kernel, the repair replaced each restarted one,
    and the page waited behind both. Here no kernel is restarted, and each page runs on a kernel started for it (or
    on a refill that was ready): never on one still starting. Each run's time is printed; how it compares with a
    cold start is measured by ``benchmarks/recovery.py`` (a timed test on a machine that drifts measures the machine)."""
    from playwright.sync_api import sync_playwright

    notebook = "05_memory_timescales.ipynb"
    runs = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        server, base, log = start_server(tmp_path, "voila.log")
        try:
            wait_for_pools(log, len(POOLS))
            wait_until_idle(timeout=120)
            for _ in range(RECOVERY_RUNS):
                killed = kernels_of(server.pid)
                assert killed, "no kernel to kill"
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)
                time.sleep(3)
                runs.append(seconds_to_draw(browser, dashboard_url(base, notebook)))
        finally:
            stop_and_wait(server)
            browser.close()
    print(f"\nafter every kernel was killed, {notebook} drew in " + ", ".join(f"{t:.1f} s" for t, _ in runs))
    text = log.read_text()
    assert "restarting kernel" not in text  # dead kernels are replaced, never restarted
    for _, kernel_id in runs:
        assert (f"grutools: kernel {kernel_id} started for a page" in text
                or f"Using pre-heated kernel: {kernel_id} for" in text), f"the page's kernel {kernel_id} is unaccounted for"
    own = sum(f"grutools: kernel {kernel_id} started for a page" in text for _, kernel_id in runs)
    print(f"{own} of {len(runs)} pages ran on a kernel started for them, the others on a refill already started")


def _ignore(call):
    try:
        call()
    except Exception:  # the page's kernel was killed on purpose: any answer will do
        pass
