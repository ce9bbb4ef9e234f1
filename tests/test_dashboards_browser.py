"""Real-browser tests: Voila serves notebooks/, headless Chromium (Playwright) opens each dashboard."""

import time
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from grutools.testing.serving import (  # noqa: E402
    CHROMIUM,
    dashboard_url,
    is_local,
    launch_chromium,
    reveal_all,
    voila_server,
    wait_for_dashboard,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make chromium)"),
]


@pytest.fixture(scope="module")
def server_log(tmp_path_factory):
    return tmp_path_factory.mktemp("voila") / "voila.log"


@pytest.fixture(scope="module")
def server(server_log):
    with voila_server(log_path=server_log) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


class Dashboard:
    """An open dashboard page that records every request leaving localhost and every uncaught page error."""

    def __init__(self, browser, server, notebook):
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.outside, self.page_errors = [], []
        self.page.on("request", lambda r: None if is_local(r.url) else self.outside.append(r.url))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.goto(dashboard_url(server, notebook), wait_until="commit")
        wait_for_dashboard(self.page)

    def assert_clean(self):
        text = self.page.inner_text("body")
        assert "There was an error when executing cell" not in text
        assert "Traceback" not in text
        assert self.page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
        assert self.page.locator(".grutools-error").count() == 0, self.page.locator(".grutools-error").all_inner_texts()
        assert self.outside == [], f"requests left localhost: {self.outside}"
        assert self.page_errors == [], self.page_errors


@pytest.fixture
def open_dashboard(browser, server):
    pages = []

    def opener(notebook):
        dashboard = Dashboard(browser, server, notebook)
        pages.append(dashboard)
        return dashboard

    yield opener
    for dashboard in pages:
        dashboard.page.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_dashboard_opens_with_plots_and_no_errors(open_dashboard, notebook):
    dashboard = open_dashboard(notebook)
    assert dashboard.page.locator(".js-plotly-plot").count() >= 1
    dashboard.assert_clean()


POINTS_DRAWN = """name => { const plot = document.querySelector('.js-plotly-plot');
                             const trace = plot.data.find(t => t.name === name);
                             return trace && trace.x ? trace.x.length : 0; }"""


def app_sliders(page):
    """The dashboard's own sliders, in page order: not the prediction sliders of its questions."""
    return page.locator("[role=slider]:not(.grutools-question [role=slider])")


def points_drawn(page, trace_name):
    return page.evaluate(POINTS_DRAWN, trace_name)


def test_welcome_trains_live_and_stops(open_dashboard):
    dashboard = open_dashboard("00_welcome.ipynb")
    page = dashboard.page
    for slider in (0, 1):  # sequence length and training steps at their maximum, so that Stop has time to act
        app_sliders(page).nth(slider).focus()
        page.keyboard.press("End")
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(f"() => ({POINTS_DRAWN})('GRU') > 0", timeout=30_000)
    first = points_drawn(page, "GRU")
    # the curve is redrawn once a second while training runs
    page.wait_for_function(f"first => ({POINTS_DRAWN})('GRU') > first", arg=first, timeout=5_000)
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector(".grutools-ok", timeout=30_000)
    status = page.inner_text(".grutools-ok")
    assert "stopped early" in status and "GRU: final loss" in status
    dashboard.assert_clean()


def shown_value(page, name):
    return float(page.inner_text(f'.gru-value[data-name="{name}"]').replace("−", "-"))


