"""How fast does a plot follow a slider? (issue: classroom-ready serving)

Serves the dashboards with Voilà (``voila.json``, as ``make dashboards`` does), opens each
in headless Chromium and moves its main slider one step with the keyboard, ``--moves``
times (left, right, left, ...). The time of one move is measured in the page, from the
key press to the last change of any plot's drawing (a ``MutationObserver`` on every
plotly graph; the plot counts as settled when nothing has changed for 0.6 s). That
includes the widget message to the kernel, the kernel's computation, the figure
update back and plotly.js drawing it. Target: a median under 150 ms. The moves start
when the server is idle: after the page has loaded and Voilà has refilled its pool of
pre-heated kernels (which runs a whole notebook, and would otherwise share the CPU).

Usage: ``python benchmarks/dashboard_respond.py [--moves 10] [NOTEBOOK ...]``
"""

from __future__ import annotations

import argparse
import statistics
import sys

from playwright.sync_api import sync_playwright

from grutools.testing.serving import (
    dashboard_url,
    launch_chromium,
    notebook_names,
    reveal_all,
    voila_server,
    wait_for_dashboard,
    wait_until_idle,
)

# each dashboard's main slider (by its label) and what moving it redraws
SLIDERS = {
    "00_welcome.ipynb": ("training steps", "the loss plot's axis and its 'learned nothing' line"),
    "01_gru_cell.ipynb": ("x1", "the gate diagram, the activation curves and the equations"),
    "02_gates_over_time.ipynb": ("after step", "the 3 gate heatmaps and the unit close-up of a training snapshot (2 figures)"),
    "03_vanishing_gradients.ipynb": ("sequence length", "the gradients through time of 3 models (3 backward passes)"),
    "04_gru_vs_lstm.ipynb": ("GRU units", "parameter counts and a live timing of 12 training steps (3 models)"),
    "05_memory_timescales.ipynb": ("nudge at step", "the impulse responses of 2 models"),
}

WATCH = """() => {
  window.__respond = {t0: null, last: null};
  document.addEventListener('keydown', () => { window.__respond = {t0: performance.now(), last: null}; }, true);
  const seen = new MutationObserver(() => {
    if (window.__respond.t0 !== null) window.__respond.last = performance.now(); });
  document.querySelectorAll('.js-plotly-plot').forEach(
    p => seen.observe(p, {subtree: true, childList: true, attributes: true, characterData: true}));
}"""
SETTLED = """() => { const r = window.__respond;
                     return r.last !== null && performance.now() - r.last > 600 ? r.last - r.t0 : null; }"""


def move_times(page, label: str, moves: int) -> list[float]:
    """Milliseconds from each key press on the slider labelled ``label`` to its plots settling."""
    slider = page.locator(".widget-slider").filter(has_text=label).first.get_by_role("slider")
    page.evaluate(WATCH)
    times = []
    for move in range(moves):
        slider.focus()
        page.keyboard.press("ArrowLeft" if move % 2 == 0 else "ArrowRight")
        handle = page.wait_for_function(SETTLED, timeout=60_000, polling=50)
        times.append(handle.json_value())
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebook names (default: every dashboard)")
    parser.add_argument("--moves", type=int, default=10, help="slider moves per dashboard (default 10)")
    args = parser.parse_args()
    notebooks = args.notebooks or notebook_names()
    results = {}
    with voila_server() as base, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for name in notebooks:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(dashboard_url(base, name))
            wait_for_dashboard(page)
            reveal_all(page, held=False)  # the views a question holds back: shown, as after a fold
            page.wait_for_timeout(2000)  # let the first drawing finish
            wait_until_idle()  # and Voila's refill of the pre-heated pool, which runs a whole notebook
            results[name] = move_times(page, SLIDERS[name][0], args.moves)
            print(f"  {name:30} " + " ".join(f"{t:.0f}" for t in results[name]), file=sys.stderr)
            page.close()
        browser.close()
    print(f"Milliseconds from a slider's key press to its plots redrawn, in the browser, {args.moves} moves each")
    print(f"{'dashboard':30}{'slider':>18}{'median':>9}{'worst':>8}  redraws")
    for name in notebooks:
        label, what = SLIDERS[name]
        print(f"{name:30}{label:>18}{statistics.median(results[name]):9.0f}{max(results[name]):8.0f}  {what}")
    print("target: median under 150 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
