"""Dashboard 08, training with care: transforms, shifts, early stopping, the monitor, the tuning study, the app."""

import math

import numpy as np
import pytest
import torch

from grutools.core.tasks import DATA_DIR, load_sunspots
from grutools.lessons.monitoring import (
    SCENARIOS,
    early_stopping,
    monitor,
    monitored_run,
    read_scenarios,
    scenario_findings,
    spikes,
)
from grutools.lessons.preparing import PreparedSunspots, ShiftedEcho, Transform, shift_targets
from grutools.lessons.tuning import (
    CELLS,
    HIDDEN_SIZES,
    LEARNING_RATES,
    TASKS,
    importance,
    read_grid,
    stability,
    summarise_grid,
    tuning_claims,
    tuning_study,
)


@pytest.mark.parametrize("kind", ["raw", "standardised", "log"])
def test_each_transform_and_its_inverse_on_known_numbers(kind):
    train = np.array([0.0, 9.0, 99.0])
    t = Transform.fit(kind, train)
    # by hand: mean 36, deviations -36, -27, 63, variance 1998; log(1 + x) = 0, ln 10, 2 ln 10, so -1.22, 0, 1.22
    expected = {"raw": train, "standardised": np.array([-36.0, -27.0, 63.0]) / math.sqrt(1998.0),
                "log": np.array([-1.0, 0.0, 1.0]) * math.sqrt(1.5)}[kind]
    np.testing.assert_allclose(t.forward(train), expected, atol=1e-12)
    np.testing.assert_allclose(t.inverse(t.forward(train)), train, atol=1e-9)
    as_tensor = t.inverse(t.forward(torch.tensor(train)))
    assert isinstance(as_tensor, torch.Tensor) and torch.allclose(as_tensor, torch.tensor(train, dtype=as_tensor.dtype))


def test_a_transform_refuses_what_it_cannot_fit():
    with pytest.raises(ValueError, match="one of"):
        Transform.fit("sqrt", [1.0, 2.0])
    with pytest.raises(ValueError, match="above -1"):
        Transform.fit("log", [-2.0, 3.0])
    with pytest.raises(ValueError, match="two finite"):
        Transform.fit("standardised", [1.0])


class Oracle(torch.nn.Module):
    """Predicts, in the task's transformed numbers, exactly the next month (or a constant)."""

    def __init__(self, task, constant=None):
        super().__init__()
        self.task, self.constant = task, constant

    def forward(self, x):
        values = self.task.transform.inverse(x.double())
        if self.constant is not None:
            return self.task.transform.forward(torch.full_like(values, self.constant)).float()
        raw = self.task.raw[self.task.split_at:].double()
        out = torch.empty_like(values)
        for b in range(values.shape[0]):  # find each window in the held-out months, then take the month after
            start = next(s for s in range(len(raw)) if torch.allclose(raw[s: s + 3], values[b, :3, 0], atol=1e-6))
            out[b, :, 0] = raw[start + 1: start + 1 + values.shape[1]]
        return self.task.transform.forward(out).float()


@pytest.mark.parametrize("kind", ["raw", "standardised", "log"])
def test_the_held_out_error_is_read_in_sunspot_numbers(kind):
    task = PreparedSunspots(24, kind)
    starts = [0, 100, 300]
    assert task.relative_error(Oracle(task), starts) == pytest.approx(0.0, abs=1e-6)
    held_out = load_sunspots()[task.split_at:].double()
    windows = torch.stack([held_out[s + 1: s + 25] for s in starts])
    mean = float(windows.mean())  # predicting these months' own mean: their variance, over the held-out variance
    expected = float(windows.var(unbiased=False)) / float(held_out.var(unbiased=False))
    assert task.relative_error(Oracle(task, constant=mean), starts) == pytest.approx(expected, rel=1e-5)


def test_shift_targets_on_a_hand_made_sequence():
    x = torch.arange(8.0).reshape(1, 8, 1)
    y = 10 * x
    lag_x, lag_y = shift_targets(x, y, 3)
    assert lag_x.flatten().tolist() == [3, 4, 5, 6, 7] and lag_y.flatten().tolist() == [0, 10, 20, 30, 40]
    lead_x, lead_y = shift_targets(x, y, -1)
    assert lead_x.flatten().tolist() == list(range(7)) and lead_y.flatten().tolist() == [10 * i for i in range(1, 8)]
    same = shift_targets(x, y, 0)
    assert torch.equal(same[0], x) and torch.equal(same[1], y)
    with pytest.raises(ValueError, match="leaves nothing"):
        shift_targets(x, y, 8)
    with pytest.raises(TypeError, match="whole number"):
        shift_targets(x, y, 1.5)