def test_cell_dashboard_slider_changes_gates_and_z1_copies_the_state(open_dashboard):
    dashboard = open_dashboard("01_gru_cell.ipynb")
    page = dashboard.page
    z_before, h_before = shown_value(page, "z"), shown_value(page, "h")
    colors_before = page.evaluate("() => JSON.stringify(document.querySelector('.js-plotly-plot').data[0].marker.color)")
    slider = app_sliders(page).first  # input x1
    slider.focus()
    page.keyboard.press("End")  # x1 = 2
    page.wait_for_function("z => { const e = document.querySelector('.gru-value[data-name=\"z\"]');"
                           " return e && parseFloat(e.innerText.replace('−', '-')) !== z; }", arg=z_before, timeout=15_000)
    assert shown_value(page, "h") != h_before
    page.wait_for_function("before => JSON.stringify(document.querySelector('.js-plotly-plot').data[0].marker.color)"
                           " !== before", arg=colors_before, timeout=15_000)
    page.get_by_role("button", name="z = 1 (copy)").click()
    page.wait_for_selector("text=(pinned by the button)", timeout=15_000)
    assert shown_value(page, "z") == 1.0
    assert shown_value(page, "h") == shown_value(page, "h_prev")
    dashboard.assert_clean()


HEATMAP_TITLE = """() => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
                       .find(p => p.data && p.data.some(t => t.type === 'heatmap'));
                   return plot ? plot.layout.title.text : null; }"""
LOSS_POINTS = """() => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
                       .find(p => p.layout && p.layout.title && String(p.layout.title.text).startsWith('Training loss'));
                   const trace = plot && plot.data.find(t => t.name === 'GRU');
                   return trace && trace.x ? trace.x.length : 0; }"""


def test_gates_dashboard_shows_heatmaps_trains_stops_and_updates(open_dashboard):
    dashboard = open_dashboard("02_gates_over_time.ipynb")
    page = dashboard.page
    reveal_all(page)
    before = page.evaluate(HEATMAP_TITLE)
    assert before and "after 1500 of 1500 training steps" in before  # the pre-trained model, at once
    assert "clear memory" in page.inner_text(".grutools-findings")
    steps = app_sliders(page).first  # training steps: the maximum, so that Stop has time to act
    steps.focus()
    page.keyboard.press("End")
    page.get_by_role("button", name="Train").click()
    # the pre-trained model's 1500-step curve is replaced by the new run's, which then grows
    page.wait_for_function(f"() => {{ const n = ({LOSS_POINTS})(); return n > 0 && n < 1000; }}", timeout=30_000)
    first = page.evaluate(LOSS_POINTS)
    page.wait_for_timeout(1500)
    assert page.evaluate(LOSS_POINTS) > first, "the loss curve did not grow while training ran"
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector(".grutools-ok", timeout=30_000)
    assert "stopped early" in page.inner_text(".grutools-ok")
    page.wait_for_function(f"before => ({HEATMAP_TITLE})() !== before", arg=before, timeout=15_000)
    after = page.evaluate(HEATMAP_TITLE)
    stopped_at = int(after.split("after ")[1].split(" of ")[0])
    assert 0 < stopped_at < 3000 and after.endswith(f"of {stopped_at} training steps")
    dashboard.assert_clean()


def plot_with_title(text):
    return f"""() => [...document.querySelectorAll('.js-plotly-plot')]
                     .find(p => p.layout && p.layout.title && String(p.layout.title.text).includes({text!r}))"""


GRU_DECAY = """() => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
                 .find(p => p.data && p.data.some(t => String(t.name).startsWith('GRU: ×')));
               const t = plot && plot.data.find(t => String(t.name).startsWith('GRU: ×'));
               return t ? parseFloat(String(t.name).split('×')[1]) : 0; }"""
GRADIENT_POINTS = """() => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
                       .find(p => p.data && p.data.some(t => String(t.name).startsWith('tanh RNN: ×')));
                   return plot ? plot.data[0].x.length : 0; }"""
RACE_CURVES = """() => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
                     .find(p => p.data && p.data.filter(t => t.type === 'heatmap').length === 3);
                   return plot ? Object.fromEntries(plot.data.filter(t => t.type === 'scatter' && t.x)
                                                    .map(t => [t.name, t.x.length])) : null; }"""


