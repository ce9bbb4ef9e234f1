"""Less over the wire: a first visit to a dashboard and a second dashboard, in bytes as the network carries them."""

from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import sync_playwright  # noqa: E402

from grutools.testing.serving import CHROMIUM, WireMeter, dashboard_url, launch_chromium, voila_server, wait_for_dashboard  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make chromium)"),
]
FIRST_VISIT_MB = 5.0  # was about 15 MB uncompressed
SECOND_DASHBOARD_MB = 1.0


def test_a_first_visit_and_a_second_dashboard_stay_within_their_byte_budgets():
    with voila_server(preheat=["02_gates_over_time.ipynb", "03_vanishing_gradients.ipynb"]) as server, \
         sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context()  # a fresh profile: an empty cache
        first_page = context.new_page()
        first = WireMeter(first_page)
        first_page.goto(dashboard_url(server, "02_gates_over_time.ipynb"), wait_until="commit")
        wait_for_dashboard(first_page, plots=4)
        second_page = context.new_page()
        second = WireMeter(second_page)
        second_page.goto(dashboard_url(server, "03_vanishing_gradients.ipynb"), wait_until="commit")
        wait_for_dashboard(second_page, plots=2)
        second_page.wait_for_timeout(500)
        browser.close()
    assert first.total < FIRST_VISIT_MB * 1e6, f"first visit {first.total / 1e6:.2f} MB: {first.largest()}"
    assert second.total < SECOND_DASHBOARD_MB * 1e6, f"second dashboard {second.total / 1e6:.2f} MB: {second.largest()}"
    # compressed: plotly's 5 MB bundle arrives in well under half of that
    bundle = next(size for url, size in first.files.items() if "plotly-widget.js" in url)
    assert bundle < 2.0e6
    # and the kernel's websocket is compressed (about 0.2 MB less per first visit, measured through a proxy)
    assert first.websocket_extensions and all("permessage-deflate" in e for e in first.websocket_extensions)
