"""Widget apps, driven from Python as a student would drive them with the mouse."""

import pytest
import torch

from grutools.apps import GRUCellExplorer, TrainingDemo


def test_cell_explorer_reacts_to_its_controls():
    app = GRUCellExplorer(input_size=1, hidden_size=2, seed=0)
    before = app.current_step()
    first = app.step_figure.data[0].marker.color
    app.x_sliders[0].value = -1.5
    after = app.current_step()
    assert not torch.allclose(before.update, after.update)
    assert app.step_figure.data[0].marker.color != first  # the diagram was redrawn
    app.mode.value = "z = 1 (copy)"
    torch.testing.assert_close(app.current_step().hidden, app.h_prev)
    assert 'data-name="h">' + f"{app.h_prev[0].item():+.2f}" in app.equations.value
    app.hidden_size.value = 4
    assert len(app.h_sliders) == 4 and app.current_step().hidden.shape == (4,)
    app.make_memory_unit()
    assert app.gru.unit_weights(0).b_z == 6.0 and "Memory unit" in app.status.value
    app.count_hidden.value = 100
    assert "75%" in app.parameter_table.value and "✗" not in app.parameter_table.value


def test_sequence_view_follows_the_weights_not_the_step_inputs():
    app = GRUCellExplorer(input_size=1, hidden_size=2, seed=0)
    gru_state = lambda: tuple(app.sequence_figure.data[3].y)  # noqa: E731 (the GRU state trace)
    before = gru_state()
    app.x_sliders[0].value = 1.0
    assert gru_state() == before
    app.weight_sliders["b_z"].value = 5.0
    assert gru_state() != before


def test_bad_weight_shows_a_message_not_a_traceback():
    app = GRUCellExplorer()
    app.unit.value = 1
    app.gru.hidden_size = 1  # simulate an inconsistent state: the guard must catch the error
    app.weight_sliders["W_iz"].value = 1.0
    assert "grutools-error" in app.status.value and "unit must be" in app.status.value


def test_training_demo_trains_and_reports():
    app = TrainingDemo(length=20, steps=50)
    app.train(wait=True)
    assert "GRU: final loss" in app.status.value and app.progress.value == 50
    assert len(app.figure.data[2].x) == 50  # the GRU's curve


def test_live_curves_are_redrawn_at_most_once_a_second_but_always_at_the_end(monkeypatch):
    from grutools.apps import common

    clock = iter([0.0, 0.4, 0.9, 1.2, 1.3])
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(clock))
    every = common.Every(1.0)
    assert [every(), every(), every(), every(), every(final=True)] == [True, False, False, True, True]


def heatmap(app, name):
    return next(t for t in app.heatmaps.data if t.type == "heatmap" and t.name == name)


def decoded(z):
    """A heatmap's z as an array, whether sent as a typed-array spec or as nested lists."""
    import base64

    import numpy as np

    if isinstance(z, dict):
        rows, cols = (int(n) for n in z["shape"].split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.float32).reshape(rows, cols)
    return np.asarray(z)


def test_gates_explorer_opens_on_the_checkpoint_and_shows_its_gates():
    from grutools import trace
    from grutools.apps import GatesExplorer

    app = GatesExplorer()
    assert "pre-trained for 1500 steps" in app.status.value
    assert app.snapshot.options[-1][0] == "1500" and len(app.history.loss) == 1500
    # the update-gate heatmap is the trace of the shown model, rows in the displayed order
    expected = trace(app.model, app.x_test).update[0, 0].numpy()
    rows = [int(label.split()[1]) for label in heatmap(app, "update gate z").y]
    import numpy as np
    np.testing.assert_allclose(decoded(heatmap(app, "update gate z").z), expected[:, rows].T, atol=1e-6)
    means = expected.mean(0)
    batch_means = app.current_trace.update[0].reshape(-1, 16).mean(0)  # sorted by the mean over all test sequences
    assert all(batch_means[a] >= batch_means[b] for a, b in zip(rows, rows[1:]))
    app.sort.value = "none"
    assert [label for label in heatmap(app, "update gate z").y] == [f"unit {u}" for u in range(16)]
    assert "What this model does" in app.findings.value and "clear memory" in app.findings.value
    app.snapshot.value = 0
    assert "after 0 of 1500" in app.heatmaps.layout.title.text
    assert not np.allclose(decoded(heatmap(app, "update gate z").z).mean(), means.mean())
    app.unit.value = 3
    assert "unit 3" in app.closeup.layout.annotations[1].text


