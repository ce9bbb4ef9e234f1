"""A GRU that trains fast on the CPU: :class:`FastGRU`, a drop-in ``torch.nn.GRU``.

PyTorch's CPU ``nn.GRU`` has no fused kernel: every time step is several small
tensor operations, each recorded by autograd, and it trains about 4x slower than
``nn.LSTM``, which runs through oneDNN. :class:`FastGRU` runs each layer as one
call into a small C++ extension (``grutools/core/csrc/fast_gru.cpp``) with a
hand-written backward pass. Each thread takes its own block of batch rows through
the whole sequence (no waiting between steps); per step it does a few small matrix
products through oneDNN's just-in-time ``brgemm`` micro-kernel and one fused loop
over the gates, and the backward pass sums the weight gradients as it goes, with
everything a step needs in cache. The gates it computes are kept, so
:func:`grutools.trace` gets them at no extra cost. ``benchmarks/fast_gru.py``
measures it against ``nn.GRU``, ``nn.LSTM`` and ``nn.RNN``.

The extension is compiled once per machine and torch version, on first use or by
``python -m grutools build`` (``make install`` runs it), beside the package or in the
per-user cache: see :mod:`grutools.core.build`, which also loads it without a lock.
Where it cannot be built (no C++ compiler) or does not apply (CUDA, bidirectional,
packed sequences, dropout while training, other dtypes), :class:`FastGRU` falls back
to ``nn.GRU`` itself, after a one-line warning.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn

from . import build

_extension = None
_failed: str | None = None


def extension(verbose: bool = False, force: bool = False):
    """The compiled extension, building it on first use; ``None`` (after one warning) if it cannot be built."""
    global _extension, _failed
    if not force and (_extension is not None or _failed is not None):
        return _extension
    try:
        _extension = build.load_or_build(verbose=verbose, force=force)
        _failed = None
    except Exception as error:  # no compiler, no ninja, read-only folder...: fall back, say so once
        _failed = f"{type(error).__name__}: {str(error).strip().splitlines()[-1] if str(error).strip() else ''}"
        warnings.warn(f"grutools: the fast CPU GRU could not be built ({_failed}); using torch.nn.GRU instead.",
                      RuntimeWarning, stacklevel=2)
    return _extension


def available() -> bool:
    """Whether the fused CPU GRU is built and usable."""
    return extension() is not None


def _layer_forward(x, h0, w_ih, w_hh, b_ih, b_hh) -> tuple[Tensor, Tensor]:
    """The kernel's forward pass for one layer (biases may be ``None``): ``(states, gates)``."""
    empty = x.new_empty(0)
    return extension().forward(x, h0, w_ih, w_hh, empty if b_ih is None else b_ih, empty if b_hh is None else b_hh)


