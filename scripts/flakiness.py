"""How flaky are the browser and fault tests? Run them N times and count each test's failures.

Usage: ``python scripts/flakiness.py [--runs 10] [--out FILE.json] [-- PYTEST ARGS]``. By default it runs
every test marked ``browser`` and ``tests/test_faults.py``, ``tests/test_serve_signals.py`` and
``tests/test_classroom.py``, one full pytest run after another (a run starts when the last one and all
it started have ended), and prints, per test, how many of the runs it failed or errored in, and its
median time. It exits 1 if any test failed in any run.

The counts so far are written to ``--out`` after every run, and printed if the script is stopped
(Ctrl-C, SIGTERM or SIGHUP) before its last run; the pytest under way is stopped with it, and so are
the servers it started (a pytest dies with this script, even if it is killed with SIGKILL).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from grutools.classroom.serve import _libc_prctl, die_with  # noqa: E402

BROWSER = ["-m", "browser"]
DEFAULT = [["tests/test_faults.py", "tests/test_serve_signals.py", "tests/test_classroom.py"], ["tests", *BROWSER]]


class Stopped(Exception):
    """A stop signal arrived."""


def outcomes(report: Path) -> dict[str, tuple[str, float]]:
    """``{test id: ("passed" | "failed" | "skipped", seconds)}`` from a JUnit XML report."""
    found = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        found[name] = (outcome, float(case.get("time") or 0.0))
    return found


class Tally:
    """Failures, runs and times per test over the runs made so far."""

    def __init__(self):
        self.failures, self.seen, self.times, self.durations = Counter(), Counter(), defaultdict(list), []

    def add(self, report: Path) -> None:
        if not report.exists():
            self.failures["(pytest did not write its report)"] += 1
            self.seen["(pytest did not write its report)"] += 1
            return
        for name, (outcome, seconds) in outcomes(report).items():
            if outcome != "skipped":
                self.seen[name] += 1
                self.failures[name] += outcome == "failed"
                self.times[name].append(seconds)

    def failed_tests(self) -> int:
        return sum(1 for name in self.seen if self.failures[name])

    def table(self) -> str:
        lines = [f"{'failed':>6} {'runs':>4} {'median s':>8}  test"]
        for name in sorted(self.seen, key=lambda n: (-self.failures[n], n)):
            median = statistics.median(self.times[name]) if self.times[name] else 0.0
            lines.append(f"{self.failures[name]:6d} {self.seen[name]:4d} {median:8.1f}  {name}")
        if self.durations:
            lines.append(f"\n{len(self.seen)} tests, {len(self.durations)} whole run(s) of "
                         f"{min(self.durations):.0f}-{max(self.durations):.0f} s; "
                         f"{self.failed_tests()} failed at least once")
        return "\n".join(lines)

    def save(self, out: Path, planned: int) -> None:
        data = {"planned_runs": planned, "whole_runs": len(self.durations), "run_seconds": self.durations,
                "tests": {name: {"failed": self.failures[name], "runs": self.seen[name], "seconds": self.times[name]}
                          for name in sorted(self.seen)}}
        partial = out.with_name(out.name + ".part")
        partial.write_text(json.dumps(data, indent=1))
        partial.replace(out)  # whole or not at all, even if a stop arrives meanwhile

    def merge(self, run: Tally, seconds: float) -> None:
        """Count one whole run in."""
        self.failures.update(run.failures)
        self.seen.update(run.seen)
        for name, times in run.times.items():
            self.times[name].extend(times)
        self.durations.append(seconds)


def run_pytest(selection: list[str], folder: str) -> Path:
    """One pytest run of ``selection`` that dies with this script; its JUnit report."""
    report = Path(folder) / "report.xml"
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                f"--junitxml={report}", *selection], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True,  # a Ctrl-C reaches it once, from us
                               preexec_fn=functools.partial(die_with, os.getpid()))
    try:
        process.wait()
    except Stopped:
        process.send_signal(signal.SIGINT)  # pytest stops, tears its servers down and checks for leftovers
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="how many times (default 10)")
    parser.add_argument("--out", type=Path, help="a JSON file for the counts and times, written after every run")
    parser.add_argument("pytest_args", nargs="*", help="instead of the default selection (after --)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.out is not None and not args.out.parent.is_dir():
        parser.error(f"--out: there is no folder {args.out.parent}")

    def stop(signum, _frame):
        raise Stopped(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    selections = [args.pytest_args] if args.pytest_args else DEFAULT
    tally = Tally()
    _libc_prctl()  # looked up here, never between fork and exec
    try:
        for run in range(1, args.runs + 1):
            started, this_run = time.monotonic(), Tally()
            for selection in selections:
                with tempfile.TemporaryDirectory() as folder:
                    this_run.add(run_pytest(selection, folder))
            tally.merge(this_run, time.monotonic() - started)
            if args.out is not None:
                tally.save(args.out, args.runs)
            print(f"run {run}/{args.runs}: {tally.durations[-1]:.0f} s, "
                  f"{tally.failed_tests()} test(s) failed so far", flush=True)
    except Stopped as why:
        print(f"\nstopped by {why} during run {len(tally.durations) + 1}; the counts of the "
              f"{len(tally.durations)} whole run(s) before it:", flush=True)
        print(tally.table())
        return 130
    print()
    print(tally.table())
    return 1 if any(tally.failures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
