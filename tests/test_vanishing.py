"""Vanishing gradients (grutools.lessons.vanishing), checked against PyTorch's own cells and autograd."""

import numpy as np
import pytest
import torch

from grutools import AddingProblem, SequenceModel, train
from grutools.core.gradients import gradient_norms
from grutools.core.tasks import DATA_DIR
from grutools.lessons.vanishing import (
    decay_per_step,
    gradient_gain,
    make_models,
    race,
    race_table,
    read_table,
    sampled_steps,
    scale_recurrent,
    spectral_radius,
    step_jacobian_norms,
    summarise_table,
)

CELL_CLASSES = {"rnn": torch.nn.RNNCell, "gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}


def reference_cell(model):
    cell = CELL_CLASSES[model.cell](model.input_size, model.hidden_size)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(model.core, f"{name}_l0"))
    return cell


def reference_states(model, cell, x):
    """States visited on one sequence x (time, input), by stepping PyTorch's cell."""
    h = torch.zeros(model.hidden_size)
    c = torch.zeros(model.hidden_size)
    states = []
    for x_t in x:
        states.append((h, c))
        if model.cell == "lstm":
            h, c = cell(x_t[None], (h[None], c[None]))
            h, c = h[0], c[0]
        else:
            h = cell(x_t[None], h[None])[0]
    return states


@pytest.mark.parametrize("cell_type", ["rnn", "gru", "lstm"])
def test_step_jacobian_norms_match_autograd_on_pytorch_cells(cell_type):
    task = AddingProblem(12)
    model = SequenceModel(cell_type, hidden_size=5, seed=1, **task.model_kwargs())
    x, _ = task.sample(2, seed=0)
    ours = step_jacobian_norms(model, x)
    cell = reference_cell(model)
    for sample in range(2):
        for t, (h, c) in enumerate(reference_states(model, cell, x[sample])):
            x_t = x[sample, t][None]
            if cell_type == "lstm":
                def step(state, x_t=x_t):
                    h2, c2 = cell(x_t, (state[None, :5], state[None, 5:]))
                    return torch.cat([h2[0], c2[0]])
                jac = torch.autograd.functional.jacobian(step, torch.cat([h, c]))
            else:
                jac = torch.autograd.functional.jacobian(lambda s, x_t=x_t: cell(x_t, s[None])[0], h)
            expected = torch.linalg.matrix_norm(jac, ord=2)
            assert ours[sample, t].item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("cell_type", ["rnn", "gru", "lstm"])
def test_step_jacobian_norms_at_some_steps_are_those_of_all_steps(cell_type):
    task = AddingProblem(30)
    model = SequenceModel(cell_type, hidden_size=6, seed=3, **task.model_kwargs())
    x, _ = task.sample(3, seed=1)
    steps = sampled_steps(30, most=7)
    assert len(steps) == 7 and steps[0] == 0 and steps[-1] == 29
    every = step_jacobian_norms(model, x)
    torch.testing.assert_close(step_jacobian_norms(model, x, steps), every[:, steps])
    with pytest.raises(ValueError, match="time steps from 0 to 29"):
        step_jacobian_norms(model, x, [0, 30])


@pytest.mark.parametrize("cell_type", ["rnn", "gru"])
def test_gradient_gain_is_the_one_step_jacobian_acting_on_the_gradient(cell_type):
    """dL/dh_{t-1} = J_t^T dL/dh_t when only the last step is read: check it with PyTorch's cell and autograd."""
    task = AddingProblem(15)
    model = SequenceModel(cell_type, hidden_size=6, seed=2, **task.model_kwargs())
    x, y = task.sample(1, seed=4)
    cell = reference_cell(model)
    hs = [torch.zeros(6, requires_grad=True)]
    for x_t in x[0]:
        hs.append(cell(x_t[None], hs[-1][None])[0])
    for h in hs[1:]:
        h.retain_grad()
    loss = ((model.head(hs[-1]) - y[0]) ** 2).sum()
    loss.backward()
    norms = gradient_norms(model, x, y)
    expected = torch.stack([h.grad.norm() for h in hs[1:]])
    torch.testing.assert_close(norms[0], expected, rtol=1e-4, atol=1e-8)
    gain = gradient_gain(norms.numpy())
    np.testing.assert_allclose(gain[1:], (expected[:-1] / expected[1:]).numpy(), rtol=1e-4)
    # and the product of the gains is the whole decay from the last step to the first
    assert np.prod(gain[1:]) == pytest.approx((expected[0] / expected[-1]).item(), rel=1e-3)


