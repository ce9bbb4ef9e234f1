"""How long does a student wait for a dashboard? (issue: classroom-ready serving)

Serves the dashboards with Voilà as ``make dashboards`` does (``voila.json``: pre-heated
kernels, one per dashboard) and opens each one ``--runs`` times in headless Chromium,
each time in a fresh browser context (an empty cache, like a student's first visit).
The time is from the request to the moment every plot of the page is drawn. Between
two loads the script waits until the pool is refilled and the CPU is idle, so that
every load meets an idle server, as the issue's target (under 5 s) supposes.

The same is measured with pre-heating switched off (``--VoilaConfiguration.preheat_kernel=False``:
a kernel starts and runs the notebook when the page is asked for), as the reference.

Usage: ``python benchmarks/dashboard_start.py [--runs 5] [--modes pre-heated cold] [NOTEBOOK ...]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from grutools.testing.serving import (
    dashboard_url,
    launch_chromium,
    notebook_names,
    voila_server,
    wait_for_dashboard,
    wait_for_pools,
    wait_until_idle,
)

MODES = {"pre-heated": [], "cold": ["--VoilaConfiguration.preheat_kernel=False"]}
PLOTS_DRAWN = """() => { const plots = document.querySelectorAll('.js-plotly-plot');
                         return plots.length ? [...plots].filter(p => p.querySelector('.main-svg')).length : 0; }"""


def plots_on(browser, url: str) -> int:
    """Open ``url`` once (untimed) and count its plots when it has settled."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(url)
    wait_for_dashboard(page)
    page.wait_for_timeout(3000)
    count = page.evaluate(PLOTS_DRAWN)
    context.close()
    return count


def load_seconds(browser, url: str, plots: int) -> float:
    """Seconds from asking for ``url`` to ``plots`` plots drawn, in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    wait_for_dashboard(page, plots=plots)
    seconds = time.perf_counter() - start
    context.close()  # Voilà shuts the kernel down when its page goes away
    return seconds


def measure(mode: str, notebooks: list[str], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "voila.log"
        with voila_server(extra_args=MODES[mode], log_path=log) as base, sync_playwright() as playwright:
            preheat = mode == "pre-heated"
            if preheat:
                wait_for_pools(log, len(notebook_names()))
            wait_until_idle()
            browser = launch_chromium(playwright)
            for name in notebooks:
                url = dashboard_url(base, name)
                plots = plots_on(browser, url)
                times[name] = []
                for _ in range(runs):
                    if preheat:  # every pool is full again
                        wait_for_pools(log, expected_fills(log))
                    wait_until_idle()
                    times[name].append(load_seconds(browser, url, plots))
                    print(f"  {mode:10} {name:30} {times[name][-1]:6.2f} s", file=sys.stderr)
            browser.close()
    return times


def expected_fills(log: Path) -> int:
    """Pool fills to wait for: one per notebook at start, plus one refill for each pre-heated page served so far."""
    text = log.read_text(errors="replace")
    return len(notebook_names()) + text.count("Using pre-heated kernel")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebook names (default: every dashboard)")
    parser.add_argument("--runs", type=int, default=5, help="loads per dashboard and mode (default 5)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    args = parser.parse_args()
    notebooks = args.notebooks or notebook_names()
    results = {mode: measure(mode, notebooks, args.runs) for mode in args.modes}
    print(f"Seconds from request to every plot drawn, idle server, fresh browser cache, {args.runs} loads each")
    header = "".join(f"{mode + ' median':>20}{'worst':>8}" for mode in args.modes)
    ratio = len(args.modes) == 2
    print(f"{'dashboard':30}{header}" + (f"{'ratio':>8}" if ratio else ""))
    for name in notebooks:
        row = "".join(f"{statistics.median(results[m][name]):20.2f}{max(results[m][name]):8.2f}" for m in args.modes)
        if ratio:
            first, second = (statistics.median(results[m][name]) for m in args.modes)
            row += f"{first / second:8.2f}"
        print(f"{name:30}{row}")
    print("target: under 5 s" + (f"; ratio = {args.modes[0]} / {args.modes[1]}" if ratio else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
