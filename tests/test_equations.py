"""The equations module against PyTorch's own cells."""

import pytest
import torch
from torch import nn

from grutools.core.equations import gru_step, linear_scan, lstm_step, parameter_count, rnn_step


@pytest.mark.parametrize("bias", [True, False])
def test_gru_step_matches_grucell(bias):
    cell = nn.GRUCell(3, 5, bias=bias)
    x, h = torch.randn(4, 3), torch.randn(4, 5)
    step = gru_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(step.hidden, cell(x, h), atol=1e-6, rtol=1e-5)
    assert ((step.update > 0) & (step.update < 1)).all() and ((step.reset > 0) & (step.reset < 1)).all()
    assert step.candidate.abs().max() < 1


def test_gru_gate_overrides_give_the_textbook_extremes():
    cell = nn.GRUCell(2, 3)
    x, h = torch.randn(2), torch.randn(3)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    copied = gru_step(x, h, *weights, update_override=1.0)
    torch.testing.assert_close(copied.hidden, h)  # z = 1: the state is copied
    replaced = gru_step(x, h, *weights, update_override=0.0)
    torch.testing.assert_close(replaced.hidden, replaced.candidate)  # z = 0: the state is replaced
    ignored = gru_step(x, h, *weights, reset_override=0.0)
    # r = 0: the candidate depends on x only, so any other h gives the same candidate
    other = gru_step(x, torch.randn(3), *weights, reset_override=0.0)
    torch.testing.assert_close(ignored.candidate, other.candidate)


def test_lstm_and_rnn_steps_match_pytorch_cells():
    lstm = nn.LSTMCell(3, 4)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    ours = lstm_step(x, h, c, lstm.weight_ih, lstm.weight_hh, lstm.bias_ih, lstm.bias_hh)
    for a, b in zip(ours, lstm(x, (h, c))):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    for nonlinearity in ("tanh", "relu"):
        rnn = nn.RNNCell(3, 4, nonlinearity=nonlinearity)
        ours = rnn_step(x, h, rnn.weight_ih, rnn.weight_hh, rnn.bias_ih, rnn.bias_hh, nonlinearity)
        torch.testing.assert_close(ours, rnn(x, h), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("steps", [1, 2, 7, 64, 100])
def test_linear_scan_equals_the_loop(steps):
    decay, drive, start = torch.rand(steps, 3, 2), torch.randn(steps, 3, 2), torch.randn(3, 2)
    expected, c = [], start
    for t in range(steps):
        c = decay[t] * c + drive[t]
        expected.append(c)
    torch.testing.assert_close(linear_scan(decay, drive, start), torch.stack(expected), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell,module", [("rnn", nn.RNN), ("gru", nn.GRU), ("lstm", nn.LSTM)])
@pytest.mark.parametrize("layers,bias", [(1, True), (2, True), (3, False)])
def test_parameter_count_matches_pytorch(cell, module, layers, bias):
    expected = sum(p.numel() for p in module(7, 13, num_layers=layers, bias=bias).parameters())
    assert parameter_count(cell, 7, 13, layers, bias) == expected


def test_parameter_count_rejects_unknown_cells():
    with pytest.raises(ValueError, match="cell must be"):
        parameter_count("transformer", 1, 1)


def test_a_step_with_tensors_that_do_not_fit_says_which():
    cell = torch.nn.GRUCell(2, 3)
    with pytest.raises(ValueError, match=r"x has 3 features .* weight_ih takes 2"):
        gru_step(torch.randn(3), torch.zeros(3), cell.weight_ih, cell.weight_hh)
    with pytest.raises(ValueError, match="h_prev must end in the hidden size 3"):
        gru_step(torch.randn(2), torch.zeros(4), cell.weight_ih, cell.weight_hh)
    lstm = torch.nn.LSTMCell(2, 3)
    with pytest.raises(ValueError, match=r"a GRU step needs weight_ih \(3 \* hidden, input\)"):
        gru_step(torch.randn(2), torch.zeros(3), lstm.weight_ih, lstm.weight_hh)
    with pytest.raises(ValueError, match="an LSTM step needs"):
        lstm_step(torch.randn(2), torch.zeros(3), torch.zeros(3), cell.weight_ih, cell.weight_hh)
    rnn = torch.nn.RNNCell(2, 3)
    with pytest.raises(ValueError, match="x has 5 features"):
        rnn_step(torch.randn(4, 5), torch.zeros(4, 3), rnn.weight_ih, rnn.weight_hh)
    # the same tensors in the right order are fine, with any leading (batch) dimensions
    h = rnn_step(torch.randn(4, 2), torch.zeros(4, 3), rnn.weight_ih, rnn.weight_hh, rnn.bias_ih, rnn.bias_hh)
    assert h.shape == (4, 3)
