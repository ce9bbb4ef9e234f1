"""Dashboard 09, a GRU hears: pick a spoken digit (or upload or record your own), listen, and see its spectrogram
with the GRU's gates, state and belief beneath it, frame by frame; the test set's confusion matrix; a GRU trained
live (:mod:`grutools.apps.speech_runs`); and the shipped studies.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import torch

from ..speech.audio import HOP, RATE, AudioError, decibels, from_decibels, mel_frequencies, read_audio, wav_bytes
from ..speech.belief import belief_sentences, settling_over_tests, settling_sentences
from ..speech.digits import DIGIT_NAMES, SPEAKERS, SpokenDigits, confusion, listen_path, predict
from .common import LABEL_STYLE, StatusLine, control_layout, findings_html, guarded, panel_layout, row_layout
from .figures import PLOT_CLASS, show_figure
from .guard import protect
from .questions import Asking
from .recorder import Recorder
from .speech_runs import CHECKPOINT, StudyView, TrainView, load_shipped

UPLOAD_NAME = "your recording"


class HearingView:
    """A recording, its player, and the spectrogram with the GRU's gates, state and belief on one time axis."""

    def __init__(self, model=None) -> None:
        self.status = StatusLine(layout=control_layout())
        self.guard = guarded(self.status)
        self.models = {"shipped": model}
        self.digit = widgets.Dropdown(options=[(f"{d} ({DIGIT_NAMES[d]})", d) for d in range(10)], value=7,
                                      description="digit", style=LABEL_STYLE, layout=control_layout())
        self.speaker = widgets.Dropdown(options=list(SPEAKERS), value="jackson", description="speaker",
                                        style=LABEL_STYLE, layout=control_layout())
        self.take = widgets.Dropdown(options=[(f"take {i + 1} of 5", i) for i in range(5)], value=0,
                                     description="recording", style=LABEL_STYLE, layout=control_layout())
        self.model = widgets.ToggleButtons(options=[("shipped GRU", "shipped"), ("yours", "yours")], value="shipped",
                                           style={"button_width": "105px"},
                                           tooltips=["the GRU shipped with the suite",
                                                     "the GRU you train below (train one first)"])
        self.upload = widgets.FileUpload(accept=".wav,audio/wav", multiple=False, description="Upload a WAV",
                                         layout=control_layout())
        self.recorder = Recorder(max_seconds=3.0)
        self.player = widgets.Audio(format="wav", autoplay=False, controls=True, loop=False,
                                    layout=widgets.Layout(width="300px"))
        self.findings = widgets.HTML()
        self.source = "shipped"
        self.plot = None  # made from the first recording's figure (a FigureWidget must be created from its first)
        self._samples = None
        self._recording_db = None
        self.show_recording()
        if self.plot is None:
            self.plot = show_figure(None, _empty())
        self.plot.add_class(PLOT_CLASS)
        for control in (self.digit, self.speaker, self.take):
            control.observe(self.guard(self._on_pick), names="value")
        self.model.observe(self.guard(self._on_model), names="value")
        self.upload.observe(self.guard(self._on_upload), names="value")
        self.recorder.observe(self.guard(self._on_recorded), names="wav")
        self.on_model_change = None  # the confusion matrix follows the model chosen here
        panel = widgets.VBox([widgets.HTML("<b>a test recording</b> (never trained on)"), self.digit, self.speaker,
                              self.take, self.player, widgets.HTML("<b>or your own voice</b> (up to 5 s)"),
                              self.upload, self.recorder, widgets.HTML("<b>model</b>"), self.model, self.status],
                             layout=panel_layout())
        self.view = widgets.VBox([widgets.HBox([panel, self.plot], layout=row_layout()), self.findings])

    # -- sources
    def _on_pick(self, _=None) -> None:
        self.source = "shipped"
        self.show_recording()

    def show_recording(self) -> None:
        """The chosen test recording: its WAV in the player, its frames through the model."""
        digit, speaker, take = self.digit.value, self.speaker.value, self.take.value
        path = listen_path(digit, speaker, take)
        try:
            samples = read_audio(path)
        except AudioError as error:
            self.status.error(f"{error} (the shipped recordings are made by `make data`, see data/README.md).")
            return
        self._show(samples, f"“{DIGIT_NAMES[digit]}” said by {speaker} (take {take + 1})", digit)

    def use_audio(self, data: bytes, name: str) -> None:
        """An upload's or a recording's WAV bytes: checked, then the same views (a refusal keeps the page as it was)."""
        try:
            samples = read_audio(data, name=name)
        except AudioError as error:
            self.status.error(str(error))
            return
        self.source = "upload"
        self._show(samples, f"{html.escape(name)}, {len(samples) / RATE:.2f} s", None)

    def _on_upload(self, _) -> None:
        files = self.upload.value
        if files:
            item = files[0]
            self.use_audio(bytes(item["content"]), str(item.get("name", UPLOAD_NAME)))

    def _on_recorded(self, _) -> None:
        if self.recorder.wav:
            self.use_audio(bytes(self.recorder.wav), "your recording")

    # -- the model
    def set_trained(self, model) -> None:
        """A GRU trained on this page: offered as "yours", and shown."""
        self.models["yours"] = model
        if self.model.value == "yours":
            self._on_model()
        else:
            self.model.value = "yours"

    def _on_model(self, _=None) -> None:
        if self.models.get(self.model.value) is None:
            self.status.info("Train a GRU in section 3 first; until then the shipped GRU is shown.")
        self._redraw()
        if self.on_model_change:
            self.on_model_change(self.current_model())

    def current_model(self):
        return self.models.get(self.model.value) or self.models.get("shipped")

    # -- drawing
    def _show(self, samples: np.ndarray, title: str, digit: int | None) -> None:
        self._samples, self._title, self._digit = samples, title, digit
        self._recording_db = decibels(samples)
        self.player.value = wav_bytes(samples)
        self._redraw()

    def _redraw(self) -> None:
        model = self.current_model()
        if model is None or self._recording_db is None:
            if model is None:
                self.status.error(f"The shipped GRU ({CHECKPOINT.name}) is missing; make it with "
                                  "`python -m grutools speech-data` (see data/README.md).")
            return
        from ..core.trace import trace

        db = self._recording_db
        x = from_decibels(db)
        probabilities = predict(model, x).numpy()
        with torch.no_grad():
            t = trace(model, x[None])
        seconds = np.arange(len(db)) * HOP / RATE
        figure = _hearing(db, seconds, t, probabilities, self._title, self._digit)
        self.plot = show_figure(self.plot, figure)
        which = "the shipped GRU" if model is self.models.get("shipped") else "your GRU"
        self.findings.value = findings_html(belief_sentences(probabilities, self._digit),
                                            f"<b>What {which} heard</b>")
        self.status.ok(f"{self._title}: {len(db)} frames of 16 ms.")


