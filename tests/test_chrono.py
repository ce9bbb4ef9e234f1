"""Chrono initialisation (grutools.core.models.chrono_init): exact biases in one vector, time scales, the gradient at init."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from grutools import AddingProblem, SequenceModel
from grutools.core.gradients import gradient_norms
from grutools.core.models import chrono_init

H, T_MAX = 16, 100


def drawn(seed: int, hidden: int = H, t_max: float = T_MAX) -> torch.Tensor:
    return torch.empty(hidden).uniform_(1.0, t_max - 1.0, generator=torch.Generator().manual_seed(seed))


def test_gru_update_bias_is_log_u_in_bias_ih_only():
    gru = nn.GRU(3, H, num_layers=2)
    before = {name: p.detach().clone() for name, p in gru.named_parameters()}
    chrono_init(gru, T_MAX, generator=torch.Generator().manual_seed(5))
    u0 = drawn(5)
    torch.testing.assert_close(gru.bias_ih_l0[H:2 * H], u0.log())
    assert torch.equal(gru.bias_hh_l0[H:2 * H], torch.zeros(H))  # not both: that would double the bias
    for layer in (0, 1):  # every layer gets its own draw; the reset and candidate biases and the weights keep theirs
        for name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
            torch.testing.assert_close(getattr(gru, name)[:H], before[name][:H])
            torch.testing.assert_close(getattr(gru, name)[2 * H:], before[name][2 * H:])
        assert torch.equal(getattr(gru, f"weight_hh_l{layer}"), before[f"weight_hh_l{layer}"])
    assert not torch.equal(gru.bias_ih_l1[H:2 * H], gru.bias_ih_l0[H:2 * H])


def test_lstm_forget_and_input_biases():
    lstm = nn.LSTM(3, H)
    before = {name: p.detach().clone() for name, p in lstm.named_parameters()}
    chrono_init(lstm, T_MAX, generator=torch.Generator().manual_seed(6))
    u = drawn(6)
    torch.testing.assert_close(lstm.bias_ih_l0[H:2 * H], u.log())  # forget
    torch.testing.assert_close(lstm.bias_ih_l0[:H], -u.log())  # input
    assert torch.equal(lstm.bias_hh_l0[:2 * H], torch.zeros(2 * H))
    torch.testing.assert_close(lstm.bias_ih_l0[2 * H:], before["bias_ih_l0"][2 * H:])


def test_time_scales_run_by_pytorch_itself_are_spread_up_to_t_max():
    """With the weights zeroed and the candidate at 0, PyTorch's own GRU decays the state by z per step
    (h' = z h): z = 1 - 1/(1 + u), so the time scale 1/(1 - z) is 1 + u, between 2 and T_max."""
    gru = nn.GRU(1, 64, batch_first=True)
    chrono_init(gru, T_MAX, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        gru.weight_ih_l0.zero_()
        gru.weight_hh_l0.zero_()
        gru.bias_ih_l0[128:].zero_()
        gru.bias_hh_l0[128:].zero_()
        out, _ = gru(torch.zeros(1, 2, 1), torch.ones(1, 1, 64))
    z = out[0, 1] / out[0, 0]  # one step of decay
    scale = 1 / (1 - z.double())
    torch.testing.assert_close(scale, 1 + drawn(0, 64).double(), rtol=1e-4, atol=1e-3)
    assert 2 <= scale.min() and scale.max() <= T_MAX
    assert scale.max() > 0.8 * T_MAX and scale.min() < 0.2 * T_MAX  # spread, not all alike

    lstm = nn.LSTM(1, 64, batch_first=True)
    chrono_init(lstm, T_MAX, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        lstm.weight_ih_l0.zero_()
        lstm.weight_hh_l0.zero_()
        lstm.bias_ih_l0[128:].zero_()  # cell candidate 0, output gate 1/2
        lstm.bias_hh_l0[128:].zero_()
        _, (_, c1) = lstm(torch.zeros(1, 1, 1), (torch.zeros(1, 1, 64), torch.ones(1, 1, 64)))
    torch.testing.assert_close(1 / (1 - c1[0, 0].double()), 1 + drawn(0, 64).double(), rtol=1e-4, atol=1e-3)


def test_sequence_model_chrono_is_seeded_saved_and_refused_for_the_rnn(tmp_path):
    import grutools

    a = SequenceModel("gru", 2, H, 1, seed=3, chrono=T_MAX)
    b = SequenceModel("gru", 2, H, 1, seed=3, chrono=T_MAX)
    assert torch.equal(a.core.bias_ih_l0, b.core.bias_ih_l0)
    assert a.config["chrono"] == T_MAX and "chrono" not in SequenceModel("gru", 2, H, 1).config
    grutools.save(tmp_path / "m.pt", a)
    assert torch.equal(grutools.load(tmp_path / "m.pt").model.core.bias_ih_l0, a.core.bias_ih_l0)
    with pytest.raises(ValueError, match="no gates"):
        SequenceModel("rnn", 2, H, 1, chrono=T_MAX)
    for bad in (2, 0, -5, "long", True):
        with pytest.raises(ValueError, match="T_max"):
            SequenceModel("lstm", 2, H, 1, chrono=bad)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_gradient_at_initialisation_no_longer_vanishes_at_length_100(cell):
    task = AddingProblem(100)
    x, y = task.sample(16, seed=7)
    reach = {}
    for chrono in (None, 100):
        model = SequenceModel(cell, hidden_size=32, seed=0, chrono=chrono, **task.model_kwargs())
        norms = gradient_norms(model, x, y).mean(0)
        reach[chrono] = (norms[0] / norms[-1]).item()  # how much of the last step's gradient reaches step 1
    assert reach[None] < 1e-12  # PyTorch's default: vanished (measured: about 1e-20)
    assert reach[100] > 1e6 * reach[None] and reach[100] > 1e-5  # orders of magnitude more