def test_vanishing_dashboard_redraws_on_length_and_races(open_dashboard):
    dashboard = open_dashboard("03_vanishing_gradients.ipynb")
    page = dashboard.page
    reveal_all(page)
    assert page.evaluate(GRADIENT_POINTS) == 100
    sliders = app_sliders(page)
    sliders.nth(0).focus()  # sequence length of the gradient view
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ({GRADIENT_POINTS})() === 110", timeout=20_000)
    # chrono initialisation: the GRU's gradient no longer shrinks by a third per step back
    page.get_by_role("checkbox", name="chrono initialisation (T_max = length)").first.check()
    page.wait_for_function(f"() => ({GRU_DECAY})() > 0.9", timeout=20_000)
    # the sentences arrive in their own message, just after the figure's
    page.wait_for_function("() => document.body.innerText.includes('The tanh RNN has no gate to set')", timeout=20_000)
    assert "default biases" in page.inner_text("body")  # the chrono table over seeds
    sliders.nth(2).focus()  # race: sequence length, to its minimum (10)
    page.keyboard.press("Home")
    sliders.nth(3).focus()  # race: training steps, to its minimum (100)
    page.keyboard.press("Home")
    page.get_by_role("button", name="Race", exact=False).and_(page.locator(".mod-primary")).click()
    page.wait_for_selector(".grutools-ok >> text=Final training loss", timeout=60_000)
    curves = page.evaluate(RACE_CURVES)
    assert curves["tanh RNN"] == curves["GRU"] == curves["LSTM"] == 100
    assert "length 100" in page.inner_text("body")  # the multi-seed table
    dashboard.assert_clean()


def first_bar_values():
    return """() => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
                       .find(p => p.data && p.data.some(t => t.name === 'parameters'));
                   return plot ? JSON.stringify(plot.data[0].y) : null; }"""


def test_gru_vs_lstm_dashboard_counts_and_times_on_demand(open_dashboard):
    dashboard = open_dashboard("04_gru_vs_lstm.ipynb")
    page = dashboard.page
    reveal_all(page)
    before = page.evaluate(first_bar_values())
    assert before is not None
    app_sliders(page).first.focus()  # GRU hidden units
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"before => ({first_bar_values()})() !== before", arg=before, timeout=20_000)
    assert "ends lower" in page.inner_text("body") or "tied within the spread" in page.inner_text("body")
    # the speed verdict names its interval, and the shipped benchmark stands beside it
    assert "interleaved rounds" in page.inner_text("body") and "benchmarks/gru_vs_lstm.py on" in page.inner_text("body")
    # counting: the recognition rows (the hand-built counter among them) and the states along a longer string
    assert page.evaluate(COUNTING_ROWS) and "hand-built LSTM" in page.evaluate(COUNTING_ROWS)
    assert "n = 30 (beyond the training range" in page.inner_text("body")
    page.get_by_role("slider", name="show n").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.body.innerText.includes('n = 31 (beyond the training range')", timeout=20_000)
    dashboard.assert_clean()


COUNTING_ROWS = """() => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
                      .find(p => p.data && p.data.some(t => t.type === 'heatmap' && t.name === 'recognised'));
                  return plot ? plot.data[0].y.join('|') : null; }"""


IMPULSE_LINE = """() => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
                    .find(p => p.layout && p.layout.shapes && p.layout.shapes.length && p.data.some(
                          t => String(t.hovertemplate || '').includes('|Δh|')));
                  return plot ? plot.layout.shapes[0].x0 : null; }"""


def test_memory_dashboard_moves_the_nudge(open_dashboard):
    dashboard = open_dashboard("05_memory_timescales.ipynb")
    page = dashboard.page
    reveal_all(page)
    assert page.evaluate(IMPULSE_LINE) == 21
    app_sliders(page).first.focus()  # nudge at step
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ({IMPULSE_LINE})() === 22", timeout=20_000)
    assert "units follow" in page.inner_text(".grutools-findings >> nth=0") or "Every unit" in page.inner_text("body")
    names = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => (p.data || [])
                                     .map(t => t.name)).join('|')""")
    assert "at initialisation (default)" in names and "chrono initialisation (T_max = 100)" in names
    dashboard.assert_clean()


def test_plotly_is_fetched_once_as_a_file_not_sent_per_plot_over_the_websocket(browser, server):
    """Four plots used to cost 4 x 5 MB of websocket traffic; now the bundle is one cacheable static file."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    frames, bundles = [], []
    page.on("request", lambda r: bundles.append(r.url) if "plotly-widget.js" in r.url else None)
    client = page.context.new_cdp_session(page)
    client.send("Network.enable")
    client.on("Network.webSocketFrameReceived", lambda e: frames.append(len(e["response"]["payloadData"])))
    page.goto(dashboard_url(server, "02_gates_over_time.ipynb"), wait_until="commit")
    wait_for_dashboard(page)
    assert page.locator(".js-plotly-plot").count() == 4
    assert len(bundles) == 1 and is_local(bundles[0])
    assert sum(frames) < 3 * 2**20, f"{sum(frames) / 2**20:.1f} MB came over the websocket"
    page.close()


