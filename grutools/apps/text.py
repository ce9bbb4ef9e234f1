"""Dashboard 10, a GRU reads: Python source coloured by one unit of a character GRU (Karpathy, Johnson & Fei-Fei
2015's figure), the units that follow a pattern (LSTMVis's idea) and the share that follow none, text sampled at a
temperature, and the gates on text; a GRU trained live and the GRU against the LSTM are in
:mod:`grutools.apps.text_runs`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from ..plots.text import SR_STYLE, coloured_text
from ..text.corpus import load_text
from ..text.language import MAX_PROMPT, check_text, sample_text
from ..text.patterns import FOLLOWS, PATTERNS, nameless_share, pattern_units, regex_signal, scan
from ..text.reading import passages, read, saturated, toy_saturation, update_by_class
from .common import LABEL_STYLE, StatusLine, control_layout, findings_html, guarded, panel_layout, row_layout
from .figures import PLOT_CLASS, show_figure
from .guard import protect
from .questions import Asking
from .text_runs import StudyView, TrainView, load_shipped

OWN = "your own text"
QUANTITIES = {"hidden": "hidden state h", "update": "update gate z", "reset": "reset gate r"}
HELD_OUT_CHARS = 20_000  # of test text, for the share of units that follow no pattern


class Reader:
    """The models of the page and their readings, cached: a unit or a colour changed redraws without re-tracing."""

    def __init__(self, shipped) -> None:
        self.models = {"shipped": shipped}
        self.choice = "shipped"
        self._cache: dict = {}

    @property
    def model(self):
        return self.models.get(self.choice) or self.models["shipped"]

    def reading(self, text: str):
        key = (id(self.model), text)
        if key not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[key] = read(self.model, text)
        return self._cache[key]


class ReadView:
    """A passage coloured by one unit's hidden state, update gate or reset gate."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.status = StatusLine(layout=control_layout())
        self.guard = guarded(self.status)
        self.passages = passages()
        units = reader.model.hidden_size
        self.passage = widgets.Dropdown(options=[*self.passages, OWN], value=next(iter(self.passages)),
                                        description="passage", style=LABEL_STYLE, layout=control_layout())
        self.own = widgets.Textarea(value="def mean(values):\n    return sum(values) / len(values)\n",
                                    placeholder=f"type or paste code (up to {MAX_PROMPT:,} characters)",
                                    layout=widgets.Layout(width="300px", height="110px"))
        self.use_own = widgets.Button(description="Read my text", layout=widgets.Layout(width="145px"))
        self.quantity = widgets.ToggleButtons(options=[(v.split()[0], k) for k, v in QUANTITIES.items()],
                                              value="hidden", style={"button_width": "70px"},
                                              tooltips=list(QUANTITIES.values()))
        self.unit = widgets.BoundedIntText(value=0, min=0, max=units - 1, description="unit", style=LABEL_STYLE,
                                           layout=control_layout())
        self.model = widgets.ToggleButtons(options=[("shipped GRU", "shipped"), ("yours", "yours")], value="shipped",
                                           style={"button_width": "105px"})
        self.text = widgets.HTML()
        for control in (self.quantity, self.unit):
            control.observe(self.guard(lambda _: self.redraw(follow=False)), names="value")
        self.passage.observe(self.guard(self.redraw), names="value")
        self.use_own.on_click(self.guard(self._on_own))
        self.model.observe(self.guard(self._on_model), names="value")
        self.on_change = []  # the other views follow the passage and the model
        panel = widgets.VBox([self.passage, self.own, self.use_own, widgets.HTML("<b>colour by</b>"), self.quantity,
                              self.unit, widgets.HTML("<b>model</b>"), self.model, self.status], layout=panel_layout())
        self.view = widgets.VBox([widgets.HTML(SR_STYLE), widgets.HBox([panel, self.text], layout=row_layout())])
        self.redraw()

    @property
    def current_text(self) -> str:
        return self.own.value if self.passage.value == OWN else self.passages[self.passage.value]

    def _on_own(self, _=None) -> None:
        try:
            check_text(self.own.value, "your text", MAX_PROMPT)
            if len(self.own.value) < 2:
                raise ValueError("your text needs at least two characters.")
        except ValueError as error:
            self.status.error(str(error))
            return
        if self.passage.value == OWN:
            self.redraw()
        else:
            self.passage.value = OWN

    def _on_model(self, _=None) -> None:
        if self.reader.models.get(self.model.value) is None:
            self.status.info("Train a GRU in section 5 first; until then the shipped GRU is shown.")
        self.reader.choice = self.model.value
        self.unit.max = self.reader.model.hidden_size - 1
        self.redraw()

    def redraw(self, _=None, follow: bool = True) -> None:
        text = self.current_text
        if self.passage.value == OWN:
            try:
                check_text(text, "your text", MAX_PROMPT)
            except ValueError as error:
                self.status.error(str(error))
                return
        reading = self.reader.reading(text)
        self.text.value = self.colour(reading, text)
        self.status.ok(f"{len(text):,} characters, unit {self.unit.value} of {reading.hidden.shape[1]}.")
        for other in self.on_change if follow else ():
            other()

    def colour(self, reading, text: str, unit: int | None = None) -> str:
        """``text`` coloured by the chosen quantity of ``unit`` (the chosen unit by default)."""
        unit = self.unit.value if unit is None else unit
        values = getattr(reading, self.quantity.value)
        if values is None:  # an LSTM has no update or reset gate
            values, label = reading.hidden, f"unit {unit}, hidden state (an LSTM has no update or reset gate)"
        else:
            label = f"unit {unit}, {QUANTITIES[self.quantity.value]}"
        return coloured_text(text, values[:, unit], label, gate=self.quantity.value != "hidden")