def test_the_shifted_echo_asks_for_the_past_or_the_future():
    x, y = ShiftedEcho(10, 3).sample(4, seed=0)
    assert x.shape == y.shape == (4, 10, 1)
    assert torch.equal(y[:, 3:], x[:, :-3])  # the target is the input of 3 steps before
    x, y = ShiftedEcho(10, -2).sample(4, seed=0)
    assert torch.equal(y[:, :-2], x[:, 2:])  # the input of 2 steps later


def test_early_stopping_on_a_made_up_curve():
    steps = [0, 50, 100, 150, 200, 250, 300]
    validation = [1.0, 0.6, 0.4, 0.45, 0.41, 0.5, 0.7]
    assert early_stopping(steps, validation, patience=150) == (100, 250)
    assert early_stopping(steps, validation, patience=1000) == (100, None)
    assert early_stopping([0, 100, 200, 300, 400], [1.0, 0.5, 0.6, 0.7, 0.2], patience=200) == (100, 300)  # the
    # later, lower loss comes after it stopped: early stopping never sees it
    assert early_stopping([0, 10], [float("nan"), 0.5], patience=5) == (10, None)
    with pytest.raises(ValueError):
        early_stopping([0, 1], [0.5])


def test_the_monitor_names_each_failure_on_made_up_histories():
    steps = 400
    falling = list(np.linspace(1.0, 0.1, steps))
    calm = [0.5] * steps
    checked = list(range(0, steps + 1, 50))
    healthy_val = list(np.linspace(1.0, 0.15, len(checked)))
    assert monitor(falling, checked, healthy_val, calm, baseline=1.0).endswith("a healthy run.")
    nan = falling[:100] + [float("nan")]
    assert "diverged" in monitor(nan, checked[:3], healthy_val[:3], calm[:101], 1.0)
    assert "step 7" in monitor(falling[:6], [0], [1.0], calm[:6], 1.0, diverged_at=7)
    spiky = list(calm)
    spiky[200] = 500.0
    text = monitor(falling, checked, healthy_val, spiky, baseline=1.0)
    assert text.startswith("Spikes: at step 201") and "too high" in text
    assert "flat curve" in monitor([0.9] * steps, checked, [0.9] * len(checked), calm, baseline=1.0)
    overfit = [0.8, 0.5, 0.3, 0.3, 0.35, 0.45, 0.55, 0.6, 0.7]
    text = monitor(falling, checked, overfit, calm, baseline=1.0)
    assert text.startswith("Validation loss has risen for 300 steps while training loss falls: overfitting")
    assert "step 100 (validation 0.3)" in text  # the first of the two lowest
    assert monitor(falling[:10], [0], [1.0], calm[:10], 1.0) == "Too few steps to judge yet."
    rising = list(np.linspace(0.115, 0.385, steps))
    text = monitor(rising, checked, healthy_val, calm, baseline=1.0)
    assert text.startswith("The training loss rose from") and "above guessing" not in text
    assert "above guessing" in monitor(list(np.linspace(0.5, 2.0, steps)), checked, healthy_val, calm, baseline=1.0)
    assert not spikes([0.0] * 30).any() and spikes([0.0] + [1.0] * 30).sum() == 0


def test_a_monitored_run_keeps_its_best_validation_weights():
    run = monitored_run("few", steps=40, hidden_size=4, length=12, check_every=10)
    assert run.checked_at == [0, 10, 20, 30, 40] and len(run.loss) == len(run.grad_norm) == 40
    assert all(0.0 <= s <= 1.0 for s in run.saturation) and run.update_means[-1].shape == (4,)
    best = run.validation.index(min(run.validation))
    assert run.best_step == run.checked_at[best]
    kept = {k: v.clone() for k, v in run.model.state_dict().items()}
    assert all(torch.equal(kept[k], run.best_state[k]) for k in kept)
    clipped = monitored_run("clipped", steps=5, hidden_size=4, length=12, check_every=5)
    assert all(math.isfinite(n) for n in clipped.grad_norm)
    with pytest.raises(ValueError, match="scenario"):
        monitored_run("reckless")


def test_the_gradient_norm_is_the_one_before_clipping():
    from grutools import AddingProblem, SequenceModel
    from grutools.core.training import Trainer

    task = AddingProblem(10)
    for clip in (None, 1e-3):
        model = SequenceModel("gru", hidden_size=4, seed=0, **task.model_kwargs())
        trainer = Trainer(model, task, clip_grad=clip)
        x, y = task.sample(8, seed=0)
        reference = SequenceModel("gru", hidden_size=4, seed=0, **task.model_kwargs())
        task.loss(reference(x), y).backward()
        expected = torch.sqrt(sum((p.grad ** 2).sum() for p in reference.parameters())).item()
        trainer.step(x, y)
        assert trainer.grad_norm == pytest.approx(expected, rel=1e-5)


