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
Where it cannot be built (no C++ compiler), :class:`FastGRU` is ``nn.GRU`` itself, after a
one-line warning. Where the kernel cannot promise ``nn.GRU``'s answer (CUDA, bidirectional,
packed sequences, dropout while training, other dtypes, autocast, ``torch.func``
transforms, forward-mode AD, TorchScript, tracing, ``torch.compile``, ``torch.export``),
the call takes ``nn.GRU``'s own code: never a different answer, never a worse message.
``tests/test_fast_compat.py`` runs each of these on both and compares.
"""

from __future__ import annotations

import threading
import warnings

import torch
from torch import Tensor, nn
from torch.autograd import forward_ad

from . import build

KERNEL_DTYPES = (torch.float32, torch.float64)
_PLAIN = (Tensor, nn.Parameter)
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
        # create_graph=True (a gradient penalty or a Hessian-vector product wants this graph), or a vmap over the
        # backward (gradcheck's batched gradients, torch.func.vmap of a vjp): the kernel takes neither, autograd does
        if torch.is_grad_enabled() or torch._C._are_functorch_transforms_active() or _wrapped(grad_output):
            return _differentiable_backward(ctx, grad_output, (x, h0, w_ih, w_hh, b_ih, b_hh))
        dx, dh0, dw_ih, dw_hh, db_ih, db_hh = extension().backward(grad_output, torch.zeros_like(h0), x, h0, w_ih, w_hh,
                                                                   output, gates)
        if not ctx.has_bias:
            db_ih = db_hh = None
        return dx, dh0, dw_ih, dw_hh, db_ih, db_hh


def _wrapped(tensor: Tensor) -> bool:
    """Whether ``tensor`` is a vmap or functorch wrapper (no storage of its own for the kernel to read)."""
    functorch = torch._C._functorch
    return (type(tensor) is not Tensor or functorch.is_functorch_wrapped_tensor(tensor)
            or functorch.is_legacy_batchedtensor(tensor))


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
    ``nn.GRU``'s. The fused kernel's backward is not differentiable, nor can it read a
    vmapped gradient; this path runs only when a second derivative or a batch of
    gradients (``torch.func.vmap`` over a vjp, gradcheck's batched check) is asked for.
    """
    wanted = [i for i, needed in enumerate(ctx.needs_input_grad) if needed and inputs[i] is not None]
    if not wanted:
        return (None,) * len(inputs)
    create_graph = torch.is_grad_enabled()
    if not create_graph:  # a plain backward: a graph of our own on detached copies, then only its gradients
        inputs = tuple(None if t is None else t.detach().requires_grad_(i in wanted) for i, t in enumerate(inputs))
    with torch.enable_grad():
        states = reference_layer(*inputs)
        grads = torch.autograd.grad(states, [inputs[i] for i in wanted], grad_output, create_graph=create_graph,
                                    allow_unused=True)
    result = [None] * len(inputs)
    for i, grad in zip(wanted, grads):
        result[i] = torch.zeros_like(inputs[i]) if grad is None else grad
    return tuple(result)


def _deferred_call(input, hx) -> bool:
    """Whether this call belongs to ``nn.GRU``'s own path whatever the weights: a transform, a tracer or a type the
    kernel cannot promise nn.GRU's answer for. Cheap: it looks at the call, not at the (maybe parametrized) weights."""
    return (torch.jit.is_scripting() or torch.jit.is_tracing() or torch.compiler.is_compiling()
            or type(input) is not Tensor  # PackedSequence, and tensor subclasses (fake, functional, dual wrappers)
            or (hx is not None and type(hx) not in (Tensor, nn.Parameter))
            or torch._C._are_functorch_transforms_active()  # torch.func.grad / vmap / jvp / functionalize
            or forward_ad._current_level >= 0  # forward-mode AD: nn.GRU has the jvp rules
            or torch._C._is_any_autocast_enabled()  # autocast: nn.GRU's casts and its bf16 numbers
            or input.device.type != "cpu" or input.dtype not in KERNEL_DTYPES or input.numel() == 0)