def test_gates_explorer_trains_replaces_and_can_go_back():
    from grutools.apps import GatesExplorer

    app = GatesExplorer()
    app.hidden.value, app.layers.value = 8, 2
    app.train(steps=100, wait=True)
    assert "Trained 100 steps" in app.status.value and app.model.num_layers == 2
    assert app.layer.layout.display is None and len(app.layer.options) == 2
    assert app.snapshot.options[-1][0] == "100" and len(app.snapshot.options) > 2
    assert len(app.loss_figure.data[0].x) == 100 and app.progress.value == 100
    app.layer.value = 0
    assert "layer 1" in app.heatmaps.layout.title.text
    app.show_previous()
    assert len(app.history.loss) == 1500 and app.model.num_layers == 1 and app.layer.layout.display == "none"


def test_gates_explorer_bad_settings_give_messages_and_keep_the_model(monkeypatch):
    import grutools.apps.gates as gates_app
    from grutools.apps import GatesExplorer
    from grutools.core.training import History, TrainingDiverged

    app = GatesExplorer()
    app.length.value = 0
    assert app.length.value == app.length.min == 2  # the control itself holds no shorter length
    app.task_choice.value = "copy"
    app.length.value = 3  # in the control's range, but too short for the copy task
    app.train_button.click()
    assert "grutools-error" in app.status.value and "sequence length must be" in app.status.value
    app.task_choice.value = "adding"
    app.length.value = 20
    model = app.model

    def diverging(model, task, **kwargs):
        history = History(step=[1, 2], loss=[0.3, 5.0])
        raise TrainingDiverged(3, float("nan"), kwargs["lr"], kwargs["clip_grad"] if "clip_grad" in kwargs else 1.0,
                               history)

    monkeypatch.setattr(gates_app, "train", diverging)
    app.train(wait=True)
    assert "Training diverged at step 3" in app.status.value and "previous model is still shown" in app.status.value
    assert app.model is model and app.train_button.disabled is False


def test_copy_and_sunspots_checkpoints_open():
    from grutools.apps import GatesExplorer

    app = GatesExplorer()
    for name in ("copy", "sunspots"):
        app.task_choice.value = name
        assert app.task.name == name and "pre-trained" in app.status.value
        assert app.heatmaps.data[0].name == "input"


def test_gradient_explorer_measures_redraws_and_races():
    from grutools.apps import GradientExplorer

    app = GradientExplorer()
    first = app.gradient_plot.data[0]
    assert len(first.x) == 100 and first.name.startswith("tanh RNN: ×")
    app.length.value = 40
    assert len(app.gradient_plot.data[0].x) == 40
    radius_1 = app.facts.value.split("spectral radius <b>")[1].split("<")[0]
    app.scale.value = 2.0
    radius_2 = app.facts.value.split("spectral radius <b>")[1].split("<")[0]
    assert float(radius_2) == pytest.approx(2 * float(radius_1), abs=0.011)
    app.weights.value = "trained"
    assert "grutools-error" in app.status.value and "no race yet" in app.status.value
    app.weights.value = "init"
    app.race_length.value, app.race_steps.value = 20, 100
    app.start_race(wait=True)
    assert "Final training loss" in app.race_status.value and "grutools-ok" in app.race_status.value
    curves = {t.name: len(t.x) for t in app.race_plot.data if t.type == "scatter" and t.x is not None}
    assert curves["tanh RNN"] == curves["GRU"] == curves["LSTM"] == 100
    heatmaps = [t for t in app.race_plot.data if t.type == "heatmap"]
    assert len(heatmaps) == 3 and len(heatmaps[0].y) > 10
    app.weights.value = "trained"
    assert "after the race" in app.gradient_plot.layout.title.text


def test_gradient_explorer_reports_divergence_without_clipping(monkeypatch):
    import grutools.apps.vanishing as vanishing_app
    from grutools.apps import GradientExplorer
    from grutools.core.training import History, TrainingDiverged

    real_race = vanishing_app.race

    def exploding(task, **kwargs):
        assert kwargs["clip_grad"] is None  # the checkbox reaches the race
        result = real_race(task, **dict(kwargs, steps=3))
        result.diverged["rnn"] = TrainingDiverged(4, float("inf"), 0.01, None, History())
        return result

    monkeypatch.setattr(vanishing_app, "race", exploding)
    app = GradientExplorer()
    app.clip.value = False
    app.race_length.value = 10
    app.start_race(wait=True)
    assert "tanh RNN diverged at step 4" in app.race_status.value and "clip gradients" in app.race_status.value


def test_table_view_reads_the_shipped_results_and_handles_a_missing_file(tmp_path):
    from grutools.apps import GradientExplorer

    assert "length 100" in GradientExplorer.table_html() and "race-table" in GradientExplorer.table_html()
    missing = GradientExplorer.table_html(tmp_path / "none.csv")
    assert "missing" in missing and "python -m grutools race-table" in missing


