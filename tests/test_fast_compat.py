"""FastGRU as a drop-in torch.nn.GRU, in the spirit of PyTorch's own module tests: every check runs the same thing
on ``nn.GRU`` and on ``FastGRU`` with the same weights and compares the two (results, gradients, errors, messages).

The inputs come from PyTorch itself (``module_inputs_torch_nn_RNN_GRU``, as ``test/test_modules.py`` uses them);
then wrong shapes and dtypes, autocast, ``torch.func``, forward-mode AD, gradcheck with batched gradients,
TorchScript, tracing, ``torch.export``, parametrizations, pruning, copies and pickles, threads, inference mode.
"""

from __future__ import annotations

import copy
import io
import pickle
import threading

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations, parametrize, prune
from torch.testing._internal.common_modules import module_inputs_torch_nn_RNN_GRU

from grutools.core import fast
from grutools.core.fast import FastGRU

pytestmark = pytest.mark.skipif(not fast.available(), reason="the fused kernel is not built")


def pair(seed: int = 0, **settings) -> tuple[nn.GRU, FastGRU]:
    """An ``nn.GRU`` and a ``FastGRU`` with the same settings and the same weights."""
    torch.manual_seed(seed)
    reference = nn.GRU(**settings)
    ours = FastGRU(**settings)
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def outcome(function):
    """What ``function()`` gives: its result, or the exception's type and message (class names aside)."""
    try:
        return "ok", function()
    except Exception as error:  # the point: compare what each raises
        return type(error).__name__, str(error).replace("FastGRU", "GRU")


def assert_same(a, b, atol=1e-5, rtol=1e-5):
    """Nested tuples, lists, tensors and packed sequences compared leaf by leaf."""
    if isinstance(a, nn.utils.rnn.PackedSequence):
        assert isinstance(b, nn.utils.rnn.PackedSequence)
        return assert_same(tuple(a), tuple(b), atol, rtol)
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        return assert_same(list(a.values()), list(b.values()), atol, rtol)
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y, atol, rtol)
    elif isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape)
        torch.testing.assert_close(b, a, atol=atol, rtol=rtol)
    else:
        assert a == b


def clone_input(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, nn.utils.rnn.PackedSequence):
        data = value.data.detach().clone().requires_grad_(value.data.requires_grad)
        return nn.utils.rnn.PackedSequence(data, value.batch_sizes, value.sorted_indices, value.unsorted_indices)
    return value


def run_with_gradients(module: nn.Module, args: tuple):
    """Forward, then the gradient of every output's sum with respect to the inputs and parameters."""
    args = tuple(clone_input(a) for a in args)
    out = module(*args)
    leaves = [a.data if isinstance(a, nn.utils.rnn.PackedSequence) else a for a in args]
    leaves = [t for t in leaves if isinstance(t, torch.Tensor) and t.requires_grad] + list(module.parameters())
    total = sum(t.sum() for t in (out[0].data if isinstance(out[0], nn.utils.rnn.PackedSequence) else out[0], out[1]))
    grads = torch.autograd.grad(total, leaves, allow_unused=True) if total.requires_grad else ()
    return out, [g for g in grads if g is not None]


SAMPLES = [(dtype, requires_grad, training, index)
           for dtype in (torch.float32, torch.float64) for requires_grad in (False, True) for training in (False, True)
           for index in range(len(module_inputs_torch_nn_RNN_GRU(None, "cpu", torch.float32, False, False,
                                                                 with_packed_sequence=True, is_rnn=False)))]


@pytest.mark.parametrize("dtype,requires_grad,training,index", SAMPLES,
                         ids=[f"{str(d)[6:]}-grad{int(g)}-train{int(t)}-{i}" for d, g, t, i in SAMPLES])
def test_every_input_pytorchs_module_tests_build(dtype, requires_grad, training, index):
    sample = module_inputs_torch_nn_RNN_GRU(None, "cpu", dtype, requires_grad, training, with_packed_sequence=True,
                                            is_rnn=False)[index]
    reference, ours = pair(**sample.constructor_input.kwargs)
    reference.to(dtype).train(training)
    ours.to(dtype).train(training)
    args = sample.forward_input.args
    expected, got = run_with_gradients(reference, args), run_with_gradients(ours, args)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-10
    assert_same(expected, got, atol=tolerance, rtol=tolerance)


