"""The speed verdict (grutools.lessons.speed): the decision rule on fixed synthetic timings, the interval, the benchmark file."""

from __future__ import annotations

import math
import random

import pytest

from grutools.lessons.speed import compare_speed, median_interval, read_benchmark, speed_verdict


def test_median_interval_matches_the_binomial_order_statistics():
    # n = 10 at 95%: P(B <= 1) = 11/1024 = 0.0107 <= 0.025 < P(B <= 2) = 56/1024, so k = 2: the 2nd and 9th values
    assert median_interval(range(1, 11), level=0.95) == (5.5, 2.0, 9.0)
    # at 99%: P(B <= 0) = 1/1024 <= 0.005 < P(B <= 1), so k = 1: the extremes
    assert median_interval(range(1, 11), level=0.99) == (5.5, 1.0, 10.0)
    # too few values for 99% (P(B <= 0) = 1/128 > 0.005 at n = 7): no finite interval, so never a verdict
    median, low, high = median_interval([1, 2, 3, 4, 5, 6, 7], level=0.99)
    assert median == 4 and low == -math.inf and high == math.inf
    with pytest.raises(ValueError, match="no timings"):
        median_interval([])


def test_median_interval_covers_the_true_median_as_often_as_it_claims():
    # an independent check by simulation: a skewed distribution with a known median (exponential: ln 2)
    rng = random.Random(0)
    misses = sum(not (low <= math.log(2) <= high)
                 for low, high in (median_interval([rng.expovariate(1.0) for _ in range(40)], 0.95)[1:]
                                   for _ in range(2000)))
    assert misses / 2000 <= 0.05


def synthetic(gru_ms: float, lstm_ms: float, rounds: int = 60, noise: float = 0.3, seed: int = 1) -> list[float]:
    """Paired ratios of step times with heavy multiplicative noise and rare stalls, as on a busy server."""
    rng = random.Random(seed)
    ratios = []
    for _ in range(rounds):
        drift = math.exp(rng.gauss(0, noise))  # the machine's speed, shared by both steps of a round
        stall = 10.0 if rng.random() < 0.05 else 1.0  # another kernel takes the core
        gru = gru_ms * drift * math.exp(rng.gauss(0, 0.05)) * stall
        lstm = lstm_ms * drift * math.exp(rng.gauss(0, 0.05))
        ratios.append(gru / lstm)
    return ratios


def test_a_clear_win_a_clear_loss_and_a_coin_flip():
    win = speed_verdict(synthetic(2.0, 3.0))
    assert win.decision == "faster" and win.high < 1 and abs(win.ratio - 2 / 3) < 0.05
    assert "the GRU is faster here" in win.sentence()
    loss = speed_verdict(synthetic(3.0, 2.0))
    assert loss.decision == "slower" and loss.low > 1 and "the GRU is slower here" in loss.sentence()
    tie = speed_verdict([0.9, 1.1] * 30)  # half the rounds each way
    assert tie.decision == "too close" and tie.low < 1 < tie.high
    assert "too close to call on this machine right now" in tie.sentence() and "faster" not in tie.sentence()
    # the two page loads of the issue: 5.9 vs 3.5 ms and 2.6 vs 3.2 ms are a coin flip, not a verdict
    assert speed_verdict([5.9 / 3.5, 2.6 / 3.2]).decision == "too close"
    with pytest.raises(ValueError, match="positive"):
        speed_verdict([1.0, float("nan")])


def test_compare_speed_stops_when_clear_or_at_the_budget(monkeypatch):
    from grutools import AddingProblem
    from grutools.core import training

    # a fake clock and fake step times: the GRU's steps take 2 units, the LSTM's 3
    now = [0.0]

    def step(self, x, y):
        now[0] += 2.0 if self.model.cell == "gru" else 3.0
        return 0.0

    monkeypatch.setattr(training.Trainer, "step", step)
    clear = compare_speed(AddingProblem(5), {"gru": 4, "lstm": 4}, budget=1e9, clock=lambda: now[0])
    assert clear.decision == "faster" and clear.rounds == 10 and clear.ratio == pytest.approx(2 / 3)
    assert len(clear.times["gru"]) == len(clear.times["lstm"]) == 10
    # equal steps: never clear, so it stops at the budget, too close to call
    monkeypatch.setattr(training.Trainer, "step", lambda self, x, y: now.__setitem__(0, now[0] + 1.0))
    even = compare_speed(AddingProblem(5), {"gru": 4, "lstm": 4}, budget=100.0, clock=lambda: now[0])
    assert even.decision == "too close" and 45 <= even.rounds <= 55


def test_the_shipped_benchmark_names_its_date_machine_and_settings():
    data = read_benchmark()
    assert data["date"] and data["machine"]["cpu"] and data["machine"]["torch"].startswith("2.13")
    tasks = {row["task"] for row in data["rows"]}
    assert tasks == {"adding", "copy", "sunspots"}
    for row in data["rows"]:
        assert row["low"] <= row["ratio"] <= row["high"]
        expected = "faster" if row["high"] < 1 else "slower" if row["low"] > 1 else "too close"
        assert row["decision"] == expected
