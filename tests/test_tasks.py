"""Tasks: shapes, seeding, and the "learned nothing" baselines measured independently."""

import math

import pytest
import torch
from torch.nn import functional as F

from grutools import AddingProblem, CopyTask, Sunspots, make_task
from grutools.core.tasks import IGNORE, load_sunspots, sequence_loss


def test_adding_problem_batches():
    x, y = AddingProblem(40).sample(500, seed=1)
    assert x.shape == (500, 40, 2) and y.shape == (500, 1)
    markers = x[..., 1]
    assert (markers.sum(1) == 2).all()
    assert (markers[:, :20].sum(1) == 1).all() and (markers[:, 20:].sum(1) == 1).all()
    torch.testing.assert_close(y[:, 0], (x[..., 0] * markers).sum(1))


def test_adding_baseline_is_the_mse_of_predicting_the_mean():
    task = AddingProblem(50)
    _, y = task.sample(200_000, seed=0)
    measured = F.mse_loss(torch.full_like(y, y.mean().item()), y).item()
    assert abs(measured - task.baseline) < 0.003
    assert abs(task.baseline - 0.167) < 0.001


def test_copy_task_batches_and_baseline():
    task = CopyTask(length=20, symbols=4, remember=3)
    x, y = task.sample(64, seed=0)
    assert x.shape == (64, 20, 5) and y.shape == (64, 20)
    assert task.delay == 14
    shown = x[:, :3, :4].argmax(-1)
    assert torch.equal(y[:, -3:], shown)
    assert (y[:, :-3] == IGNORE).all()
    assert (x[:, -3:, 4] == 1).all() and (x[:, 3:-3] == 0).all()
    uniform = torch.zeros(64, 20, 4)  # equal logits: a guess
    assert math.isclose(sequence_loss(uniform, y).item(), task.baseline, rel_tol=1e-6)
    assert math.isclose(task.baseline, math.log(4))


def test_sunspots_is_the_shipped_record_split_in_time():
    series = load_sunspots()
    assert len(series) == 3126 and series.min() >= 0
    task = Sunspots(length=48)
    x, y = task.sample(16, seed=0)
    assert x.shape == (16, 48, 1) and y.shape == (16, 48, 1)
    torch.testing.assert_close(x[:, 1:], y[:, :-1])  # the target is the next month
    test_x, _ = task.sample(8, seed=0, split="test")
    raw = test_x * task.std + task.mean
    test_part = series[task.split_at:]
    window = raw[0, :, 0]
    matches = [(test_part[s:s + 48] - window).abs().max() < 1e-3 for s in range(len(test_part) - 48)]
    assert any(matches)  # test windows come from the held-out years only
    assert 0.9 < task.baseline < 1.1 and task.persistence < 0.3 * task.baseline


def test_seeds_and_generators_reproduce_batches():
    task = AddingProblem(10)
    assert torch.equal(task.sample(4, seed=5)[0], task.sample(4, seed=5)[0])
    assert not torch.equal(task.sample(4, seed=5)[0], task.sample(4, seed=6)[0])
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    assert torch.equal(task.sample(4, generator=g1)[0], task.sample(4, generator=g2)[0])


@pytest.mark.parametrize("name,length,match", [
    ("adding", 0, "length must be"), ("adding", 1, ">= 2"), ("copy", 5, ">= 7"),
    ("sunspots", 5000, "at most"), ("unknown", 10, "unknown task"),
])
def test_bad_task_settings(name, length, match):
    with pytest.raises(ValueError, match=match):
        make_task(name, length)


def test_every_task_describes_itself():
    for name in ("adding", "copy", "sunspots"):
        task = make_task(name, 30)
        assert len(task.description) > 60 and task.title and task.baseline > 0
        assert set(task.model_kwargs()) == {"input_size", "output_size", "readout"}