class PatternView:
    """The units ranked for a built-in pattern or a regular expression, the best one's colouring, and the share of
    units that follow no built-in pattern."""

    def __init__(self, reader: Reader, read_view: ReadView) -> None:
        self.reader, self.read_view = reader, read_view
        self.status = StatusLine(layout=control_layout())
        self.guard = guarded(self.status)
        self.pattern = widgets.Dropdown(options=[(v, k) for k, v in PATTERNS.items()] + [("a regular expression",
                                                                                          "regex")],
                                        value="string", description="pattern", style=LABEL_STYLE,
                                        layout=control_layout())
        self.regex = widgets.Text(value=r"\bif\b", placeholder=r"e.g. \bself\b or def \w+",
                                  description="expression", style=LABEL_STYLE, layout=control_layout())
        self.find = widgets.Button(description="Find units", icon="search", layout=widgets.Layout(width="145px"))
        self.show_best = widgets.Button(description="Colour above", disabled=True,
                                        tooltip="show the best unit in section 1", layout=widgets.Layout(width="145px"))
        self.best_text = widgets.HTML()
        self.plot = None
        self.followers = None
        self.best = None
        self.find.on_click(self.guard(lambda _: self.rank()))
        self.show_best.on_click(self.guard(self._colour_above))
        self.pattern.observe(self.guard(lambda _: self.rank()), names="value")
        self.rank()
        self.followers = show_figure(None, self.followers_figure())
        self.followers.add_class(PLOT_CLASS)
        panel = widgets.VBox([self.pattern, self.regex, widgets.HBox([self.find, self.show_best]), self.status],
                             layout=panel_layout())
        self.view = widgets.VBox([widgets.HBox([panel, self.plot], layout=row_layout()), self.best_text,
                                  self.followers, self.nameless_html()])

    def signal(self, text: str) -> tuple[np.ndarray, str]:
        if self.pattern.value == "regex":
            return regex_signal(text, self.regex.value), f"/{self.regex.value}/"
        return scan(text)[self.pattern.value], PATTERNS[self.pattern.value]

    def rank(self) -> None:
        from ..plots.text import units_figure

        text = self.read_view.current_text
        try:
            signal, name = self.signal(text)
        except ValueError as error:
            self.status.error(f"{error} Nothing was changed.")
            return
        if signal.std() == 0:
            self.status.error(f"“{name}” is the same all along this passage, so no unit can follow it; pick "
                              "another passage or pattern.")
            return
        reading = self.reader.reading(text)
        ranked = pattern_units(reading.hidden, signal)
        self.plot = show_figure(self.plot, units_figure(ranked, name))
        self.plot.add_class(PLOT_CLASS)
        self.best = ranked[0][0]
        self.show_best.disabled = False
        self.best_text.value = self.read_view.colour(reading, text, self.best) + findings_html(
            [f"Unit {self.best} follows “{html.escape(name)}” best on this passage (held-out text): r = "
             f"{ranked[0][1]:+.2f}. A negative r means the unit falls where the pattern holds."],
            "<b>The best unit for the pattern</b>")
        self.status.ok(f"{len(ranked)} units ranked by Pearson's r on {len(text):,} characters.")

    def _colour_above(self, _=None) -> None:
        if self.best is not None:
            self.read_view.unit.value = self.best

    def followers_figure(self):
        from ..plots.text import followers_figure

        held_out = load_text("test")[:HELD_OUT_CHARS]
        reading = read(self.reader.model, held_out)
        share, best = nameless_share(reading.hidden, scan(held_out))
        self.share, self.best_patterns = share, best
        return followers_figure([r for _, r in best.values()], FOLLOWS)

    def nameless_html(self) -> widgets.HTML:
        counts = {}
        for name, r in self.best_patterns.values():
            if abs(r) >= FOLLOWS:
                counts[name] = counts.get(name, 0) + 1
        named = ", ".join(f"{n} {PATTERNS[p]}" for p, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        units = len(self.best_patterns)
        return widgets.HTML(findings_html(
            [f"On {HELD_OUT_CHARS:,} characters of test text, {self.share:.0%} of the {units} units follow none of the "
             f"five built-in patterns (|r| under {FOLLOWS:g} for every one)" + (f"; the rest follow: {named}." if named
                                                                                  else "."),
             "Most units follow nothing that can be named here: whatever they track is not one of these patterns, or "
             "is shared among many units. That is the limit of reading a network one unit at a time."], "<b>The honest part</b>"))


class SampleView:
    """Text written by the model from a prompt, at a temperature, coloured by the unit chosen in section 1."""

    LENGTH = 500

    def __init__(self, reader: Reader, read_view: ReadView) -> None:
        self.reader, self.read_view = reader, read_view
        self.status = StatusLine(layout=control_layout())
        self.guard = guarded(self.status)
        self.prompt = widgets.Textarea(value="def ", layout=widgets.Layout(width="300px", height="60px"),
                                       placeholder=f"a prompt (up to {MAX_PROMPT:,} characters)")
        self.temperature = widgets.FloatSlider(value=0.8, min=0.0, max=2.0, step=0.1, description="temperature",
                                               style=LABEL_STYLE, layout=control_layout())
        self.seed = widgets.BoundedIntText(value=0, min=0, max=9999, description="seed", style=LABEL_STYLE,
                                           layout=control_layout())
        self.button = widgets.Button(description="Write", icon="pencil", layout=widgets.Layout(width="145px"))
        self.output = widgets.HTML()
        self.button.on_click(self.guard(lambda _: self.write()))
        panel = widgets.VBox([widgets.HTML("<b>prompt</b>"), self.prompt, self.temperature, self.seed, self.button,
                              self.status], layout=panel_layout())
        self.view = widgets.HBox([panel, self.output], layout=row_layout())

    def write(self) -> None:
        prompt, temperature = self.prompt.value, self.temperature.value
        try:
            check_text(prompt, "the prompt", MAX_PROMPT)
        except ValueError as error:
            self.status.error(str(error))
            return
        written = sample_text(self.reader.model, prompt, self.LENGTH, temperature, self.seed.value)
        text = (prompt or "\n") + written
        reading = self.reader.reading(text)
        self.output.value = self.read_view.colour(reading, text)
        how = "the most likely character each time" if temperature == 0 else f"temperature {temperature:g}"
        self.status.ok(f"{self.LENGTH} characters at {how}, seed {self.seed.value}.")


class GatesView:
    """The update gate by character class on the passage, and gate saturation on text against a toy task."""

    def __init__(self, reader: Reader, read_view: ReadView) -> None:
        self.reader, self.read_view = reader, read_view
        self.toy = self._toy()
        self.classes_plot = self.saturation_plot = None
        self.findings = widgets.HTML()
        self.redraw()
        for plot in (self.classes_plot, self.saturation_plot):
            plot.add_class(PLOT_CLASS)
        self.view = widgets.VBox([widgets.HBox([self.classes_plot, self.saturation_plot], layout=row_layout()),
                                  self.findings])

    @staticmethod
    def _toy() -> dict:
        from ..core.io import load
        from ..core.tasks import DATA_DIR, AddingProblem

        try:
            return {"adding problem": toy_saturation(load(DATA_DIR / "checkpoints" / "adding_gru.pt").model,
                                                     AddingProblem(50))}
        except (OSError, ValueError):
            return {}

    def redraw(self) -> None:
        from ..plots.text import classes_figure, saturation_figure

        reading = self.reader.reading(self.read_view.current_text)
        if reading.update is None:
            self.findings.value = findings_html(["An LSTM has no update gate: pick a GRU."])
            return
        means, counts = update_by_class(reading)
        text_share = {"update": saturated(reading.update), "reset": saturated(reading.reset)}
        shares = {"this passage": text_share, **self.toy}
        self.classes_plot = show_figure(self.classes_plot, classes_figure(means, counts))
        self.saturation_plot = show_figure(self.saturation_plot, saturation_figure(shares))
        low = min(means, key=means.get)
        sentences = [f"The units update most (the lowest mean z, {means[low]:.2f}) after a {low} character, and keep "
                     f"their past most after a {max(means, key=means.get)} ({max(means.values()):.2f})."]
        if self.toy:
            toy = self.toy["adding problem"]
            sentences.append(f"On this passage {text_share['update']:.0%} of the update gate's values are saturated, "
                             f"against {toy['update']:.0%} for the GRU of the adding problem (dashboard 02).")
        self.findings.value = findings_html(sentences, "<b>The gates on text</b>")


class TextExplorer(Asking):
    """A GRU reads, in six views: ``read_view``, ``pattern_view``, ``sample_view``, ``gates_view``, ``train_view``,
    ``study_view``."""

    def __init__(self, checkpoint=None) -> None:
        model, problem = load_shipped(checkpoint)
        if model is None:
            raise FileNotFoundError(problem)
        self.reader = Reader(model)
        self.read = ReadView(self.reader)
        self.patterns = PatternView(self.reader, self.read)
        self.sample = SampleView(self.reader, self.read)
        self.gates = GatesView(self.reader, self.read)
        self.read.on_change.append(self.gates.redraw)
        self.train = TrainView(model, on_trained=self._trained)
        self.study = StudyView()
        self.read_view, self.pattern_view, self.sample_view = self.read.view, self.patterns.view, self.sample.view
        self.gates_view, self.train_view, self.study_view = self.gates.view, self.train.view, self.study.view
        for part in (self.read, self.patterns, self.sample, self.train, self.study):
            protect(part.view, part.status)
        protect(self.gates_view, self.read.status)

    def _trained(self, model) -> None:
        self.reader.models["yours"] = model
        if self.read.model.value == "yours":
            self.read._on_model()
        else:
            self.read.model.value = "yours"
