"""A Dense layer's two larger matrix products through oneDNN, where MKL is slower.

torch multiplies float32 matrices on the CPU with MKL, whose kernels for a small batch
times a large kernel run at half the machine's peak on the AMD EPYC (Zen 4) these
figures come from: keras-cifar10-cnn's Dense(512) on 2304 inputs, batch 32, took 537 us
forward through MKL against 431 through oneDNN's matmul (the library torch's
convolutions already use; torch.compile's CPU backend calls it for Linear layers as
`mkldnn._linear_pointwise`), and 675 against 487 us for the gradient of its input.
oneDNN costs some 15 us more per call, so small products stay with MKL: below 2^23
multiply-adds MKL won or tied on most shapes timed (batch 32-128, 64-9216 inputs, 10-512
units), above it oneDNN won every one, by 1.1-2x. The kernel's gradient x^T g stays with
MKL, faster on every shape timed. Training keras-cifar10-cnn, two trainers alternating
30 steps at a time: 1.2-1.6% off a step; keras-mnist-cnn (9216 -> 128, batch 128): 1%.

Inferring, a Dense layer's ReLU is oneDNN's post-op on the same pass (as the
convolutions' in inference.py). The numbers are float32 products of the same terms;
only the order of the additions may differ (tests/runtime/test_matmul.py: to 1e-5).
"""

from __future__ import annotations

import platform

import torch
import torch.nn.functional as F
from torch import Tensor

from . import inference

LINEAR = getattr(torch.ops.mkldnn, "_linear_pointwise", None)
ONEDNN_FROM = 1 << 23  # multiply-adds of one product: below this, MKL (see above)
X86 = platform.machine().lower() in ("x86_64", "amd64")  # where it was measured


def onednn_worth(x: Tensor, weight: Tensor) -> bool:
    """A float32 (batch, in) x (in, out) product on an x86 CPU, outside autocast and
    tracing (an ONNX export records F.linear), large enough for oneDNN to win."""
    return (
        LINEAR is not None
        and X86
        and not inference.tracing()
        and x.dim() == 2
        and x.shape[0] * weight.numel() >= ONEDNN_FROM
        and inference.onednn_float32(x, weight)
    )


def linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """x W^T + b for x (batch, in) and W (out, in), as F.linear."""
    if not onednn_worth(x, weight):
        return F.linear(x, weight, bias)
    if not torch.is_grad_enabled():
        return onednn(x, weight, bias)
    out: Tensor = OneDnnLinear.apply(x, weight, bias)  # type: ignore[no-untyped-call]
    return out


def linear_relu(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """relu(x W^T + b): one oneDNN pass when inferring, else the ReLU over the product."""
    if inference.inferring() and onednn_worth(x, weight):  # training: one check, in linear
        return onednn(x, weight, bias, "relu")
    return F.relu(linear(x, weight, bias), inplace=True)


def onednn(x: Tensor, weight: Tensor, bias: Tensor | None = None, post_op: str = "none") -> Tensor:
    assert LINEAR is not None
    out: Tensor = LINEAR(x, weight, bias, post_op, [], "")  # (batch, out)
    return out


class OneDnnLinear(torch.autograd.Function):
    """F.linear with the forward product and the input's gradient through oneDNN."""

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx, x: Tensor, weight: Tensor, bias: Tensor | None
    ) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None  # type: ignore[attr-defined]
        return onednn(x, weight, bias)  # (batch, out)

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: Tensor
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        x, weight = ctx.saved_tensors  # type: ignore[attr-defined]
        wanted = ctx.needs_input_grad  # type: ignore[attr-defined]
        grad_x = onednn(grad, weight.t()) if wanted[0] else None  # g W: (batch, in)
        # (x^T g)^T: the product MKL runs well, laid out as the kernel (model.Dense)
        grad_w = torch.mm(x.t(), grad).t() if wanted[1] else None  # (out, in)
        grad_b = grad.sum(0) if ctx.has_bias and wanted[2] else None  # type: ignore[attr-defined]
        return grad_x, grad_w, grad_b
