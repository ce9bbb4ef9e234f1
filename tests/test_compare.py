"""GRU against LSTM (grutools.lessons.compare): budgets, timing, learning curves, verdicts, limited data."""

import json

import numpy as np
import pytest
import torch

from grutools import AddingProblem, CopyTask, parameter_count
from grutools.core.tasks import DATA_DIR
from grutools.lessons.compare import (
    LimitedData,
    block_means,
    data_quality_run,
    learning_curves,
    matched_hidden_sizes,
    model_parameters,
    read_curves,
    steps_to_reach,
    summarise_curves,
    time_training_steps,
    verdict,
)


def formula(cell, task, hidden):
    """Parameters from the gate-block formula plus the linear head, independent of PyTorch's modules."""
    return parameter_count(cell, task.input_size, hidden) + hidden * task.output_size + task.output_size


@pytest.mark.parametrize("hidden", [16, 32, 64])
def test_matched_hidden_sizes_give_the_closest_budget(hidden):
    task = AddingProblem(10)
    budget = model_parameters("gru", task, hidden)
    assert budget == formula("gru", task, hidden)
    sizes = matched_hidden_sizes(task, budget)
    assert sizes["gru"] == hidden
    for cell, size in sizes.items():
        error = abs(formula(cell, task, size) - budget)
        assert error <= abs(formula(cell, task, size + 1) - budget)
        assert error <= abs(formula(cell, task, size - 1) - budget)
    assert sizes["lstm"] < hidden < sizes["rnn"]
    with pytest.raises(ValueError, match="budget"):
        matched_hidden_sizes(task, 0)


def test_time_training_steps_measures_every_repeat():
    times = time_training_steps("gru", AddingProblem(10), 8, repeats=3, warmup=1)
    assert len(times) == 3 and all(t > 0 for t in times)


def test_limited_data_is_a_fixed_noisy_set_and_tests_clean():
    task = AddingProblem(10)
    data = LimitedData(task, train_size=8, label_noise=0.5)
    x, y = data.sample(100, seed=0)
    rows = {tuple(r.flatten().tolist()) for r in data.x}
    assert all(tuple(r.flatten().tolist()) in rows for r in x)  # every batch row is one of the 8 sequences
    clean_x, clean_y = task.sample(8, generator=torch.Generator().manual_seed(4242))
    torch.testing.assert_close(data.x, clean_x)
    noise = (data.y - clean_y).flatten()
    assert 0.1 < noise.std().item() / clean_y.std().item() < 1.5 and noise.abs().max() > 0
    tx, ty = data.sample(5, seed=3, split="test")
    torch.testing.assert_close(ty, (tx[..., 0] * tx[..., 1]).sum(1, keepdim=True))  # clean targets
    copy = LimitedData(CopyTask(12), train_size=2000, label_noise=0.5)
    _, clean = CopyTask(12).sample(2000, generator=torch.Generator().manual_seed(4242))
    scored = clean >= 0
    changed = (copy.y[scored] != clean[scored]).float().mean().item()
    assert 0.3 < changed < 0.45  # half are redrawn, and a quarter of those redraw the same symbol
    with pytest.raises(ValueError, match="training-set size"):
        LimitedData(task, 0)


def test_few_sequences_are_memorised_not_learned():
    run = data_quality_run(AddingProblem(20), train_size=4, label_noise=0.0, hidden_size=16, steps=300, eval_every=50)
    assert run["step"] == [50, 100, 150, 200, 250, 300]
    assert run["train"][-1] < 0.2 * run["test"][-1]


def test_learning_curves_round_trip_and_summary(tmp_path):
    data = learning_curves({"adding": 10}, seeds=[0, 1], hidden_size=4, steps=20, out=tmp_path / "c.json",
                           progress=False)
    again = read_curves(tmp_path / "c.json")
    assert again["runs"] == json.loads(json.dumps(data["runs"]))
    summary = summarise_curves(again, "adding", "equal budget")
    gru = [r for r in again["runs"] if r["mode"] == "equal budget" and r["cell"] == "gru"]
    np.testing.assert_allclose(summary["gru"]["mean"], np.mean([r["curve"] for r in gru], axis=0))
    assert summary["lstm"]["hidden_size"] == matched_hidden_sizes(AddingProblem(10), model_parameters(
        "gru", AddingProblem(10), 4))["lstm"]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a learning-curves file"):
        read_curves(bad)


def fake(test, curve, seeds=3):
    return {"test": np.array(test), "mean": np.array(curve), "baseline": 1.0, "seeds": seeds}


def test_verdict_claims_a_winner_only_without_overlap():
    assert "GRU ends lower than the LSTM for every seed" in verdict(
        {"gru": fake([0.1, 0.2, 0.15], [0.5, 0.05]), "lstm": fake([0.3, 0.4, 0.35], [0.5, 0.5])})
    assert "tied within the spread" in verdict(
        {"gru": fake([0.1, 0.3, 0.2], [0.5]), "lstm": fake([0.25, 0.4, 0.35], [0.5])})
    single = verdict({"gru": fake([0.1], [0.5], 1), "lstm": fake([0.3], [0.5], 1)})
    assert "single run" in single and "every seed" not in single
    assert steps_to_reach([0.5, 0.2, 0.05], 0.1) == 30 and steps_to_reach([0.5], 0.1) is None
    assert block_means([1, 2, 3, 4, 5], 2) == [1.5, 3.5, 5.0]


def test_shipped_learning_curves_cover_the_study():
    data = read_curves(DATA_DIR / "results" / "learning_curves.json")
    for task in ("adding", "copy", "sunspots"):
        for mode in ("equal size", "equal budget"):
            summary = summarise_curves(data, task, mode)
            assert set(summary) == {"rnn", "gru", "lstm"} and all(s["seeds"] == 3 for s in summary.values())
            if mode == "equal budget":
                budget = summary["gru"]["parameters"]
                assert all(abs(s["parameters"] - budget) <= 0.06 * budget for s in summary.values())