def test_closing_a_tab_shuts_its_kernel_down_and_frees_the_seat(browser, server, server_log):
    """Voila's page asks for its kernel's shutdown on unload; without an _xsrf cookie that request was refused."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # stays open, as the browser does
    page = context.new_page()
    page.goto(dashboard_url(server, "00_welcome.ipynb"), wait_until="commit")
    wait_for_dashboard(page)
    kernel_id = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    assert kernel_id
    page.close(run_before_unload=True)
    deadline = time.monotonic() + 30
    while f"Kernel shutdown: {kernel_id}" not in server_log.read_text():
        lines = [line for line in server_log.read_text().splitlines() if kernel_id in line or "shutdown" in line]
        assert time.monotonic() < deadline, f"the closed page's kernel is still running: {lines}"
        time.sleep(0.2)
    context.close()


MODEL_INPUT, CSV_INPUT = 0, 1  # the two upload buttons, in page order


def upload(page, which: int, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
    """Choose a file with an upload button, as a user does (ipywidgets' file input is never in the page)."""
    with page.expect_file_chooser() as chooser:
        page.locator(".widget-upload").nth(which).click()
    chooser.value.set_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
HEATMAP_NAMES = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => (p.data || [])
                         .filter(t => t.type === 'heatmap').map(t => t.name)).join('|')"""


def test_your_own_model_dashboard_uploads_a_model_and_a_csv_and_refuses_wrong_files(open_dashboard):
    """Dashboard 06 in the browser: a state_dict of a module with an LSTM inside and a CSV give the LSTM's views;
    then every wrong file from the list gets its sentence in the page, and the page keeps working."""
    import io

    import torch
    from test_explore import CSV, bad_csv_files, bad_model_files
    from torch import nn

    dashboard = open_dashboard("06_your_own_model.ipynb")
    page = dashboard.page
    reveal_all(page)
    assert "update gate z" in page.evaluate(HEATMAP_NAMES)  # the example: the adding problem's GRU
    forecaster = nn.Sequential()
    forecaster.add_module("encoder", nn.LSTM(2, 5, batch_first=True))
    buffer = io.BytesIO()
    torch.save(forecaster.state_dict(), buffer)
    upload(page, MODEL_INPUT, "forecaster.pt", buffer.getvalue())
    page.wait_for_selector(".grutools-ok >> text=forecaster.pt: an LSTM", timeout=20_000)
    page.get_by_label("id column").fill("id")
    page.keyboard.press("Tab")
    upload(page, CSV_INPUT, "runs.csv", CSV, "text/csv")
    page.wait_for_selector(".grutools-ok >> text=runs.csv: 2 sequence(s)", timeout=20_000)
    page.wait_for_function(f"() => ({HEATMAP_NAMES})().includes('cell state c')", timeout=20_000)
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].some(
                               p => p.layout && p.layout.title && String(p.layout.title.text).startsWith('Sequence a'))""",
                           timeout=20_000)  # the CSV's own sequences, by their id
    dashboard.assert_clean()
    for name, data, message in bad_model_files():
        if name == "big.pt":  # the page's limit is the shipped 20 MB: a file just over it
            data = b"PK\x03\x04" + b"0" * (21 * 2**20)
            message = "over the 20 MB limit"
        upload(page, MODEL_INPUT, name, data)
        page.wait_for_selector(f".grutools-error >> text={name}", timeout=30_000)
        assert message in page.inner_text(".grutools-error"), (name, page.inner_text(".grutools-error"))
    for name, data, message in bad_csv_files():
        if name == "big.csv":
            data = b"id,speed,load\n" + b"a,1,2\n" * 900_000  # just over the shipped 5 MB
            message = "the limit here is 5 MB"
        upload(page, CSV_INPUT, name, data, "text/csv")
        page.wait_for_function(f"() => [...document.querySelectorAll('.grutools-error')].some(e => "
                               f"e.innerText.includes({name!r}))", timeout=30_000)
        texts = " ".join(page.locator(".grutools-error").all_inner_texts())
        assert message in texts, (name, texts)
    # still working: the example comes back
    page.get_by_role("button", name="Try the example").click()
    page.wait_for_function(f"() => ({HEATMAP_NAMES})().includes('update gate z')", timeout=20_000)
    assert page.locator(".grutools-error").count() == 0 and "Traceback" not in page.inner_text("body")


