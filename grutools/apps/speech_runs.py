"""Dashboard 09's runs: a small GRU trained live on the spoken digits, with its test accuracy as it learns, and the
shipped studies (does order matter, a voice never heard)."""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..core.tasks import DATA_DIR
from ..speech.digits import SpokenDigits, accuracy
from ..speech.study import (
    digit_model,
    order_findings,
    read_order,
    read_speakers,
    speaker_findings,
    summary,
    train_digits,
)
from .common import LABEL_STYLE, StatusLine, control_layout, findings_html, panel_layout, row_layout
from .figures import PLOT_CLASS, show_figure
from .live import LiveView

CHECKPOINT = DATA_DIR / "checkpoints" / "digits_gru.pt"
ORDER_PATH = DATA_DIR / "results" / "speech_order.csv"
SPEAKERS_PATH = DATA_DIR / "results" / "speech_speakers.csv"
STUDY_COMMAND = "python -m grutools speech-study --jobs 2"
CHECK_EVERY = 50  # steps between two measurements of the test accuracy


def load_shipped(path=None):
    """``(model, problem)``: the shipped GRU, or ``None`` and a sentence saying why it is not there."""
    from ..core.io import load

    path = path or CHECKPOINT
    try:
        checkpoint = load(path)
    except (OSError, ValueError) as error:
        return None, f"The shipped GRU could not be loaded ({error}); make it with `python -m grutools speech-data`."
    model = checkpoint.model
    if model is None or model.input_size != SpokenDigits.input_size or model.output_size != 10:
        return None, f"{path} is not a spoken-digit model; make it with `python -m grutools speech-data`."
    model.test_accuracy = checkpoint.metadata.get("test_accuracy")
    return model, None


class TrainView(LiveView):
    """A GRU trained here from scratch (seed 0), with its test accuracy every 50 steps against the shipped GRU's."""

    def __init__(self, shipped=None, on_trained=None) -> None:
        self.shipped = getattr(shipped, "test_accuracy", None)
        self.on_trained = on_trained
        self.hidden = widgets.Dropdown(options=[16, 32, 64], value=32, description="hidden units", style=LABEL_STYLE,
                                       layout=control_layout())
        self.steps = widgets.Dropdown(options=[300, 600, 1200], value=600, description="steps", style=LABEL_STYLE,
                                      layout=control_layout())
        self.task = None
        super().__init__([widgets.HTML("<b>a GRU of your own</b>"), self.hidden, self.steps], self.steps.value)
        self.status.info("Press Train: a GRU learns the 2,700 training recordings (about 10 s for 600 steps).")

    def _figure(self, result):
        from ..plots.speech import accuracy_figure

        steps, accuracies = (result["checked"], result["accuracy"]) if result else ([], [])
        return accuracy_figure(steps, accuracies, self.steps.value, self.shipped)

    def _steps_done(self, result) -> int:
        return result["done"] if result else 0

    def _run(self):
        self.task = self.task or SpokenDigits()
        hidden, steps, task = self.hidden.value, self.steps.value, self.task
        self.progress.max = steps
        model = digit_model("gru", hidden=hidden, seed=0)
        state = {"model": model, "checked": [0], "accuracy": [accuracy(model, task)], "done": 0, "hidden": hidden}
        self.status.info(f"Training a GRU of {hidden} units for {steps} steps...")

        def run(stop, report):
            def every_step(history):
                state["done"] = history.step[-1]
                if state["done"] % CHECK_EVERY == 0 or state["done"] == steps:
                    state["checked"].append(state["done"])
                    state["accuracy"].append(accuracy(model, task))
                report(state)

            state["history"] = train_digits(model, task, steps, seed=0, callback=every_step, stop=stop)
            if state["checked"][-1] != state["done"]:
                state["checked"].append(state["done"])
                state["accuracy"].append(accuracy(model, task))
            return state

        return run

    def _done(self, result) -> list[str]:
        final = result["accuracy"][-1]
        sentences = [f"After {result['done']} steps your GRU of {result['hidden']} units names {final:.1%} of the 300 "
                     "test recordings."]
        if self.shipped is not None:
            sentences.append(f"The shipped GRU (64 units, 3000 steps) names {self.shipped:.1%}.")
        sentences.append("It is now “yours” in section 1: pick a recording and see what it hears.")
        if self.on_trained:
            self.on_trained(result["model"])
        return sentences


class StudyView:
    """The shipped studies as bars over seeds, with what they show."""

    def __init__(self, order_path=None, speakers_path=None) -> None:
        from ..plots.speech import study_figure

        self.status = StatusLine(layout=control_layout())
        plots, sentences = [], []
        try:
            order = read_order(order_path or ORDER_PATH)
            speakers = read_speakers(speakers_path or SPEAKERS_PATH)
        except (OSError, ValueError, KeyError) as error:
            self.status.error(f"No shipped study to show ({error}). Make it with {STUDY_COMMAND}.")
            self.view = widgets.VBox([self.status])
            return
        by_model, by_speaker = summary(order, "model"), summary(speakers, "speaker")
        seeds = max(v[3] for v in by_model.values())
        plots.append(study_figure(by_model, f"Does order matter? Test accuracy over {seeds} seeds", "test accuracy"))
        plots.append(study_figure(by_speaker, "A voice never heard: a GRU trained without that speaker",
                                  "accuracy on the held-out speaker"))
        sentences = order_findings(order) + speaker_findings(speakers, by_model.get("GRU", (None,))[0])
        widgets_ = []
        for figure in plots:
            widget = show_figure(None, figure)
            widget.add_class(PLOT_CLASS)
            widgets_.append(widget)
        self.status.ok(f"{len(order) + len(speakers)} shipped runs ({html.escape(STUDY_COMMAND)}).")
        self.view = widgets.VBox([widgets.HBox(widgets_, layout=row_layout()),
                                  widgets.HTML(findings_html(sentences, "<b>What the shipped runs show</b>")),
                                  widgets.VBox([self.status], layout=panel_layout())])
