"""The gate views, one implementation: heatmaps aligned with the input, one unit close up, gate saturation.

Dashboard 02 (the shipped tasks, through training) and :func:`grutools.explore` /
dashboard 06 (anyone's model and sequences) are two configurations of these views:
each app chooses what to show (sequence, layer, snapshot, order) and hands the values
here; the figures and the widgets that hold them are the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..plots import gate_heatmaps_figure, saturation_figure, unit_closeup_figure
from .figures import show_figure


class GateViews:
    """The three figure widgets (``heatmaps``, ``closeup``, ``saturation``) and how to draw into them.

    ``source`` is what the input row is drawn from: a task, or a user's
    :class:`~grutools.yours.sequences.UserSequences` (``name``, ``title``, ``step_labels``).
    """

    def __init__(self) -> None:
        self.heatmaps = None
        self.closeup = None
        self.saturation = None

    def draw_heatmaps(self, source, x: np.ndarray, values: Mapping[str, np.ndarray], order: Sequence[int],
                      title: str, events: Sequence[int] = (), height: int | None = None, first_step: int = 1) -> None:
        """Every quantity of ``values`` (``{name: (time, hidden)}``) as a heatmap under the input ``x``."""
        kwargs = {"height": height} if height else {}
        self.heatmaps = show_figure(self.heatmaps, gate_heatmaps_figure(source, x, values, list(order), events=events,
                                                                        title=title, first_step=first_step, **kwargs))

    def draw_unit(self, source, x: np.ndarray, values: Mapping[str, np.ndarray], unit: int,
                  events: Sequence[int] = (), first_step: int = 1) -> None:
        """One unit's gates and states over time (``values``: ``{name: (time, hidden)}``)."""
        series = {name: np.asarray(value)[:, unit] for name, value in values.items()}
        self.closeup = show_figure(self.closeup, unit_closeup_figure(source, x, series, unit, events=events,
                                                                     first_step=first_step))

    def draw_saturation(self, shown: Mapping[str, tuple[np.ndarray, np.ndarray]],
                        reference: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
                        label: str = "trained") -> None:
        """Each gate's saturation per unit; ``reference`` (e.g. the untrained model) drawn open beside it."""
        self.saturation = show_figure(self.saturation, saturation_figure(shown, reference, label=label))


class ShowsGateViews:
    """For an app with a :class:`GateViews` as ``self.views``: its figure widgets under the names tests and
    notebooks use."""

    views: GateViews

    @property
    def heatmaps(self):
        """The gate heatmaps' figure widget."""
        return self.views.heatmaps

    @property
    def closeup(self):
        """The unit close-up's figure widget."""
        return self.views.closeup

    @property
    def saturation_plot(self):
        """The saturation figure widget."""
        return self.views.saturation
