"""A lost connection says so: the banner when a page's kernel dies, none for a short drop that recovers."""

import os
import signal
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import sync_playwright  # noqa: E402

from grutools.testing.serving import CHROMIUM, dashboard_url, kernel_processes, launch_chromium, voila_server, wait_for_dashboard  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make chromium)"),
]
BANNER = "#grutools-connection-lost"


@pytest.fixture(scope="module")
def server():
    with voila_server(preheat=False) as url:
        yield url


@pytest.fixture
def page(server):
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        before = set(kernel_processes(server.pid))
        page.goto(dashboard_url(server, "05_memory_timescales.ipynb"), wait_until="commit")
        wait_for_dashboard(page)
        page.kernel_pids = set(kernel_processes(server.pid)) - before
        yield page
        browser.close()


def test_a_killed_kernel_shows_the_banner_within_seconds_and_reload_gives_a_fresh_one(page, server):
    assert len(page.kernel_pids) == 1 and page.locator(BANNER).count() == 0
    os.kill(page.kernel_pids.pop(), signal.SIGKILL)  # as the out-of-memory killer would
    started = time.monotonic()
    page.wait_for_selector(BANNER, timeout=15_000)
    waited = time.monotonic() - started
    banner = page.locator(BANNER)
    assert "lost its connection to the server" in banner.inner_text() and banner.get_attribute("role") == "alert"
    assert waited < 10, f"the banner took {waited:.1f} s"
    assert page.evaluate("document.activeElement.textContent") == "Reload"  # one Enter away
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    wait_for_dashboard(page)
    assert page.locator(BANNER).count() == 0


def test_a_short_drop_that_recovers_shows_no_banner(page):
    page.evaluate("window.grutoolsKernelSockets.forEach(s => s.close())")  # as a Wi-Fi hiccup would
    time.sleep(7)  # longer than the banner's grace period
    assert page.locator(BANNER).count() == 0
    assert page.evaluate("window.grutoolsKernelSockets.some(s => s.readyState === WebSocket.OPEN)")
