"""The GRU's rivals (grutools.core.rivals): the minGRU's scan against its loop, causality, parameter counts by hand."""

import pytest
import torch

from grutools.core.rivals import (
    RIVALS,
    CausalConvolution,
    CausalTransformer,
    MinGRU,
    WindowMLP,
    make_rival,
    min_gru_sequential,
)


@pytest.mark.parametrize("with_h0", [False, True])
def test_the_min_gru_scan_agrees_with_its_loop_forward_and_backward(with_h0):
    torch.manual_seed(0)
    layer = MinGRU(3, 5).double()
    x = torch.randn(4, 300, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.rand(4, 5, dtype=torch.float64) + 0.1 if with_h0 else None
    scan, last = layer(x, h0)
    loop = min_gru_sequential(layer, x, h0)
    torch.testing.assert_close(scan, loop, atol=1e-10, rtol=1e-10)
    assert torch.equal(last[0], scan[:, -1])
    weights = torch.randn_like(scan)
    grads_scan = torch.autograd.grad((scan * weights).sum(), [x, *layer.parameters()])
    grads_loop = torch.autograd.grad((loop * weights).sum(), [x, *layer.parameters()])
    for a, b in zip(grads_scan, grads_loop):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-9)


def test_the_min_gru_scan_agrees_in_single_precision_to_1e_5():
    torch.manual_seed(1)
    layer = MinGRU(2, 8)
    x = torch.randn(8, 512, 2)
    torch.testing.assert_close(layer(x)[0], min_gru_sequential(layer, x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", RIVALS)
def test_every_rival_is_causal(kind):
    torch.manual_seed(2)
    core = make_rival(kind, 2, 8).double().eval()
    x = torch.randn(2, 40, 2, dtype=torch.float64)
    changed = x.clone()
    changed[:, 25] += 1.0
    before, after = core(x)[0], core(changed)[0]
    assert before.shape == (2, 40, 8)
    torch.testing.assert_close(after[:, :25], before[:, :25], atol=0, rtol=0)  # the past does not see the future
    assert (after[:, 25] - before[:, 25]).abs().max() > 1e-6  # the present does


def test_the_window_and_the_convolution_forget_past_their_reach():
    torch.manual_seed(3)
    x = torch.randn(1, 80, 2, dtype=torch.float64)
    for core, reach in ((WindowMLP(2, 4, window=10), 10), (CausalConvolution(2, 4, levels=3, kernel_size=2), None)):
        core = core.double()
        reach = reach or core.receptive_field
        changed = x.clone()
        changed[:, 20] += 1.0
        a, b = core(x)[0], core(changed)[0]
        torch.testing.assert_close(b[:, 20 + reach:], a[:, 20 + reach:], atol=0, rtol=0)
        assert (b[:, 20 + reach - 1] - a[:, 20 + reach - 1]).abs().max() > 1e-9
    assert CausalConvolution(1, 1, levels=3, kernel_size=2).receptive_field == 8


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_by_hand():
    i, h = 3, 4
    assert count(WindowMLP(i, h, window=5)) == (5 * i * h + h) + (h * h + h)
    assert count(MinGRU(i, h)) == 2 * (i * h + h)
    assert count(CausalConvolution(i, h, levels=2, kernel_size=3)) == (i * h + h) + 2 * (h * h * 3 + h)
    per_layer = (3 * h * h + 3 * h) + (h * h + h) + (h * 2 * h + 2 * h) + (2 * h * h + h) + 2 * (2 * h)
    assert count(CausalTransformer(i, h, layers=2, heads=2)) == (i * h + h) + 2 * per_layer


def test_clear_errors():
    with pytest.raises(ValueError, match="one of"):
        make_rival("lstm2", 1, 2)
    with pytest.raises(ValueError, match="multiple of heads"):
        CausalTransformer(1, 5, heads=2)
    with pytest.raises(ValueError, match="positions for 8 steps"):
        CausalTransformer(1, 4, max_length=8)(torch.zeros(1, 9, 1))


@pytest.mark.parametrize("kind", RIVALS)
def test_every_rival_trains_through_the_same_code_as_the_gru(kind, tmp_path):
    from grutools import AddingProblem, SequenceModel, evaluate, load, save, train

    task = AddingProblem(length=20)
    model = SequenceModel(kind, task.input_size, 16, task.output_size, seed=0)
    before = evaluate(model, task)
    history = train(model, task, steps=60, lr=3e-3, progress=False)
    assert history.step[-1] == 60 and evaluate(model, task) < before
    again = load(save(tmp_path / f"{kind}.pt", model=model)).model  # saved and loaded like every other model
    x = task.sample(4, seed=1)[0]
    torch.testing.assert_close(again(x), model.eval()(x))
