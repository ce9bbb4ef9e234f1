"""The fused CPU GRU (grutools.core.fast.FastGRU) against torch.nn.GRU, autograd's gradcheck, and its fallback."""

import os
import shutil

import pytest
import torch

from grutools import SequenceModel, trace
from grutools.core import build, fast
from grutools.core.fast import FastGRU

# Skipped only where nothing could build it; where a compiler exists, a broken build fails every test here.
pytestmark = pytest.mark.skipif(shutil.which(os.environ.get("CXX", "c++")) is None,
                                reason="no C++ compiler here: FastGRU falls back to torch.nn.GRU")


def test_extension_builds_where_a_compiler_exists():
    assert fast.available(), f"the fast GRU did not build: {fast._failed}"


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



@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_inputs_in_the_hundreds_and_beyond_give_torch_grus_answer_not_nan(dtype):
    """On main, pre-activations past about 88 (raw sunspot numbers, up to 250, did it) made the fused kernel's
    sigmoid and tanh return NaN: -ffast-math assumes exp never overflows."""
    torch.manual_seed(0)
    ours, reference = pair(input_size=1, hidden=4)
    ours, reference = ours.to(dtype), reference.to(dtype)
    x = torch.tensor([[[1.0], [250.0], [-1e3], [1e5], [-1e5], [0.5]]], dtype=dtype, requires_grad=True)
    out_a, _ = ours(x)
    out_b, _ = reference(x)
    assert torch.isfinite(out_a).all()
    torch.testing.assert_close(out_a, out_b, atol=1e-6, rtol=1e-6)
    grad_a, = torch.autograd.grad(out_a.sum(), x)
    grad_b, = torch.autograd.grad(out_b.sum(), x)
    torch.testing.assert_close(grad_a, grad_b, atol=1e-6, rtol=1e-6)