def test_claims_explorer_measures_reads_and_trains(tmp_path):
    from grutools.apps import ClaimsExplorer
    from grutools.lessons.compare import learning_curves

    path = tmp_path / "curves.json"
    learning_curves({"adding": 10}, seeds=[0, 1], hidden_size=4, steps=20, out=path, progress=False)
    app = ClaimsExplorer(path, speed_budget=0.2)
    bars = app.budget_plot.data[0]
    assert list(bars.y) == [model_parameters_of(c, 32) for c in ("rnn", "gru", "lstm")]
    app.mode.value = "equal budget"
    budget = app.budget_plot.data[0].y
    assert max(budget) - min(budget) <= 0.06 * budget[1]
    assert "hidden sizes 32 and 27" in app.budget_text.value  # the LSTM's budget-matched size for 32 GRU units
    assert "Adding problem: Test loss GRU" in app.curves_text.value
    app.curves_mode.value = "equal budget"
    app.live_task.value = "adding"
    app.run_live_seed(wait=True)
    assert "Live seed 101" in app.curves_status.value
    assert any(t.name == "GRU live" for t in app.curves_plot.data)
    app.train_size.value = 16
    app.train_data(wait=True)
    assert "16 sequences, noise 0.0" in app.data_status.value
    assert {t.name for t in app.data_plot.data} >= {"16 sequences, noise 0.0: training set"}


def model_parameters_of(cell, hidden):
    from grutools import AddingProblem
    from grutools.lessons.compare import model_parameters

    return model_parameters(cell, AddingProblem(50), hidden)


def test_claims_explorer_without_the_results_file_says_how_to_make_it(tmp_path):
    from grutools.apps import ClaimsExplorer

    app = ClaimsExplorer(tmp_path / "none.json")
    assert "grutools-error" in app.curves_status.value and "learning-curves" in app.curves_status.value


def test_memory_explorer_redraws_on_its_controls():
    from grutools.apps import MemoryExplorer

    app = MemoryExplorer()
    shapes = app.impulse_plot.layout.shapes
    assert shapes[0].x0 == 21  # the nudge at step 20 (0-based) is drawn at step 21
    app.nudge_step.value = 60
    assert app.impulse_plot.layout.shapes[0].x0 == 61 and "step 61" in app.impulse_text.value
    before = app.trajectory_plot.data[1].x
    app.path_sequence.value = 3
    assert tuple(app.trajectory_plot.data[1].x) != tuple(before)
    assert "units follow the slow average" in app.timescale_text.value or "Every unit follows" in app.timescale_text.value


def test_budget_verdict_follows_the_interval_and_shows_the_shipped_benchmark(monkeypatch, tmp_path):
    import grutools.apps.compare as compare_app
    from grutools.apps import ClaimsExplorer
    from grutools.lessons.speed import speed_verdict

    ratios = {"now": [0.9, 1.1] * 10}  # a coin flip: the interval includes 1
    monkeypatch.setattr(compare_app, "compare_speed", lambda task, sizes, budget: speed_verdict(
        ratios["now"], times={"gru": [0.002] * 20, "lstm": [0.002] * 20}))
    app = ClaimsExplorer(tmp_path / "missing.json")
    text = app.budget_text.value
    assert "too close to call on this machine right now" in text
    assert "is faster here" not in text.split("benchmarks/")[0] and "is slower here" not in text.split("benchmarks/")[0]
    # the shipped benchmark, with its date and machine, beside the live figure
    assert "benchmarks/gru_vs_lstm.py on " + app.benchmark["date"] in text
    assert app.benchmark["machine"]["cpu"] in text
    ratio_panel = [t for t in app.budget_plot.data if t.name == "GRU / LSTM"][0]
    assert list(ratio_panel.x)[0] == "live, now" and "benchmark" in list(ratio_panel.x)[1]
    ratios["now"] = [2.0, 2.1, 1.9] * 10
    app.hidden.value = 40
    assert "the GRU is slower here" in app.budget_text.value
    ratios["now"] = [0.5, 0.6, 0.55] * 10
    app.hidden.value = 48
    assert "the GRU is faster here" in app.budget_text.value
    # no benchmark file: the live verdict still stands, and the page says how to make the file
    app = ClaimsExplorer(tmp_path / "missing.json", benchmark_path=tmp_path / "none.json")
    assert "No shipped speed benchmark" in app.budget_text.value and "gru_vs_lstm.py" in app.budget_text.value


