"""Streaming inference (grutools.core.streaming): step by step equals the full forward pass; what is kept, by hand."""

import pytest
import torch

from grutools.core.models import SequenceModel
from grutools.core.rivals import CausalTransformer
from grutools.core.streaming import stream

KINDS = ["gru", "lstm", "rnn", "mlp", "tcn", "mingru", "transformer"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_gives_the_full_forward_pass_state_at_every_step(kind):
    torch.manual_seed(0)
    model = SequenceModel(kind, input_size=2, hidden_size=8, output_size=1).double().eval()
    x = torch.randn(3, 30, 2, dtype=torch.float64)
    with torch.no_grad():
        full = model.core(x)[0]
    s = stream(model)
    stepped = torch.stack([s.step(x[:, t]) for t in range(x.shape[1])], 1)
    torch.testing.assert_close(stepped, full, atol=1e-10, rtol=1e-10)


def test_a_transformer_cache_grows_by_keys_and_values_of_every_layer_a_recurrent_state_does_not():
    torch.manual_seed(1)
    transformer = stream(CausalTransformer(1, 16, layers=3, heads=2))
    gru = stream(SequenceModel("gru", input_size=1, hidden_size=16, output_size=1))
    lstm = stream(SequenceModel("lstm", input_size=1, hidden_size=16, output_size=1))
    for t in range(1, 41):
        x = torch.randn(2, 1)
        transformer.step(x), gru.step(x), lstm.step(x)
        assert transformer.memory_bytes() == 3 * 2 * t * 2 * 16 * 4  # layers x (k, v) x steps x batch x hidden x 4 B
        assert gru.memory_bytes() == 1 * 2 * 16 * 4  # one state: layers x batch x hidden x 4 B
        assert lstm.memory_bytes() == 2 * 2 * 16 * 4  # h and c


def test_a_window_stream_keeps_no_more_than_its_reach():
    model = SequenceModel("tcn", input_size=1, hidden_size=4, output_size=1)
    s = stream(model)
    for _ in range(300):
        s.step(torch.zeros(1, 1))
    assert s.memory_bytes() == model.core.receptive_field * 4


def test_a_stream_names_what_is_wrong():
    with pytest.raises(ValueError, match=r"a step is \(batch, 2\)"):
        stream(SequenceModel("gru", input_size=2, hidden_size=4, output_size=1)).step(torch.zeros(3))
    with pytest.raises(TypeError, match="no stream for Linear"):
        stream(torch.nn.Linear(2, 2))
