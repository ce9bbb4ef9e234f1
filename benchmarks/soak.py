"""A lesson's soak: a class of 30 on one ``grutools serve`` for 45 minutes, with faults (issue: a server that runs all term).

The real command serves the dashboards (``grutools serve``, ``voila.json``'s settings, a
pool for the lesson). Simulated students (:class:`classroom_load.Student`: a real page
load over HTTP, the kernel websocket, slider moves, *Train*, a refused ``execute_request``,
then the tab's shutdown) stay 1-4 minutes on a dashboard, then move on in waves over every
dashboard; one visit in five is a reload (the page left at once and opened again).
One student is hostile (every session sends out-of-range, ill-typed and bounds-changing
updates to every slider). A random kernel is killed every ``--kill-every`` minutes, and
halfway through the server is stopped with SIGTERM and started again on the same port.

Every minute it samples the server process (RSS, open file descriptors, threads), the
kernel connection folders and files, the kernels' number and memory, and the page-load
and slider times of that minute. At the end it prints the timeline, the errors of
well-behaved students (goal: 0; errors of a session whose kernel was killed on purpose, or
that was cut by the restart, are counted apart), and whether the server's resources grew
after warm-up. ``--out FILE`` writes everything as JSON.

Usage: ``python benchmarks/soak.py [--minutes 45] [--students 30] [--kill-every 4] [--out soak.json]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classroom_load import Student  # noqa: E402  (a page load, the websocket, slider moves, Train, leaving)
from dashboard_respond import SLIDERS  # noqa: E402

from grutools.testing.serving import free_port, kernel_processes, process_memory  # noqa: E402

LESSON = "02_gates_over_time.ipynb"


class Server:
    """``grutools serve`` as a teacher starts it, in its own session; stopped by SIGTERM as systemd would."""

    def __init__(self, port: int, students: int, runtime: Path, log: Path) -> None:
        self.port, self.students, self.runtime, self.log = port, students, runtime, log
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        self.runtime.mkdir(parents=True, exist_ok=True)  # its temp folder: Voila's connection folders go there
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(self.runtime), TMPDIR=str(self.runtime))
        command = [sys.executable, "-m", "grutools", "serve", f"--port={self.port}", "--max-kernels=45",
                   f"--lesson={LESSON}", f"--class-size={max(1, self.students // 3)}",
                   f"--tally={self.runtime.parent / 'tally.sqlite3'}"]  # the class's predictions: kept across the restart
        self.process = subprocess.Popen(command, env=env, stdout=self.log.open("a"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                urlopen(self.base + "/voila/api/contents", timeout=2)  # noqa: S310 (localhost)
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"grutools serve did not start; see {self.log}") from None
                time.sleep(0.5)

    def stop(self) -> float:
        """SIGTERM; the seconds until the command has ended."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        return time.monotonic() - started

    @property
    def voila_pid(self) -> int | None:
        """The Voilà server: the child of ``grutools serve``."""
        for entry in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = entry.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                return int(entry.parent.name)
        return None


def sample(server: Server) -> dict:
    """The server's resources now: RSS, file descriptors, threads, connection folders and files, kernels."""
    pid = server.voila_pid
    row: dict = {"time": time.monotonic()}
    if pid is None:
        return row
    proc = Path(f"/proc/{pid}")
    try:
        row["server_rss_mb"] = process_memory(pid)[0]
        row["open_fds"] = len(list((proc / "fd").iterdir()))
        row["threads"] = int(next(line for line in (proc / "status").read_text().splitlines()
                                  if line.startswith("Threads:")).split()[1])
    except OSError:
        return row
    folders = list(server.runtime.glob("voila_*"))
    row["connection_folders"] = len(folders)
    row["connection_files"] = sum(len(list(f.glob("kernel-*.json"))) for f in folders)
    kernels = []
    for kernel in kernel_processes(pid):
        try:
            kernels.append(process_memory(kernel))
        except OSError:
            continue
    row["kernels"] = len(kernels)
    row["kernel_rss_mb_median"] = statistics.median(r for r, _ in kernels) if kernels else None
    row["kernel_pss_mb_median"] = statistics.median(p for _, p in kernels) if kernels else None
    return row


