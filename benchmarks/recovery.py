"""After every kernel dies at once, how long does the next student wait? (issue 26, item 4)

Two servers run side by side, as ``grutools serve`` runs them: one with its pre-heated
pools (``voila.json``), and one with pre-heating off, whose every page starts a kernel
of its own: the reference, a *cold start* on an idle server. Each round, interleaved so
that the machine's drift hits both alike:

1. on the idle reference server, a fresh page opens ``NOTEBOOK`` (the cold start);
2. on the pooled server, every kernel is killed (the pre-heated ones too, as a
   memory-pressure kill can), and three seconds later a fresh page opens ``NOTEBOOK``.

Printed: each round's two times, their ratio, and the median and spread over rounds.
The goal is under 10 s after the kill; a page that waits for nothing but its own kernel
takes about one cold start (ratio near 1), one that waits behind restarts and refills
several (34 s to over 120 s on main before the fix).

Usage: ``python benchmarks/recovery.py [--runs 5] [--notebook 05_memory_timescales.ipynb]``
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from grutools.testing.serving import (
    dashboard_url,
    kernel_processes,
    launch_chromium,
    notebook_names,
    seconds_to_draw,
    voila_server,
    wait_for_pools,
    wait_until_idle,
)

GOAL_S = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--notebook", default="05_memory_timescales.ipynb", help="the dashboard a student opens")
    args = parser.parse_args(argv)
    if args.notebook not in notebook_names():
        parser.error(f"no dashboard {args.notebook!r}; choose one of {', '.join(notebook_names())}")
    log = Path(tempfile.mkdtemp(prefix="grutools-recovery-")) / "voila.log"
    pooled_args = ["--ClassroomKernelManager.repair_interval=1", "--ClassroomKernelManager.max_kernels=20"]
    cold_args = ["--VoilaConfiguration.preheat_kernel=False"]
    rows = []
    with voila_server(extra_args=pooled_args, log_path=log) as pooled, voila_server(extra_args=cold_args) as cold, \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        print(f"waiting for the pools of {len(notebook_names())} dashboards ...", flush=True)
        wait_for_pools(log, len(notebook_names()))
        for run in range(1, args.runs + 1):
            wait_until_idle(timeout=180)
            reference, _ = seconds_to_draw(browser, dashboard_url(cold, args.notebook), timeout_ms=180_000)
            wait_until_idle(timeout=180)
            killed = kernel_processes(pooled.pid)
            for pid in killed:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(3)
            after, _ = seconds_to_draw(browser, dashboard_url(pooled, args.notebook), timeout_ms=180_000)
            rows.append((reference, after))
            print(f"round {run}: cold start {reference:5.1f} s | {len(killed)} kernels killed, page drew in "
                  f"{after:5.1f} s | ratio {after / reference:.2f}", flush=True)
        browser.close()
    afters = [a for _, a in rows]
    ratios = [a / r for r, a in rows]
    colds = [r for r, _ in rows]
    print(f"\nafter the kill: median {statistics.median(afters):.1f} s (range {min(afters):.1f}-{max(afters):.1f} s); "
          f"goal under {GOAL_S:.0f} s: {'met' if max(afters) < GOAL_S else 'not met'}")
    print(f"cold start on an idle server: median {statistics.median(colds):.1f} s (range {min(colds):.1f}-{max(colds):.1f} s)")
    print(f"ratio after-kill / cold start: median {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")
    restarted = "restarting kernel" in log.read_text()
    print("kernels restarted by jupyter_client: " + ("yes (the fix is not in effect)" if restarted else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
