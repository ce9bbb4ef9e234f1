"""Take it away: a model trained live in 00, 02 and 03 downloads as a grutools save file that loads back to the
same outputs, and the code shown beside it, run, trains the same loss curve."""

from __future__ import annotations

import base64
import re

import torch

import grutools


def run_code(code: str, tmp_path, monkeypatch) -> dict:
    """Run the shown code as a user would paste it, in a fresh namespace, one torch thread (as the dashboards)."""
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        namespace: dict = {}
        exec(compile(code, "<reproduction>", "exec"), namespace)
    finally:
        torch.set_num_threads(threads)
    return namespace


def downloads(html: str) -> dict[str, bytes]:
    return {name: base64.b64decode(data)
            for name, data in re.findall(r'download="([^"]+)" href="data:application/octet-stream;base64,([^"]+)"', html)}


def test_welcome_download_and_code_reproduce_the_run(tmp_path, monkeypatch):
    from grutools.apps import TrainingDemo

    app = TrainingDemo()
    app.steps.value = 50
    app.train(wait=True)
    history = app.runs["gru"]
    files = downloads(app.takeaway.value)
    assert list(files) == ["adding50_gru.pt"]
    (tmp_path / "down.pt").write_bytes(files["adding50_gru.pt"])
    loaded = grutools.load(tmp_path / "down.pt")
    x, _ = grutools.AddingProblem(50).sample(8, seed=5)
    torch.testing.assert_close(loaded.model(x), app.model(x))
    assert loaded.history.loss == history.loss
    namespace = run_code(app.takeaway.code, tmp_path, monkeypatch)
    torch.testing.assert_close(torch.tensor(namespace["history"].loss), torch.tensor(history.loss), rtol=1e-5, atol=1e-7)
    assert (tmp_path / "adding50_gru.pt").exists()  # the code saves the model too


def test_gates_dashboard_download_and_code_reproduce_the_run(tmp_path, monkeypatch):
    from grutools.apps import GatesExplorer

    app = GatesExplorer()
    assert app.takeaway.value == ""  # nothing trained yet: nothing to take away
    app.task_choice.value = "copy"
    app.hidden.value = 8
    app.train(steps=40, wait=True)
    files = downloads(app.takeaway.value)
    assert list(files) == ["copy30_gru.pt"]
    assert "grutools.core.tasks.CopyTask(length=30, symbols=4, remember=3)" in app.takeaway.code
    namespace = run_code(app.takeaway.code, tmp_path, monkeypatch)
    torch.testing.assert_close(torch.tensor(namespace["history"].loss), torch.tensor(app.history.loss),
                               rtol=1e-5, atol=1e-7)


def test_race_download_and_code_reproduce_every_model_with_chrono_and_scale(tmp_path, monkeypatch):
    from grutools.apps import GradientExplorer

    app = GradientExplorer()
    app.race_length.value, app.race_steps.value, app.race_scale.value = 20, 100, 1.5
    app.race_chrono.value = True
    app.start_race(wait=True)
    files = downloads(app.takeaway.value)
    assert sorted(files) == ["adding20_gru.pt", "adding20_lstm.pt", "adding20_rnn.pt"]
    code = app.takeaway.code
    assert "chrono=20" in code and "scale_recurrent(model, 1.5)" in code
    assert code.count("grutools.train(") == 3
    # run the code one model at a time, and compare each model's curve with the race's
    blocks = code.split("\n\n")
    header = blocks[0] + "\n\n" + blocks[1]  # the imports and the task
    assert len(blocks[2:-1]) == 3
    for block in blocks[2:-1]:
        cell = {"# the tanh RNN": "rnn", "# the GRU": "gru", "# the LSTM": "lstm"}[block.splitlines()[0]]
        namespace = run_code(header + "\n" + block, tmp_path, monkeypatch)
        torch.testing.assert_close(torch.tensor(namespace["history"].loss),
                                   torch.tensor(app.result.histories[cell].loss), rtol=1e-5, atol=1e-7)
        loaded = grutools.load(_write(tmp_path, files[f"adding20_{cell}.pt"]))
        x, _ = grutools.AddingProblem(20).sample(4, seed=9)
        torch.testing.assert_close(loaded.model(x), app.result.models[cell](x))


def _write(tmp_path, data: bytes):
    path = tmp_path / "model.pt"
    path.write_bytes(data)
    return path
