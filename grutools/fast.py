"""A GRU that trains fast on the CPU: :class:`FastGRU`, a drop-in ``torch.nn.GRU``.

PyTorch's CPU ``nn.GRU`` has no fused kernel: every time step is several small
tensor operations, each recorded by autograd, and it trains about 4x slower than
``nn.LSTM``, which runs through oneDNN. :class:`FastGRU` runs each layer as one
call into a small C++ extension (``grutools/csrc/fast_gru.cpp``) with a
hand-written backward pass. Each thread takes its own block of batch rows through
the whole sequence (no waiting between steps); per step it does a few small matrix
products through oneDNN's just-in-time ``brgemm`` micro-kernel and one fused loop
over the gates, and the backward pass sums the weight gradients as it goes, with
everything a step needs in cache. The gates it computes are kept, so
:func:`grutools.trace` gets them at no extra cost. ``benchmarks/fast_gru.py``
measures it against ``nn.GRU``, ``nn.LSTM`` and ``nn.RNN``.

The extension is compiled once with ``torch.utils.cpp_extension`` (``make install``
does it: ``python -m grutools build``) into ``build/`` (or ``$GRUTOOLS_BUILD_DIR``).
Where it cannot be built (no C++ compiler) or does not apply (CUDA, bidirectional,
packed sequences, dropout while training, other dtypes), :class:`FastGRU` falls back
to ``nn.GRU`` itself, after a one-line warning.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

SOURCE = Path(__file__).resolve().parent / "csrc" / "fast_gru.cpp"
_extension = None
_failed: str | None = None
# built on the machine that runs it, so tuned for it; -ffast-math lets GCC vectorise exp (glibc's libmvec);
# -fopenmp makes at::parallel_for run on PyTorch's OpenMP threads (without it, the pragma is ignored: one thread)
CFLAGS = ["-O3", "-march=native", "-ffast-math", "-fopenmp"]


def build_directory() -> Path:
    """Where the compiled extension lives: ``$GRUTOOLS_BUILD_DIR``, else ``build/fast_gru`` beside the package."""
    configured = os.environ.get("GRUTOOLS_BUILD_DIR")
    return Path(configured) if configured else SOURCE.parent.parent.parent / "build" / "fast_gru"


def extension(verbose: bool = False):
    """The compiled extension, building it on first use; ``None`` (after one warning) if it cannot be built."""
    global _extension, _failed
    if _extension is not None or _failed is not None:
        return _extension
    try:
        from torch.utils.cpp_extension import load

        directory = build_directory()
        directory.mkdir(parents=True, exist_ok=True)
        _extension = load(name="grutools_fast_gru", sources=[str(SOURCE)], build_directory=str(directory),
                          extra_cflags=CFLAGS, verbose=verbose)
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
        ctx.save_for_backward(x, h0, w_ih, w_hh, output, gates)
        ctx.has_bias = b_ih is not None
        ctx.mark_non_differentiable(gates)
        ctx.set_materialize_grads(False)  # else autograd fills a zero gradient for the gates: (T, B, 4H) per step
        return output, gates

    @staticmethod
    def backward(ctx, grad_output, _grad_gates):
        x, h0, w_ih, w_hh, output, gates = ctx.saved_tensors
        if grad_output is None:
            grad_output = torch.zeros_like(output)
        dx, dh0, dw_ih, dw_hh, db_ih, db_hh = extension().backward(grad_output, torch.zeros_like(h0), x, h0, w_ih, w_hh,
                                                                   output, gates)
        if not ctx.has_bias:
            db_ih = db_hh = None
        return dx, dh0, dw_ih, dw_hh, db_ih, db_hh


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
