"""Serve the dashboards with Voilà and save a screenshot of each at 1280x800 and at 1024x768 (a projector).

Usage: ``python scripts/screenshot.py [NOTEBOOK ...] [--sizes 1280x800 1024x768] [--all-plots]``.

Prints any request that left localhost and the bytes each page received, so a
person can look at the PNGs and know what the page cost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from grutools.testing.serving import (
    ROOT,
    dashboard_url,
    is_local,
    launch_chromium,
    notebook_names,
    voila_server,
    wait_for_dashboard,
)


def viewport(text: str) -> tuple[int, int]:
    """``"1024x768"`` as ``(1024, 768)``."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a window size is WIDTHxHEIGHT, e.g. 1024x768; got {text!r}") from None
    return width, height


def shoot(browser, base: str, name: str, out: Path, width: int, height: int, all_plots: bool) -> None:
    """Open one dashboard in a ``width`` x ``height`` window, wait for its plots, and save the PNG(s)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    outside, received = [], []
    page.on("request", lambda r, seen=outside: None if is_local(r.url) else seen.append(r.url))
    client = page.context.new_cdp_session(page)
    client.send("Network.enable")
    client.on("Network.dataReceived", lambda e, got=received: got.append(e["encodedDataLength"]))
    client.on("Network.webSocketFrameReceived", lambda e, got=received: got.append(len(e["response"]["payloadData"])))
    page.goto(dashboard_url(base, name), wait_until="commit")
    wait_for_dashboard(page)
    page.wait_for_timeout(1000)
    stem = f"{Path(name).stem}-{width}x{height}"
    path = out / f"{stem}.png"
    page.screenshot(path=str(path))
    if all_plots:
        for number, plot in enumerate(page.locator(".js-plotly-plot").all(), start=1):
            plot.scroll_into_view_if_needed()
            page.screenshot(path=str(out / f"{stem}-plot{number}.png"))
    print(f"{name} at {width}x{height}: {path}  page weight {sum(received) / 2**20:.1f} MB"
          + (f"  OUTSIDE REQUESTS: {outside}" if outside else ""))
    page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", help="notebook names (default: all in notebooks/)")
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="folder for the PNGs")
    parser.add_argument("--all-plots", action="store_true", help="also one screenshot scrolled to each plot")
    parser.add_argument("--sizes", nargs="+", default=[(1280, 800), (1024, 768)], type=viewport,
                        help="window sizes, WIDTHxHEIGHT (default: 1280x800 1024x768)")
    args = parser.parse_args()
    names = args.notebooks or notebook_names()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with voila_server(log_path=out / "voila.log") as base, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for name in names:
            for width, height in args.sizes:
                shoot(browser, base, name, out, width, height, args.all_plots)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
