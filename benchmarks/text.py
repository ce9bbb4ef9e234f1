"""Dashboard 10's speed goals, measured (issue 27): each as a ratio to its budget, in one run.

1. In the kernel: tracing a 2,000-character passage through the shipped character GRU and colouring it (the HTML of
   one unit); budget 150 ms. ``--rounds`` passages from the test text, with the spread.
2. In the kernel: sampling 500 characters; budget 1 s.
3. In the browser: a change of unit, and a change of pattern, until the page shows it (the coloured text, the units'
   bars); budget 200 ms each. ``--changes`` of each, after the server is idle.

Usage: ``python benchmarks/text.py [--rounds 10] [--changes 10] [--no-browser]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

BUDGETS = {"trace": 150.0, "sample": 1000.0, "unit": 200.0, "pattern": 200.0}


def kernel_times(rounds: int) -> dict[str, list[float]]:
    import torch

    import grutools
    from grutools.core.resources import data_dir
    from grutools.plots.text import coloured_text
    from grutools.text import load_text, sample_text
    from grutools.text.reading import read

    torch.set_num_threads(1)  # as in a classroom kernel
    model = grutools.load(data_dir() / "checkpoints" / "text_gru.pt").model
    test = load_text("test")
    times = {"trace": [], "sample": []}
    read(model, test[:100])  # the first call pays for torch's start
    for r in range(rounds):
        passage = test[r * 7000:r * 7000 + 2000]
        started = time.perf_counter()
        reading = read(model, passage)
        coloured_text(passage, reading.hidden[:, r % model.hidden_size], "unit")
        times["trace"].append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        sample_text(model, "def ", 500, 0.8, seed=r)
        times["sample"].append(1000 * (time.perf_counter() - started))
    return times


WATCH = """(selector) => {
  window.__shown = null;
  const seen = new MutationObserver(() => { seen.disconnect(); window.__shown = performance.now() - window.__t0; });
  // the widget's box, which keeps its element when the HTML inside it is replaced
  seen.observe(document.querySelector(selector).parentElement, {subtree: true, childList: true,
                                                                characterData: true, attributes: true});
  window.__t0 = performance.now();
}"""
SHOWN = "() => window.__shown"


def browser_times(changes: int) -> dict[str, list[float]]:
    """From the key press or the menu's change (the clock starts in the page just before it) to the first change
    of what shows the result."""
    from playwright.sync_api import sync_playwright

    from grutools.testing.serving import (
        dashboard_url,
        launch_chromium,
        reveal_all,
        voila_server,
        wait_for_dashboard,
        wait_until_idle,
    )

    times = {"unit": [], "pattern": []}
    with voila_server() as base, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(dashboard_url(base, "10_gru_reads.ipynb"), wait_until="commit")
        wait_for_dashboard(page)
        reveal_all(page, held=False)  # the views a question holds back: shown, as after a fold
        wait_until_idle()
        unit = page.get_by_label("unit", exact=True)
        menu = page.get_by_label("pattern", exact=True)
        patterns = ["bracket depth", "indentation level", "position in the line", "inside a comment",
                    "inside a string literal"]
        for change in range(changes):
            unit.fill(str(10 + change))
            page.evaluate(WATCH, ".grutools-text")
            unit.press("Enter")
            times["unit"].append(page.wait_for_function(SHOWN, timeout=30_000, polling=10).json_value())
            page.wait_for_timeout(500)
            page.evaluate(WATCH, ".js-plotly-plot")
            menu.select_option(label=patterns[change % len(patterns)])
            times["pattern"].append(page.wait_for_function(SHOWN, timeout=30_000, polling=10).json_value())
            page.wait_for_timeout(700)
        browser.close()
    return times


def report(label: str, times: list[float], budget: float) -> bool:
    ordered = sorted(times)
    median = statistics.median(times)
    print(f"{label}: median {median:.0f} ms, from {ordered[0]:.0f} to {ordered[-1]:.0f} ms over {len(times)}; "
          f"median / budget ({budget:.0f} ms) = {median / budget:.2f}")
    return median <= budget


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="passages traced and samples written (default 10)")
    parser.add_argument("--changes", type=int, default=10, help="changes of unit and of pattern (default 10)")
    parser.add_argument("--no-browser", action="store_true", help="the kernel's part only")
    args = parser.parse_args()
    times = kernel_times(args.rounds)
    ok = report("kernel: trace and colour 2,000 characters", times["trace"], BUDGETS["trace"])
    ok &= report("kernel: sample 500 characters", times["sample"], BUDGETS["sample"])
    if not args.no_browser:
        shown = browser_times(args.changes)
        ok &= report("browser: a change of unit until the text shows it", shown["unit"], BUDGETS["unit"])
        ok &= report("browser: a change of pattern until the bars show it", shown["pattern"], BUDGETS["pattern"])
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
