"""Start Voilà and a headless Chromium: shared by the browser tests, the screenshot script and the benchmarks.

Playwright is a development dependency, imported only when a browser is needed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def voila_server(port: int | None = None, extra_args: list[str] | None = None, timeout: float = 60.0,
                 log_path: str | os.PathLike | None = None) -> Iterator[str]:
    """Run ``voila notebooks/`` from the project root (so it reads ``voila.json``) and yield its base URL."""
    port = port or free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    command = [sys.executable, "-m", "voila", "notebooks/", f"--port={port}", "--no-browser",
               "--Voila.ip=127.0.0.1", *(extra_args or [])]
    env = dict(os.environ)
    # our Voila template lives in share/jupyter of the repository (make install also links it into the venv)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(ROOT / "share" / "jupyter"), env.get("JUPYTER_PATH")]))
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"voila exited with code {process.returncode} before serving {url}")
            try:
                urllib.request.urlopen(url + "/voila/api/contents", timeout=2)  # noqa: S310 (localhost)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"voila did not answer on {url} within {timeout:.0f} s") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log_path:
            log.close()


def launch_chromium(playwright):
    """A headless Debian Chromium driven by Playwright (Playwright's own browser download does not work here)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (make chromium).")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def is_local(url: str) -> bool:
    """True for addresses on this machine (and for data:, blob: and about: URLs, which fetch nothing)."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    return parsed.hostname in ("127.0.0.1", "localhost", "::1")


def dashboard_url(base: str, notebook: str) -> str:
    """The Voilà URL of a notebook in ``notebooks/``."""
    return f"{base}/voila/render/{notebook}"


def wait_for_dashboard(page, timeout_ms: int = 90_000, plots: int = 1) -> None:
    """Wait until Voilà has run every cell and at least ``plots`` plotly graphs are drawn."""
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=plots, timeout=timeout_ms)
    page.wait_for_function("() => !document.querySelector('.voila-spinner, #loading')"
                           " || getComputedStyle(document.querySelector('.voila-spinner, #loading')).display === 'none'",
                           timeout=timeout_ms)