def _hearing(db, seconds, t, probabilities, title, digit):
    from ..plots.speech import hearing_figure

    first = lambda v: v[0, 0].numpy()  # noqa: E731 - layer 0, the one recording
    return hearing_figure(db, mel_frequencies(), seconds, first(t.update), first(t.reset), first(t.hidden),
                          probabilities, title, digit)


def _empty():
    import plotly.graph_objects as go

    return go.Figure(layout=dict(template="plotly_white", height=760))


class ConfusionView:
    """The test set's confusion matrix, for the model chosen in the hearing view."""

    def __init__(self, model=None) -> None:
        self.task = None
        self.plot = None  # made from the first figure, as in HearingView
        self.text = widgets.HTML()
        self.show(model)
        if self.plot is None:
            self.plot = show_figure(None, _empty())
        self.plot.add_class(PLOT_CLASS)
        self.view = widgets.HBox([self.plot, self.text], layout=row_layout())

    def show(self, model) -> None:
        if model is None:
            return
        from ..plots.speech import confusion_figure

        self.task = self.task or SpokenDigits()
        matrix = confusion(model, self.task)
        right = int(np.trace(matrix))
        self.plot = show_figure(self.plot, confusion_figure(
            matrix, f"The 300 test recordings: {right} named right ({right / matrix.sum():.1%})"))
        wrong = matrix.copy()
        np.fill_diagonal(wrong, 0)
        pairs = sorted(((int(wrong[i, j]), i, j) for i in range(10) for j in range(10) if wrong[i, j]), reverse=True)
        listed = [f"{DIGIT_NAMES[i]} taken for {DIGIT_NAMES[j]}: {n}" for n, i, j in pairs[:4]]
        self.text.value = findings_html(
            ["Each row is a digit said (30 recordings, 5 by each speaker); each column, the digit the GRU named. "
             "The diagonal is right."]
            + (["The mistakes it makes most: " + "; ".join(listed) + "."] if listed else ["No mistakes at all."])
            + settling_sentences(settling_over_tests(model, self.task)), "<b>Where it goes wrong, and when it knows</b>")


class SpeechExplorer(Asking):
    """A GRU hears, in four views: ``hearing_view``, ``confusion_view``, ``train_view``, ``study_view``."""

    def __init__(self, checkpoint=None, order_path=None, speakers_path=None) -> None:
        model, problem = load_shipped(checkpoint)
        self.hearing = HearingView(model)
        self.confusion = ConfusionView(model)
        self.hearing.on_model_change = self.confusion.show
        self.train = TrainView(model, on_trained=self.hearing.set_trained)
        self.study = StudyView(order_path, speakers_path)
        if problem:
            self.hearing.status.error(problem)
        self.hearing_view, self.confusion_view = self.hearing.view, self.confusion.view
        self.train_view, self.study_view = self.train.view, self.study.view
        for part in (self.hearing, self.train, self.study):
            protect(part.view, part.status)
        protect(self.confusion_view, self.hearing.status)
