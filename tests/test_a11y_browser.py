"""Every screen a class uses, accessibly: on every dashboard at 1280x800, 1024x768 (a projector) and 768x1024
(a tablet), nothing is cut off and axe-core's WCAG 2.1 A and AA rules find nothing; plots follow the window;
a keyboard alone moves a slider and presses buttons.

axe-core comes from the npm registry (``make test`` installs it into ``.venv/npm``), never from the repository.
"""

import os
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import sync_playwright  # noqa: E402

from grutools.testing.serving import (  # noqa: E402
    CHROMIUM,
    dashboard_url,
    launch_chromium,
    notebook_names,
    reveal_all,
    voila_server,
    wait_for_dashboard,
)

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(os.environ.get("GRUTOOLS_AXE", ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"))
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# what is cut off: a plot, control, number or text whose right edge passes the window or a clipping box around it
CUT_OFF = """() => {
  const W = window.innerWidth, cut = [];
  const parts = document.querySelectorAll('svg.main-svg, .widget-readout, button, input, select, .widget-label, ' +
                                          '.noUi-target, .widget-html-content, .grutools-status, .progress');
  for (const e of parts) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    let limit = W;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible') limit = Math.min(limit, a.getBoundingClientRect().right);
    }
    const name = String(e.className.baseVal ?? e.className).split(' ')[0];
    const label = (e.textContent || '').trim().slice(0, 30);
    if (r.right > limit + 1) cut.push(`${e.tagName} ${name} "${label}" ${Math.round(r.right)} > ${Math.round(limit)}`);
  }
  return {scroll: document.documentElement.scrollWidth, width: W, cut};
}"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    if not AXE.exists():
        message = f"axe-core is not installed at {AXE} (make test installs it with npm)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with voila_server(preheat=False) as server, sync_playwright() as playwright:  # pre-heating is not tested here
        chromium = launch_chromium(playwright)
        chromium.server = server
        yield chromium
        chromium.close()


SIZES = [(1280, 800), (1024, 768), (768, 1024)]  # a laptop, a projector, a tablet


@pytest.mark.parametrize("notebook", notebook_names())
def test_nothing_cut_off_and_no_wcag_violations_at_any_size(browser, notebook):
    """One load per dashboard, then the window takes each size in turn (the layout follows it, as tested below):
    first as it opens, questions open, then with every question folded away, which shows the views kept behind
    them (axe and the cut-off check look only at what is shown)."""
    page = browser.new_page(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
    page.goto(dashboard_url(browser.server, notebook), wait_until="commit")
    wait_for_dashboard(page)
    page.add_script_tag(path=str(AXE))
    for folded in (False, True):
        if folded:
            reveal_all(page, held=False)  # 00 holds nothing back
        for width, height in SIZES:
            where = f"{width}x{height}{', questions folded' if folded else ''}"
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(700)  # plots follow their boxes; our a11y script names what was just drawn
            layout = page.evaluate(CUT_OFF)
            assert layout["scroll"] <= width, f"{where}: the page is {layout['scroll']} px wide"
            assert layout["cut"] == [], f"{where}: {layout['cut']}"
            result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG21_AA)
            problems = [f"{v['id']} ({len(v['nodes'])}): {v['nodes'][0]['html'][:120]}" for v in result["violations"]]
            assert problems == [], f"{where}: {problems}"
    page.close()


def test_every_slider_and_plot_has_a_name(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(dashboard_url(browser.server, "03_vanishing_gradients.ipynb"), wait_until="commit")
    wait_for_dashboard(page, plots=2)
    page.wait_for_timeout(500)
    names = page.evaluate("Array.from(document.querySelectorAll('[role=slider]'), s => s.getAttribute('aria-label'))")
    assert "sequence length" in names and all(name and name != "slider" for name in names)
    plots = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'), p => p.getAttribute('aria-label'))")
    assert plots and all(label and label.startswith("Plot: ") and len(label) > 12 for label in plots), plots
    page.close()


def test_plots_follow_the_window_and_go_beneath_their_controls_when_narrow(browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(dashboard_url(browser.server, "00_welcome.ipynb"), wait_until="commit")
    wait_for_dashboard(page)
    box = "() => { const p = document.querySelector('.grutools-plot svg.main-svg').getBoundingClientRect();" \
          " const c = document.querySelector('.noUi-target').getBoundingClientRect();" \
          " return {width: p.width, top: p.top, controlsBottom: c.bottom}; }"
    wide = page.evaluate(box)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(1000)
    narrower = page.evaluate(box)
    page.set_viewport_size({"width": 768, "height": 1024})
    page.wait_for_timeout(1000)
    tablet = page.evaluate(box)
    assert narrower["width"] < wide["width"] - 200  # the plot shrank with the window
    assert wide["top"] < wide["controlsBottom"]  # beside the controls on a wide screen ...
    assert tablet["top"] > tablet["controlsBottom"] and tablet["width"] > 600  # ... beneath them, full width, on a tablet
    page.close()


def focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {label: e.getAttribute('aria-label') || e.textContent.trim(), role: e.getAttribute('role'),
                tag: e.tagName, value: e.getAttribute('aria-valuenow')}; }""")


def tab_to(page, wanted, limit: int = 60) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if wanted(element):
            return element
    raise AssertionError("Tab never reached the control")


def test_a_keyboard_alone_moves_a_slider_and_presses_train_and_stop(browser):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    page.goto(dashboard_url(browser.server, "00_welcome.ipynb"), wait_until="commit")
    wait_for_dashboard(page)
    page.wait_for_timeout(500)
    length = tab_to(page, lambda e: e["role"] == "slider" and e["label"] == "sequence length")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    assert float(focused(page)["value"]) > float(length["value"])  # moved, by the keyboard alone
    page.keyboard.press("End")  # the longest sequences and the most steps: a run long enough to stop
    tab_to(page, lambda e: e["role"] == "slider" and e["label"] == "training steps")
    page.keyboard.press("End")
    page.wait_for_timeout(300)
    assert float(focused(page)["value"]) == 1000
    tab_to(page, lambda e: e["tag"] == "BUTTON" and e["label"] == "Train")
    page.keyboard.press("Enter")
    page.wait_for_function("() => Array.from(document.querySelectorAll('button'))"
                           ".some(b => b.textContent.trim() === 'Stop' && !b.disabled)", timeout=30_000)
    # a few steps of a run that takes far longer (1,000 steps of length 200): Stop before the first step ended
    # says so instead ("Stopped before the first step"), so wait for the progress bar to move first
    page.wait_for_function("() => Array.from(document.querySelectorAll('.widget-hprogress .progress-bar'))"
                           ".some(bar => parseFloat(bar.style.width) > 0)", timeout=60_000)
    tab_to(page, lambda e: e["tag"] == "BUTTON" and e["label"] == "Stop")
    page.keyboard.press("Enter")
    try:
        page.wait_for_function("() => /final loss/.test(document.querySelector('.grutools-status').innerText)",
                               timeout=60_000)
    except Exception as error:  # say what the page showed instead
        stop = "enabled" if page.get_by_role("button", name="Stop").is_enabled() else "disabled"
        raise AssertionError(f"no final loss after Stop; the status said {page.inner_text('.grutools-status')!r}, "
                             f"and Stop is {stop}") from error
    assert "(stopped early)" in page.inner_text(".grutools-status")
    page.close()
