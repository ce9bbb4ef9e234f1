"""Serve the dashboards with Voilà and save a 1280x800 screenshot of each.

Usage: ``python scripts/screenshot.py [NOTEBOOK ...]``.

Prints any request that left localhost and the bytes each page received, so a
person can look at the PNGs and know what the page cost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from grutools.serving import ROOT, dashboard_url, is_local, launch_chromium, notebook_names, voila_server, wait_for_dashboard


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", help="notebook names (default: all in notebooks/)")
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="folder for the PNGs")
    parser.add_argument("--all-plots", action="store_true", help="also one screenshot scrolled to each plot")
    args = parser.parse_args()
    names = args.notebooks or notebook_names()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with voila_server(log_path=out / "voila.log") as base, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for name in names:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            outside, received = [], []
            page.on("request", lambda r, out=outside: None if is_local(r.url) else out.append(r.url))
            client = page.context.new_cdp_session(page)
            client.send("Network.enable")
            client.on("Network.dataReceived", lambda e, got=received: got.append(e["encodedDataLength"]))
            client.on("Network.webSocketFrameReceived", lambda e, got=received: got.append(len(e["response"]["payloadData"])))
            page.goto(dashboard_url(base, name))
            wait_for_dashboard(page)
            page.wait_for_timeout(1000)
            path = out / (Path(name).stem + ".png")
            page.screenshot(path=str(path))
            if args.all_plots:
                for number, plot in enumerate(page.locator(".js-plotly-plot").all(), start=1):
                    plot.scroll_into_view_if_needed()
                    page.screenshot(path=str(out / f"{Path(name).stem}-plot{number}.png"))
            print(f"{name}: {path}  page weight {sum(received) / 2**20:.1f} MB"
                  + (f"  OUTSIDE REQUESTS: {outside}" if outside else ""))
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
