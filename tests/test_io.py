"""Saving and loading: round trips, and clear errors for wrong, corrupt, oversized or unsafe files."""

import pickle

import pytest
import torch

import grutools
from grutools import AddingProblem, SequenceModel, load, load_gru, save, train


def test_model_and_history_round_trip(tmp_path):
    task = AddingProblem(10)
    model = SequenceModel("lstm", hidden_size=4, num_layers=2, seed=0, **task.model_kwargs())
    history = train(model, task, steps=5, snapshot_every=2)
    path = save(tmp_path / "sub" / "run.pt", model=model, history=history, metadata={"note": "test"})
    checkpoint = load(path)
    assert checkpoint.model.config == model.config and checkpoint.metadata == {"note": "test"}
    x, _ = task.sample(3, seed=0)
    torch.testing.assert_close(checkpoint.model(x), model(x), atol=0, rtol=0)
    assert checkpoint.history.loss == history.loss
    assert [s for s, _ in checkpoint.history.snapshots] == [s for s, _ in history.snapshots]
    only_history = load(save(tmp_path / "h.pt", history=history))
    assert only_history.model is None and only_history.history.step == history.step


def test_files_are_read_weights_only(tmp_path, monkeypatch):
    calls = []
    original = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or original(*a, **k))
    load(save(tmp_path / "m.pt", model=SequenceModel("gru", 2, 3, 1)))
    assert calls and all(k.get("weights_only") is True for k in calls)


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_pickle_with_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "grutools", "x": Payload()}, path)
    with pytest.raises(ValueError, match="does not unpickle"):
        load(path)
    assert "never run" not in capsys.readouterr().out


def test_wrong_corrupt_and_oversized_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.pt")
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a PyTorch file"):
        load(text)
    good = save(tmp_path / "good.pt", model=SequenceModel("gru", 2, 3, 1))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load(truncated)
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(2)}, plain)
    with pytest.raises(ValueError, match="not a grutools file"):
        load(plain)
    with pytest.raises(ValueError, match="over the"):
        load(good, max_bytes=100)
    with pytest.raises(TypeError, match="SequenceModel"):
        save(tmp_path / "x.pt", model=torch.nn.GRU(2, 3))


def test_pickle_protocol_is_not_used_for_plain_pickles(tmp_path):
    path = tmp_path / "p.pt"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="not a PyTorch file"):
        load(path)


def test_load_gru_rebuilds_a_users_module(tmp_path):
    class Mine(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.GRU(3, 5, num_layers=2, bias=False, batch_first=True)
            self.out = torch.nn.Linear(5, 1)

    mine = Mine()
    torch.save(mine.state_dict(), tmp_path / "mine.pt")
    gru = load_gru(tmp_path / "mine.pt")
    assert (gru.input_size, gru.hidden_size, gru.num_layers, gru.bias) == (3, 5, 2, False)
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(gru(x)[0], mine.rnn(x)[0])
    model = SequenceModel("gru", 2, 6, 1, seed=0)
    assert load_gru(save(tmp_path / "m.pt", model=model)).hidden_size == 6
    torch.save(torch.nn.LSTM(2, 3).state_dict(), tmp_path / "lstm.pt")
    with pytest.raises(ValueError, match=r"not \(3 \* hidden, hidden\).*LSTM"):
        load_gru(tmp_path / "lstm.pt")
    assert grutools.load_gru is load_gru


def test_load_gru_names_what_it_refuses(tmp_path):
    torch.save(torch.nn.GRU(2, 3, bidirectional=True).state_dict(), tmp_path / "bi.pt")
    with pytest.raises(ValueError, match="bidirectional GRU"):
        load_gru(tmp_path / "bi.pt")
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "rnn.pt")
    with pytest.raises(ValueError, match="plain RNN"):
        load_gru(tmp_path / "rnn.pt")
    lstm = save(tmp_path / "lstm_model.pt", model=SequenceModel("lstm", 2, 4, 1, seed=0))
    with pytest.raises(ValueError, match="holds no GRU model"):
        load_gru(lstm)
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="holds a list, not a state_dict"):
        load_gru(tmp_path / "list.pt")
    torch.save({"x": torch.zeros(2)}, tmp_path / "none.pt")
    with pytest.raises(ValueError, match="no GRU, LSTM or RNN weights"):
        load_gru(tmp_path / "none.pt")
