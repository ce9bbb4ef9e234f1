"""refresh_figure: a FigureWidget shown again with a new figure gets only what changed, and ends up equal to it."""

import base64
import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest

from grutools.apps.figures import _shown, show_figure


def figure(y, title="one", heat=None, dash=None):
    fig = go.Figure([go.Scatter(x=np.arange(len(y)), y=np.asarray(y, dtype=float), name="a", line=dict(dash=dash)),
                     go.Scatter(x=[1, 2], y=[5, 6], name="static"),
                     go.Heatmap(z=np.arange(6.0).reshape(2, 3) if heat is None else heat)])
    fig.update_layout(title=title, template="plotly_white", xaxis=dict(range=[0, 5]))
    return fig


def as_plain(value):
    """JSON of a figure with typed arrays decoded, for comparing figures."""
    if isinstance(value, dict):
        if "bdata" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = value.get("shape")
            return (array.reshape([int(n) for n in str(shape).split(",")]) if shape else array).tolist()
        plain = {key: as_plain(v) for key, v in value.items() if key != "uid"}  # the widget adds trace ids
        return {key: v for key, v in plain.items() if v != {}}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(go.FigureWidget, "_send_update_msg",
                        lambda self, restyle_data, relayout_data, trace_indexes=None, **kw:
                        messages.append((restyle_data, relayout_data, trace_indexes)))
    return messages


def test_only_changed_properties_are_sent(sent):
    widget = show_figure(None, figure([1, 2, 3], dash="dot"))
    new = figure([1, 2, 4], title="two", dash=None)
    assert show_figure(widget, new) is widget
    assert len(sent) == 1
    restyle, relayout, traces = sent[0]
    assert traces == [0]  # the static scatter and the unchanged heatmap are not sent
    assert set(restyle) == {"y", "line.dash"} and restyle["line.dash"] == [None]  # removed: back to default
    np.testing.assert_array_equal(restyle["y"][0], [1, 2, 4])
    assert relayout == {"title.text": "two"}
    assert as_plain(_shown(widget)) == as_plain(_shown(new))
    np.testing.assert_array_equal(widget.data[0].y, [1, 2, 4])  # the widget's Python state is an array again


def test_every_changed_trace_goes_in_one_update_whatever_its_type(sent):
    """plotly's widget sends an edit only once the browser has drawn the last one: one update, one redraw."""
    from plotly.basedatatypes import Undefined

    widget = show_figure(None, figure([1, 2, 3]))
    new = figure([3, 2, 1], heat=np.ones((2, 3)))
    show_figure(widget, new)
    [(restyle, relayout, traces)] = sent
    assert traces == [0, 2] and not relayout  # the layout did not change
    assert set(restyle) == {"y", "z"}
    assert restyle["z"][0] is Undefined and restyle["y"][1] is Undefined  # a trace's unchanged keys are left alone
    assert set(restyle["z"][1]) >= {"bdata", "dtype", "shape"}  # 2-D: plotly.js's typed-array form, not nested lists
    assert as_plain(_shown(widget)) == as_plain(_shown(new))


def test_nothing_is_sent_for_an_identical_figure(sent):
    widget = show_figure(None, figure([1, 2, 3]))
    show_figure(widget, figure([1, 2, 3]))
    assert sent == []


def test_a_different_structure_replaces_the_traces():
    widget = show_figure(None, figure([1, 2, 3]))
    other = go.Figure([go.Bar(x=[1, 2], y=[3, 4])], layout=dict(title="bars"))
    show_figure(widget, other)
    assert [t.type for t in widget.data] == ["bar"] and widget.layout.title.text == "bars"
    show_figure(widget, figure([1, 2, 3]))  # and back, as the in-place path expects
    assert [t.type for t in widget.data] == ["scatter", "scatter", "heatmap"]


def test_arrays_with_gaps_are_compared_as_equal(sent, monkeypatch):
    from grutools.plots.sketch import Sketch

    monkeypatch.setenv("GRUTOOLS_VALIDATE_FIGURES", "0")  # as in a dashboard: numpy arrays stay numpy arrays

    def line(y):
        sketch = Sketch()
        sketch.add(dict(type="scatter", x=np.arange(3), y=np.array(y)))  # a line with a gap, as impulse responses
        return sketch.figure()

    widget = show_figure(None, line([1.0, np.nan, 3.0]))
    show_figure(widget, line([1.0, np.nan, 3.0]))
    assert sent == []
    show_figure(widget, line([1.0, np.nan, 4.0]))
    assert [traces for _, _, traces in sent] == [[0]]


def test_our_copy_of_plotlys_bundle_is_quiet_for_our_widgets(tmp_path, monkeypatch):
    from grutools.apps import figures
    from grutools.classroom import template

    target = tmp_path / "static" / "plotly-widget.js"
    assert template.install_bundle(target)
    text = target.read_text(encoding="utf-8")
    assert text.count(template.QUIET_GUARD) == 2  # in _sendTraceDeltas and in _sendLayoutDelta
    assert text.count(template.FOLLOW_BOX) == 1
    assert template.bundle_ready(tmp_path)
    # the widgets that load this copy (under Voila) ask for quiet; plotly's own widget does not
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    monkeypatch.setenv(template.SERVED, str(tmp_path))
    widget = figures.figure_widget_class()(go.Figure(go.Scatter(x=[1], y=[2])))
    assert widget._grutools_quiet is True and "_grutools_quiet" in widget.keys
    assert not hasattr(go.FigureWidget(), "_grutools_quiet")


def test_the_figure_widget_is_imported_without_building_the_iri_grammars():
    """plotly's widget imports nbformat, jsonschema and, through it, rfc3987-syntax, which compiles 38 Lark grammars
    as it is imported: 6.5-8 s of a dashboard kernel's start (a cold start of 05 fell from 11.6 to 5.6 s without it).
    In a fresh process, as in a kernel: the widget class is made, jsonschema is loaded without those grammars, its
    other format checks still work, and rfc3987_syntax can still be imported afterwards by whoever wants it."""
    probe = (
        "import sys\n"
        "from grutools.apps.figures import _quiet_class\n"
        "cls = _quiet_class()\n"
        "assert cls.__name__ == 'FigureWidget' and 'jsonschema' in sys.modules, sorted(sys.modules)[:5]\n"
        "assert 'rfc3987_syntax' not in sys.modules, 'the IRI grammars were built'\n"
        "import importlib.util, jsonschema\n"
        "gpl = importlib.util.find_spec('rfc3987') is not None  # jsonschema's other IRI checker, if installed\n"
        "assert gpl or 'iri' not in jsonschema.FormatChecker().checkers\n"
        "assert 'date' in jsonschema.FormatChecker().checkers\n"
        "import rfc3987_syntax\n"
        "assert rfc3987_syntax.is_valid_syntax('iri', 'https://example.org/ä')\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
