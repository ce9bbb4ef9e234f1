"""trace() against the modules' own forward pass and an independent step-by-step reference."""

import sys

import pytest
import torch
from torch import nn

from grutools import SequenceModel, trace


def reference_gru(module, x_time_major, h0):
    """PyTorch's documented GRU equations, transcribed here independently, one step at a time."""
    out = {"update": [], "reset": [], "candidate": [], "hidden": []}
    layer_input = x_time_major
    for layer in range(module.num_layers):
        w_ih, w_hh = getattr(module, f"weight_ih_l{layer}"), getattr(module, f"weight_hh_l{layer}")
        b_ih = getattr(module, f"bias_ih_l{layer}") if module.bias else torch.zeros(w_ih.shape[0])
        b_hh = getattr(module, f"bias_hh_l{layer}") if module.bias else torch.zeros(w_hh.shape[0])
        H = module.hidden_size
        h = h0[layer]
        per_layer = {k: [] for k in out}
        for x_t in layer_input:
            r = torch.sigmoid(x_t @ w_ih[:H].T + b_ih[:H] + h @ w_hh[:H].T + b_hh[:H])
            z = torch.sigmoid(x_t @ w_ih[H:2 * H].T + b_ih[H:2 * H] + h @ w_hh[H:2 * H].T + b_hh[H:2 * H])
            n = torch.tanh(x_t @ w_ih[2 * H:].T + b_ih[2 * H:] + r * (h @ w_hh[2 * H:].T + b_hh[2 * H:]))
            h = (1 - z) * n + z * h
            for k, v in zip(("reset", "update", "candidate", "hidden"), (r, z, n, h)):
                per_layer[k].append(v)
        for k in out:
            out[k].append(torch.stack(per_layer[k], 1))  # (batch, time, hidden)
        layer_input = torch.stack(per_layer["hidden"])
    return {k: torch.stack(v) for k, v in out.items()}


def make_input(module, batch=3, time=11):
    x = torch.randn(batch, time, module.input_size)
    return x if module.batch_first else x.transpose(0, 1).contiguous()


CONFIGS = [
    dict(num_layers=1, batch_first=True, bias=True),
    dict(num_layers=2, batch_first=True, bias=True),
    dict(num_layers=1, batch_first=False, bias=True),
    dict(num_layers=2, batch_first=False, bias=False),
    dict(num_layers=3, batch_first=True, bias=False),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("module_class", [nn.GRU, nn.LSTM, nn.RNN])
@pytest.mark.parametrize("given_h0", [False, True])
def test_top_hidden_equals_module_output(module_class, config, given_h0):
    module = module_class(4, 6, **config)
    x = make_input(module)
    batch = 3
    h0 = None
    if given_h0:
        h = torch.randn(config["num_layers"], batch, 6)
        h0 = (h, torch.randn_like(h)) if module_class is nn.LSTM else h
    output, _ = module(x, h0)
    result = trace(module, x, h0)
    expected = output if module.batch_first else output.transpose(0, 1)
    assert result.hidden.shape == (config["num_layers"], batch, 11, 6)
    torch.testing.assert_close(result.hidden[-1], expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("config", CONFIGS)
def test_gru_gates_follow_the_documented_equations(config):
    module = nn.GRU(4, 6, **config)
    x = make_input(module)
    h0 = torch.randn(config["num_layers"], 3, 6)
    result = trace(module, x, h0)
    reference = reference_gru(module, x if not module.batch_first else x.transpose(0, 1), h0)
    for name in ("update", "reset", "candidate", "hidden"):
        torch.testing.assert_close(getattr(result, name), reference[name], atol=1e-5, rtol=0)


def test_lstm_cell_state_matches_lstmcell_loop():
    module = nn.LSTM(3, 5, batch_first=True)
    cell = nn.LSTMCell(3, 5)
    cell.load_state_dict({k.replace("_l0", ""): v for k, v in module.state_dict().items()})
    x = torch.randn(2, 40, 3)
    h = c = torch.zeros(2, 5)
    cells = []
    for t in range(40):
        h, c = cell(x[:, t], (h, c))
        cells.append(c)
    result = trace(module, x)
    torch.testing.assert_close(result.cell[0], torch.stack(cells, 1), atol=1e-5, rtol=0)
    for gate in ("input", "forget", "output"):
        values = getattr(result, gate)
        assert values.shape == (1, 2, 40, 5) and ((values > 0) & (values < 1)).all()


def test_sequence_model_is_traced_through_its_core():
    model = SequenceModel("gru", 2, 8, 1, num_layers=2, seed=0)
    x = torch.randn(5, 9, 2)
    states, _ = model.core(x)
    result = trace(model, x)
    assert result.kind == "gru" and result.quantities == ["hidden", "update", "reset", "candidate"]
    torch.testing.assert_close(result.hidden[-1], states, atol=1e-5, rtol=0)
    assert result.numpy("update", layer=0, sample=1).shape == (9, 8)
    with pytest.raises(ValueError, match="no 'forget'"):
        result.numpy("forget")


def test_trace_does_not_loop_over_time_in_python(monkeypatch):
    """The gates come from one vectorised pass: the step equations are called once per layer."""
    calls = []
    trace_module = sys.modules["grutools.core.trace"]
    original = trace_module.gru_from_projections
    monkeypatch.setattr(trace_module, "gru_from_projections", lambda *a, **k: calls.append(1) or original(*a, **k))
    trace(nn.GRU(2, 3, num_layers=2), torch.randn(50, 4, 2))
    assert len(calls) == 2


@pytest.mark.parametrize(
    "module,x,error,match",
    [
        (nn.GRU(2, 3, batch_first=True), torch.randn(10, 2), ValueError, r"\(batch, time, 2\).*unsqueeze"),
        (nn.GRU(2, 3, batch_first=True), torch.randn(4, 10, 5), ValueError, "expects 2"),
        (nn.GRU(2, 3), torch.randn(4, 10, 5), ValueError, r"\(time, batch, 2\)"),
        (nn.GRU(2, 3, batch_first=True), torch.full((1, 3, 2), float("nan")), ValueError, "NaN"),
        (nn.GRU(2, 3, batch_first=True), torch.ones(1, 3, 2, dtype=torch.long), TypeError, "floating-point"),
        (nn.GRU(2, 3, batch_first=True), [[1.0, 2.0]], TypeError, "torch.Tensor"),
        (nn.GRU(2, 3, batch_first=True), torch.randn(1, 3, 2).double(), TypeError, "float64"),
        (nn.Linear(2, 3), torch.randn(1, 3, 2), TypeError, "holds no torch.nn.GRU, LSTM or RNN"),
        (nn.LSTM(2, 3, proj_size=2), torch.randn(3, 1, 2), ValueError, "proj_size"),
        (nn.GRU(2, 3, batch_first=True), torch.randn(4, 0, 2), ValueError, "at least one"),
    ],
)
def test_bad_input_names_the_problem(module, x, error, match):
    with pytest.raises(error, match=match):
        trace(module, x)


def test_bad_h0_names_the_expected_shape():
    with pytest.raises(ValueError, match=r"h0 must be .*\(2, 4, 3\)"):
        trace(nn.GRU(2, 3, num_layers=2, batch_first=True), torch.randn(4, 5, 2), torch.zeros(1, 4, 3))
    with pytest.raises(TypeError, match="tuple"):
        trace(nn.LSTM(2, 3, batch_first=True), torch.randn(4, 5, 2), torch.zeros(1, 4, 3))
