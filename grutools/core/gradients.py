"""The gradient that flows back through time: :func:`gradient_norms`."""

from __future__ import annotations

import torch
from torch import Tensor

from .equations import gru_from_projections, lstm_from_projections, lstm_state, project, rnn_from_projections
from .models import SequenceModel, check_dtype, check_sequence
from .tasks import sequence_loss
from .trace import layer_states, layer_weights


def unroll_top_layer(model: SequenceModel, x: Tensor) -> list[Tensor]:
    """The top layer's states h_1..h_T as separate autograd nodes, each ``(batch, hidden)``.

    The layers below run in PyTorch's fused kernel (their gradients are not
    needed); the top layer is unrolled step by step with :mod:`grutools.core.equations`
    so that every h_t is a node of the graph and its total derivative can be read.
    """
    core = model.core
    batch = x.shape[0]
    layer_input = x.transpose(0, 1)
    zeros = x.new_zeros(batch, model.hidden_size)
    top = model.num_layers - 1
    with torch.no_grad():
        for layer in range(top):
            layer_input = layer_states(core, layer, layer_input, zeros, zeros if model.cell == "lstm" else None)
    weight_ih, weight_hh, bias_ih, bias_hh = layer_weights(core, top)
    # the input half of every step at once (one matrix product); only the recurrent half is per step
    inputs = project(layer_input, weight_ih, bias_ih)
    h, c = zeros, zeros
    states = []
    for x_proj in inputs:
        h_proj = project(h, weight_hh, bias_hh)
        if model.cell == "gru":
            h = gru_from_projections(x_proj, h_proj, h).hidden
        elif model.cell == "lstm":
            h, c = lstm_state(lstm_from_projections(x_proj, h_proj), c)
        else:
            h = rnn_from_projections(x_proj, h_proj, nonlinearity=core.nonlinearity)
        states.append(h)
    return states


def gradient_norms(model: SequenceModel, x: Tensor, y: Tensor) -> Tensor:
    """Norm of dLoss/dh_t for the top layer at every step: ``(batch, time)``.

    This is the total derivative, through the prediction at step t (if any) and
    through all later steps: the quantity that vanishes in a tanh RNN. The loss
    is the task loss of each sequence (:func:`grutools.core.tasks.sequence_loss`, summed
    over the batch), so a sequence's row does not depend on the batch size.

    >>> from grutools import SequenceModel, AddingProblem
    >>> task = AddingProblem(50)
    >>> model = SequenceModel("rnn", hidden_size=16, seed=0, **task.model_kwargs())
    >>> x, y = task.sample(8, seed=0)
    >>> gradient_norms(model, x, y).shape
    torch.Size([8, 50])
    """
    if not isinstance(model, SequenceModel):
        raise TypeError(f"gradient_norms() takes a grutools.SequenceModel; got {type(model).__name__}.")
    check_sequence(x, model.input_size)
    check_dtype(x, model.core.weight_ih_l0)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} sequences but y has {y.shape[0]}; they must match.")
    with torch.enable_grad():
        states = unroll_top_layer(model, x)
        prediction = model.predict_from_states(torch.stack(states, dim=1))
        loss = sequence_loss(prediction, y, reduction="sum")
        grads = torch.autograd.grad(loss, states)
    return torch.stack([g.norm(dim=-1) for g in grads], dim=1).detach()
