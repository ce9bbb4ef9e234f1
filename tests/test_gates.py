"""Gate analysis (grutools.lessons.gates) and the gate figures, checked against direct computations."""

import math

import numpy as np
import pytest
import torch

from grutools import AddingProblem, CopyTask, SequenceModel, Sunspots, trace, train
from grutools.lessons.gates import describe_run, event_steps, model_at, saturation, timescales, unit_order
from grutools.plots import gate_heatmaps_figure, saturation_figure, unit_closeup_figure


def test_unit_order_by_mean_and_by_similarity():
    rng = np.random.default_rng(0)
    slow = np.sin(np.linspace(0, 3, 40))
    fast = np.sign(np.sin(np.linspace(0, 40, 40)))
    # units 0, 2, 4 follow one signal, 1, 3 the other (with noise); means differ
    values = np.stack([slow + 0.5, fast, slow + 0.4, fast + 0.1, slow + 0.3], axis=1) + 0.01 * rng.normal(size=(40, 5))
    assert unit_order(values, "none").tolist() == [0, 1, 2, 3, 4]
    assert unit_order(values, "mean").tolist() == list(np.argsort(-values.mean(0)))
    order = unit_order(values, "similarity").tolist()
    assert sorted(order) == [0, 1, 2, 3, 4]
    groups = ["slow" if u in (0, 2, 4) else "fast" for u in order]
    assert groups in (["slow"] * 3 + ["fast"] * 2, ["fast"] * 2 + ["slow"] * 3), order
    with pytest.raises(ValueError, match="unknown sort"):
        unit_order(values, "alphabetical")
    with pytest.raises(ValueError, match="time, hidden"):
        unit_order(values[0], "mean")


def test_saturation_counts_match_a_direct_count():
    gate = torch.rand(8, 30, 5)
    left, right = saturation(gate)
    for unit in range(5):
        values = gate[..., unit].flatten().tolist()
        assert left[unit] == pytest.approx(sum(v < 0.1 for v in values) / len(values))
        assert right[unit] == pytest.approx(sum(v > 0.9 for v in values) / len(values))


def test_timescale_matches_the_decay_of_a_gru_holding_its_state():
    """With zero weights and update-gate bias b, a GRU state decays as z^t (z = sigmoid(b)), time constant -1/ln z."""
    gru = torch.nn.GRU(1, 3, batch_first=True)
    biases = torch.tensor([2.0, 3.0, 4.0])
    with torch.no_grad():
        for p in gru.parameters():
            p.zero_()
        gru.bias_ih_l0[3:6] = biases  # the update gate's block is the second of (r, z, n)
    h0 = torch.ones(1, 1, 3)
    t = trace(gru, torch.zeros(1, 200, 1), h0=h0)
    hidden = t.hidden[0, 0].numpy()
    measured = [(hidden[:, u] > math.exp(-1)).sum() + 1 for u in range(3)]  # steps until it falls to 1/e
    predicted = timescales(t.update[0])
    z = torch.sigmoid(biases).numpy()
    np.testing.assert_allclose(predicted, 1 / (1 - z), rtol=1e-5)
    for u in range(3):  # 1/(1-z) and -1/ln z agree to within a step for z near 1
        assert abs(measured[u] - (-1 / math.log(z[u]))) <= 1.0
        assert abs(measured[u] - predicted[u]) <= 1.0 + 0.6


def test_event_steps_and_step_labels():
    task = AddingProblem(20)
    x, _ = task.sample(1, seed=3)
    events = event_steps(task, x[0].numpy())
    assert events.tolist() == torch.nonzero(x[0, :, 1]).flatten().tolist()
    labels = task.step_labels(x[0])
    assert labels[events[0]].endswith("(marked)") and sum("marked" in s for s in labels) == 2
    copy = CopyTask(length=10, symbols=4, remember=2)
    x, y = copy.sample(1, seed=0)
    labels = copy.step_labels(x[0])
    assert labels[:2] == [f"symbol {'ABCD'[int(s)]}" for s in y[0, -2:]]
    assert labels[2:8] == ["blank"] * 6 and labels[8:] == ["recall now"] * 2
    assert event_steps(copy, x[0].numpy()).tolist() == [0, 1, 8, 9]
    sun = Sunspots(12)
    x, _ = sun.sample(1, seed=0)
    value = float(sun.step_labels(x[0])[0].split()[-1])
    assert value == pytest.approx(x[0, 0, 0].item() * sun.std + sun.mean, abs=0.5)
    with pytest.raises(ValueError, match="symbols must be"):
        CopyTask(length=10, symbols=40)


def test_describe_run_reads_a_trained_memory_from_the_numbers():
    task = AddingProblem(30)
    model = SequenceModel("gru", hidden_size=8, seed=0, **task.model_kwargs())
    history = train(model, task, steps=400, seed=0)
    assert history.final_loss < 0.05
    x, _ = task.sample(64, seed=1)
    after = trace(model, x)
    before = trace(model_at(model, history.snapshots[0][1]), x)
    text = " ".join(describe_run(after, before, task))
    # the sentence's numbers are the trace's numbers
    assert f"{after.update[0].mean().item():.2f}" in text
    assert "is a clear memory" in text  # a trained adding-problem GRU opens a gate at the marks
    before_text = " ".join(describe_run(before, before, task))
    assert "No unit yet" in before_text


def test_gate_figures_have_the_promised_structure():
    task = AddingProblem(12)
    x = task.sample(1, seed=0)[0][0].numpy()
    values = {name: np.random.rand(12, 4) for name in ("update", "reset", "hidden")}
    figure = gate_heatmaps_figure(task, x, values, order=[3, 1, 0, 2], events=event_steps(task, x))
    heatmaps = [t for t in figure.data if t.type == "heatmap"]
    assert [t.name for t in heatmaps] == ["update gate z", "reset gate r", "hidden state h"]
    assert list(heatmaps[0].y) == ["unit 3", "unit 1", "unit 0", "unit 2"]
    assert heatmaps[0].zmin == 0 and heatmaps[2].zmin == -1
    assert len(figure.layout.shapes) == 2  # one line per marked step
    closeup = unit_closeup_figure(task, x, {n: v[:, 0] for n, v in values.items()}, unit=0)
    assert {t.name for t in closeup.data} >= {"update gate z", "hidden state h"}
    sat = saturation_figure({"update": (np.zeros(4), np.ones(4))}, {"update": (np.zeros(4), np.zeros(4))})
    assert [t.name for t in sat.data if t.mode == "markers"] == ["trained", "untrained"]
