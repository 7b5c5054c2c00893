"""Dense products through oneDNN (runtime/nn/matmul.py) against torch's own F.linear.

The oracle is F.linear and autograd through it: the same outputs and the same gradients
of the input, kernel and bias (to 1e-5 of their scale: only the order of additions may
differ), for products on both sides of the threshold, with and without a bias, and with
the kernel laid out (in, out) as model.Dense keeps it.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from convscope.runtime.nn import matmul

# name -> (batch, inputs, units); whether oneDNN takes it follows from ONEDNN_FROM
SHAPES = {
    "cifar10-cnn-dense-512": (32, 2304, 512),  # 37.7M multiply-adds: oneDNN
    "mnist-cnn-dense-128": (128, 9216, 128),  # 151M: oneDNN
    "chollet-dense-64": (64, 576, 64),  # 2.4M: MKL
    "softmax-head": (32, 512, 10),  # 164K: MKL
}
ON_X86 = matmul.X86 and matmul.LINEAR is not None


def kernel(units: int, inputs: int, seed: int) -> torch.Tensor:
    """(out, in) laid out (in, out) in memory, as model.Dense's."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(inputs, units, generator=g) * inputs**-0.5  # (in, out)
    return w.t().requires_grad_()


def close(a: torch.Tensor, b: torch.Tensor) -> None:
    a, b = a.detach(), b.detach()
    scale = float(b.abs().max()) + 1e-12
    assert float((a - b).abs().max()) <= 1e-5 * scale


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_training_product_and_gradients_are_torchs(shape: tuple[int, int, int], bias: bool) -> None:
    batch, inputs, units = shape
    x = torch.randn(batch, inputs, generator=torch.Generator().manual_seed(1))
    w = kernel(units, inputs, seed=2)
    b = torch.randn(units).requires_grad_() if bias else None
    g = torch.randn(batch, units)
    expected = {}
    for name, fn in (("torch", F.linear), ("ours", matmul.linear)):
        xi = x.clone().requires_grad_()
        out = fn(xi, w, b)
        grads = torch.autograd.grad(out, [xi, w, *([b] if b is not None else [])], g)
        expected[name] = (out, *grads)
    for ours, theirs in zip(expected["ours"], expected["torch"], strict=True):
        assert ours.shape == theirs.shape and ours.stride() == theirs.stride()
        close(ours, theirs)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_the_larger_products_take_onednn(shape: tuple[int, int, int]) -> None:
    batch, inputs, units = shape
    x, w = torch.randn(batch, inputs), kernel(units, inputs, seed=0)
    large = batch * inputs * units >= matmul.ONEDNN_FROM
    assert matmul.onednn_worth(x, w) is (large and ON_X86)
    assert not matmul.onednn_worth(x.double(), w.double())  # float32 only
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast's bf16 product instead
        assert not matmul.onednn_worth(x, w)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_inferring_relu_is_the_product_then_relu(shape: tuple[int, int, int]) -> None:
    batch, inputs, units = shape
    x, w, b = torch.randn(batch, inputs), kernel(units, inputs, seed=3), torch.randn(units)
    with torch.no_grad():
        close(matmul.linear_relu(x, w, b), F.relu(F.linear(x, w, b)))
        close(matmul.linear(x, w, b), F.linear(x, w, b))


def test_kernel_gradient_when_the_input_needs_none() -> None:
    """A Dense layer on the model's input: no gradient of x is asked for; the kernel's is
    still torch's."""
    x, w = torch.randn(32, 2304), kernel(512, 2304, seed=4)
    out = matmul.linear(x, w, None)
    (grad_w,) = torch.autograd.grad(out.sum(), [w])
    close(grad_w, torch.autograd.grad(F.linear(x, w).sum(), [w])[0])
