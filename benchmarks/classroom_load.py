"""A class of students on one server: a bounded load test on localhost (issue: classroom-ready serving).

Starts Voilà as a teacher would for a lesson (``voila.json``, plus a pool of ``--students``
pre-heated kernels for the lesson's dashboard, see the README's "For teachers"), then
``--students`` simulated students arrive within ``--arrival`` seconds. Each one, over real
HTTP and a real kernel websocket, as the browser does:

1. asks for the dashboard page (Voilà serves it, executed, with its kernel id);
2. opens the kernel's websocket and asks for the state of every widget
   (``jupyter.widget.control``), as the page's widget manager does;
3. moves the dashboard's main slider ``--moves`` times, waiting each time until the
   kernel has redrawn (its reply to the change is done: the kernel is idle again);
4. sends one ``execute_request`` with code, which Voilà must refuse (students cannot
   run code);
5. leaves the page as a browser tab does: closes the websocket and asks Voilà to shut
   the kernel down.

Reported: the load time of each session (page + widget states), the slider response
times, errors (any HTTP error, refused connection, error message from the kernel, or
executed code), the memory of every kernel (RSS and PSS: PSS shares torch's libraries
fairly among processes) and of the whole server while the class is connected. With
``--browser``, one more student opens the page in headless Chromium while the class is
connected, and the time until its plots are drawn is printed. Everything is bounded:
one request per step, a timeout on each, and the run ends by itself.

With ``--mixed``, the class spreads over all six dashboards (a pool on each), every
student on 02 also presses *Train* (several trainings at once), and one student is
hostile: it sends every slider out-of-range, ill-typed and bounds-changing updates
(``grutools.apps.guard`` must refuse them all; the states are checked afterwards).
The kernels run under the classroom memory limit (``voila.json``'s default).

Usage: ``python benchmarks/classroom_load.py [--students 20] [--notebook 02_gates_over_time.ipynb] [--mixed]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from grutools.testing.kernel_socket import KernelSocket, page_kernel_id, shutdown_request
from grutools.testing.serving import (
    dashboard_url,
    kernel_processes,
    notebook_names,
    process_memory,
    voila_server,
    wait_for_pools,
    wait_until_idle,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_respond import SLIDERS  # noqa: E402

TIMEOUT = 120.0  # seconds, for any one step of a session
FORBIDDEN = "import pathlib; pathlib.Path({path!r}).write_text('a student ran code')"


class Student:
    """One simulated student: a page load, a kernel websocket, slider moves and a forbidden execute request."""

    def __init__(self, number: int, base: str, notebook: str, moves: int, forbidden_path: Path,
                 trains: bool = False, hostile: bool = False) -> None:
        self.number, self.base, self.notebook, self.moves = number, base, notebook, moves
        self.trains, self.hostile = trains, hostile
        self.forbidden_path = forbidden_path
        self.load_seconds: float | None = None
        self.move_ms: list[float] = []
        self.errors: list[str] = []
        self.kernel_id: str | None = None
        self.socket: KernelSocket | None = None

    async def run(self) -> None:
        try:
            await self.visit()
        except HTTPClientError as error:
            body = error.response.body.decode(errors="replace") if error.response else ""
            self.errors.append(f"HTTP {error.code}" + (" (the class is full)" if "class is full" in body else ""))
        except Exception as error:  # noqa: BLE001 (every failure is a reported error, the run goes on)
            self.errors.append(f"{type(error).__name__}: {error}")
        finally:
            await self.leave()

    async def visit(self) -> None:
        start = time.perf_counter()
        page = await AsyncHTTPClient().fetch(dashboard_url(self.base, self.notebook), request_timeout=TIMEOUT)
        html = page.body.decode()
        if "There was an error when executing cell" in html:
            self.errors.append("a cell failed while the page was rendered")
        self.kernel_id = page_kernel_id(html)
        self.socket = await KernelSocket.open(self.base, self.kernel_id, TIMEOUT)
        states = await self.socket.widget_states(TIMEOUT)
        self.load_seconds = time.perf_counter() - start
        slider_id, state = self.find_slider(states)
        key = "index" if "index" in state else "value"
        step = state.get("step", 1) if key == "value" else 1
        for move in range(self.moves):
            new = max(0, state[key] - step) if move % 2 == 0 else state[key]
            sent = time.perf_counter()
            msg_id = self.socket.send("comm_msg", {"comm_id": slider_id, "data": {
                "method": "update", "state": {key: new}, "buffer_paths": []}})
            await self.socket.idle_after(msg_id, TIMEOUT)
            self.move_ms.append(1000 * (time.perf_counter() - sent))
            await asyncio.sleep(0.5)  # a student does not move a slider non-stop
        if self.trains:  # press Train, as the button's click does, and let it run a while
            train = next(i for i, m in states.items() if m["model_name"] == "ButtonModel"
                         and m["state"].get("description") == "Train")
            self.socket.send("comm_msg", {"comm_id": train, "data": {"method": "custom", "content": {"event": "click"}}})
            await asyncio.sleep(5)
        if self.hostile:
            await self.attack(states)
        if not await self.socket.code_is_refused(FORBIDDEN.format(path=str(self.forbidden_path))):
            self.errors.append("the kernel answered an execute_request: code execution is open to students")
        self.errors.extend(f"kernel error: {e}" for e in self.socket.kernel_errors)

    async def attack(self, states: dict) -> None:
        """Out-of-range, ill-typed and bounds-changing updates to every slider; report any that was applied."""
        sliders = {i: m["state"] for i, m in states.items() if m["model_name"].endswith("SliderModel")}
        last = None
        for slider_id, state in sliders.items():
            high = state.get("max", 100) if isinstance(state.get("max"), (int, float)) else 100
            for update in ({"max": high * 100 + 40000, "value": high * 50 + 20000}, {"value": "twenty"},
                           {"value": None}, {"min": -10**9}, {"disabled": True}, {"index": 10**6}):
                last = self.socket.send("comm_msg", {"comm_id": slider_id, "data": {
                    "method": "update", "state": update, "buffer_paths": []}})
        if last:
            await self.socket.idle_after(last, TIMEOUT)
        after = await self.socket.widget_states(TIMEOUT)
        for slider_id, state in sliders.items():
            for key in ("min", "max", "disabled"):
                if after[slider_id]["state"].get(key) != state.get(key):
                    self.errors.append(f"hostile update applied: {key} of {state.get('description')!r}")

    def find_slider(self, states: dict) -> tuple[str, dict]:
        label = SLIDERS[self.notebook][0]
        for model_id, model in states.items():
            state = model["state"]
            if model["model_name"].endswith("SliderModel") and label in str(state.get("description", "")):
                return model_id, state
        raise RuntimeError(f"no slider labelled {label!r} among the page's widgets")

    async def leave(self) -> None:
        if self.socket is not None:
            self.socket.close()
        if self.kernel_id:  # what the page does when its tab closes
            url, headers = shutdown_request(self.base, self.kernel_id)
            try:
                await AsyncHTTPClient().fetch(url, method="POST", body=b"", headers=headers, request_timeout=30)
            except Exception as error:  # noqa: BLE001
                self.errors.append(f"shutdown: {error}")


def memory_report(server_pid: int) -> tuple[list[tuple[float, float]], float, float]:
    """Per kernel ``(rss, pss)`` in MiB, the server's PSS, and the total PSS of server and kernels."""
    kernels = []
    for pid in kernel_processes(server_pid):
        try:
            kernels.append(process_memory(pid))
        except OSError:  # the kernel ended meanwhile (a student left)
            continue
    server = process_memory(server_pid)[1]
    return kernels, server, server + sum(pss for _, pss in kernels)


