import pytest
import torch

from grutools import SequenceModel


@pytest.mark.parametrize("cell", ["gru", "rnn", "lstm"])
def test_shapes_and_state_dict_round_trip_with_pytorch_modules(cell):
    model = SequenceModel(cell, 3, 8, 2, num_layers=2, readout="all", seed=0)
    assert model(torch.randn(4, 6, 3)).shape == (4, 6, 2)
    plain = {"gru": torch.nn.GRU, "rnn": torch.nn.RNN, "lstm": torch.nn.LSTM}[cell](3, 8, 2, batch_first=True)
    plain.load_state_dict(model.core.state_dict())
    model.core.load_state_dict(plain.state_dict())
    last = SequenceModel(cell, 3, 8, 2, seed=0)
    assert last(torch.randn(4, 6, 3)).shape == (4, 2)


def test_seed_fixes_the_initial_weights_without_touching_global_state():
    state = torch.random.get_rng_state()
    a, b = SequenceModel("gru", 2, 4, 1, seed=3), SequenceModel("gru", 2, 4, 1, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = SequenceModel("gru", 2, 4, 1, seed=4)
    assert not torch.equal(a.head.weight, c.head.weight)


@pytest.mark.parametrize("kwargs,match", [
    (dict(cell="transformers"), "cell must be"), (dict(readout="first"), "readout"),
    (dict(hidden_size=0), "hidden_size must be a positive integer"), (dict(input_size=2.5), "input_size"),
])
def test_bad_settings(kwargs, match):
    settings = dict(cell="gru", input_size=2, hidden_size=4, output_size=1) | kwargs
    with pytest.raises(ValueError, match=match):
        SequenceModel(**settings)


def test_bad_input_explains_the_expected_shape():
    model = SequenceModel("gru", 2, 4, 1)
    with pytest.raises(ValueError, match=r"x must be \(batch, time, 2\) for this model; got \(100, 2\).*unsqueeze"):
        model(torch.randn(100, 2))
    with pytest.raises(ValueError, match="expects 2"):
        model(torch.randn(1, 100, 3))
    with pytest.raises(ValueError, match="NaN"):
        model(torch.tensor([[[0.0, float("inf")]]]))
