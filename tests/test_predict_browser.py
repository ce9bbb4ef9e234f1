"""Predict, then check in a real browser: commit, run, check, the explanation; by keyboard alone; the teacher's page.

axe-core's WCAG 2.1 A and AA rules run on the teacher's page here (the dashboards' questions are in every
dashboard's page, which ``tests/test_a11y_browser.py`` checks at three screen sizes).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from grutools.classroom.teacher import teacher_token  # noqa: E402
from grutools.core.tally import TALLY  # noqa: E402
from grutools.testing.serving import CHROMIUM, dashboard_url, launch_chromium, voila_server, wait_for_dashboard  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(os.environ.get("GRUTOOLS_AXE", ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"))
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make chromium)"),
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    tally = tmp_path_factory.mktemp("class") / "tally.sqlite3"
    with voila_server(env={TALLY: str(tally)}, preheat=False) as server, sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        chromium.server, chromium.token = server, teacher_token(tally)
        yield chromium
        chromium.close()


def question(page, words: str):
    """The question box whose prompt holds ``words``."""
    return page.locator(".grutools-question").filter(has_text=words)


def test_commit_then_run_then_check_shows_the_pages_explanation(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(dashboard_url(browser.server, "01_gru_cell.ipynb"), wait_until="commit")
    wait_for_dashboard(page)
    box = question(page, "reset gate at r = 0")
    check = box.get_by_role("button", name="Check it on this page")
    expect(check).to_be_disabled()
    # the three buttons share one line: Commit (an anywidget) sits level with its two ipywidgets neighbours
    tops = [box.get_by_role("button", name=name).bounding_box()["y"]
            for name in ("Commit my prediction", "Check it on this page", "Predict again")]
    assert max(tops) - min(tops) < 0.5, tops
    box.get_by_label("no", exact=True).check()
    box.get_by_role("button", name="Commit my prediction").click()
    expect(check).to_be_enabled()
    check.click()  # the experiment has not been run: the page says what to do, and reveals nothing
    expect(box.locator(".grutools-status")).to_contain_text("Press 'r = 0 (ignore past)'")
    expect(box.locator(".grutools-reveal")).to_have_count(0)
    page.get_by_role("button", name="r = 0 (ignore past)").click()
    check.click()
    reveal = box.locator(".grutools-reveal")
    expect(reveal).to_contain_text("You predicted no")
    expect(reveal).to_contain_text("the candidate n went from")
    box.get_by_role("button", name="Predict again").click()
    expect(reveal).to_have_count(0)
    box.get_by_role("button", name="Hide the question").click()  # folded: the prompt goes, the header stays
    expect(box.get_by_text("Commit my prediction")).to_be_hidden()
    box.get_by_role("button", name="Show the question").click()
    expect(box.get_by_role("button", name="Commit my prediction")).to_be_visible()
    page.close()


def test_a_keyboard_alone_predicts_commits_and_checks(browser):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    page.goto(dashboard_url(browser.server, "01_gru_cell.ipynb"), wait_until="commit")
    wait_for_dashboard(page)
    box = question(page, "what share of the")
    box.get_by_role("button", name="Hide the question").focus()
    page.keyboard.press("Tab")  # to the slider's handle
    focused = page.evaluate("() => document.activeElement.className")
    assert "noUi-handle" in focused, f"Tab reached {focused!r}, not the prediction slider"
    for _ in range(5):
        page.keyboard.press("ArrowRight")  # 0.50 -> 0.75 in steps of 0.05
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the readout, to the commit button
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Commit my prediction"
    page.keyboard.press("Enter")
    expect(box.get_by_role("button", name="Check it on this page")).to_be_enabled()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Check it on this page"
    page.keyboard.press("Enter")
    reveal = box.locator(".grutools-reveal")
    expect(reveal).to_contain_text("You predicted 0.75")
    expect(reveal).to_contain_text("matches what this page measured")
    page.close()


def test_the_teacher_page_counts_live_shows_on_demand_and_passes_axe(browser):
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE} (make test installs it with npm)")
    teacher = browser.new_page(viewport={"width": 1280, "height": 800})
    teacher.goto(f"{browser.server}/teacher?token={browser.token}")
    assert teacher.url == f"{browser.server}/teacher"  # projected: the address shows no token
    prompt = teacher.locator(".question").filter(has_text="pin the update gate at z = 1")
    expect(prompt).to_be_visible(timeout=30_000)  # the pages opened above registered 01's questions
    before = int(prompt.locator(".votes").inner_text().split()[0])
    student = browser.new_page(viewport={"width": 1024, "height": 768})
    student.goto(dashboard_url(browser.server, "01_gru_cell.ipynb"), wait_until="commit")
    wait_for_dashboard(student)
    box = question(student, "pin the update gate at z = 1")
    box.get_by_label("the candidate n", exact=True).check()
    box.get_by_role("button", name="Commit my prediction").click()
    expect(prompt.locator(".votes")).to_have_text(f"{before + 1} {'page has' if before == 0 else 'pages have'} voted.",
                                                  timeout=10_000)
    expect(prompt.locator(".bar")).to_have_count(0)  # hidden until the teacher shows them
    prompt.get_by_role("button", name="Show the answers").focus()
    teacher.keyboard.press("Enter")
    expect(prompt.locator(".bar").filter(has_text="the candidate n")).to_contain_text("1 (")
    prompt.get_by_role("button", name="Show the answer key").click()
    expect(prompt.locator(".key")).to_contain_text("copied")
    teacher.add_script_tag(path=str(AXE))
    result = teacher.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG21_AA)
    problems = [f"{v['id']}: {v['nodes'][0]['html'][:120]}" for v in result["violations"]]
    assert problems == []
    student.close()
    teacher.close()