def test_ordinary_training_and_inference_take_the_fused_kernel(monkeypatch):
    calls = []
    real = fast._layer_forward
    monkeypatch.setattr(fast, "_layer_forward", lambda *a: calls.append(1) or real(*a))
    _, ours = pair(input_size=3, hidden_size=8, num_layers=2, batch_first=True)
    ours(torch.randn(4, 6, 3))[0].sum().backward()
    with torch.no_grad():
        ours(torch.randn(4, 6, 3))
    with torch.inference_mode():
        ours(torch.randn(6, 3))
    assert len(calls) == 6  # two layers, three calls: nothing of this took nn.GRU's slower path


BAD_CALLS = {
    "too few features": lambda: (torch.randn(5, 2, 2),),
    "too many features": lambda: (torch.randn(5, 2, 7),),
    "far too many features": lambda: (torch.randn(2, 1, 50_000),),
    "float64 into float32": lambda: (torch.randn(5, 2, 3, dtype=torch.float64),),
    "a 1-D input": lambda: (torch.randn(5),),
    "a 4-D input": lambda: (torch.randn(1, 5, 2, 3),),
    "hx of the wrong batch": lambda: (torch.randn(5, 2, 3), torch.zeros(1, 3, 4)),
    "hx of the wrong size": lambda: (torch.randn(5, 2, 3), torch.zeros(1, 2, 5)),
    "hx of the wrong layers": lambda: (torch.randn(5, 2, 3), torch.zeros(2, 2, 4)),
    "2-D hx for a batch": lambda: (torch.randn(5, 2, 3), torch.zeros(2, 4)),
    "3-D hx for one sequence": lambda: (torch.randn(5, 3), torch.zeros(1, 1, 4)),
    "float64 hx": lambda: (torch.randn(5, 2, 3), torch.zeros(1, 2, 4, dtype=torch.float64)),
    "an int input": lambda: (torch.ones(5, 2, 3, dtype=torch.int64),),
    "an empty batch": lambda: (torch.randn(5, 0, 3),),
    "no steps": lambda: (torch.randn(0, 2, 3),),
}


@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "grad"])
@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_a_wrong_call_gets_nn_grus_own_error_or_result(case, grad):
    reference, ours = pair(input_size=3, hidden_size=4)
    args = BAD_CALLS[case]()
    with torch.set_grad_enabled(grad):
        expected = outcome(lambda: reference(*args))
        got = outcome(lambda: ours(*args))
    assert got[0] == expected[0], (case, expected, got)
    if expected[0] == "ok":
        assert_same(expected[1], got[1])
    else:
        assert got[1] == expected[1]
    doubled = (torch.randn(5, 2, 3, dtype=torch.float64),)
    reference.double()
    ours.double()
    assert outcome(lambda: ours(doubled[0].float())) == outcome(lambda: reference(doubled[0].float()))


