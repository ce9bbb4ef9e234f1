"""grutools.explore and dashboard 06 from Python: the views show trace()'s values; every wrong file gets a sentence."""

from __future__ import annotations

import base64
import html
import importlib
import io

import numpy as np
import pytest
import torch
from torch import nn

import grutools
from grutools.yours.explore import Exploration
from grutools.yours.sequences import SequenceDataError, UserSequences


def heatmap(figure, title: str) -> np.ndarray:
    """The z values of the heatmap named ``title`` (decoded from plotly's typed array), ``(units, time)``."""
    trace = next(t for t in figure.data if t.type == "heatmap" and t.name == title)
    z = trace.z
    if isinstance(z, dict):  # typed array: base64 bytes, dtype and shape
        shape = tuple(int(v) for v in str(z["shape"]).split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.asarray(z)


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def test_explore_shows_the_gates_of_trace_for_every_layer_direction_and_unit():
    torch.manual_seed(0)
    model = Tagger()
    x = torch.randn(3, 11, 3)
    y = torch.randn(3, 11, 1)
    app = grutools.explore(model, x, y=y, loss=nn.functional.mse_loss, feature_names=["a", "b", "c"])
    traced = grutools.trace(model, x)
    assert [name for name, _ in app.entry.options] == ["layer 1, forward", "layer 1, backward", "layer 2, forward",
                                                       "layer 2, backward"]
    for entry in (3, 1):
        app.entry.value = entry
        app.sequence.value = 2
        order = [int(label.split()[1]) for label in next(t for t in app.heatmaps.data if t.type == "heatmap").y]
        shown = heatmap(app.heatmaps, "update gate z")
        np.testing.assert_allclose(shown, traced.update[entry, 2].numpy()[:, order].T, rtol=1e-6, atol=1e-6)
        app.unit.value = 3
        line = next(t for t in app.closeup.data if t.name == "reset gate r")
        np.testing.assert_allclose(line.y, traced.reset[entry, 2, :, 3].numpy(), rtol=1e-6, atol=1e-6)
    # the gradient through time: |dLoss/d output_t|, against autograd run here
    out = model.rnn(x)[0]
    out.retain_grad()
    nn.functional.mse_loss(model.head(out), y).backward()
    gradient = app.gradient_plot.data[0]
    np.testing.assert_allclose(gradient.y, out.grad.norm(dim=-1).mean(0).numpy(), rtol=1e-5)
    assert "Tagger: its GRU 'rnn'" in html.unescape(app.summary.value) and "a, b, c" in app.summary.value


def test_explore_takes_a_numpy_array_and_a_long_dataframe_for_an_lstm():
    pd = pytest.importorskip("pandas")
    torch.manual_seed(1)
    lstm = nn.LSTM(2, 3, batch_first=True)
    table = pd.DataFrame({"id": ["a"] * 4 + ["b"] * 6, "speed": np.arange(10.0), "load": np.ones(10)})
    app = grutools.explore(lstm, table, sequence_id="id")
    assert [label for label, _ in app.sequence.options] == ["sequence a", "sequence b"]
    app.sequence.value = 1
    expected = grutools.trace(lstm, torch.tensor(table[table.id == "b"][["speed", "load"]].to_numpy(),
                                                 dtype=torch.float32)[None])
    order = [int(label.split()[1]) for label in next(t for t in app.heatmaps.data if t.type == "heatmap").y]
    np.testing.assert_allclose(heatmap(app.heatmaps, "forget gate f"), expected.forget[0, 0].numpy()[:, order].T,
                               rtol=1e-6, atol=1e-6)
    assert app.timescale_plot is not None and app.gradient_plot is None  # no target: no gradient view
    array_app = grutools.explore(lstm, np.random.randn(2, 5, 2))
    assert len(array_app.sequence.options) == 2


@pytest.mark.parametrize("data, message", [
    (np.random.randn(2, 5, 4), "the data has 4 feature column"),
    (np.array([[1.0, np.nan]]), "NaN at step 1, feature 2"),
    (np.array([[1.0, np.inf]]), "infinite value"),
    ("no-such-file.csv", "read as a CSV file's path, but there is no file no-such-file.csv"),
    (np.zeros((1, 4, 2), dtype=complex), "complex numbers"),
    ([[["a", "b"]]], "must be numbers"),
])
def test_explore_names_what_is_wrong_with_the_data(data, message):
    with pytest.raises(SequenceDataError, match=message):
        grutools.explore(nn.GRU(2, 3, batch_first=True), data)


def test_explore_refuses_half_a_gradient_request_and_a_model_without_a_recurrent_layer():
    with pytest.raises(ValueError, match="needs both y"):
        Exploration(nn.GRU(2, 3, batch_first=True), np.zeros((1, 4, 2)), y=np.zeros(3))
    with pytest.raises(TypeError, match="loss must be a function"):
        Exploration(nn.GRU(2, 3, batch_first=True), np.zeros((1, 4, 2)), y=np.zeros(3), loss="mse")
    with pytest.raises(TypeError, match="holds no torch.nn.GRU"):
        grutools.explore(nn.Linear(2, 2), np.zeros((1, 4, 2)))


# ------------------------------------------------------------------------------------------------
# dashboard 06, driven from Python


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


class Evil:
    def __reduce__(self):
        return (print, ("this would run on load",))


CSV = b"id,speed,load\na,1,2\na,2,3\na,3,1\nb,1,1\nb,0,0\n"


def bad_model_files():
    return [
        ("big.pt", b"PK\x03\x04" + b"0" * (2 * 2**20), "over the 1 MB limit"),
        ("notes.pt", b"these are my notes", "is not a PyTorch file"),
        ("evil.pt", saved({"weights": Evil()}), "does not unpickle them, as that could run code"),
        ("linear.pt", saved(nn.Linear(3, 2).state_dict()), "holds no GRU, LSTM or RNN weights"),
        ("odd.pt", saved({"weight_ih_l0": torch.zeros(10, 2), "weight_hh_l0": torch.zeros(10, 5)}),
         "fit no recurrent layer"),
        ("empty.pt", b"", "is empty"),
        ("tensor.pt", saved(torch.zeros(3)), "holds a Tensor, not a state_dict"),
        ("diverged.pt", saved({k: v * float("nan") for k, v in nn.GRU(2, 3).state_dict().items()}),
         "of weight_ih_l0 are NaN or infinite (did its training diverge?)"),
    ]


def bad_csv_files():
    return [
        ("empty.csv", b"", "is empty"),
        ("words.csv", b"id,speed,load\na,1,fast\n", "'fast' is not a number"),
        ("nan.csv", b"id,speed,load\na,1,nan\n", "NaN"),
        ("inf.csv", b"id,speed,load\na,inf,1\n", "infinity"),
        ("wide.csv", b"id,speed,load,heat\na,1,2,3\n", "the data has 3 feature column"),
        ("noheader.csv", b"1,2\n3,4\n", "no header row"),
        ("big.csv", b"id,speed,load\n" + b"a,1,2\n" * 200_000, "the limit here is 1 MB"),
        ("binary.csv", bytes(range(256)) * 4, "not a text file"),
    ]


def test_dashboard_06_reads_a_state_dict_of_a_module_with_an_lstm_inside_and_a_csv():
    from grutools.apps import YourModelDashboard

    class Forecaster(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(2, 5, batch_first=True)
            self.head = nn.Linear(5, 1)

    torch.manual_seed(2)
    original = Forecaster()
    dashboard = YourModelDashboard(example=False)
    dashboard.max_model = dashboard.max_csv = 2**20
    dashboard.use_model("forecaster.pt", saved(original.state_dict()))
    assert "LSTM (1 layer of 5 units, 2 input features) from the weights under 'encoder'" in \
        html.unescape(dashboard.model_status.value)
    assert "2 other tensor(s)" in dashboard.model_status.value
    dashboard.sequence_id.value = "id"
    dashboard.use_csv("runs.csv", CSV)
    assert "2 sequence(s) of 2-3 steps" in dashboard.csv_status.value
    explorer = dashboard.explorer
    expected = grutools.trace(original.encoder, torch.tensor([[[1.0, 2], [2, 3], [3, 1]]]))
    order = [int(label.split()[1]) for label in next(t for t in explorer.heatmaps.data if t.type == "heatmap").y]
    np.testing.assert_allclose(heatmap(explorer.heatmaps, "cell state c"), expected.cell[0, 0].numpy()[:, order].T,
                               rtol=1e-6, atol=1e-6)


def test_dashboard_06_holds_its_views_behind_its_questions_and_keeps_the_upload_panel_usable(monkeypatch):
    """The notebook's ``app.answer_after([...], app.views)``: the views wait under the panel, in place; the upload
    still works meanwhile, and what it shows appears once each question has a commitment or is folded."""
    from grutools.apps import YourModelDashboard
    from grutools.core.tally import QUESTIONS

    monkeypatch.setenv(QUESTIONS, "on")
    dashboard = YourModelDashboard()
    names = ["marked", "timescale", "saturation"]
    assert dashboard.answer_after(names, dashboard.views) is dashboard
    panel, held = dashboard.children
    inner = held
    for _ in names:  # one veil in another, the views innermost
        note, inner = inner.children
        assert "grutools-veil" in note.value
    assert inner is dashboard.views and dashboard.views.layout.display == "none"
    dashboard.use_example()  # the panel works while the views wait
    assert "grutools-ok" in dashboard.csv_status.value and dashboard.views.children
    for name in names:
        dashboard.question(name).fold.value = False
    assert dashboard.views.layout.display == ""
    monkeypatch.setenv(QUESTIONS, "off")
    plain = YourModelDashboard(example=False)
    assert plain.answer_after(names, plain.views) is plain and plain.children[1] is plain.views


def test_dashboard_06_gives_every_wrong_file_a_sentence_and_keeps_working():
    from grutools.apps import YourModelDashboard

    dashboard = YourModelDashboard()  # opens on the example
    assert dashboard.explorer is not None and "adding_gru.pt" in dashboard.model_status.value
    dashboard.max_model = dashboard.max_csv = 2**20
    working = dashboard.model
    for name, data, message in bad_model_files():
        dashboard.use_model(name, data)
        assert "grutools-error" in dashboard.model_status.value, name
        assert message in html.unescape(dashboard.model_status.value), (name, dashboard.model_status.value)
        assert dashboard.model is working  # the last good model stays
    dashboard.sequence_id.value = "id"
    for name, data, message in bad_csv_files():
        dashboard.use_csv(name, data)
        assert "grutools-error" in dashboard.csv_status.value, name
        assert message in html.unescape(dashboard.csv_status.value), (name, dashboard.csv_status.value)
    dashboard.use_example()  # and it still works
    assert "grutools-ok" in dashboard.csv_status.value and dashboard.views.children


def test_explore_reads_a_csv_files_path(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_bytes(CSV)
    app = grutools.explore(nn.GRU(2, 3, batch_first=True), str(path), sequence_id="id")
    assert app.exploration.data.ids == ["a", "b"] and app.exploration.data.feature_names == ["speed", "load"]
    assert len(grutools.explore(nn.GRU(2, 3, batch_first=True), path, sequence_id="id").sequence.options) == 2


def test_user_sequences_from_a_csv_split_by_id():
    data = UserSequences.from_csv(CSV, sequence_id="id")
    assert data.ids == ["a", "b"] and data.feature_names == ["speed", "load"]
    np.testing.assert_array_equal(data.sequences[1], [[1, 1], [0, 0]])
    one = UserSequences.from_csv(b"speed,load\n1,2\n3,4\n")
    assert len(one) == 1 and one.sequences[0].shape == (2, 2)


class TokenTagger(nn.Module):
    """A practitioner's text model: token ids -> embedding -> GRU -> a tag per step."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 4)
        self.rnn = nn.GRU(4, 6, batch_first=True)
        self.out = nn.Linear(6, 3)

    def forward(self, tokens):
        states, _ = self.rnn(self.embed(tokens))
        return self.out(states)


def test_explore_a_model_that_embeds_token_ids():
    torch.manual_seed(0)
    model = TokenTagger()
    tokens = torch.randint(0, 20, (3, 7))
    tags = torch.randint(0, 3, (3, 7))

    def loss(out, y):
        return nn.functional.cross_entropy(out.reshape(-1, 3), y.reshape(-1))

    app = grutools.explore(model, tokens, y=tags, loss=loss, feature_names=[f"w{i}" for i in range(20)])
    ex = app.exploration
    assert ex.data.tokens and ex.data.feature_names == ["token"]
    # the gates are those of the GRU run on the embedded tokens, by PyTorch's own GRU cell, step by step
    cell = nn.GRUCell(4, 6)
    cell.load_state_dict({k[:-3]: v for k, v in model.rnn.state_dict().items()})
    h = torch.zeros(1, 6)
    expected = []
    with torch.no_grad():
        for token in tokens[2]:
            h = cell(model.embed(token[None]), h)
            expected.append(h[0].numpy())
    np.testing.assert_allclose(ex.values(2)["hidden"], np.array(expected), rtol=1e-5, atol=1e-6)
    # the gradient through time against autograd on the whole batch
    states = model.rnn(model.embed(tokens))[0]
    states.retain_grad()
    loss(model.out(states), tags).backward()
    np.testing.assert_allclose(ex.gradients(), states.grad.norm(dim=-1).numpy(), rtol=1e-5, atol=1e-7)
    word = int(tokens[0, 0])
    assert ex.data.step_labels(ex.data.sequences[0])[0] == f"token {word} 'w{word}'"
    assert len(grutools.explore(model, [[1, 2, 3], [4, 5]]).sequence.options) == 2  # different lengths


@pytest.mark.parametrize("data, message", [
    ([[1, -2]], "negative token id -2"),
    (torch.full((1, 3), 2**25), "ids up to 16,777,215"),
    (np.zeros((2, 3, 4), dtype=np.float32), "It embeds token ids: pass integers shaped \\(batch, time\\)"),
])
def test_explore_names_what_is_wrong_with_token_ids(data, message):
    with pytest.raises(SequenceDataError, match=message):
        app = grutools.explore(TokenTagger(), data)
        app.exploration.trace(0)


class Encoder(nn.Module):
    """A seq2seq encoder as in PyTorch's tutorial: token ids (time, batch), a time-major GRU."""

    def __init__(self, transpose=False):
        super().__init__()
        self.transpose = transpose  # True: takes (batch, time) and transposes for its GRU itself
        self.embed = nn.Embedding(12, 3)
        self.gru = nn.GRU(3, 5)

    def forward(self, tokens):
        return self.gru(self.embed(tokens.T if self.transpose else tokens))[0]


def test_explore_follows_a_time_major_model_and_says_when_the_layout_guess_is_wrong():
    torch.manual_seed(0)
    model = Encoder()
    tokens = torch.randint(0, 12, (6, 4))  # (time, batch), as the model takes them
    ex = grutools.explore(model, tokens).exploration
    assert len(ex.data) == 4 and all(len(s) == 6 for s in ex.data.sequences)
    expected = model.gru(model.embed(tokens))[0].detach()  # (time, batch, hidden)
    np.testing.assert_allclose(ex.values(3)["hidden"], expected[:, 3].numpy(), rtol=1e-5, atol=1e-6)
    # a model that transposes for its time-major GRU itself: the default guess (time-first) is wrong, and said so
    inside = Encoder(transpose=True)
    wrong = r"ran 1 step on sequence 0, which has 4: .* batch-first. Pass batch_first=True"
    with pytest.raises(SequenceDataError, match=wrong):
        grutools.explore(inside, tokens.T)
    ex = grutools.explore(inside, tokens.T, batch_first=True).exploration
    np.testing.assert_allclose(ex.values(3)["hidden"], inside(tokens.T)[:, 3].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_a_long_sequence_is_shown_a_window_at_a_time_and_a_huge_one_is_refused(monkeypatch):
    from grutools.apps import explore as explore_app

    torch.manual_seed(0)
    gru = nn.GRU(2, 3, batch_first=True)
    x = torch.randn(2, 2500, 2)
    app = grutools.explore(gru, x)
    assert app.window.layout.display is None and app.window.max == 2500 - explore_app.WINDOW + 1
    expected = grutools.trace(gru, x).hidden[0, 1].numpy()  # (time, hidden)
    app.sequence.value = 1
    app.window.value = 1501
    shown = next(t for t in app.heatmaps.data if t.type == "heatmap" and t.name == "hidden state h")
    steps = np.asarray(shown.x)
    assert steps[0] == 1501 and steps[-1] == 2500 and len(steps) == explore_app.WINDOW
    order = [int(label.split()[1]) for label in shown.y]
    np.testing.assert_allclose(heatmap(app.heatmaps, "hidden state h"), expected[1500:2500, order].T, atol=1e-5)
    line = next(t for t in app.closeup.data if t.name == "hidden state h")
    assert np.asarray(line.x)[0] == 1501 and "steps 1501-2500 of 2500" in app.heatmaps.layout.title.text
    short = grutools.explore(gru, x[:, :50])
    assert short.window.layout.display == "none" and len(next(t for t in short.heatmaps.data
                                                              if t.type == "heatmap").x) == 50
    monkeypatch.setattr(importlib.import_module("grutools.yours.explore"), "MAX_VALUES", 10_000)
    with pytest.raises(SequenceDataError, match=r"5,000 steps in all, for a layer of 3 units.*at most 833 steps"):
        grutools.explore(gru, x)


def test_a_decoder_that_runs_on_its_own_steps_is_named_not_drawn_under_the_input():
    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.GRU(2, 6, batch_first=True)
            self.decoder = nn.GRU(1, 6, batch_first=True)

        def forward(self, x):
            _, h = self.encoder(x)
            return self.decoder(torch.zeros(x.shape[0], 3, 1), h)[0]

    x = torch.randn(2, 9, 2)
    assert len(grutools.explore(Seq2Seq(), x, rnn="encoder").exploration.values(0)["hidden"]) == 9
    with pytest.raises(SequenceDataError, match=r"'decoder' ran 3 steps on sequence 0, which has 9: .*a decoder\?"):
        grutools.explore(Seq2Seq(), x, rnn="decoder")


def test_dashboard_06_reads_a_text_models_embedding_and_a_csv_of_token_ids():
    from grutools.apps import YourModelDashboard

    torch.manual_seed(0)
    model = TokenTagger()  # embed.weight (20, 4), rnn.*, out.* (the head, not used)
    dashboard = YourModelDashboard(example=False)
    dashboard.use_model("tagger.pt", saved(model.state_dict()))
    status = html.unescape(dashboard.model_status.value)
    assert "through the embedding 'embed' (20 tokens of 4 features)" in status and "0 to 19" in status
    dashboard.sequence_id.value = "id"
    dashboard.use_csv("tokens.csv", b"id,token\na,3\na,17\na,0\na,5\nb,19\nb,2\n")
    assert "grutools-ok" in dashboard.csv_status.value and dashboard.explorer is not None
    ex = dashboard.explorer.exploration
    tokens = torch.tensor([[3, 17, 0, 5]])
    expected = model.rnn(model.embed(tokens))[0][0].detach().numpy()  # the original model's own layer
    np.testing.assert_allclose(ex.values(0)["hidden"], expected, rtol=1e-5, atol=1e-6)
    assert ex.data.ids == ["a", "b"] and len(ex.data.sequences[1]) == 2
    for csv, message in ((b"id,token\na,3\na,20\n", "20 is not a token id of this model (whole numbers 0 to 19)"),
                         (b"id,token\na,1.5\n", "1.5 is not a token id"),
                         (b"id,speed,load\na,1,2\n", "need one column of token ids; these have 2 (speed, load)")):
        dashboard.use_csv("bad.csv", csv)
        assert message in html.unescape(dashboard.csv_status.value), dashboard.csv_status.value
        assert dashboard.views.children == ()
    # a state_dict with no embedding keeps working on features, as before
    dashboard.use_model("gru.pt", saved(nn.GRU(2, 3).state_dict()))
    dashboard.use_csv("features.csv", b"id,speed,load\na,1,2\na,2,1\n")
    assert dashboard.explorer is not None and not dashboard.explorer.exploration.data.tokens


def test_explore_names_a_token_id_past_the_vocabulary():
    with pytest.raises(SequenceDataError, match=r"sequence 0, step 3: 25 is not a token id of this model \(whole "
                                                 r"numbers 0 to 19\)"):
        grutools.explore(TokenTagger(), torch.tensor([[1, 2, 25]]))