class _GRULayer(torch.autograd.Function):
    """One GRU layer over a whole sequence: ``(x (T, B, I), h0 (B, H), weights) -> (output (T, B, H), gates)``."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):
        output, gates = _layer_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh, output, gates)
        ctx.has_bias = b_ih is not None
        ctx.mark_non_differentiable(gates)
        ctx.set_materialize_grads(False)  # else autograd fills a zero gradient for the gates: (T, B, 4H) per step
        return output, gates

    @staticmethod
    def backward(ctx, grad_output, _grad_gates):
        x, h0, w_ih, w_hh, b_ih, b_hh, output, gates = ctx.saved_tensors
        if grad_output is None:
            grad_output = torch.zeros_like(output)
        if torch.is_grad_enabled():  # create_graph=True: a gradient penalty or a Hessian-vector product wants
            return _differentiable_backward(ctx, grad_output, (x, h0, w_ih, w_hh, b_ih, b_hh))  # this graph
        dx, dh0, dw_ih, dw_hh, db_ih, db_hh = extension().backward(grad_output, torch.zeros_like(h0), x, h0, w_ih, w_hh,
                                                                   output, gates)
        if not ctx.has_bias:
            db_ih = db_hh = None
        return dx, dh0, dw_ih, dw_hh, db_ih, db_hh


def reference_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                    b_hh: Tensor | None) -> Tensor:
    """One GRU layer step by step with :func:`grutools.gru_step` (autograd records it): states ``(T, B, H)``."""
    from .equations import gru_step

    h, states = h0, []
    for x_t in x:  # (B, I) per step
        h = gru_step(x_t, h, w_ih, w_hh, b_ih, b_hh).hidden
        states.append(h)
    return torch.stack(states)


def _differentiable_backward(ctx, grad_output: Tensor, inputs: tuple) -> tuple:
    """The layer's gradients as a graph (for double backward): autograd through :func:`reference_layer`.

    Under ``create_graph=True`` the saved inputs are the originals, part of the outer
    graph, so the gradients returned here can be differentiated again, exactly as
    ``nn.GRU``'s. The fused kernel's backward is not differentiable; this path runs only
    when a second derivative is asked for.
    """
    wanted = [i for i, needed in enumerate(ctx.needs_input_grad) if needed and inputs[i] is not None]
    if not wanted:
        return (None,) * len(inputs)
    states = reference_layer(*inputs)
    grads = torch.autograd.grad(states, [inputs[i] for i in wanted], grad_output, create_graph=True,
                                allow_unused=True)
    result = [None] * len(inputs)
    for i, grad in zip(wanted, grads):
        result[i] = torch.zeros_like(inputs[i]) if grad is None else grad
    return tuple(result)


class FastGRU(nn.GRU):
    """``torch.nn.GRU`` with a fused CPU forward and backward pass; same arguments, parameters and results.

    >>> gru = FastGRU(2, 8, batch_first=True)
    >>> reference = torch.nn.GRU(2, 8, batch_first=True)
    >>> _ = reference.load_state_dict(gru.state_dict())
    >>> x = torch.randn(3, 5, 2)
    >>> torch.allclose(gru(x)[0], reference(x)[0], atol=1e-6)
    True
    """

    def fused_applies(self, input) -> bool:
        """Whether this call can take the fused path (else it is ``nn.GRU``'s own)."""
        return (isinstance(input, Tensor) and input.numel() > 0  # empty: nn.GRU's own error or result
                and input.device.type == "cpu" and input.dtype in (torch.float32, torch.float64)
                and not self.bidirectional and not (self.training and self.dropout > 0)
                and self.weight_ih_l0.device.type == "cpu" and available())

    def layer_outputs(self, x: Tensor, h0: Tensor) -> list[tuple[Tensor, Tensor]]:
        """Per layer, ``(states (T, B, H), gates (T, B, 4H))`` for time-major ``x``; gates are ``[r, z, n, W_hn h + b_hn]``."""
        results = []
        layer_input = x
        for layer in range(self.num_layers):
            weights = [getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}")]
            biases = ([getattr(self, f"bias_ih_l{layer}"), getattr(self, f"bias_hh_l{layer}")] if self.bias
                      else [None, None])
            # without gradients there is no autograd record to keep: straight into the kernel
            run = _GRULayer.apply if torch.is_grad_enabled() else _layer_forward
            states, gates = run(layer_input.contiguous(), h0[layer].contiguous(), *weights, *biases)
            results.append((states, gates))
            layer_input = states
        return results

    def forward(self, input, hx=None):
        if not self.fused_applies(input):
            return super().forward(input, hx)
        unbatched = input.dim() == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        if hx is None:
            h0 = x.new_zeros(self.num_layers, x.shape[1], self.hidden_size)
        else:
            h0 = hx.unsqueeze(1) if unbatched else hx
            if h0.shape != (self.num_layers, x.shape[1], self.hidden_size):
                return super().forward(input, hx)  # let PyTorch raise its own message
        layers = self.layer_outputs(x.to(self.weight_ih_l0.dtype), h0)
        output = layers[-1][0]
        h_n = torch.stack([states[-1] for states, _ in layers])
        if unbatched:
            return output[:, 0], h_n[:, 0]
        return (output.transpose(0, 1) if self.batch_first else output), h_n
