"""Memory time scales (grutools.lessons.memory and the two-time-scales task), against direct computations."""

import numpy as np
import pytest
import torch

from grutools import SequenceModel
from grutools.core.tasks import TwoTimescales
from grutools.lessons.memory import impulse_response, lifetimes, pca_trajectory, unit_alignment, unit_timescales


def test_two_timescales_targets_are_the_moving_averages():
    task = TwoTimescales(40, fast=2, slow=10)
    x, y = task.sample(3, seed=0)
    for k, steps in enumerate((2, 10)):
        a = 1 - 1 / steps
        state = np.zeros(3)
        for t in range(40):
            state = a * state + (1 - a) * x[:, t, 0].numpy()
            np.testing.assert_allclose(y[:, t, k].numpy(), state / np.sqrt((1 - a) / (1 + a)), rtol=1e-5, atol=1e-6)
    big_x, big_y = TwoTimescales(60).sample(4000, seed=1)
    assert (big_y**2).mean().item() == pytest.approx(TwoTimescales(60).baseline, rel=0.03)
    with pytest.raises(ValueError, match="fast < slow"):
        TwoTimescales(10, fast=5, slow=3)


def test_unit_timescales_of_a_gru_with_pinned_update_gates():
    model = SequenceModel("gru", input_size=1, hidden_size=2, output_size=2, readout="all", seed=0)
    with torch.no_grad():
        for p in model.core.parameters():
            p.zero_()
        model.core.bias_ih_l0[2:4] = torch.tensor([0.0, 3.0])  # update gates sigmoid(0) = 0.5 and sigmoid(3)
    scales = unit_timescales(model, torch.randn(2, 10, 1))
    z = torch.sigmoid(torch.tensor([0.0, 3.0]))
    np.testing.assert_allclose(scales, (1 / (1 - z)).numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="need a GRU"):
        unit_timescales(SequenceModel("rnn", 1, 2, 2, readout="all"), torch.randn(1, 5, 1))


def test_unit_alignment_is_the_absolute_correlation():
    model = SequenceModel("gru", input_size=1, hidden_size=3, output_size=2, readout="all", seed=0)
    task = TwoTimescales(30)
    x, y = task.sample(8, seed=0)
    ours = unit_alignment(model, x, y)
    with torch.no_grad():
        states, _ = model.core(x)
    for unit in range(3):
        for k in range(2):
            expected = abs(np.corrcoef(states[..., unit].flatten().numpy(), y[..., k].flatten().numpy())[0, 1])
            assert ours[unit, k] == pytest.approx(expected, abs=1e-4)


def test_impulse_response_is_the_difference_of_two_runs():
    model = SequenceModel("gru", input_size=1, hidden_size=4, output_size=2, readout="all", seed=3)
    x = torch.randn(25, 1)
    response = impulse_response(model, x, step=5, size=0.5)
    nudged = x.clone()
    nudged[5] += 0.5
    with torch.no_grad():
        a, _ = model.core(x[None])
        b, _ = model.core(nudged[None])
    np.testing.assert_allclose(response, (b - a).abs()[0].numpy(), atol=1e-6)
    assert np.all(response[:5] == 0) and np.all(response[5] > 0)
    lives = lifetimes(response, 5)
    for unit in range(4):  # the last step at or above 10% of the peak, counted from the nudge
        after = response[5:, unit]
        assert lives[unit] == np.flatnonzero(after >= 0.1 * after.max())[-1] + 1
    with pytest.raises(ValueError, match="nudged step"):
        impulse_response(model, x, step=30)


def test_pca_trajectory_finds_the_main_direction():
    rng = np.random.default_rng(0)
    direction = np.array([3.0, 4.0, 0.0]) / 5
    states = np.outer(np.linspace(-1, 1, 50), direction) + 0.001 * rng.normal(size=(50, 3))
    projected, variance = pca_trajectory(states)
    assert variance[0] > 0.999
    np.testing.assert_allclose(np.abs(projected[:, 0]), np.abs(np.linspace(-1, 1, 50)), atol=0.01)
