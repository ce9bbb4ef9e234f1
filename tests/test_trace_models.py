"""trace() on models the suite did not make: custom modules, bidirectional and time-major layers, packed batches,
an LSTM trained by a plain loop and reloaded from its state_dict. Every gate of every layer and direction is
checked against a step-by-step reference written out here, one sequence at a time (not grutools.core.equations)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from grutools import trace

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(autouse=True)
def double_precision():
    """The reference and the trace agree to 1e-10 in double precision (restored afterwards for other tests)."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def reference(rnn: nn.RNNBase, sequence: torch.Tensor, h0: torch.Tensor | None = None) -> dict[str, list]:
    """Every gate of ``rnn`` on one unbatched sequence ``(time, features)``, step by step, written out.

    Returns, per quantity, a list over layers x directions (PyTorch's order) of ``(time, hidden)``,
    with time in input order for both directions.
    """
    directions = 2 if rnn.bidirectional else 1
    H = rnn.hidden_size
    out: dict[str, list] = {}
    layer_input = sequence
    for layer in range(rnn.num_layers):
        outputs = []
        for d in range(directions):
            sfx = "_reverse" if d else ""
            w_ih, w_hh = getattr(rnn, f"weight_ih_l{layer}{sfx}"), getattr(rnn, f"weight_hh_l{layer}{sfx}")
            b_ih, b_hh = getattr(rnn, f"bias_ih_l{layer}{sfx}"), getattr(rnn, f"bias_hh_l{layer}{sfx}")
            k = layer * directions + d
            h = torch.zeros(H) if h0 is None else (h0[0] if isinstance(h0, tuple) else h0)[k]
            c = torch.zeros(H) if h0 is None or not isinstance(h0, tuple) else h0[1][k]
            steps = range(len(layer_input) - 1, -1, -1) if d else range(len(layer_input))
            record = {name: [None] * len(layer_input) for name in ("hidden", "update", "reset", "candidate", "input",
                                                                   "forget", "output", "cell")}
            for t in steps:
                gi, gh = w_ih @ layer_input[t] + b_ih, w_hh @ h + b_hh
                if isinstance(rnn, nn.GRU):
                    r = torch.sigmoid(gi[:H] + gh[:H])
                    z = torch.sigmoid(gi[H:2 * H] + gh[H:2 * H])
                    n = torch.tanh(gi[2 * H:] + r * gh[2 * H:])
                    h = (1 - z) * n + z * h
                    record["update"][t], record["reset"][t], record["candidate"][t] = z, r, n
                else:
                    i, f = torch.sigmoid(gi[:H] + gh[:H]), torch.sigmoid(gi[H:2 * H] + gh[H:2 * H])
                    g, o = torch.tanh(gi[2 * H:3 * H] + gh[2 * H:3 * H]), torch.sigmoid(gi[3 * H:] + gh[3 * H:])
                    c = f * c + i * g
                    h = o * torch.tanh(c)
                    record["input"][t], record["forget"][t], record["output"][t], record["cell"][t] = i, f, o, c
                record["hidden"][t] = h
            for name, values in record.items():
                if values[0] is not None:
                    out.setdefault(name, []).append(torch.stack(values))
            outputs.append(torch.stack(record["hidden"]))
        layer_input = torch.cat(outputs, -1)
    return out


def assert_trace_matches(traced, rnn, sequences, h0s=None):
    """Every quantity of every layer, direction and sequence against :func:`reference`; padding is NaN."""
    for b, sequence in enumerate(sequences):
        expected = reference(rnn, sequence, None if h0s is None else h0s[b])
        T = len(sequence)
        for name, per_layer in expected.items():
            for k, values in enumerate(per_layer):
                got = getattr(traced, name)[k, b]
                torch.testing.assert_close(got[:T], values, rtol=1e-10, atol=1e-10, msg=f"{name} [{k}, {b}]")
                assert torch.isnan(got[T:]).all(), f"{name} [{k}, {b}] past the sequence's end is not NaN"


class Encoder(nn.Module):
    """A sequence-to-sequence style encoder: token embedding, then a 2-layer bidirectional time-major GRU."""

    def __init__(self, vocabulary=20, embedding=5, hidden=4):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, embedding)
        self.gru = nn.GRU(embedding, hidden, num_layers=2, bidirectional=True)  # time-major, as in the tutorials
        self.bridge = nn.Linear(2 * hidden, hidden)

    def forward(self, tokens):  # tokens (time, batch)
        outputs, h_n = self.gru(self.embed(tokens))
        return outputs, torch.tanh(self.bridge(torch.cat([h_n[-2], h_n[-1]], -1)))


