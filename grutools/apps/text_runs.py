"""Dashboard 10's runs: a character GRU trained live, its bits per character against the baselines, and the shipped
study of the GRU against the LSTM at an equal budget."""

from __future__ import annotations

import ipywidgets as widgets

from ..core.models import TokenModel
from ..core.tasks import DATA_DIR
from ..text.corpus import VOCABULARY, load_text
from ..text.language import CharText, bits_per_char, char_model
from ..text.study import read_baselines, read_study, study_findings, train_chars
from .common import LABEL_STYLE, StatusLine, control_layout, findings_html, panel_layout, row_layout
from .figures import PLOT_CLASS, show_figure
from .live import LiveView

CHECKPOINT = DATA_DIR / "checkpoints" / "text_gru.pt"
STUDY_PATH = DATA_DIR / "results" / "text_study.csv"
BASELINES_PATH = DATA_DIR / "results" / "text_baselines.json"
STUDY_COMMAND = "python -m grutools text-study --jobs 2"
CHECK_EVERY = 100
CURVE_CHARS = 5_000  # of validation text, scored every CHECK_EVERY steps


def load_shipped(path=None):
    """``(model, problem)``: the shipped character GRU, or ``None`` and why."""
    from ..core.io import load

    path = path or CHECKPOINT
    try:
        checkpoint = load(path)
    except (OSError, ValueError) as error:
        return None, f"The shipped character GRU could not be loaded ({error}); make it with `make data`."
    model = checkpoint.model
    if not isinstance(model, TokenModel) or model.vocab_size != len(VOCABULARY):
        return None, f"{path} is not a character model of this suite; make it with `make data`."
    model.test_bpc = checkpoint.metadata.get("test_bpc")
    return model, None


def shipped_baselines() -> dict[str, float]:
    """The baselines on the test text, as shipped: ``{label: bits per character}``."""
    try:
        data = read_baselines(BASELINES_PATH)
    except (OSError, ValueError):
        return {}
    order = data.get("order", 5)
    return {"unigram": data["unigram"], "bigram (Kneser-Ney 2)": data["bigram"],
            f"Kneser-Ney {order}": data[f"kneser-ney-{order}"]}


class TrainView(LiveView):
    """A character GRU trained here from scratch (seed 0), its bits per character on validation text as it learns."""

    def __init__(self, shipped=None, on_trained=None) -> None:
        self.shipped = getattr(shipped, "test_bpc", None)
        self.on_trained = on_trained
        self.hidden = widgets.Dropdown(options=[64, 128], value=128, description="hidden units", style=LABEL_STYLE,
                                       layout=control_layout())
        self.steps = widgets.Dropdown(options=[500, 1000, 2000], value=1000, description="steps", style=LABEL_STYLE,
                                      layout=control_layout())
        self.task = None
        self.baselines = shipped_baselines()
        super().__init__([widgets.HTML("<b>a character GRU of your own</b>"), self.hidden, self.steps],
                         self.steps.value)
        self.status.info("Press Train: a GRU reads windows of the training text (about a minute for 1,000 steps).")

    def _figure(self, result):
        from ..plots.text import bpc_figure

        steps, bpc = (result["checked"], result["bpc"]) if result else ([], [])
        return bpc_figure(steps, bpc, self.baselines, self.steps.value, self.shipped)

    def _steps_done(self, result) -> int:
        return result["done"] if result else 0

    def _run(self):
        self.task = self.task or CharText()
        hidden, steps, task = self.hidden.value, self.steps.value, self.task
        self.progress.max = steps
        model = char_model("gru", hidden, seed=0)
        held_out = load_text("valid")[:CURVE_CHARS]
        state = {"model": model, "checked": [0], "bpc": [bits_per_char(model, held_out)], "done": 0, "hidden": hidden}
        self.status.info(f"Training a character GRU of {hidden} units for {steps} steps...")

        def run(stop, report):
            def every_step(history):
                state["done"] = history.step[-1]
                if state["done"] % CHECK_EVERY == 0:
                    state["checked"].append(state["done"])
                    state["bpc"].append(bits_per_char(model, held_out))
                report(state)

            state["history"] = train_chars(model, steps, seed=0, callback=every_step, stop=stop, task=task)
            if state["checked"][-1] != state["done"]:
                state["checked"].append(state["done"])
                state["bpc"].append(bits_per_char(model, held_out))
            return state

        return run

    def _done(self, result) -> list[str]:
        final = result["bpc"][-1]
        sentences = [f"After {result['done']} steps your GRU of {result['hidden']} units reads the validation text at "
                     f"{final:.2f} bits per character."]
        beaten = [name for name, value in self.baselines.items() if final < value]
        unbeaten = [name for name, value in self.baselines.items() if final >= value]
        if self.baselines:
            sentences.append((f"It beats {', '.join(beaten)}" if beaten else "It beats none of the baselines yet")
                             + (f"; not yet {', '.join(unbeaten)}." if unbeaten else "."))
        sentences.append("It is now “yours” in section 1.")
        if self.on_trained:
            self.on_trained(result["model"])
        return sentences


class StudyView:
    """The shipped GRU-against-LSTM runs over seeds, with what they show."""

    def __init__(self) -> None:
        from ..plots.text import study_figure

        self.status = StatusLine(layout=control_layout())
        try:
            rows = read_study(STUDY_PATH)
        except (OSError, ValueError, KeyError) as error:
            self.status.error(f"No shipped study to show ({error}). Make it with {STUDY_COMMAND}.")
            self.view = widgets.VBox([self.status])
            return
        plot = show_figure(None, study_figure(rows))
        plot.add_class(PLOT_CLASS)
        self.status.ok(f"{len(rows)} shipped runs ({STUDY_COMMAND}).")
        self.view = widgets.VBox([widgets.HBox([plot], layout=row_layout()),
                                  widgets.HTML(findings_html(study_findings(rows), "<b>What the shipped runs show</b>")),
                                  widgets.VBox([self.status], layout=panel_layout())])
