"""Training: reproducibility, divergence, stopping from another thread, and the adding problem at T=100."""

import math
import threading

import pytest
import torch

from grutools import AddingProblem, CopyTask, SequenceModel, TrainingDiverged, evaluate, train


def small(cell="gru", length=20, seed=0):
    task = AddingProblem(length)
    return SequenceModel(cell, hidden_size=8, seed=seed, **task.model_kwargs()), task


def test_seeded_runs_are_reproducible():
    histories = []
    for _ in range(2):
        model, task = small()
        histories.append((train(model, task, steps=30, seed=7), model))
    assert histories[0][0].loss == histories[1][0].loss
    assert torch.equal(histories[0][1].head.weight, histories[1][1].head.weight)
    model, task = small()
    assert train(model, task, steps=30, seed=8).loss != histories[0][0].loss


def test_history_records_steps_times_and_snapshots():
    model, task = small()
    history = train(model, task, steps=25, snapshot_every=10)
    assert history.step == list(range(1, 26)) and len(history.loss) == 25
    assert all(b >= a for a, b in zip(history.wall_time, history.wall_time[1:]))
    assert [s for s, _ in history.snapshots] == [0, 10, 20, 25]
    final = history.snapshots[-1][1]
    assert all(torch.equal(final[k], v) for k, v in model.state_dict().items())
    assert not torch.equal(history.snapshots[0][1]["head.weight"], final["head.weight"])
    assert history.settings["steps"] == 25 and not history.stopped


def test_divergence_raises_a_clear_error_and_keeps_finite_weights():
    model, task = small()
    with pytest.raises(TrainingDiverged, match=r"diverged at step \d+.*lower learning rate.*clip_grad=1.0") as info:
        train(model, task, steps=200, lr=1e30, clip_grad=None)
    assert info.value.step >= 1 and not math.isfinite(info.value.loss)
    assert len(info.value.history.loss) == info.value.step - 1
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert math.isfinite(evaluate(model, task))


def test_stop_event_from_another_thread_keeps_what_was_learned():
    model, task = small(length=30)
    stop = threading.Event()
    seen = []

    def callback(history):
        seen.append(len(history.loss))
        if len(history.loss) == 15:
            threading.Thread(target=stop.set).start()

    history = train(model, task, steps=10_000, callback=callback, stop=stop)
    assert history.stopped and 15 <= len(history.loss) < 100
    assert seen == list(range(1, len(history.loss) + 1))
    assert history.snapshots[-1][0] == len(history.loss)


def test_bad_training_settings():
    model, task = small()
    with pytest.raises(ValueError, match="learning rate"):
        train(model, task, lr=float("nan"))
    with pytest.raises(ValueError, match="steps"):
        train(model, task, steps=0)
    with pytest.raises(ValueError, match="input features"):
        train(model, CopyTask(10), steps=1)
    with pytest.raises(TypeError, match=r"make_task\('adding', length\)"):
        train(model, "adding", steps=1)
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        train("gru", task, steps=1)
    with pytest.raises(ValueError, match="clip_grad"):
        train(model, task, clip_grad="1")


def test_gru_learns_the_adding_problem_at_100_steps_where_a_tanh_rnn_does_not():
    """The foundation's headline claim, measured: GRU below 0.01, RNN above 0.1 (MSE, held-out batch)."""
    results = {}
    for cell in ("gru", "rnn"):
        task = AddingProblem(100)
        model = SequenceModel(cell, hidden_size=32, seed=0, **task.model_kwargs())
        stop = threading.Event()
        # stop early once a 50-step running mean is far below the goal: the claim is "within 1,000 steps"
        def callback(history, stop=stop):
            if len(history.loss) >= 50 and sum(history.loss[-50:]) / 50 < 0.002:
                stop.set()
        train(model, task, steps=1000 if cell == "gru" else 500, lr=1e-2, seed=0, callback=callback, stop=stop)
        results[cell] = evaluate(model, task, batch_size=1000)
    assert results["gru"] < 0.01, results
    assert results["rnn"] > 0.1, results


@pytest.mark.parametrize("cell, task", [("gru", AddingProblem(12)), ("lstm", CopyTask(10))])
def test_a_double_precision_model_trains_on_the_tasks_float32_batches(cell, task):
    """The task's batches follow the model's dtype (class labels stay integers); the run matches float32's closely."""
    runs = {}
    for dtype in (torch.float32, torch.float64):
        model = SequenceModel(cell, hidden_size=6, seed=0, **task.model_kwargs()).to(dtype)
        history = train(model, task, steps=5, seed=0, clip_grad=None)
        assert next(model.parameters()).dtype == dtype
        runs[dtype] = (history.loss, evaluate(model, task))
    assert runs[torch.float32][0] == pytest.approx(runs[torch.float64][0], rel=1e-4)
    assert runs[torch.float32][1] == pytest.approx(runs[torch.float64][1], rel=1e-4)


def test_a_batch_in_the_wrong_dtype_is_named_by_the_model():
    from grutools import gradient_norms

    model, task = small()
    x, y = task.sample(4, seed=0)
    with pytest.raises(TypeError, match=r"x is torch.float64 but the module's weights are torch.float32; convert x"):
        model(x.double())
    with pytest.raises(TypeError, match="convert x with x.to"):
        gradient_norms(model.double(), x, y)


def test_evaluate_records_no_graph():
    """evaluate runs under no_grad: its forward pass builds no autograd graph (a held-out batch of 256 at any length)."""
    model, task = small()
    seen = []
    model.head.register_forward_hook(lambda module, args, output: seen.append(output.requires_grad))
    evaluate(model, task)
    assert seen == [False]
    model(task.sample(2, seed=0)[0])  # the same hook outside evaluate: a graph, so the check can fail
    assert seen == [False, True]