_evaluated = threading.local()  # per thread: the FastGRUs whose weights this call has evaluated already


def _kernel_weights(weights: list) -> bool:
    """Whether the weights as evaluated for this call are tensors the kernel reads: CPU, one float dtype, plain."""
    dtype = weights[0].dtype
    if dtype not in KERNEL_DTYPES:
        return False
    for weight in weights:
        if weight.__class__ not in _PLAIN or not weight.is_cpu or weight.dtype != dtype:
            return False
    return True


class FastGRU(nn.GRU):
    """``torch.nn.GRU`` with a fused CPU forward and backward pass; same arguments, parameters, checks and results.

    The fused kernel runs ordinary training and inference on the CPU (float32 or float64,
    one direction, no dropout while training). Every other call takes ``nn.GRU``'s own code,
    so that nothing nn.GRU does gives a different answer or message here: PackedSequence,
    CUDA, bidirectional, dropout, autocast, ``torch.func`` transforms, forward-mode AD,
    TorchScript, tracing, ``torch.compile`` and ``torch.export``. Arguments are checked by
    ``nn.GRU``'s own checks before the kernel runs, and a parametrized weight is evaluated as
    many times per call as ``nn.GRU`` evaluates it. See ``docs/practitioners.md``.

    >>> gru = FastGRU(2, 8, batch_first=True)
    >>> reference = torch.nn.GRU(2, 8, batch_first=True)
    >>> _ = reference.load_state_dict(gru.state_dict())
    >>> x = torch.randn(3, 5, 2)
    >>> torch.allclose(gru(x)[0], reference(x)[0], atol=1e-6)
    True
    """

    def fused_applies(self, input, hx=None) -> bool:
        """Whether a call with ``input`` can take the fused path, judged before the weights are evaluated."""
        return (not _deferred_call(input, hx) and not self.bidirectional and not (self.training and self.dropout > 0)
                and self.proj_size == 0 and available())

    def layer_outputs(self, x: Tensor, h0: Tensor, weights: list | None = None) -> list[tuple[Tensor, Tensor]]:
        """Per layer, ``(states (T, B, H), gates (T, B, 4H))`` for time-major ``x``; gates are ``[r, z, n, W_hn h + b_hn]``.

        ``weights`` is ``nn.GRU``'s flat list (``weight_ih_l0, weight_hh_l0[, bias_ih_l0, bias_hh_l0], ...``); by
        default the module's, evaluated once as ``nn.GRU.forward`` evaluates them.
        """
        if weights is None:
            self._update_flat_weights()
            weights = self._flat_weights
        per_layer = len(weights) // self.num_layers
        results = []
        layer_input = x
        for layer in range(self.num_layers):
            own = weights[layer * per_layer:(layer + 1) * per_layer]
            w_ih, w_hh = own[0], own[1]
            b_ih, b_hh = (own[2], own[3]) if self.bias else (None, None)
            # without gradients there is no autograd record to keep: straight into the kernel
            run = _GRULayer.apply if torch.is_grad_enabled() else _layer_forward
            states, gates = run(layer_input.contiguous(), h0[layer].contiguous(), w_ih, w_hh, b_ih, b_hh)
            results.append((states, gates))
            layer_input = states
        return results

    def forward(self, input, hx=None):
        if not self.fused_applies(input, hx):
            return super().forward(input, hx)
        # nn.GRU's own order: weights evaluated once (parametrizations as often as nn.GRU runs them), then its checks
        weights = self.kernel_weights()
        if weights is None:
            return self._nn_gru_forward(input, hx)
        if input.dim() not in (2, 3):
            raise ValueError(f"GRU: Expected input to be 2D or 3D, got {input.dim()}D instead")
        unbatched = input.dim() == 2
        batched = input.unsqueeze(0 if self.batch_first else 1) if unbatched else input
        if hx is not None:
            if unbatched and hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            if not unbatched and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            h0 = hx.unsqueeze(1) if unbatched else hx
        else:
            h0 = batched.new_zeros(self.get_expected_hidden_size(batched, None))
        self.check_forward_args(batched, h0, None)  # nn.GRU's messages: dtype, input size, hidden size
        if h0.dtype != batched.dtype or h0.device != batched.device:
            return self._nn_gru_forward(input, hx)  # nn.GRU's own error (or its result)
        x = batched.transpose(0, 1) if self.batch_first else batched  # (T, B, I)
        layers = self.layer_outputs(x, h0, weights)
        output = layers[-1][0]
        h_n = torch.stack([states[-1] for states, _ in layers])
        if unbatched:
            return output[:, 0], h_n[:, 0]
        return (output.transpose(0, 1) if self.batch_first else output), h_n

    def _nn_gru_forward(self, input, hx):
        """``nn.GRU.forward`` on the weights already evaluated for this call (so a parametrization runs no extra time)."""
        skipping = _evaluated.__dict__.setdefault("modules", set())
        skipping.add(id(self))
        try:
            return super().forward(input, hx)
        finally:
            skipping.discard(id(self))

    def _update_flat_weights(self) -> None:
        """``nn.GRU``'s, except within :meth:`_nn_gru_forward` on this thread (the weights are evaluated already).

        When every weight is the very parameter seen last time (the common case: no
        parametrization, pruning or ``functional_call``), nn.GRU's check finds nothing to do;
        this answers the same from the parameters themselves, without its eight
        ``Module.__getattr__`` calls (9 us a call, measured). Anything else takes nn.GRU's own
        check, which evaluates parametrized weights exactly as often as nn.GRU does.
        """
        if id(self) in getattr(_evaluated, "modules", ()):
            return
        parameters, refs = self._parameters, self._flat_weight_refs
        for ref, name in zip(refs, self._flat_weights_names):
            weight = parameters.get(name)
            if weight is None or ref is None or ref() is not weight or name in self.__dict__:
                super()._update_flat_weights()
                return

    def kernel_weights(self) -> list | None:
        """The flat weights evaluated for one call, as ``nn.GRU.forward`` evaluates them, if the kernel can read them
        (CPU, one float dtype, plain tensors); else ``None``."""
        self._update_flat_weights()
        return self._flat_weights if _kernel_weights(self._flat_weights) else None

    def __prepare_scriptable__(self) -> nn.GRU:
        """``torch.jit.script`` compiles ``nn.GRU``'s forward: a ``torch.nn.GRU`` holding these very parameters.

        TorchScript's protocol puts the returned module in place of this one in its parent
        (the eager model's FastGRU then runs as ``nn.GRU``, with the same parameters).
        """
        warnings.warn("torch.jit.script compiles torch.nn.GRU in place of grutools' FastGRU: the scripted module, "
                      "and the eager model that held the FastGRU, now run this GRU as nn.GRU (same parameters and "
                      "numbers, nn.GRU's speed). Script a copy (copy.deepcopy(model)) to keep the fast eager model.",
                      UserWarning, stacklevel=2)
        twin = nn.GRU.__new__(nn.GRU)
        twin.__dict__.update(self.__dict__)  # the same parameters, buffers, hooks and settings: nothing copied
        return twin


def agrees_with_torch() -> bool:
    """Whether the built FastGRU gives torch.nn.GRU's output on a small random batch (``grutools build``'s check)."""
    import torch

    gru = FastGRU(2, 3)
    reference = torch.nn.GRU(2, 3)
    reference.load_state_dict(gru.state_dict())
    x = torch.randn(4, 5, 2)
    return torch.allclose(gru(x)[0], reference(x)[0], atol=1e-5)