def grid(lr_effect, size_effect=0.0, interaction=0.0, noise=0.0):
    lrs, sizes = np.arange(4), np.arange(3)
    rng = np.random.default_rng(0)
    y = (lr_effect * lrs[None, :, None] + size_effect * sizes[:, None, None]
         + interaction * (lrs[None, :, None] - 1.5) * (sizes[:, None, None] - 1.0)  # no main effect
         + noise * rng.standard_normal((3, 4, 3)))
    return {"log": y}


def test_importance_splits_the_variance_as_built():
    only_lr = importance(grid(1.0))
    assert only_lr["learning rate"] == pytest.approx(1.0) and only_lr["interaction"] == pytest.approx(0.0, abs=1e-12)
    both = importance(grid(1.0, size_effect=1.0))
    assert both["learning rate"] > both["hidden size"] > 0 and abs(both["interaction"]) < 1e-12
    mixed = importance(grid(0.0, interaction=1.0))
    assert mixed["interaction"] == pytest.approx(1.0)
    assert sum(importance(grid(1.0, 0.5, 0.3, 0.2)).values()) == pytest.approx(1.0)


def test_the_width_that_trains_counts_only_neighbouring_rates():
    mean = np.array([[0.05, 0.5, 0.05, 0.05, 0.05], [0.05, 0.05, 0.05, 0.05, 0.5]])  # 1e-4 alone, then 1e-2, 1e-1
    values = np.stack([mean * f for f in (0.9, 1.0, 1.1)], axis=2)
    cell = {"mean": mean, "values": values, "log": np.log10(values), "bar": 0.1,
            "lrs": [1e-4, 1e-3, 1e-2, 1e-1, 1.0]}
    marks = stability(cell)
    assert marks["decades"] == pytest.approx(2.0)  # two neighbouring rates, a decade apart; not 1e-4 to 1e-1
    assert marks["spread"] == pytest.approx(float(np.median(np.std(np.log10([0.9, 1.0, 1.1])) * np.ones(7))))


def test_stability_measures_spread_and_the_width_that_trains():
    mean = np.array([[0.5, 0.05, 0.05, 0.5], [0.5, 0.05, 0.05, 0.05]])
    values = np.repeat(mean[:, :, None], 3, axis=2) * np.array([1.0, 1.0, 1.0])
    cell = {"mean": mean, "values": values, "log": np.log10(values), "bar": 0.1, "lrs": [1e-3, 1e-2, 1e-1, 1.0]}
    marks = stability(cell)
    assert marks["spread"] == 0.0 and marks["decades"] == pytest.approx(2.0)  # 0.01 and 0.1 train at both sizes
    assert marks["trained"] == pytest.approx(5 / 8)


def test_the_tuning_study_file_and_its_claims(tmp_path):
    out = tmp_path / "tuning.csv"
    rows = tuning_study({"adding": ("adding", 8)}, learning_rates=(1e-3, 1e-1), hidden_sizes=(4, 8), seeds=(0, 1),
                        steps=3, out=out, progress=False)
    assert len(rows) == 2 * 2 * 2 * 2
    again = read_grid(out)
    assert [r["test_loss"] for r in again] == pytest.approx([r["test_loss"] for r in rows])
    summary = summarise_grid(again)
    assert set(summary) == {("adding", "gru"), ("adding", "lstm")} and summary[("adding", "gru")]["mean"].shape == (2, 2)
    sentences = tuning_claims(summary)
    assert len(sentences) == 3 and all(sentence.startswith("adding: ") for sentence in sentences)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a tuning study"):
        read_grid(tmp_path / "bad.csv")


def test_the_shipped_studies_cover_the_grid_and_every_scenario():
    rows = read_grid(DATA_DIR / "results" / "tuning.csv")
    for name, length in TASKS.values():
        for kind in CELLS:
            mine = [r for r in rows if (r["task"], r["length"], r["model"]) == (name, length, kind)]
            assert {r["lr"] for r in mine} == set(LEARNING_RATES) and {r["hidden_size"] for r in mine} == set(HIDDEN_SIZES)
            assert len({r["seed"] for r in mine}) >= 3
    assert math.log10(max(LEARNING_RATES) / min(LEARNING_RATES)) >= 4 and len(LEARNING_RATES) >= 6
    scenarios = read_scenarios(DATA_DIR / "results" / "scenarios.csv")
    assert {r["scenario"] for r in scenarios} == set(SCENARIOS)
    assert len(scenario_findings(scenarios)) == 4