def test_decay_per_step_reads_the_rnn_spectral_radius_direction():
    task = AddingProblem(60)
    x, y = task.sample(16, seed=0)
    decays = {}
    for scale in (0.5, 1.0, 3.0):
        model = make_models(task, 16, scale=scale, cells=["rnn"])["rnn"]
        decays[scale] = decay_per_step(gradient_norms(model, x, y).mean(0).numpy())
    assert decays[0.5] < decays[1.0] < decays[3.0]
    assert decays[0.5] < 0.8  # a small recurrent matrix: the gradient vanishes fast
    with pytest.raises(ValueError, match="at least two"):
        decay_per_step([0.0, 0.0, 1.0])


def test_scale_recurrent_and_spectral_radius():
    model = SequenceModel("rnn", input_size=1, hidden_size=8, output_size=1, seed=0)
    before = model.core.weight_hh_l0.detach().clone()
    radius = spectral_radius(model)
    assert radius == pytest.approx(np.abs(np.linalg.eigvals(before.numpy())).max(), rel=1e-5)
    scale_recurrent(model, 2.0)
    torch.testing.assert_close(model.core.weight_hh_l0, 2 * before)
    assert spectral_radius(model) == pytest.approx(2 * radius, rel=1e-5)
    assert torch.equal(make_models(AddingProblem(5), 8, cells=["gru"])["gru"].core.weight_ih_l0,
                       SequenceModel("gru", hidden_size=8, seed=0, **AddingProblem(5).model_kwargs()).core.weight_ih_l0)
    with pytest.raises(ValueError, match="scale"):
        scale_recurrent(model, -1.0)


def test_race_is_train_in_lock_step_on_the_same_batches():
    task = AddingProblem(20)
    result = race(task, hidden_size=8, steps=30, record_every=10)
    alone = SequenceModel("gru", hidden_size=8, seed=0, **task.model_kwargs())
    history = train(alone, task, steps=30, seed=0)
    assert result.histories["gru"].loss == pytest.approx(history.loss, rel=1e-5)
    steps, records = result.gradients["rnn"]
    assert steps == [0, 10, 20, 30] and records[0].shape == (20,)


def test_a_diverging_model_stops_and_keeps_finite_weights():
    class Poisoned(AddingProblem):
        calls = 0

        def sample(self, batch_size, generator=None, seed=None, split="train"):
            x, y = super().sample(batch_size, generator, seed, split)
            if split == "train":
                Poisoned.calls += 1
                if Poisoned.calls >= 3:
                    y = y * float("nan")
            return x, y

    result = race(Poisoned(10), hidden_size=4, steps=10, record_every=5)
    assert set(result.diverged) == {"rnn", "gru", "lstm"}
    assert all(len(h.loss) == 2 for h in result.histories.values())
    assert all(torch.isfinite(p).all() for m in result.models.values() for p in m.parameters())


def test_race_table_round_trip_and_summary(tmp_path):
    rows = race_table([10], [0, 1], hidden_size=4, steps=5, out=tmp_path / "t.csv", progress=False)
    assert len(rows) == 6
    again = read_table(tmp_path / "t.csv")
    assert [r["test_loss"] for r in again] == [r["test_loss"] for r in rows]
    summary = summarise_table(again)
    gru = [r["test_loss"] for r in rows if r["cell"] == "gru"]
    assert summary[("gru", 10)]["mean"] == pytest.approx(np.mean(gru))
    assert summary[("gru", 10)]["std"] == pytest.approx(np.std(gru, ddof=1))


def test_shipped_table_agrees_with_the_foundation_claim():
    """The table in data/ says what tests/test_training.py checks live: at T=100 the GRU solves it, the RNN does not."""
    summary = summarise_table(read_table(DATA_DIR / "results" / "race_adding.csv"))
    assert summary[("gru", 100)]["max"] < 0.01
    assert summary[("rnn", 100)]["min"] > 0.1
    assert summary[("gru", 100)]["seeds"] >= 3
