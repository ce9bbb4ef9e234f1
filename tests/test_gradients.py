"""gradient_norms against an explicitly unrolled reference built from PyTorch's own cells."""

import pytest
import torch
from torch import nn

from grutools import AddingProblem, CopyTask, SequenceModel, gradient_norms
from grutools.core.tasks import sequence_loss

CELLS = {"gru": nn.GRUCell, "rnn": nn.RNNCell, "lstm": nn.LSTMCell}


def unrolled_reference(model, x, y):
    """Run every layer with torch.nn.*Cell, keep each top-layer h_t, and ask autograd for dL/dh_t."""
    batch = x.shape[0]
    layer_input = list(x.unbind(1))
    for layer in range(model.num_layers):
        in_size = model.input_size if layer == 0 else model.hidden_size
        cell = CELLS[model.cell](in_size, model.hidden_size)
        cell.load_state_dict({k.replace(f"_l{layer}", ""): v for k, v in model.core.state_dict().items()
                              if k.endswith(f"_l{layer}")})
        h = torch.zeros(batch, model.hidden_size)
        c = torch.zeros(batch, model.hidden_size)
        outputs = []
        for x_t in layer_input:
            if model.cell == "lstm":
                h, c = cell(x_t, (h, c))
            else:
                h = cell(x_t, h)
            h.retain_grad()
            outputs.append(h)
        layer_input = outputs
    prediction = model.predict_from_states(torch.stack(layer_input, 1))
    sequence_loss(prediction, y, reduction="sum").backward()
    return torch.stack([h.grad.norm(dim=-1) for h in layer_input], 1)


@pytest.mark.parametrize("cell", ["gru", "rnn", "lstm"])
@pytest.mark.parametrize("layers", [1, 2])
def test_matches_unrolled_autograd_reference_on_adding(cell, layers):
    task = AddingProblem(30)
    model = SequenceModel(cell, hidden_size=7, num_layers=layers, seed=1, **task.model_kwargs())
    x, y = task.sample(4, seed=3)
    ours = gradient_norms(model, x, y)
    assert ours.shape == (4, 30)
    torch.testing.assert_close(ours, unrolled_reference(model, x, y), atol=1e-6, rtol=1e-4)


def test_matches_reference_with_readout_all_and_ignored_steps():
    task = CopyTask(length=12)
    model = SequenceModel("gru", hidden_size=5, seed=2, **task.model_kwargs())
    x, y = task.sample(3, seed=0)
    torch.testing.assert_close(gradient_norms(model, x, y), unrolled_reference(model, x, y), atol=1e-6, rtol=1e-4)


def test_total_derivative_matches_finite_differences():
    """Nudge h_t (through its own input) the independent way: d loss / d h_t via a perturbed re-run."""
    task = AddingProblem(8)
    model = SequenceModel("gru", hidden_size=3, seed=0, **task.model_kwargs()).double()
    x, y = task.sample(1, seed=0)
    x, y = x.double(), y.double()
    norms = gradient_norms(model, x, y)
    # finite differences on h_t: run steps t+1.. from a perturbed h_t with torch.nn.GRU itself
    t, eps = 3, 1e-6
    states, _ = model.core(x)
    grad = torch.zeros(3, dtype=torch.double)
    for unit in range(3):
        losses = []
        for sign in (1, -1):
            h = states[:, t].clone()
            h[0, unit] += sign * eps
            rest, _ = model.core(x[:, t + 1:], h[None])
            losses.append(sequence_loss(model.predict_from_states(rest), y, "sum"))
        grad[unit] = (losses[0] - losses[1]) / (2 * eps)
    torch.testing.assert_close(norms[0, t], grad.norm(), atol=1e-7, rtol=1e-5)


def test_an_update_gate_near_one_carries_the_gradient_that_a_tanh_rnn_loses():
    """At T=100 the RNN's gradient at step 1 is lost; a GRU whose update gates sit near 1 keeps it."""
    task = AddingProblem(100)
    x, y = task.sample(16, seed=0)
    rnn = SequenceModel("rnn", hidden_size=32, seed=0, **task.model_kwargs())
    gru = SequenceModel("gru", hidden_size=32, seed=0, **task.model_kwargs())
    with torch.no_grad():
        gru.core.bias_hh_l0[32:64] = 5.0  # update gate z = sigmoid(~5) ~ 0.99: "keep the state"
    ratio = lambda n: (n[:, 0].mean() / n[:, -1].mean()).item()  # noqa: E731
    assert ratio(gradient_norms(rnn, x, y)) < 1e-6
    assert ratio(gradient_norms(gru, x, y)) > 1e-2


def test_bad_arguments():
    model = SequenceModel("gru", 2, 4, 1)
    with pytest.raises(TypeError, match="SequenceModel"):
        gradient_norms(nn.GRU(2, 4), torch.randn(1, 3, 2), torch.randn(1, 1))
    with pytest.raises(ValueError, match="unsqueeze"):
        gradient_norms(model, torch.randn(3, 2), torch.randn(1, 1))
    with pytest.raises(ValueError, match="must match"):
        gradient_norms(model, torch.randn(2, 3, 2), torch.randn(5, 1))