def test_scenario_findings_say_when_a_fix_did_not_work():
    def row(name, seed, final, spikes=0):
        return {"scenario": name, "seed": seed, "steps": 600, "final_validation": final, "best_validation": final,
                "best_step": 100, "spikes": spikes, "max_grad_norm": 10.0, "median_grad_norm": 0.1, "saturation": 0.5,
                "diverged": 0}

    rows = [row("healthy", 0, 0.2), row("too_high", 0, 0.3, spikes=50), row("clipped", 0, 0.4, spikes=2),
            row("lowered", 0, 0.25), row("too_low", 0, 1.9), row("few", 0, 0.7)]
    text = " ".join(scenario_findings(rows))
    assert "cut the spikes" in text and "did not lower the final loss" in text and "clipping alone is no cure" in text
    assert "A tenth of the rate did better" in text
    rows[2] = row("clipped", 0, 0.2, spikes=80)
    text = " ".join(scenario_findings(rows))
    assert "did not cut the spikes" in text and "and lowered the final loss" in text
    assert scenario_findings(rows[:2])[0].startswith("The scenario study lacks")


def test_the_stability_verdict_follows_the_numbers():
    from grutools.lessons.tuning import _stable_sentence

    def marks(decades, spread, trained=0.5):
        return {"decades": decades, "spread": spread, "trained": trained}

    assert "the GRU is the more stable here (the wider range, the smaller spread, more runs under the bar)" in \
        _stable_sentence("t", marks(2.0, 0.05, 0.6), marks(1.0, 0.2, 0.4))
    assert "the LSTM is the more stable here (the wider range)" in _stable_sentence("t", marks(1.0, 0.1), marks(2.0, 0.1))
    mixed = _stable_sentence("t", marks(2.0, 0.009, 0.49), marks(1.5, 0.006, 0.54))  # the shipped sunspots grid
    assert "mixed: the GRU has the wider range, the LSTM more runs under the bar" in mixed
    assert "alike on every count" in _stable_sentence("t", marks(1.0, 0.1), marks(1.1, 0.105))
    assert "only the GRU trains" in _stable_sentence("t", marks(1.0, 0.1), marks(0.0, float("nan")))
    assert "neither trains" in _stable_sentence("t", marks(0.0, float("nan")), marks(0.0, float("nan")))




def test_the_dashboard_runs_each_view_reads_the_shipped_studies_and_guards_every_control():
    from grutools.apps import CareExplorer
    from grutools.apps.guard import _walk

    app = CareExplorer()
    views = [app.prepare_view, app.settings_view, app.monitor_view, app.shift_view, app.checklist_view]
    assert [w for w in _walk(views) if not getattr(w, "_grutools_guarded", False)] == []
    assert "What the shipped grid says" in app.settings.claims.value and "Greff" in app.settings.claims.value
    assert "The same scenarios over seeds" in app.monitor_study_view.children[0].value
    assert len(app.settings.plot.data) == 2  # the GRU's and the LSTM's heatmaps
    app.settings.task.value = "adding"
    assert "Adding problem" in app.settings.plot.layout.title.text

    app.prepare.length.value, app.prepare.steps.value = 12, 50
    app.prepare.start(wait=True)
    text = app.prepare.findings.value
    assert all(name in text for name in ("raw numbers", "standardised", "log, then standardised"))
    assert "Lowest here" in text and len(app.prepare.plot.data) == 4

    assert "monitored_run(&#x27;healthy&#x27;" in app.checklist_view.children[1].value  # the code is there at once
    app.monitor.scenario.value = "too_low"
    assert "monitored_run(&#x27;too_low&#x27;" in app.monitor.takeaway.value and "Train makes" in app.monitor.takeaway.value
    app.monitor.start(wait=True)
    assert "flat curve" in app.monitor.line.value and "monitored_run(&#x27;too_low&#x27;" in app.monitor.takeaway.value

    app.shift.only.value, app.shift.shift.value = True, -2
    app.shift.start(wait=True)
    assert "lead the input" in app.shift.findings.value and "k = -2" in app.shift.findings.value

    app.settings.model.value, app.settings.lr.value, app.settings.hidden.value = "gru", 3e-2, 8
    app.settings.start(wait=True)
    assert "The shipped study&#x27;s seed 0" in app.settings.findings.value
    shipped = [r for r in read_grid(DATA_DIR / "results" / "tuning.csv") if (r["task"], r["model"], r["lr"],
               r["hidden_size"], r["seed"]) == ("adding", "gru", 3e-2, 8, 0)]
    assert app.settings.result["test_loss"] == pytest.approx(shipped[0]["test_loss"], rel=1e-3)  # the same run again


def test_without_its_files_the_dashboard_says_which_command_makes_them(tmp_path):
    from grutools.apps import CareExplorer

    app = CareExplorer(study_path=tmp_path / "none.csv", scenarios_path=tmp_path / "none.csv")
    assert "tuning-study" in app.settings.status.value and "tuning-study" in app.monitor.study.value
    assert app.settings.claims.value == ""
