"""The cell explorer's logic: checked against torch.nn.GRU / nn.RNN themselves."""

import pytest
import torch

from grutools.lessons.cell import (
    GATE_MODES,
    MEMORY_UNIT,
    UNIT_PARAMETERS,
    SmallGRU,
    explain_step,
    input_signal,
    parameter_rows,
)


@pytest.mark.parametrize("inputs,hidden", [(1, 1), (2, 4), (1, 3)])
def test_step_is_what_pytorch_computes(inputs, hidden):
    gru = SmallGRU(inputs, hidden, seed=3)
    x, h = torch.randn(inputs), torch.rand(hidden) * 2 - 1
    expected, _ = gru.module(x[None, None], h[None, None])
    torch.testing.assert_close(gru.step(x, h).hidden, expected[0, 0], atol=1e-6, rtol=1e-5)


def test_explanation_terms_add_up_to_the_step():
    gru = SmallGRU(2, 3, seed=1)
    x, h = [0.3, -1.2], [0.5, -0.2, 0.9]
    for unit in range(3):
        e = explain_step(gru, x, h, unit)
        s = e.step
        assert abs(e.r_input + e.r_recurrent + e.r_bias - s.reset_pre[unit].item()) < 1e-5
        assert abs(e.z_input + e.z_recurrent + e.z_bias - s.update_pre[unit].item()) < 1e-5
        assert abs(e.n_input + s.reset[unit].item() * e.n_recurrent - s.candidate_pre[unit].item()) < 1e-5


def test_gate_modes_pin_the_gates():
    gru = SmallGRU(1, 2, seed=0)
    x, h = [0.7], torch.tensor([0.4, -0.8])
    torch.testing.assert_close(gru.step(x, h, "z = 1 (copy)").hidden, h)
    replaced = gru.step(x, h, "z = 0 (replace)")
    torch.testing.assert_close(replaced.hidden, replaced.candidate)
    a = gru.step(x, h, "r = 0 (ignore past)").candidate
    b = gru.step(x, -h, "r = 0 (ignore past)").candidate
    torch.testing.assert_close(a, b)
    assert set(GATE_MODES) == {"as computed", "z = 0 (replace)", "z = 1 (copy)", "r = 0 (ignore past)"}
    with pytest.raises(ValueError, match="mode must be"):
        gru.step(x, h, "z = 2")


def test_unit_weights_round_trip_and_change_the_module():
    gru = SmallGRU(1, 3, seed=0)
    for i, name in enumerate(UNIT_PARAMETERS):
        gru.set_unit_weight(1, name, 0.25 * i - 1)
    weights = gru.unit_weights(1)
    for i, name in enumerate(UNIT_PARAMETERS):
        assert abs(getattr(weights, name) - (0.25 * i - 1)) < 1e-6
    assert abs(gru.module.weight_hh_l0[1 + 3, 1].item() - weights.W_hz) < 1e-6  # z rows start at hidden
    with pytest.raises(ValueError, match="unknown parameter"):
        gru.set_unit_weight(0, "W_xx", 1.0)
    with pytest.raises(ValueError, match="unit must be"):
        gru.unit_weights(3)


def test_the_memory_unit_holds_a_pulse_that_the_rnn_forgets():
    gru = SmallGRU(1, 2, seed=0)
    gru.set_unit(0, MEMORY_UNIT)
    gru_trace, rnn_trace = gru.run_unit(0, input_signal("pulse", 50))
    # the 1-unit modules are real torch modules: their own forward agrees with the traces
    gru_module, rnn_module = gru.unit_modules(0)
    x = input_signal("pulse", 50)[None, :, None]
    torch.testing.assert_close(gru_trace.hidden[0, 0, :, 0], gru_module(x)[0][0, :, 0], atol=1e-5, rtol=0)
    torch.testing.assert_close(rnn_trace.hidden[0, 0, :, 0], rnn_module(x)[0][0, :, 0], atol=1e-5, rtol=0)
    assert gru_trace.hidden[0, 0, -1, 0] > 0.8
    assert abs(rnn_trace.hidden[0, 0, -1, 0]) < 0.05


def test_signals():
    assert input_signal("pulse", 10).tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert torch.equal(input_signal("noise", 20, seed=1), input_signal("noise", 20, seed=1))
    assert input_signal("sine", 40).abs().max() <= 1
    with pytest.raises(ValueError, match="kind must be"):
        input_signal("square")


@pytest.mark.parametrize("inputs,hidden", [(1, 1), (2, 32), (100, 7)])
def test_parameter_rows_agree_with_pytorch(inputs, hidden):
    rows = parameter_rows(inputs, hidden)
    assert [r.cell for r in rows] == ["rnn", "gru", "lstm"]
    assert all(r.from_formula == r.from_pytorch for r in rows)
    assert rows[1].from_pytorch * 4 == rows[2].from_pytorch * 3


def test_sizes_are_checked():
    with pytest.raises(ValueError, match="hidden_size"):
        SmallGRU(1, 5)
    with pytest.raises(ValueError, match="input_size"):
        SmallGRU(3, 2)
