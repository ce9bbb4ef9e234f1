"""Dashboard 08, training a GRU with care: preparing the data, choosing the settings, watching a run, and
misaligned targets, with a checklist to take away.

:class:`CareExplorer` holds five views (``prepare_view``, ``settings_view``, ``monitor_view``,
``shift_view``, ``checklist_view``); the live ones share :class:`.live.LiveView`'s controls.
"""

from __future__ import annotations

import ipywidgets as widgets

from ..lessons.preparing import TRANSFORM_NAMES, TRANSFORMS, preparation_race, shift_sweep
from ..plots.care import preparation_figure, shift_figure
from .care_runs import MonitorView, SettingsView
from .common import (
    LABEL_STYLE,
    control_layout,
)
from .guard import protect
from .live import LiveView
from .questions import Asking

SWEEP = (-8, -4, -2, -1, 0, 1, 2, 4, 8, 12, 16)  # the shifts of the loss-against-k sweep


class PrepareView(LiveView):
    """Three GRUs on the sunspots, raw, standardised, and log-then-standardised: the same seed, windows and steps."""

    def __init__(self) -> None:
        self.length = widgets.IntSlider(value=60, min=12, max=240, step=12, description="months seen",
                                        style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        self.steps = widgets.IntSlider(value=300, min=50, max=600, step=50, description="training steps",
                                       style=LABEL_STYLE, layout=control_layout(), continuous_update=False)
        super().__init__([widgets.HTML("<b>the window</b>"), self.length, self.steps], self.steps.value)
        self.steps.observe(self.guard(self._refresh), names="value")
        self.status.info("Press Train: three GRUs learn the same months, each seeing them prepared differently.")

    def _figure(self, result):
        checked, validation = (result.checked_at, result.validation) if result else ([], {k: [] for k in TRANSFORMS})
        return preparation_figure(checked, validation, TRANSFORM_NAMES, self.steps.value)

    def _steps_done(self, result) -> int:
        return max((len(h.loss) for h in result.histories.values()), default=0)

    def _run(self):
        length, steps = self.length.value, self.steps.value
        self.progress.max = steps
        self.status.info(f"Training three GRUs on windows of {length} months for {steps} steps...")
        return lambda stop, report: preparation_race(length=length, steps=steps, callback=report, stop=stop)

    def _done(self, result) -> list[str]:
        finals = {k: result.final(k) for k in result.validation}
        sentences = []
        for kind, value in finals.items():
            if kind in result.diverged:
                sentences.append(f"{TRANSFORM_NAMES[kind]}: the loss became NaN at step {result.diverged[kind].step}; "
                                 "the numbers were too large for the GRU's gates.")
            else:
                sentences.append(f"{TRANSFORM_NAMES[kind]}: held-out error {value:.3f} of the months' variance.")
        fine = {k: v for k, v in finals.items() if k not in result.diverged and v == v}
        if len(fine) >= 2:
            ranked = sorted(fine, key=fine.get)
            best, second = ranked[0], ranked[1]
            if fine[second] <= 1.1 * fine[best]:
                sentences.append(f"Lowest here: {TRANSFORM_NAMES[best]}, within 10% of {TRANSFORM_NAMES[second]}: "
                                 "too close to call from one seed.")
            else:
                sentences.append(f"Lowest here: {TRANSFORM_NAMES[best]}; {TRANSFORM_NAMES[ranked[-1]]} has "
                                 f"{fine[ranked[-1]] / fine[best]:.1f} times its error.")
        sentences.append("One seed and one window length: move the window and train again before you conclude "
                         "(over three seeds, see the docs' measurements).")
        return sentences


class ShiftView(LiveView):
    """Targets moved k steps against their inputs: memory for k > 0, the future for k < 0."""

    label = "Sweep k"

    def __init__(self) -> None:
        self.shift = widgets.IntSlider(value=4, min=-8, max=16, step=1, description="shift k", style=LABEL_STYLE,
                                       layout=control_layout(), continuous_update=False)
        self.losses: dict[int, float] = {}
        self.only = widgets.Checkbox(value=False, description="this k only", indent=False)
        super().__init__([widgets.HTML("<b>the targets</b>"), self.shift, self.only], len(SWEEP))
        self.shift.observe(self.guard(self._refresh), names="value")
        self.status.info("Press Sweep k: a GRU learns the echo at every shift (or tick 'this k only').")

    def _figure(self, result):
        losses = dict(self.losses)
        if result:
            losses.update({k: h.settings["test_loss"] for k, h in result.items()})
        return shift_figure(losses or {k: 0.0 for k in SWEEP}, chosen=self.shift.value)

    def _steps_done(self, result) -> int:
        return len(result)

    def _run(self):
        shifts = [self.shift.value] if self.only.value else list(SWEEP)
        self.progress.max = len(shifts)
        self.status.info(f"Training a GRU at k = {', '.join(map(str, shifts))}...")
        return lambda stop, report: shift_sweep(shifts, callback=report, stop=stop)

    def _done(self, result) -> list[str]:
        self.losses.update({k: h.settings["test_loss"] for k, h in result.items()})
        lag = {k: v for k, v in self.losses.items() if k > 0}
        lead = {k: v for k, v in self.losses.items() if k < 0}
        sentences = []
        if lead:
            values = ", ".join(f"{v:.2f} (k = {k})" for k, v in sorted(lead.items()))
            if min(lead.values()) > 0.9:
                sentences.append(f"Targets that lead the input (k < 0) stay at {values}: guessing scores 1. They ask "
                                 "for numbers not seen yet; no causal model can learn them.")
            else:
                sentences.append(f"Targets that lead the input (k < 0): {values}, below guessing (1) in one run: "
                                 "random numbers cannot be foreseen, so this is luck of the held-out batch.")
        if lag:
            ordered = [v for _, v in sorted(lag.items())]
            trend = ("worse the further back" if all(a <= b for a, b in zip(ordered, ordered[1:])) else
                     "not always worse the further back")
            learnt = "are learnt" if min(ordered) < 0.5 else "are hardly learnt here"
            sentences.append(f"Targets that lag (k > 0) {learnt}, {trend}: " + ", ".join(
                f"{v:.2f} (k = {k})" for k, v in sorted(lag.items())) + ". The GRU must hold each number k steps.")
        sentences.append("Check the alignment of your own data before you tune anything: a target off by one step "
                         "the wrong way cannot be learnt at all.")
        return sentences


CHECKLIST = [
    ("Look at the data first", "its range, its units and its time step; plot it."),
    ("Scale it", "standardise with the training part's mean and spread (a log first for counts that span decades); "
                 "never feed raw numbers in the hundreds."),
    ("Check the alignment", "the target of step t must come from inputs up to t; shift it and see."),
    ("Hold out data", "from later in time for a series; tune on a validation part, and keep a test part apart for "
                      "the last word (this page, to stay small, uses its held-out months for both)."),
    ("Tune the learning rate first", "over decades, on a small network; then the size."),
    ("Watch the run", "training and validation loss, the gradient norm, the gates' saturation."),
    ("Know the signs", "spikes: rate too high; a flat line: too low; validation rising: overfitting, so stop early."),
    ("Use several seeds", "before you say one setting beats another."),
]


def checklist_html() -> str:
    items = "".join(f"<li><b>{head}</b>: {body}</li>" for head, body in CHECKLIST)
    return ('<div class="grutools-findings" style="background:#f5f9ff;border-left:4px solid #1f77b4;'
            'padding:6px 14px;font-size:15px;line-height:1.45"><b>For your own project</b>'
            f'<ol style="margin:4px 0">{items}</ol></div>')


class CareExplorer(Asking):
    """Training a GRU with care, in five views (see the module doc)."""

    def __init__(self, study_path=None, scenarios_path=None) -> None:
        self.prepare = PrepareView()
        self.settings = SettingsView(study_path)
        self.monitor = MonitorView(scenarios_path)
        self.shift = ShiftView()
        self.prepare_view, self.settings_view = self.prepare.view, self.settings.view
        self.monitor_view, self.shift_view = self.monitor.view, self.shift.view
        self.monitor_study_view = self.monitor.study_view
        self.checklist_view = widgets.VBox([widgets.HTML(checklist_html()), self.monitor.takeaway])
        for part in (self.prepare, self.settings, self.monitor, self.shift):
            protect(part.view, part.status)
        protect(self.checklist_view, self.monitor.status)
        protect(self.monitor_study_view, self.monitor.study)
