"""How much does the live dashboard slow training down? (issue: gates over time)

Trains the same GRU on the same task twice, several times each:

* **plain**: ``grutools.train`` in a fresh Python process, no callback, no widgets;
* **dashboard**: the Voilà dashboard ``02_gates_over_time`` in headless Chromium,
  pressing *Train* with the same settings, the loss curve and progress bar
  redrawn live (4 times a second) while it trains in the kernel's background thread.

Both use one torch thread, as the dashboard does. The dashboard's time is the
training time it reports (from the first to the last step), read from the page.
Prints the medians side by side and their ratio; the target is a ratio under 1.10.

Usage: ``python benchmarks/live_plotting.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys

from playwright.sync_api import sync_playwright

from grutools.testing.serving import dashboard_url, launch_chromium, voila_server, wait_for_dashboard, wait_until_idle

STEPS = 3000  # the dashboard's slider maximum (set with the End key)
PLAIN = """
import torch
torch.set_num_threads(1)
from grutools import AddingProblem, SequenceModel, train
task = AddingProblem(50)
model = SequenceModel("gru", hidden_size=16, seed=0, **task.model_kwargs())
history = train(model, task, steps={steps}, lr=0.01, seed=0)
print(history.wall_time[-1])
"""


def plain_seconds(steps: int) -> float:
    out = subprocess.run([sys.executable, "-c", PLAIN.format(steps=steps)], check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def dashboard_seconds(page) -> float:
    slider = page.locator("[role=slider]:not(.grutools-question [role=slider])").first  # not a question's
    slider.focus()
    page.keyboard.press("End")
    page.get_by_role("button", name="Train").click()
    page.wait_for_selector(".grutools-status.grutools-info >> text=Training a GRU", timeout=30_000)
    page.wait_for_selector(".grutools-ok", timeout=300_000)
    status = page.inner_text(".grutools-ok")
    match = re.search(rf"Trained {STEPS} steps in ([0-9.]+) s", status)
    if not match:
        raise RuntimeError(f"unexpected status: {status!r}")
    return float(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    plain = [plain_seconds(STEPS) for _ in range(args.repeats)]
    live = []
    with voila_server() as base, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(dashboard_url(base, "02_gates_over_time.ipynb"))
        wait_for_dashboard(page)
        wait_until_idle()  # Voilà refills its pool of pre-heated kernels: a whole notebook run, competing for the CPU
        for _ in range(args.repeats):
            live.append(dashboard_seconds(page))
            page.wait_for_timeout(500)
        browser.close()
    p, d = statistics.median(plain), statistics.median(live)
    print(f"GRU, 16 units, adding problem length 50, batch 64, {STEPS} steps, 1 torch thread, {args.repeats} runs each")
    print(f"{'':28}{'median s':>10}{'runs':>30}")
    print(f"{'plain train()':28}{p:10.2f}{'  '.join(f'{v:.2f}' for v in plain):>30}")
    print(f"{'dashboard, plotting live':28}{d:10.2f}{'  '.join(f'{v:.2f}' for v in live):>30}")
    print(f"ratio dashboard / plain: {d / p:.3f}  (target < 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
