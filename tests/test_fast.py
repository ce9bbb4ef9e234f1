"""The fused CPU GRU (grutools.fast.FastGRU) against torch.nn.GRU, autograd's gradcheck, and its fallback."""

import pytest
import torch

from grutools import SequenceModel, fast, trace
from grutools.fast import FastGRU

pytestmark = pytest.mark.skipif(not fast.available(), reason="the fast GRU extension could not be built here")


def pair(input_size=3, hidden=6, **kwargs):
    ours = FastGRU(input_size, hidden, **kwargs)
    reference = torch.nn.GRU(input_size, hidden, **kwargs)
    reference.load_state_dict(ours.state_dict())
    return ours, reference


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_h0", [False, True])
def test_outputs_and_gradients_equal_torch_gru(layers, batch_first, bias, with_h0):
    torch.manual_seed(layers * 10 + batch_first * 2 + bias)
    ours, reference = pair(num_layers=layers, batch_first=batch_first, bias=bias)
    shape = (5, 9, 3) if batch_first else (9, 5, 3)
    x = torch.randn(shape, requires_grad=True)
    h0 = torch.randn(layers, 5, 6, requires_grad=True) if with_h0 else None
    out_a, hn_a = ours(x, h0)
    out_b, hn_b = reference(x, h0)
    torch.testing.assert_close(out_a, out_b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(hn_a, hn_b, atol=1e-5, rtol=1e-5)
    g_out, g_hn = torch.randn_like(out_a), torch.randn_like(hn_a)
    inputs = [x] + ([h0] if with_h0 else [])
    grads_a = torch.autograd.grad((out_a * g_out).sum() + (hn_a * g_hn).sum(), inputs + list(ours.parameters()))
    grads_b = torch.autograd.grad((out_b * g_out).sum() + (hn_b * g_hn).sum(), inputs + list(reference.parameters()))
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("batch, hidden", [(4, 6), (32, 32), (33, 32), (40, 48)])
def test_both_matrix_product_paths_equal_torch_gru(batch, hidden):
    """A step's h W_hh^T runs in our own loop up to batch x 3 hidden^2 = 32 x 3 x 32^2, through ATen above."""
    torch.manual_seed(batch + hidden)
    ours, reference = pair(input_size=3, hidden=hidden)
    ours, reference = ours.double(), reference.double()
    x = torch.randn(12, batch, 3, dtype=torch.double, requires_grad=True)
    h0 = torch.randn(1, batch, hidden, dtype=torch.double, requires_grad=True)
    out_a, hn_a = ours(x, h0)
    out_b, hn_b = reference(x, h0)
    torch.testing.assert_close(out_a, out_b, atol=1e-10, rtol=1e-10)
    g_out = torch.randn_like(out_a)
    grads_a = torch.autograd.grad((out_a * g_out).sum() + hn_a.sum(), [x, h0, *ours.parameters()])
    grads_b = torch.autograd.grad((out_b * g_out).sum() + hn_b.sum(), [x, h0, *reference.parameters()])
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_unbatched_input_matches():
    ours, reference = pair()
    x = torch.randn(7, 3)
    for a, b in zip(ours(x), reference(x)):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_gradcheck_in_double_precision():
    torch.manual_seed(0)
    ours = FastGRU(2, 3, num_layers=2, batch_first=True).double()
    x = torch.randn(2, 5, 2, dtype=torch.double, requires_grad=True)
    h0 = torch.randn(2, 2, 3, dtype=torch.double, requires_grad=True)
    names = [name for name, _ in ours.named_parameters()]

    def run(x, h0, *params):
        return torch.func.functional_call(ours, dict(zip(names, params)), (x, h0))

    params = [p.detach().clone().requires_grad_(True) for p in ours.parameters()]
    assert torch.autograd.gradcheck(run, (x, h0, *params), eps=1e-6, atol=1e-6)


def test_sequence_model_uses_it_and_trace_reads_its_gates():
    model = SequenceModel("gru", input_size=2, hidden_size=5, output_size=1, num_layers=2, seed=0)
    assert isinstance(model.core, FastGRU)
    x = torch.randn(3, 8, 2)
    plain = torch.nn.GRU(2, 5, num_layers=2, batch_first=True)
    plain.load_state_dict(model.core.state_dict())
    fused, recomputed = trace(model, x), trace(plain, x)  # gates from the kernel / from the equations
    for name in ("hidden", "update", "reset", "candidate"):
        torch.testing.assert_close(getattr(fused, name), getattr(recomputed, name), atol=1e-5, rtol=1e-5)


def test_falls_back_to_torch_gru_with_one_warning(monkeypatch):
    monkeypatch.setattr(fast, "_extension", None)
    monkeypatch.setattr(fast, "_failed", None)
    monkeypatch.setattr(fast, "SOURCE", fast.SOURCE.with_name("missing.cpp"))
    monkeypatch.setenv("GRUTOOLS_BUILD_DIR", "/nonexistent/readonly/place")
    ours, reference = pair()
    x = torch.randn(4, 6, 3)
    with pytest.warns(RuntimeWarning, match="using torch.nn.GRU instead"):
        out = ours(x)[0]
    torch.testing.assert_close(out, reference(x)[0])
    assert not fast.available()  # and no second warning: the failure is remembered
