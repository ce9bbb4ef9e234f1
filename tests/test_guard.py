"""The widget guard in Python: messages handed to a widget exactly as its comm hands them (``_handle_msg``)."""

import ipywidgets as widgets
import pytest

from grutools.apps.common import StatusLine
from grutools.apps.guard import allowed_keys, protect, refusal


def update(widget, **state):
    widget._handle_msg({"content": {"data": {"method": "update", "state": state}}, "buffers": []})


def click(widget):
    widget._handle_msg({"content": {"data": {"method": "custom", "content": {"event": "click"}}}, "buffers": []})


@pytest.fixture
def app():
    status = StatusLine()
    slider = widgets.IntSlider(value=50, min=10, max=500, description="sequence length")
    choice = widgets.Dropdown(options=[("a", 1), ("b", 2)], value=1, description="task")
    stop = widgets.Button(description="Stop", disabled=True)
    seen = []
    slider.observe(lambda change: seen.append(change["new"]), names="value")
    stop.on_click(lambda _: seen.append("stopped"))
    box = widgets.VBox([widgets.HBox([slider, choice]), stop, status])
    protect(box, status)
    return slider, choice, stop, status, seen


@pytest.mark.parametrize("state", [
    {"value": 20000}, {"value": 9}, {"value": "abc"}, {"value": None}, {"value": 12.5}, {"value": True},
    {"value": float("inf")}, {"max": 40000, "value": 20000}, {"min": 0}, {"step": 0}, {"disabled": True},
    {"description": "x"}, {"value": [1]},
])
def test_refused_updates_change_nothing_run_nothing_and_say_so(app, state):
    slider, _, _, status, seen = app
    update(slider, **state)
    assert (slider.value, slider.min, slider.max, slider.step, slider.disabled) == (50, 10, 500, 1, False)
    assert seen == [] and "was refused" in status.value and "sequence length" in status.value


def test_an_in_range_value_goes_through(app):
    slider, choice, _, _, seen = app
    update(slider, value=500)
    update(choice, index=1)
    assert slider.value == 500 and seen == [500] and choice.value == 2


@pytest.mark.parametrize("state", [{"index": 2}, {"index": -1}, {"index": "1"}, {"index": None},
                                   {"_options_labels": ["x"] * 5, "index": 4}, {"value": 2}])
def test_choices_take_only_an_index_among_the_apps_options(app, state):
    _, choice, _, status, _ = app
    update(choice, **state)
    assert choice.value == 1 and choice.options == (("a", 1), ("b", 2)) and "was refused" in status.value


def test_a_disabled_button_cannot_be_clicked_nor_enabled(app):
    _, _, stop, status, seen = app
    click(stop)
    update(stop, disabled=False)
    assert seen == [] and stop.disabled and "disabled" in status.value
    stop.disabled = False  # the app enables it: now a click runs
    click(stop)
    assert seen == ["stopped"]


def test_a_disabled_control_takes_no_value(app):
    slider, *_ = app
    slider.disabled = True  # e.g. while training
    update(slider, value=100)
    assert slider.value == 50


def test_widgets_the_app_adds_later_are_guarded_too():
    status = StatusLine()
    box = widgets.VBox([])
    protect(box, status)
    later = widgets.FloatSlider(value=0.0, min=-1, max=1)
    box.children = [later]
    update(later, value=5.0)
    assert later.value == 0.0 and "was refused" in status.value


def test_display_widgets_and_layouts_take_nothing():
    html, layout = widgets.HTML("x"), widgets.Layout(width="10px")
    assert allowed_keys(html) == set() and allowed_keys(layout) == set() and allowed_keys(widgets.VBox()) == set()
    assert refusal(html, {"value": "<b>y</b>"}) == "'value' cannot be changed from the page"
    assert refusal(widgets.Accordion(children=[widgets.HTML()]), {"selected_index": 0}) is None
    assert refusal(widgets.Accordion(children=[widgets.HTML()]), {"selected_index": 3}) is not None


def test_every_app_guards_every_control_it_shows():
    from grutools.apps import GRUCellExplorer

    explorer = GRUCellExplorer(input_size=1, hidden_size=2, seed=0)
    views = [explorer.step_view, explorer.sequence_view, explorer.parameter_view]
    from grutools.apps.guard import _walk

    unguarded = [w for w in _walk(views) if not getattr(w, "_grutools_guarded", False)]
    assert unguarded == []
    explorer.input_size.value = 2  # rebuilds the input sliders
    assert all(getattr(w, "_grutools_guarded", False) for w in _walk(views))


def test_a_training_run_stops_at_its_time_budget_and_says_so():
    import threading

    from grutools.apps.common import BackgroundTraining

    done = threading.Event()
    outcome = {}

    def on_done(result, error):
        outcome.update(result=result, error=error)
        done.set()

    job = BackgroundTraining(lambda _: None, on_done, time_budget=0.2)
    job.start(lambda stop, report: "stopped" if stop.wait(30) else "ran to the end")
    assert done.wait(10)
    assert outcome == {"result": "stopped", "error": None} and job.timed_out
    assert "limit of" in job.stopped_note()