def unveil(page, key: str, words: str, commit: bool) -> None:
    """A view that answers a question at a glance waits behind it: commit a prediction (the first choice), or fold
    the question (``key``, e.g. ``"07/study"``; ``words``, from its prompt) away; either shows the view."""
    held = page.locator(f".grutools-veil[data-question='{key}'] >> visible=true")
    expect(held.first).to_be_visible(timeout=30_000)  # (behind two questions, it shows once the first is lifted)
    box = page.locator(".grutools-question").filter(has_text=words)
    if commit:
        box.get_by_role("radio").first.check()
        box.get_by_role("button", name="Commit my prediction").click()
    else:
        box.get_by_role("button", name="Hide the question").click()
    expect(held).to_have_count(0, timeout=30_000)


def test_rivals_dashboard_races_two_models_stops_and_shows_the_study(open_dashboard):
    dashboard = open_dashboard("07_rivals.ipynb")
    page = dashboard.page
    for name in ("LSTM", "TCN"):  # on at the start: GRU, LSTM, minGRU, TCN
        page.get_by_role("checkbox", name=name, exact=True).uncheck()
    sliders = app_sliders(page)
    sliders.nth(0).focus()  # sequence length of running parity, to its minimum (10)
    page.keyboard.press("Home")
    sliders.nth(1).focus()  # training steps, to the most (600): a race long enough to stop
    page.keyboard.press("End")
    page.get_by_role("button", name="Race").click()
    page.wait_for_function("() => Array.from(document.querySelectorAll('.widget-hprogress .progress-bar'))"
                           ".some(bar => parseFloat(bar.style.width) > 0)", timeout=60_000)
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector(".grutools-ok >> text=stopped early", timeout=60_000)
    findings = page.inner_text(".grutools-findings >> nth=0")
    assert "GRU: final loss" in findings and "minGRU: final loss" in findings and "LSTM" not in findings
    sliders.nth(1).focus()
    page.keyboard.press("Home")  # 50 steps: a whole race
    page.get_by_role("button", name="Race").click()
    page.wait_for_function("() => document.body.innerText.includes('This race') && "
                           "!document.body.innerText.includes('stopped early')", timeout=120_000)
    unveil(page, "07/study", "In the shipped study", commit=True)
    reveal_all(page)  # the cost of length, and streaming, behind 'stream'
    body = page.inner_text("body")
    assert "length 10" in body and "Bai et al. 2018" in body and "What the shipped numbers say" in body
    assert page.locator(".js-plotly-plot").count() >= 4  # the race, the study, cost against length, streaming
    dashboard.assert_clean()