class Visitor(Student):
    """A student who stays on the page a while (``dwell`` seconds, kernel open) after moving its sliders."""

    def __init__(self, *args, dwell: float = 0.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dwell = dwell

    async def visit(self) -> None:
        await super().visit()
        await asyncio.sleep(self.dwell)


class Lesson:
    """The class, the faults and the record of what each session saw."""

    def __init__(self, server: Server, args) -> None:
        self.server, self.args = server, args
        self.started = time.monotonic()
        self.end = self.started + 60 * args.minutes
        self.sessions: list[dict] = []
        self.killed: set[str] = set()  # kernel ids killed on purpose
        self.restarting = False
        self.restart_window: tuple[float, float] | None = None
        self.forbidden = Path(tempfile.gettempdir()) / f"grutools-soak-forbidden-{uuid.uuid4().hex}"
        self.notebooks = [n for n in sorted(SLIDERS)]

    def minute(self, moment: float) -> int:
        return int((moment - self.started) // 60)

    async def student(self, number: int) -> None:
        rng = random.Random(number)
        await asyncio.sleep(rng.uniform(0, 60))  # the class arrives over the first minute
        while time.monotonic() < self.end - 30:
            while self.restarting:
                await asyncio.sleep(1)
            notebook = LESSON if rng.random() < 0.5 else rng.choice(self.notebooks)
            hostile = number == 0
            reload = rng.random() < 0.2  # a reload: the page is left at once and opened again
            session = Visitor(number, self.server.base, notebook, rng.randint(3, 8), self.forbidden,
                              trains=notebook == LESSON and rng.random() < 0.3, hostile=hostile,
                              dwell=0.0 if reload else rng.uniform(60, 240))
            opened = time.monotonic()
            await session.run()
            closed = time.monotonic()
            self.sessions.append({"student": number, "notebook": notebook, "opened": opened, "closed": closed,
                                  "load_s": session.load_seconds, "moves_ms": session.move_ms,
                                  "errors": session.errors, "hostile": hostile, "kernel": session.kernel_id,
                                  "killed": session.kernel_id in self.killed})  # cut_by_restart: see report()
            # waves: most open the next dashboard at once, some come back after a break
            await asyncio.sleep(rng.choice([0.5, 0.5, 5, 30, 90]))

    async def kill_kernels(self) -> None:
        rng = random.Random(1)
        while time.monotonic() < self.end - 60:
            await asyncio.sleep(60 * self.args.kill_every)
            pid = self.server.voila_pid
            kernels = kernel_processes(pid) if pid else []
            if not kernels or self.restarting:
                continue
            victim = rng.choice(kernels)
            try:
                command = Path(f"/proc/{victim}/cmdline").read_text(errors="replace")
                self.killed.add(command.split("kernel-")[1].split(".json")[0])
                os.kill(victim, signal.SIGKILL)
                print(f"[{self.minute(time.monotonic()):2d} min] killed kernel process {victim}", flush=True)
            except (OSError, IndexError):
                continue

    async def restart_once(self) -> None:
        await asyncio.sleep(30 * self.args.minutes)
        self.restarting = True
        begun = time.monotonic()
        loop = asyncio.get_event_loop()
        stopped = await loop.run_in_executor(None, self.server.stop)
        await loop.run_in_executor(None, self.server.start)
        self.restart_window = (begun, time.monotonic())
        self.restarting = False
        print(f"[{self.minute(begun):2d} min] server stopped by SIGTERM in {stopped:.1f} s and started again in "
              f"{time.monotonic() - begun:.1f} s", flush=True)

    async def monitor(self, samples: list) -> None:
        while time.monotonic() < self.end:
            if not self.restarting:
                row = sample(self.server)
                row["minute"] = self.minute(row["time"])
                samples.append(row)
            await asyncio.sleep(60)

    async def run(self) -> list[dict]:
        from tornado.httpclient import AsyncHTTPClient

        AsyncHTTPClient.configure(None, max_clients=self.args.students + 4)  # else 10: the class queues in the client
        samples: list[dict] = []
        tasks = [asyncio.ensure_future(self.student(n)) for n in range(self.args.students)]
        tasks += [asyncio.ensure_future(c) for c in (self.kill_kernels(), self.restart_once(), self.monitor(samples))]
        await asyncio.gather(*tasks)
        return samples


def cut_by_restart(session: dict, window: tuple[float, float] | None) -> bool:
    """Whether a session was open while the server was down (from 5 s before the SIGTERM until it served again).

    Judged once the lesson is over: a session that ended during the restart ended before the window was known
    (the first soak counted nine such sessions as errors of well-behaved students)."""
    return window is not None and window[0] - 5 <= session["closed"] and session["opened"] <= window[1]


def report(lesson: Lesson, samples: list[dict], args) -> dict:
    for s in lesson.sessions:
        s["cut_by_restart"] = cut_by_restart(s, lesson.restart_window)
    by_minute: dict[int, dict] = {}
    for s in lesson.sessions:
        row = by_minute.setdefault(lesson.minute(s["closed"]), {"loads": [], "moves": []})
        if s["load_s"] is not None:
            row["loads"].append(s["load_s"])
        row["moves"].extend(s["moves_ms"])
    faulted = [s for s in lesson.sessions if s["killed"] or s["cut_by_restart"]]
    behaved = [s for s in lesson.sessions if not s["hostile"] and s not in faulted]
    errors = [(s["student"], s["notebook"], e) for s in behaved for e in s["errors"]]
    print(f"\n{len(lesson.sessions)} sessions in {args.minutes} min; {len(faulted)} met a fault on purpose "
          f"(kernel killed or server restarted); errors of well-behaved students: {len(errors)}")
    for error in errors[:20]:
        print("   ", error)
    print(f"\n{'min':>3} | {'loads':>5} {'median s':>8} {'worst s':>7} | {'moves':>5} {'median ms':>9} {'worst ms':>8} | "
          f"{'RSS MB':>6} {'fds':>4} {'thr':>4} {'folders':>7} {'files':>5} {'kernels':>7} {'kernel MB':>9}")
    for row in samples:
        m = by_minute.get(row["minute"], {"loads": [], "moves": []})
        loads, moves = m["loads"], m["moves"]

        def fmt(values, scale="{:.1f}"):
            return (scale.format(statistics.median(values)), scale.format(max(values))) if values else ("-", "-")

        lm, lw = fmt(loads)
        mm, mw = fmt(moves, "{:.0f}")
        print(f"{row['minute']:3d} | {len(loads):5d} {lm:>8} {lw:>7} | {len(moves):5d} {mm:>9} {mw:>8} | "
              f"{row.get('server_rss_mb', 0):6.0f} {row.get('open_fds', 0):4d} {row.get('threads', 0):4d} "
              f"{row.get('connection_folders', 0):7d} {row.get('connection_files', 0):5d} {row.get('kernels', 0):7d} "
              f"{row.get('kernel_rss_mb_median') or 0:9.0f}")
    warm = [r for r in samples if r["minute"] >= 5 and "open_fds" in r]
    growth = {}
    if len(warm) >= 4:
        half = len(warm) // 2
        for key in ("server_rss_mb", "open_fds", "threads", "connection_folders"):
            early = statistics.median(r[key] for r in warm[:half])
            late = statistics.median(r[key] for r in warm[half:])
            growth[key] = (early, late)
        print("\nafter warm-up (from minute 5), first half against second half (medians): " + "; ".join(
            f"{k} {a:.0f} -> {b:.0f}" for k, (a, b) in growth.items()))
    loads = [s["load_s"] for s in lesson.sessions if s["load_s"] is not None]
    moves = [m for s in lesson.sessions for m in s["moves_ms"]]
    if loads and moves:
        print(f"page loads: median {statistics.median(loads):.1f} s, worst {max(loads):.1f} s; slider moves: median "
              f"{statistics.median(moves):.0f} ms, worst {max(moves):.0f} ms")
    return {"minutes": args.minutes, "students": args.students, "sessions": lesson.sessions, "samples": samples,
            "errors_of_well_behaved": errors, "growth_after_warmup": growth,
            "date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{os.cpu_count()} cores"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=45.0, help="the lesson's length (default 45)")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--kill-every", type=float, default=4.0, help="minutes between kernel kills (default 4)")
    parser.add_argument("--out", help="write the whole record as JSON here")
    args = parser.parse_args()
    if args.minutes < 2 or args.students < 2 or args.kill_every <= 0:
        parser.error("--minutes must be at least 2, --students at least 2, --kill-every positive")
    def interrupted(number, _frame):  # SIGTERM or SIGHUP: stop the server below (its finally), as Ctrl-C does
        raise KeyboardInterrupt(signal.Signals(number).name)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    with tempfile.TemporaryDirectory(prefix="grutools-soak-") as folder:
        server = Server(free_port(), args.students, Path(folder) / "runtime", Path(folder) / "serve.log")
        print(f"grutools serve on {server.base}; {args.students} students for {args.minutes:g} minutes "
              f"(log: {server.log})", flush=True)
        server.start()
        lesson = Lesson(server, args)
        try:
            samples = asyncio.run(lesson.run())
        finally:
            server.stop()
            log = server.log.read_text(errors="replace")  # kept, even when the run was interrupted
            if args.out:
                Path(args.out).with_suffix(".serve.log").write_text(log)
        result = report(lesson, samples, args)
        result["turned_away"] = log.count("Class full:")  # pages that got "the class is full" (HTTP 503)
        result["refills_at_cap"] = log.count("a pool refill waits for room")
        result["seats_made"] = log.count("shut down for a student")  # pre-heated kernels that made way at the cap
        print(f"server log: {result['turned_away']} pages turned away at the cap; {result['refills_at_cap']} refills "
              f"waited for room; {result['seats_made']} pre-heated kernels made way for a student")
        if lesson.forbidden.exists():
            print("a student's code was executed!")
            return 1
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1, default=str))
    return 1 if result["errors_of_well_behaved"] else 0


if __name__ == "__main__":
    sys.exit(main())
