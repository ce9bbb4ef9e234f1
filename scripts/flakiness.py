"""How flaky are the browser and fault tests? Run them N times and count each test's failures.

Usage: ``python scripts/flakiness.py [--runs 10] [-- PYTEST ARGS]``. By default it runs every
test marked ``browser`` and ``tests/test_faults.py``, ``tests/test_serve_signals.py`` and
``tests/test_classroom.py``, one full pytest run after another (a run starts when the last
one and all it started have ended), and prints, per test, how many of the runs it failed or
errored in. It exits 1 if any test failed in any run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROWSER = ["-m", "browser"]


def outcomes(report: Path) -> dict[str, str]:
    """``{test id: "passed" | "failed" | "skipped"}`` from a JUnit XML report."""
    found = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            found[name] = "failed"
        elif case.find("skipped") is not None:
            found[name] = "skipped"
        else:
            found[name] = "passed"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="how many times (default 10)")
    parser.add_argument("pytest_args", nargs="*", help="instead of the default selection (after --)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    selections = [args.pytest_args] if args.pytest_args else [
        ["tests/test_faults.py", "tests/test_serve_signals.py", "tests/test_classroom.py"], ["tests", *BROWSER]]
    failures, seen, durations = Counter(), Counter(), []
    for run in range(1, args.runs + 1):
        started = time.monotonic()
        for selection in selections:
            with tempfile.TemporaryDirectory() as folder:
                report = Path(folder) / "report.xml"
                subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                                *selection], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if not report.exists():
                    failures["(pytest did not write its report)"] += 1
                    continue
                for name, outcome in outcomes(report).items():
                    if outcome != "skipped":
                        seen[name] += 1
                        failures[name] += outcome == "failed"
        durations.append(time.monotonic() - started)
        print(f"run {run}/{args.runs}: {time.monotonic() - started:.0f} s, "
              f"{sum(1 for n in seen if failures[n])} test(s) failed so far", flush=True)
    print(f"\n{'failed':>6} {'runs':>4}  test")
    for name in sorted(seen, key=lambda n: (-failures[n], n)):
        print(f"{failures[name]:6d} {seen[name]:4d}  {name}")
    print(f"\n{len(seen)} tests, {args.runs} runs of {min(durations):.0f}-{max(durations):.0f} s; "
          f"{sum(1 for n in seen if failures[n])} failed at least once")
    return 1 if any(failures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