def test_training_with_care_runs_every_scenario_and_says_what_it_sees(open_dashboard):
    dashboard = open_dashboard("08_training_with_care.ipynb")
    page = dashboard.page
    expected = {"healthy": "a healthy run", "rate too high": "Spikes", "too high, clipped": "Spikes",
                "rate lowered": "", "rate too low": "flat curve", "few sequences": "overfitting"}
    for label, sign in expected.items():
        page.locator(".widget-toggle-button", has_text=label).first.click()
        page.get_by_role("button", name="Train").nth(1).click()  # the monitor's (the first is the preparation's)
        page.wait_for_function("label => { const line = document.querySelector('.grutools-monitor');"
                               "return line !== null && line.innerText.startsWith(`Monitor (${label}):`); }",
                               arg=label, timeout=180_000)  # a run stops at the 2-minute budget, and says so
        line = page.inner_text(".grutools-monitor")
        assert sign in line, (label, line)
    page.get_by_role("button", name="Sweep k").click()
    page.wait_for_function("() => document.body.innerText.includes('lead the input')", timeout=120_000)
    assert "What the shipped grid says" not in page.inner_text("body")  # the heatmaps answer 'carry' at a glance
    unveil(page, "08/carry", "best learning rate at 8 units", commit=True)
    unveil(page, "08/saturation", "Under 'rate too high'", commit=False)  # the shipped scenarios over seeds
    body = page.inner_text("body")
    assert "What the shipped grid says" in body and "The same scenarios over seeds" in body
    assert "For your own project" in body and "monitored_run" in body
    dashboard.assert_clean()


def train_then_stop(page) -> None:
    """Pick the longest run, press the first Train, press Stop once the run has reported a step, and wait for the
    run's findings, which must say it was stopped.

    The longest run leaves room: a run reports its progress every 0.25 s or less often when a redraw is slow (3 s
    and more on a loaded machine), and a 600-step run on a fast kernel could end between the page's sight of its
    progress and the Stop click's arrival (seen in CI: Stop already disabled)."""
    steps = page.get_by_label("steps", exact=True)
    longest = steps.locator("option").last.inner_text()
    steps.select_option(label=longest)
    page.get_by_role("button", name="Train").first.click()
    stop = page.get_by_role("button", name="Stop").first
    expect(stop).to_be_enabled(timeout=60_000)
    page.wait_for_function("() => document.querySelector('.widget-hprogress .progress-bar') &&"
                           "parseFloat(document.querySelector('.widget-hprogress .progress-bar').style.width) > 0",
                           timeout=90_000)
    stop.click()
    page.wait_for_function("() => document.body.innerText.includes('It is now')", timeout=60_000)
    assert "stopped early" in page.inner_text("body")


def test_a_gru_hears_plays_a_recording_trains_stops_and_takes_an_upload(open_dashboard, tmp_path):
    """Dashboard 09: pick a recording and hear it (the audio element plays), train and stop, upload a WAV."""
    dashboard = open_dashboard("09_gru_hears.ipynb")
    page = dashboard.page
    unveil(page, "09/settle", "How far into it", commit=False)  # the hearing view
    title = "document.querySelector('.js-plotly-plot .gtitle').textContent"
    assert "seven" in page.evaluate(title)
    page.get_by_label("digit").select_option(label="6 (six)")
    page.wait_for_function(f"() => {title}.includes('six')", timeout=30_000)
    # the player holds the kernel's WAV: it loads, has the recording's length, and plays (muted, headless)
    played = page.evaluate("""async () => {
        const audio = document.querySelector('audio');
        audio.muted = true;
        if (audio.readyState < 1) await new Promise(ok => audio.addEventListener('loadedmetadata', ok, {once: true}));
        await audio.play();
        await new Promise(ok => setTimeout(ok, 300));
        return {duration: audio.duration, time: audio.currentTime, paused: audio.paused};
    }""")
    assert 0.2 < played["duration"] < 2.5 and played["time"] > 0 and not played["paused"], played
    # the microphone needs a secure page: localhost is one, so the button is on
    assert page.locator(".grutools-record").is_enabled()
    # train, then stop (the training view waits behind 'accuracy': the shipped GRU's line in it gives that away)
    unveil(page, "09/accuracy", "will the GRU chosen above name right", commit=False)
    train_then_stop(page)
    assert "Stopped" in page.inner_text("body") or "stopped" in page.inner_text("body")
    # an upload: a WAV of a test recording, stereo at 16 kHz
    import numpy as np
    import soundfile

    from grutools.speech.audio import read_audio
    from grutools.speech.digits import listen_path

    samples = read_audio(listen_path(3, "theo", 2))
    path = tmp_path / "my_three.wav"
    soundfile.write(path, np.stack([samples, samples], 1), 8000, subtype="PCM_24")
    upload(page, 0, "my_three.wav", path.read_bytes(), "audio/wav")
    page.wait_for_function(f"() => {title}.includes('my_three.wav')", timeout=30_000)
    upload(page, 0, "not_sound.wav", b"these are not samples", "audio/wav")
    page.wait_for_function("() => document.body.innerText.includes('is not a WAV file')", timeout=30_000)
    assert "my_three.wav" in page.evaluate(title)  # the page kept what it showed
    unveil(page, "09/shuffled", "Shuffle every recording's frames", commit=False)
    body = page.inner_text("body")
    assert "Traceback" not in body and "What the shipped runs show" in body
    assert dashboard.outside == [] and dashboard.page_errors == []