def browser_probe(base: str, notebook: str) -> float:
    """Seconds until a real Chromium page has drawn all its plots, while the class is connected."""
    from playwright.sync_api import sync_playwright

    from grutools.testing.serving import launch_chromium, wait_for_dashboard

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        start = time.perf_counter()
        page.goto(dashboard_url(base, notebook), wait_until="commit")
        wait_for_dashboard(page)
        seconds = time.perf_counter() - start
        browser.close()
    return seconds


async def run_class(base, args) -> tuple[list[Student], dict]:
    AsyncHTTPClient.configure(None, max_clients=args.students + 4)
    forbidden = Path(tempfile.gettempdir()) / f"grutools-forbidden-{uuid.uuid4().hex}"
    names = [n for n in notebook_names() if n in SLIDERS]
    students = []
    for n in range(args.students):
        notebook = names[n % len(names)] if args.mixed else args.notebook
        students.append(Student(n, base, notebook, args.moves, forbidden, hostile=args.mixed and n == 1,
                                trains=args.mixed and notebook == "02_gates_over_time.ipynb"))

    async def arrive(student: Student) -> None:
        await asyncio.sleep(args.arrival * student.number / max(1, args.students - 1))
        await student.run()

    tasks = [asyncio.ensure_future(arrive(s)) for s in students]
    peak = {"total": 0.0, "kernels": [], "server": 0.0}
    while not all(t.done() for t in tasks):  # sample memory while the class is connected
        kernels, server, total = memory_report(base.pid)
        if total > peak["total"]:
            peak = {"total": total, "kernels": kernels, "server": server}
        await asyncio.sleep(1.0)
    await asyncio.gather(*tasks)
    if forbidden.exists():
        forbidden.unlink()
        students[0].errors.append("code sent by a student was executed")
    return students, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--notebook", default="02_gates_over_time.ipynb", choices=sorted(SLIDERS))
    parser.add_argument("--moves", type=int, default=5, help="slider moves per student (default 5)")
    parser.add_argument("--arrival", type=float, default=10.0, help="the class arrives within this many seconds")
    parser.add_argument("--pool", type=int, default=None, help="pre-heated kernels for the lesson (default: --students)")
    parser.add_argument("--browser", action="store_true", help="also time one real browser while the class is in")
    parser.add_argument("--mixed", action="store_true", help="spread the class over every dashboard, trainings and "
                                                             "one hostile student")
    args = parser.parse_args()
    pool = args.students if args.pool is None else args.pool
    if args.mixed:
        names = [n for n in notebook_names() if n in SLIDERS]
        share = -(-pool // len(names))
        pools = json.dumps({"default": {"pool_size": share}})
    else:
        pools = json.dumps({"default": {"pool_size": 1}, args.notebook: {"pool_size": pool}})
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "voila.log"
        extra = [f"--VoilaKernelManager.kernel_pools_config={pools}",
                 f"--ClassroomKernelManager.max_kernels={max(40, 2 * args.students + 6)}"]
        with voila_server(extra_args=extra, log_path=log, timeout=120) as base:
            dashboards = len(notebook_names())
            print(f"Waiting for {pool + dashboards - 1} pre-heated kernels ...", file=sys.stderr)
            wait_for_pools(log, dashboards, timeout=600)  # each pool logs once when full
            wait_until_idle(timeout=300)
            idle_kernels, _, idle_total = memory_report(base.pid)
            started = time.perf_counter()
            loop = asyncio.new_event_loop()
            probe = None
            if args.browser:
                future = loop.run_in_executor(None, browser_probe, base, args.notebook)
            students, peak = loop.run_until_complete(run_class(base, args))
            if args.browser:
                probe = loop.run_until_complete(future)
            wall = time.perf_counter() - started
            loop.close()
    loads = [s.load_seconds for s in students if s.load_seconds is not None]
    moves = [m for s in students for m in s.move_ms]
    errors = [f"student {s.number}: {e}" for s in students for e in s.errors]
    kernel_pss = [pss for _, pss in peak["kernels"]]
    kernel_rss = [rss for rss, _ in peak["kernels"]]
    where = "all six dashboards (02's students training, one student hostile)" if args.mixed else args.notebook
    print(f"{args.students} students on {where}, arriving within {args.arrival:.0f} s, {args.moves} slider moves "
          f"each; {pool} pre-heated kernels for the lesson; {wall:.0f} s in all")
    if loads:
        print(f"load time (page + widget states), s:  median {statistics.median(loads):.2f}  worst {max(loads):.2f}  "
              f"best {min(loads):.2f}   (target: median under 10)")
    if moves:
        print(f"slider response in the kernel, ms:    median {statistics.median(moves):.0f}  worst {max(moves):.0f}")
    if probe is not None:
        print(f"a real browser meanwhile, plots drawn after {probe:.2f} s")
    if kernel_pss:
        print(f"memory per kernel, MiB:               PSS median {statistics.median(kernel_pss):.0f} "
              f"(RSS median {statistics.median(kernel_rss):.0f}); {len(kernel_pss)} kernels at the peak")
    print(f"memory of server + kernels, GiB:      {peak['total'] / 1024:.2f} at the peak with the class connected "
          f"({idle_total / 1024:.2f} before the class, {len(idle_kernels)} idle pre-heated kernels)")
    print(f"errors: {len(errors)}")
    for error in errors:
        print(f"  {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