def test_autocast_to_bfloat16_gives_nn_grus_numbers():
    reference, ours = pair(input_size=3, hidden_size=16, batch_first=True)
    x = torch.randn(4, 20, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected, got = reference(x), ours(x)
    assert got[0].dtype == expected[0].dtype
    assert_same(expected, got, atol=0, rtol=0)
    assert not torch.allclose(got[0].float(), ours(x)[0], atol=1e-4)  # autocast changed the numbers, as in nn.GRU


def functional_loss(module):
    def loss(params, x):
        out, _ = torch.func.functional_call(module, params, (x,))
        return (out ** 2).sum()
    return loss


def test_torch_func_grad_vmap_and_jvp():
    reference, ours = pair(input_size=3, hidden_size=5, batch_first=True)
    x = torch.randn(2, 6, 3)
    params = {k: v.detach() for k, v in reference.named_parameters()}
    assert_same(torch.func.grad(functional_loss(reference))(params, x), torch.func.grad(functional_loss(ours))(params, x))
    single = lambda m: (lambda seq: m(seq)[0])  # noqa: E731
    vmapped = [outcome(lambda m=m: torch.func.vmap(single(m))(x)) for m in (reference, ours)]
    assert vmapped[0][0] == vmapped[1][0] and (vmapped[0][0] != "ok" or assert_same(vmapped[0][1], vmapped[1][1]) is None)
    assert vmapped[0] == vmapped[1] or vmapped[0][0] == "ok"  # nn.GRU has no batching rule here: the same error
    tangent = torch.randn_like(x)
    assert_same(torch.func.jvp(single(reference), (x,), (tangent,)), torch.func.jvp(single(ours), (x,), (tangent,)))
    assert_same(torch.func.jacrev(single(reference))(x[0]), torch.func.jacrev(single(ours))(x[0]))


def test_forward_mode_ad():
    import torch.autograd.forward_ad as fwAD

    reference, ours = pair(input_size=3, hidden_size=5)
    x, tangent = torch.randn(6, 2, 3), torch.randn(6, 2, 3)
    results = []
    for module in (reference, ours):
        with fwAD.dual_level():
            out, h = module(fwAD.make_dual(x, tangent))
            results.append((fwAD.unpack_dual(out).tangent, fwAD.unpack_dual(h).tangent))
    assert_same(*results)


@pytest.mark.parametrize("layers,bias", [(1, True), (2, False)])
def test_gradcheck_and_gradgradcheck_with_batched_gradients(layers, bias):
    reference, ours = pair(input_size=2, hidden_size=3, num_layers=layers, bias=bias)
    x = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
    h = torch.randn(layers, 2, 3, dtype=torch.float64, requires_grad=True)
    for module in (reference, ours):
        module.double()
        function = lambda x, h, m=module: m(x, h)  # noqa: E731
        assert torch.autograd.gradcheck(function, (x, h), check_batched_grad=True, check_forward_ad=True)
        assert torch.autograd.gradgradcheck(function, (x, h), check_batched_grad=True)


class Holder(nn.Module):
    """A model holding a GRU, as a practitioner's would."""

    def __init__(self, gru: nn.GRU):
        super().__init__()
        self.gru = gru
        self.head = nn.Linear(gru.hidden_size, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out)


def test_torchscript_tracing_and_export():
    reference, ours = pair(input_size=3, hidden_size=4, batch_first=True)
    x = torch.randn(2, 7, 3)
    models = [Holder(reference), Holder(ours)]
    models[1].head.load_state_dict(models[0].head.state_dict())
    expected = models[0](x)
    assert_same(expected, models[1](x))
    # tracing first (scripting replaces the holder's FastGRU by an nn.GRU on the same parameters; see the docstring)
    traced = [torch.jit.trace(m, (x,)) for m in models]
    assert_same(traced[0](x), traced[1](x))
    exported = [torch.export.export(m, (x,)) for m in models]
    assert_same(exported[0].module()(x), exported[1].module()(x))
    buffer = io.BytesIO()
    scripted = [torch.jit.script(m) for m in models]
    torch.jit.save(scripted[1], buffer)
    buffer.seek(0)
    assert_same(scripted[0](x), torch.jit.load(buffer)(x))
    bare = [outcome(lambda m=m: torch.jit.script(m)(x)) for m in (reference, ours)]  # nn.GRU's overloads: no forward
    assert bare[0][0] == bare[1][0] and (bare[0][0] != "ok" or assert_same(bare[0][1], bare[1][1]) is None)
    assert [m.original_name for m in scripted] == ["Holder", "Holder"] and scripted[1].gru.original_name == "GRU"
    assert_same(models[1](x), expected)  # the eager model still gives the same numbers


def counting(parametrization: nn.Module) -> tuple[nn.Module, list]:
    calls = []
    parametrization.register_forward_hook(lambda *_: calls.append(1))
    return parametrization, calls


class Scale(nn.Module):
    def forward(self, weight):
        return weight * 0.9


@pytest.mark.parametrize("name", ["weight_ih_l0", "weight_hh_l0"])
def test_parametrizations_are_evaluated_as_nn_gru_evaluates_them(name):
    modules = pair(input_size=3, hidden_size=6, batch_first=True)
    counts = []
    for module in modules:
        parametrization, calls = counting(Scale())
        parametrize.register_parametrization(module, name, parametrization)
        module(torch.randn(2, 5, 3))[0].sum().backward()
        counts.append(len(calls))
    assert counts[0] == counts[1] > 0


@pytest.mark.parametrize("kind", ["spectral_norm_hh", "spectral_norm_ih", "weight_norm", "orthogonal", "prune"])
def test_stateful_parametrizations_and_pruning_train_alike(kind):
    modules = pair(input_size=4, hidden_size=6, batch_first=True)
    for module in modules:
        torch.manual_seed(1)  # spectral_norm draws its power-iteration vectors
        if kind == "spectral_norm_hh":
            parametrizations.spectral_norm(module, "weight_hh_l0")
        elif kind == "spectral_norm_ih":
            parametrizations.spectral_norm(module, "weight_ih_l0")
        elif kind == "weight_norm":
            parametrizations.weight_norm(module, "weight_ih_l0")
        elif kind == "orthogonal":
            parametrizations.orthogonal(module, "weight_hh_l0")
        else:
            prune.l1_unstructured(module, "weight_hh_l0", amount=0.5)
    optimisers = [torch.optim.SGD(m.parameters(), lr=0.1) for m in modules]
    torch.manual_seed(2)
    batches = [torch.randn(3, 5, 4) for _ in range(4)]
    history = [[], []]
    for x in batches:
        for i, (module, optimiser) in enumerate(zip(modules, optimisers)):
            optimiser.zero_grad()
            out, _ = module(x)
            out.pow(2).mean().backward()
            history[i].append((out.detach(), [p.grad.clone() for p in module.parameters()]))
            optimiser.step()
    assert_same(history[0], history[1], atol=1e-6, rtol=1e-5)


def test_copies_pickles_and_state_dicts_both_ways():
    reference, ours = pair(input_size=3, hidden_size=4, num_layers=2)
    x = torch.randn(5, 2, 3)
    for copied in (copy.deepcopy(ours), pickle.loads(pickle.dumps(ours))):
        assert type(copied) is FastGRU
        assert_same(copied(x), reference(x))
    buffer = io.BytesIO()
    torch.save(ours.state_dict(), buffer)
    buffer.seek(0)
    fresh = nn.GRU(3, 4, num_layers=2)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert_same(fresh(x), ours(x))
    back = FastGRU(3, 4, num_layers=2)
    back.load_state_dict(fresh.state_dict())
    assert_same(back(x), reference(x))


def test_share_memory_threads_and_inference_mode():
    reference, ours = pair(input_size=3, hidden_size=8, batch_first=True)
    ours.share_memory()
    assert all(p.is_shared() for p in ours.parameters())
    inputs = [torch.randn(4, 30, 3) for _ in range(8)]
    expected = [reference(x)[0].detach() for x in inputs]
    got = [None] * len(inputs)

    def work(i):
        with torch.no_grad():
            got[i] = ours(inputs[i])[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_same(expected, got)
    with torch.inference_mode():
        a, b = reference(inputs[0]), ours(inputs[0])
    assert a[0].is_inference() and b[0].is_inference()
    assert_same(a, b)


@pytest.mark.parametrize("grad", [False, True])
def test_outputs_are_ordinary_tensors(grad):
    reference, ours = pair(input_size=3, hidden_size=256)
    x = torch.randn(100, 20, 3)  # an output of 2 MB, past the kernel's pool threshold
    with torch.set_grad_enabled(grad):
        outputs = [m(x)[0] for m in (reference, ours)]
    for out in outputs:
        assert out.untyped_storage().resizable()
        out.detach().resize_(200, 20, 256)
        out.detach().resize_(10)
    assert_same(*[m(x) for m in (reference, ours)])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("where", ["input", "state"])
@pytest.mark.parametrize("layers,bidirectional,hidden,batch", [(1, False, 8, 1), (2, True, 8, 3), (1, False, 256, 64)])
def test_a_non_finite_value_reaches_the_same_steps_rows_and_gradients_as_in_nn_gru(value, where, layers,
                                                                                     bidirectional, hidden, batch):
    """A NaN or an infinity in the input or the first state: nn.GRU carries it forward through the state (every
    later step of that row is NaN), and back into the gradients. FastGRU must do the same, at sizes where the
    batch is split between threads too, and never turn a NaN into a number (its kernel is built with
    -ffast-math, which lets the compiler assume there are none)."""
    reference, ours = pair(3, input_size=5, hidden_size=hidden, num_layers=layers, bidirectional=bidirectional)
    torch.manual_seed(4)
    x = torch.randn(12, batch, 5)
    h0 = torch.randn(layers * (2 if bidirectional else 1), batch, hidden)
    if where == "input":
        x[4, 0, 1] = value
    else:
        h0[0, 0, 3] = value
    results = []
    for module in (reference, ours):
        xs, hs = x.clone().requires_grad_(), h0.clone().requires_grad_()
        out, h_n = module(xs, hs)
        grads = torch.autograd.grad(out.sum() + h_n.sum(), (xs, hs))
        results.append((out, h_n, *grads))
    if value != value:  # an infinity may saturate the gates into a finite output; a NaN always shows
        assert torch.isnan(results[0][0]).any(), "the probe must put a NaN into nn.GRU's output"
    for theirs, mine in zip(*results):
        assert torch.equal(torch.isnan(theirs), torch.isnan(mine))
        assert torch.equal(torch.isinf(theirs), torch.isinf(mine))
        torch.testing.assert_close(mine, theirs, atol=1e-4, rtol=1e-4, equal_nan=True)