def test_a_gru_reads_picks_a_unit_finds_a_pattern_writes_and_trains(open_dashboard):
    """Dashboard 10: pick a unit, type a regular expression, write at a temperature, train and stop."""
    dashboard = open_dashboard("10_gru_reads.ipynb")
    page = dashboard.page
    unveil(page, "10/string", "inside a string literal", commit=True)  # the patterns: behind two questions
    unveil(page, "10/nameless", "follow none of the five", commit=False)
    assert "def _safe_repr" in page.inner_text(".grutools-text pre")
    unit = page.get_by_label("unit", exact=True)
    unit.fill("12")
    unit.press("Enter")
    page.wait_for_function("() => document.body.innerText.includes('unit 12, hidden state h')", timeout=30_000)
    # a character's value is on hover (its title), and each line's numbers are there for a screen reader
    assert page.locator(".grutools-text pre span[title]").first.get_attribute("title")
    assert page.locator(".grutools-sr").count() > 10
    page.get_by_label("pattern", exact=True).select_option(label="a regular expression")
    expression = page.get_by_label("expression", exact=True)
    expression.fill("([")
    page.get_by_role("button", name="Find units").click()
    page.wait_for_function("() => document.body.innerText.includes('does not compile')", timeout=30_000)
    expression.fill(r"return \w+")
    page.get_by_role("button", name="Find units").click()
    page.wait_for_function("() => document.body.innerText.includes('/return \\\\w+/')", timeout=30_000)
    assert "follow none of the five built-in patterns" in page.inner_text("body")
    page.get_by_role("button", name="Write").click()
    page.wait_for_function("() => document.body.innerText.includes('500 characters at temperature')", timeout=30_000)
    train_then_stop(page)
    unveil(page, "10/lstm", "A character GRU and an LSTM", commit=False)
    body = page.inner_text("body")
    assert "bits per character" in body and "What the shipped runs show" in body and "Traceback" not in body
    assert dashboard.outside == [] and dashboard.page_errors == []


def test_the_microphone_button_is_off_on_a_page_that_is_not_secure_and_says_why(browser, server):
    """Browsers give the microphone only to secure pages (localhost, HTTPS). A class served over plain http from
    another machine is not one: the page is made to look like that one, and the button must be off and say why."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.add_init_script("Object.defineProperty(window, 'isSecureContext', {get: () => false});")
        page.goto(dashboard_url(server, "09_gru_hears.ipynb"), wait_until="commit")
        wait_for_dashboard(page)
        unveil(page, "09/settle", "How far into it", commit=False)  # the hearing view
        page.wait_for_selector(".grutools-record")
        assert page.locator(".grutools-record").is_disabled()
        note = page.inner_text(".grutools-record-note")
        assert "localhost or HTTPS" in note and "Upload a WAV instead" in note
    finally:
        page.close()
