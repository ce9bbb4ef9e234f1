"""Colours a red-green colour-blind student can still tell apart: the palettes under a simulated deuteranopia.

The simulation is Machado, Oliveira & Fernandes (2009), severity 1, applied in linear
RGB; distances are CIE76 ΔE in CIELAB. ΔE of 20 is an obvious difference to anyone.
"""

import itertools

import numpy as np
import pytest
from plotly.colors import sample_colorscale

from grutools import plots

DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
CLEARLY_DIFFERENT = 20.0


def linear_rgb(color: str) -> np.ndarray:
    if color.startswith("rgb"):
        values = np.array([float(v) for v in color[color.index("(") + 1:-1].split(",")[:3]]) / 255
    else:
        values = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen(color: str, deuteranope: bool) -> np.ndarray:
    rgb = linear_rgb(color)
    return lab(np.clip(DEUTERANOPIA @ rgb, 0, 1) if deuteranope else rgb)


def difference(a: str, b: str, deuteranope: bool = True) -> float:
    return float(np.linalg.norm(seen(a, deuteranope) - seen(b, deuteranope)))


def test_the_simulation_merges_what_it_should():
    # the classic confusion: a pure red and a pure green of equal lightness look alike to a deuteranope
    assert difference("#d62728", "#2ca02c", deuteranope=False) > 100 > 10 > difference("#d62728", "#2ca02c")


@pytest.mark.parametrize("palette", [
    [plots.COLORS["rnn"], plots.COLORS["gru"], plots.COLORS["lstm"], plots.BASELINE_COLOR],  # models and the baseline
    [*plots.GATE_COLORS.values(), plots.COLORS["gru"]],  # the gates and the GRU's state, drawn together
    plots.RUN_COLORS,  # runs on different data (dashboard 04)
], ids=["models", "gates", "runs"])
def test_lines_drawn_together_stay_distinguishable(palette):
    for a, b in itertools.combinations(palette, 2):
        assert difference(a, b) > CLEARLY_DIFFERENT, f"{a} and {b} look alike under deuteranopia"


@pytest.mark.parametrize("scale, lo, hi", [(plots.GATE_SCALE, 0, 1), ("RdBu", -1, 1)])
def test_heatmap_scales_keep_their_order_under_deuteranopia(scale, lo, hi):
    samples = sample_colorscale(scale, list(np.linspace(0, 1, 11)))
    lightness = [seen(c, True)[0] for c in samples]
    if scale == plots.GATE_SCALE:  # one hue: lightness alone must order 0..1
        assert all(b < a for a, b in zip(lightness, lightness[1:]))
    else:  # diverging: the two ends differ as much as ends of a scale should, and the middle is the lightest
        assert difference(samples[0], samples[-1]) > 40 and max(lightness) == lightness[5]
