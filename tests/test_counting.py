"""aⁿbⁿ (grutools.lessons.counting): the generator's strings and labels, recognition, and a hand-built LSTM that counts."""

from __future__ import annotations

import pytest
import torch

from grutools.core.tasks import IGNORE
from grutools.lessons.counting import END, MORE, CountingTask, counting_lstm, largest_recognised, recognised


def by_hand(n: int, length: int) -> tuple[list[list[float]], list[int]]:
    """aⁿbⁿ written out symbol by symbol: the inputs and what follows each b."""
    symbols = "a" * n + "b" * n
    x = [[1.0, 0.0] if s == "a" else [0.0, 1.0] for s in symbols] + [[0.0, 0.0]] * (length - 2 * n)
    y = []
    for i, s in enumerate(symbols):
        if s == "a":
            y.append(IGNORE)  # after an a, an a or a b may follow: not predictable
        else:
            y.append(MORE if symbols[i + 1:i + 2] == "b" else END)
    return x, y + [IGNORE] * (length - 2 * n)


def test_strings_and_labels_match_the_strings_written_out():
    x, y = CountingTask.strings([1, 3, 5], length=12)
    for row, n in enumerate([1, 3, 5]):
        hx, hy = by_hand(n, 12)
        assert x[row].tolist() == hx and y[row].tolist() == hy
        assert int(x[row, :, 0].sum()) == int(x[row, :, 1].sum()) == n  # as many a's as b's
        assert (y[row] == END).sum() == 1 and (y[row] == MORE).sum() == n - 1


def test_training_batches_draw_every_n_up_to_the_maximum():
    task = CountingTask(max_n=6)
    x, y = task.sample(500, seed=3)
    counts = x[:, :, 0].sum(1).long()
    assert x.shape == (500, 12, 2) and set(counts.tolist()) == set(range(1, 7))
    assert torch.equal(counts, x[:, :, 1].sum(1).long())
    again, _ = task.sample(500, seed=3)
    assert torch.equal(x, again)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="largest training n"):
            CountingTask(bad)
    with pytest.raises(ValueError, match="at least 1"):
        CountingTask.strings([0, 2])


def test_a_hand_built_lstm_counts_far_beyond_any_training_range():
    model = counting_lstm()
    assert largest_recognised(model, up_to=600) == 600
    assert recognised(model, [1000, 2000]).all()
    # its cell state is the count #a - #b, up and down
    from grutools import trace

    x, _ = CountingTask.strings([40])
    cell = trace(model.core, x).cell[0, 0, :, 0]
    count = torch.cat([torch.arange(1, 41), torch.arange(39, -1, -1)]).float()
    torch.testing.assert_close(cell, count)


def test_recognition_fails_when_the_counter_leaks():
    model = counting_lstm()
    with torch.no_grad():
        model.core.bias_ih_l0[1] = 3.0  # a forget gate of 0.95: the count leaks away
    reach = largest_recognised(model, up_to=200)
    assert 0 < reach < 200
    assert not recognised(model, [reach + 1])[0]