@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("batch, hidden", [(4, 6), (17, 5), (40, 48)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_product_path_and_split_of_the_batch_equals_torch_gru(threads, batch, hidden, dtype):
    """Single precision multiplies through oneDNN's brgemm, double through a loop; the batch is split in
    blocks of at least 8 rows, one per thread (17 rows on 2 threads: blocks of 9 and 8)."""
    torch.manual_seed(batch + hidden)
    ours, reference = pair(input_size=3, hidden=hidden, num_layers=2)
    ours, reference = ours.to(dtype), reference.to(dtype)
    tolerance = 1e-10 if dtype == torch.float64 else 1e-5
    x = torch.randn(12, batch, 3, dtype=dtype, requires_grad=True)
    h0 = torch.randn(2, batch, hidden, dtype=dtype, requires_grad=True)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        out_a, hn_a = ours(x, h0)
        g_out = torch.randn_like(out_a)
        grads_a = torch.autograd.grad((out_a * g_out).sum() + hn_a.sum(), [x, h0, *ours.parameters()])
    finally:
        torch.set_num_threads(before)
    out_b, hn_b = reference(x, h0)
    torch.testing.assert_close(out_a, out_b, atol=tolerance, rtol=tolerance)
    grads_b = torch.autograd.grad((out_b * g_out).sum() + hn_b.sum(), [x, h0, *reference.parameters()])
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b, atol=tolerance, rtol=tolerance)


def test_a_loss_on_the_final_state_alone_and_repeated_steps_of_the_same_size():
    """Only h_n in the loss (no gradient for the outputs but the last); then the same sizes again, which reuse
    the kernel's kept blocks of memory: results must not depend on what a block held before."""
    torch.manual_seed(3)
    ours, reference = pair(input_size=3, hidden=40)
    for step in range(3):
        x = torch.randn(30, 20, 3) * (step + 1)
        grads = [torch.autograd.grad(module(x)[1].square().sum(), list(module.parameters()))
                 for module in (ours, reference)]
        for a, b in zip(*grads):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


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


def test_trace_of_one_layer_reads_the_kernels_gates_in_place():
    ours, reference = pair(input_size=2, hidden=4, batch_first=True)
    x = torch.randn(3, 7, 2)
    fused, recomputed = trace(ours, x), trace(reference, x)
    for name in ("hidden", "update", "reset", "candidate"):
        assert getattr(fused, name).shape == (1, 3, 7, 4)
        torch.testing.assert_close(getattr(fused, name), getattr(recomputed, name), atol=1e-5, rtol=1e-5)
        assert fused.numpy(name).shape == (7, 4)


def test_falls_back_to_torch_gru_with_one_warning(monkeypatch, tmp_path):
    monkeypatch.setattr(fast, "_extension", None)
    monkeypatch.setattr(fast, "_failed", None)
    monkeypatch.setattr(build, "SOURCE", build.SOURCE.with_name("missing.cpp"))
    monkeypatch.setenv("GRUTOOLS_BUILD_DIR", str(tmp_path / "build"))
    ours, reference = pair()
    x = torch.randn(4, 6, 3)
    with pytest.warns(RuntimeWarning, match="using torch.nn.GRU instead"):
        out = ours(x)[0]
    torch.testing.assert_close(out, reference(x)[0])
    assert not fast.available()  # and no second warning: the failure is remembered


def test_empty_input_gets_torch_grus_own_answer():
    with pytest.raises(RuntimeError, match="sequence length"):
        FastGRU(2, 4)(torch.randn(0, 3, 2))
    assert FastGRU(2, 4)(torch.randn(5, 0, 2))[0].shape == (5, 0, 4)


def double_pair(layers, batch_first):
    ours, reference = pair(input_size=3, hidden=5, num_layers=layers, batch_first=batch_first)
    return ours.double(), reference.double()


def loss_of(module, x):
    output, h_n = module(x)
    return (output ** 2).sum() + (h_n * torch.linspace(-1, 1, h_n.shape[-1], dtype=h_n.dtype)).sum()


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("batch_first", [True, False])
def test_gradient_penalty_on_the_input_matches_torch(layers, batch_first):
    """WGAN-GP style: the norm of dLoss/dx, differentiated again, w.r.t. the weights and x."""
    torch.manual_seed(layers)
    ours, reference = double_pair(layers, batch_first)
    x = torch.randn(4, 6, 3, dtype=torch.double, requires_grad=True)

    def second_order(module):
        grad_x, = torch.autograd.grad(loss_of(module, x), x, create_graph=True)
        penalty = (grad_x.flatten(1).norm(dim=1) - 1).pow(2).mean()
        return torch.autograd.grad(penalty, [x, *module.parameters()])

    for a, b in zip(second_order(ours), second_order(reference)):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("batch_first", [True, False])
def test_gradient_penalty_on_the_weights_and_hessian_vector_product_match_torch(layers, batch_first):
    torch.manual_seed(10 + layers)
    ours, reference = double_pair(layers, batch_first)
    x = torch.randn(3, 5, 3, dtype=torch.double)
    vectors = [torch.randn_like(p) for p in ours.parameters()]

    def penalty_and_hvp(module):
        params = list(module.parameters())
        grads = torch.autograd.grad(loss_of(module, x), params, create_graph=True)
        penalty = sum(g.pow(2).sum() for g in grads)  # a penalty on the weight gradients
        penalty_grads = torch.autograd.grad(penalty, params, retain_graph=True)
        hvp = torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, vectors)), params)  # H v
        return [*penalty_grads, *hvp]

    results = penalty_and_hvp(ours), penalty_and_hvp(reference)
    assert any(r.abs().max() > 1e-3 for r in results[1])  # the check is not vacuous
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_hessian_vector_product_through_sequence_model_matches_finite_differences():
    """An independent check of the second derivative: H v against (g(w + eps v) - g(w - eps v)) / 2 eps."""
    model = SequenceModel("gru", input_size=2, hidden_size=4, output_size=1, seed=0).double()
    x, y = torch.randn(3, 7, 2, dtype=torch.double), torch.randn(3, 1, dtype=torch.double)
    params = list(model.parameters())
    v = [torch.randn_like(p) for p in params]

    def grads(create_graph=False):
        return torch.autograd.grad(torch.nn.functional.mse_loss(model(x), y), params, create_graph=create_graph)

    hvp = torch.autograd.grad(sum((g * u).sum() for g, u in zip(grads(True), v)), params)
    eps = 1e-5
    with torch.no_grad():
        for p, u in zip(params, v):
            p.add_(eps * u)
    plus = grads()
    with torch.no_grad():
        for p, u in zip(params, v):
            p.sub_(2 * eps * u)
    minus = grads()
    for h, a, b in zip(hvp, plus, minus):
        torch.testing.assert_close(h, (a - b) / (2 * eps), atol=1e-6, rtol=1e-5)


def test_first_order_backward_stays_on_the_fused_kernel(monkeypatch):
    def forbidden(*args):
        raise AssertionError("the step-by-step reference ran for an ordinary backward pass")

    monkeypatch.setattr(fast, "reference_layer", forbidden)
    ours, reference = pair(num_layers=2)
    x = torch.randn(4, 6, 3)
    ours(x)[0].sum().backward()
    reference(x)[0].sum().backward()
    for a, b in zip(ours.parameters(), reference.parameters()):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4)