def test_a_seq2seq_encoder_with_an_embedding_and_a_bidirectional_time_major_gru():
    torch.manual_seed(0)
    model = Encoder().eval()
    tokens = torch.randint(0, 20, (7, 3))  # (time, batch)
    traced = trace(model, tokens)
    assert traced.kind == "gru" and traced.directions == 2
    assert traced.update.shape == (4, 3, 7, 4)  # layer 0 fwd, layer 0 bwd, layer 1 fwd, layer 1 bwd
    embedded = model.embed(tokens).transpose(0, 1)  # (batch, time, features)
    assert_trace_matches(traced, model.gru, embedded)
    # and PyTorch's own outputs: the top layer's two directions, concatenated, in input order
    outputs, h_n = model.gru(model.embed(tokens))
    torch.testing.assert_close(torch.cat([traced.hidden[2], traced.hidden[3]], -1), outputs.transpose(0, 1))
    torch.testing.assert_close(traced.hidden[1, :, 0], h_n[1])  # the backward direction ends at input step 0


def test_an_lstm_classifier_trained_by_a_plain_loop_and_reloaded_from_its_state_dict(tmp_path):
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 5, batch_first=True)
            self.out = nn.Linear(5, 2)

        def forward(self, x):
            states, _ = self.lstm(x)
            return self.out(states[:, -1])

    torch.manual_seed(1)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.randn(32, 9, 3)
    y = (x[:, :, 0].sum(1) > 0).long()
    for _ in range(30):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    torch.save(model.state_dict(), tmp_path / "classifier.pt")
    again = Classifier()
    again.load_state_dict(torch.load(tmp_path / "classifier.pt", weights_only=True))
    traced = trace(again, x[:4])
    assert traced.kind == "lstm" and traced.cell.shape == (1, 4, 9, 5)
    assert_trace_matches(traced, again.lstm, x[:4])


class Packed(nn.Module):
    """A tagger over a padded batch of unequal lengths: packed into a bidirectional LSTM."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        return pad_packed_sequence(out, batch_first=True)[0]


def test_a_packed_batch_of_unequal_lengths():
    torch.manual_seed(2)
    model = Packed()
    lengths = torch.tensor([4, 7, 2])  # not sorted: PyTorch reorders inside, the trace keeps the batch's order
    x = torch.randn(3, 7, 2)
    traced = trace(model, (x, lengths))
    assert traced.lengths.tolist() == [4, 7, 2] and traced.directions == 2
    assert_trace_matches(traced, model.lstm, [x[b, :n] for b, n in enumerate(lengths.tolist())])
    padded = model(x, lengths)  # PyTorch's own top-layer outputs
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(torch.cat([traced.hidden[2, b, :n], traced.hidden[3, b, :n]], -1), padded[b, :n])


def test_a_packed_gru_module_directly_with_its_initial_state():
    torch.manual_seed(3)
    gru = nn.GRU(2, 3, bidirectional=True)
    sequences = [torch.randn(5, 2), torch.randn(3, 2)]
    padded = nn.utils.rnn.pad_sequence(sequences)  # (time, batch, features)
    h0 = torch.randn(2, 2, 3)
    traced = trace(gru, pack_padded_sequence(padded, [5, 3]), h0)
    assert_trace_matches(traced, gru, sequences, h0s=[h0[:, 0], h0[:, 1]])


def test_several_recurrent_layers_are_listed_and_one_is_picked_by_name():
    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.decoder = nn.LSTM(4, 4)

        def forward(self, tokens):
            outputs, summary = self.encoder(tokens)
            return self.decoder(summary[None])[0]

    torch.manual_seed(4)
    model = Seq2Seq()
    tokens = torch.randint(0, 20, (6, 2))
    with pytest.raises(ValueError, match=r"2 recurrent layers: 'encoder.gru' \(GRU, 2 layers, bidirectional\), "
                                         r"'decoder' \(LSTM, 1 layer\)\. Choose one with rnn="):
        trace(model, tokens)
    with pytest.raises(ValueError, match="no GRU, LSTM or RNN named 'gru'"):
        trace(model, tokens, rnn="gru")
    encoder = trace(model, tokens, rnn="encoder.gru")
    assert encoder.kind == "gru" and encoder.hidden.shape == (4, 2, 6, 4)
    decoder = trace(model, tokens, rnn="decoder")
    assert decoder.kind == "lstm" and decoder.hidden.shape == (1, 2, 1, 4)  # its input: 1 step of a batch of 2
    with pytest.raises(TypeError, match="holds no torch.nn.GRU"):
        trace(nn.Sequential(nn.Linear(2, 2)), torch.randn(3, 2))
    with pytest.raises(ValueError, match="h0 goes with a recurrent module"):
        trace(model, tokens, torch.zeros(1), rnn="decoder")