def test_welcome_stop_before_the_first_step_leaves_a_working_dashboard():
    import threading

    from grutools.apps import TrainingDemo

    demo = TrainingDemo(length=50, steps=300)
    stop = threading.Event()
    stop.set()  # Stop pressed before the first step ended
    demo.job.start = lambda run: demo._on_done(run(stop, lambda _: None), None)  # run in this thread
    demo.train()
    assert "Stopped before the first step" in demo.status.value and not demo.train_button.disabled


def test_gradient_view_chrono_control_keeps_the_gradient_and_the_race_uses_it():
    from grutools.apps import GradientExplorer

    app = GradientExplorer()
    app.length.value = 100
    default = app.measured["gru"]["norms"]
    app.chrono.value = True
    chrono = app.measured["gru"]["norms"]
    assert chrono[0] / chrono[-1] > 1e6 * default[0] / default[-1]  # measured: about 1e-1 against 1e-20
    assert "Chrono initialisation" in app.facts.value and "chrono biases" in app.gradient_plot.layout.title.text
    app.race_chrono.value, app.race_steps.value, app.race_length.value = True, 100, 20
    app.start_race(wait=True)
    gru = app.result.models["gru"].core
    assert app.result.models["gru"].chrono == 20 and app.result.models["rnn"].chrono is None
    assert gru.bias_hh_l0[gru.hidden_size:2 * gru.hidden_size].abs().max() > 0  # trained, from zero at the start
    assert "chrono-initialised" in app.race_status.value or "Final training loss" in app.race_status.value


def test_chrono_table_view_reads_the_shipped_study_and_survives_a_bad_file(tmp_path):
    from grutools.apps.vanishing import chrono_table_html

    shipped = chrono_table_html()
    assert "default biases" in shipped and "chrono (T_max = length)" in shipped and "seeds" in shipped
    (tmp_path / "bad.csv").write_text("not,a,table\n1,2,3\n")
    for path in (tmp_path / "none.csv", tmp_path / "bad.csv"):
        html = chrono_table_html(path)
        assert "grutools-error" in html and "chrono-table" in html


def test_memory_explorer_shows_time_scales_before_and_after_training():
    from grutools.apps import MemoryExplorer
    from grutools.core.trace import trace
    from grutools.lessons.gates import timescales

    app = MemoryExplorer()
    names = {t.name for t in app.change_plot.data}
    assert {"at initialisation (default)", "after training", "chrono initialisation (T_max = 100)"} <= names
    # the 'before' points are the run's own first snapshot, measured independently here
    from grutools import SequenceModel
    from grutools.core import io

    checkpoint = io.load(app_checkpoint("gru"))
    initial = SequenceModel(**checkpoint.model.config)
    initial.load_state_dict(checkpoint.history.snapshots[0][1])
    expected = timescales(trace(initial, app.x).update[-1])
    units = [t for t in app.change_plot.data if t.name == "units"][0]
    assert list(units.x) == pytest.approx(list(expected))
    assert "At initialisation" in app.change_text.value and "Chrono initialisation with T_max = 100" in app.change_text.value


def app_checkpoint(cell):
    from grutools.apps.memory import CHECKPOINTS

    return CHECKPOINTS[cell]


def test_counting_explorer_reads_the_study_shows_states_and_trains(tmp_path):
    from grutools.apps import CountingExplorer

    app = CountingExplorer()
    labels = list(app.reach_plot.data[0].y)
    assert labels[:2] == ["GRU, seed 0", "GRU, seed 1"] and "hand-built LSTM" in labels
    hand = list(app.reach_plot.data[0].z[labels.index("hand-built LSTM")])
    assert all(v == 1 for v in hand)  # the hand-built counter recognises every n shown
    assert "GRU: recognises every n up to" in app.reach_text.value
    app.show_n.value = 35
    assert "n = 35 (beyond the training range" in app.states_text.value
    assert len(app.states_plot.data) == 16  # 8 LSTM cell units and 8 GRU units
    app.hidden.value, app.train_n.value, app.seed.value = 4, 5, 3
    app.train(wait=True, steps=60)
    assert "Trained on n up to 5" in app.train_status.value
    assert list(app.reach_plot.data[0].y)[-2:] == ["GRU live, seed 3", "LSTM live, seed 3"]
    assert "live, seed 3" in app.states_text.value and len(app.states_plot.data) == 8
    # a missing study and missing models: clear messages, and training still works
    empty = CountingExplorer(results=tmp_path / "none.json",
                             checkpoints={"gru": tmp_path / "g.pt", "lstm": tmp_path / "l.pt"})
    assert "counting-study" in empty.status.value and "press Train" in empty.status.value
    assert "No trained models" in empty.states_text.value
