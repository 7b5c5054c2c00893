"""Keras's RMSprop in one pass over memory, with torch's fused Adagrad kernel as its engine.

Keras's rule (keras/src/optimizers/rmsprop.py, neither centred nor with momentum):

    v <- rho * v + (1 - rho) * g^2
    p <- p - (lr * g) / sqrt(v + eps)

Kept as s = v + eps (the "root sum", so the square root needs no addition first):

    s <- rho * s + (1 - rho) * eps                      a lerp towards eps
    s <- s + h^2,  h = g / c,  c = 1 / sqrt(1 - rho)     \\ torch._fused_adagrad_ with
    p <- p - ((lr * c) * h) / (sqrt(s) + 0)             / grad_scale c, lr * c, eps 0

which is Adagrad's step (FusedAdagradKernel.cpp: acc += g'^2; p -= clr * g' / (sqrt(acc) +
eps)) on g' = g / grad_scale. (lr * c) * (g / c) is lr * g up to rounding (Keras parity
tested, rtol 1e-5). Why: on the CPU torch.sqrt is MKL's vsSqrt, four times slower than a
division on AMD Zen 4 (260 against 65 us for the 1.18M values of keras-cifar10-cnn's
Dense kernel), and the five _foreach_ passes moved 13 arrays of that size where the
fused kernel, which takes the vectorised square root, moves 6, plus the lerp's 2 (0.54
against 0.34 ms on that kernel in cache; 2 to 3% of a training step, A/B in one process).
The kernel overwrites the gradients with g / c; `zero_grad` drops them next.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

FUSED_DTYPES = (torch.float32, torch.float64)


def flat(t: Tensor) -> Tensor | None:
    """t's elements as one 1-D view in memory order (contiguous, channels_last or a
    transposed Dense kernel alike); None where t's memory has gaps or overlaps."""
    strides = t.stride()
    order = sorted(range(t.dim()), key=lambda d: -strides[d])
    in_memory_order = t.permute(order)
    return in_memory_order.view(-1) if in_memory_order.is_contiguous() else None


def fused_views(tensors: list[list[Tensor]]) -> list[list[Tensor]] | None:
    """Flat views of params, grads and sums for the fused kernel, which walks all three
    with one index: None unless each triple is dense, on the CPU, one dtype, one layout."""
    views: list[list[Tensor]] = [[] for _ in tensors]
    for triple in zip(*tensors, strict=True):
        first = triple[0]
        if first.device.type != "cpu" or first.dtype not in FUSED_DTYPES:
            return None
        if any(t.dtype != first.dtype or t.stride() != first.stride() for t in triple):
            return None
        for column, t in zip(views, triple, strict=True):
            view = flat(t)
            if view is None:
                return None
            column.append(view)
    return views


def rmsprop_step(
    params: list[Tensor], grads: list[Tensor], sums: list[Tensor], lr: float, rho: float, eps: float
) -> None:
    """One Keras RMSprop update of every variable; sums holds v + eps and is updated."""
    views = fused_views([params, grads, sums])
    if views is None:  # another device or layout: the same rule in _foreach_ passes
        torch._foreach_mul_(sums, rho)
        torch._foreach_add_(sums, (1 - rho) * eps)
        torch._foreach_addcmul_(sums, grads, grads, value=1 - rho)
        torch._foreach_addcdiv_(params, grads, torch._foreach_sqrt(sums), value=-lr)
        return
    params, grads, sums = views
    towards = [torch.tensor(eps, dtype=s.dtype) for s in sums]  # 0-d: broadcast
    torch._foreach_lerp_(sums, towards, 1 - rho)  # rho * s + (1 - rho) * eps
    c = 1 / math.sqrt(1 - rho)
    torch._fused_adagrad_(
        params,
        grads,
        sums,
        [torch.ones((), dtype=torch.float32)] * len(params),  # lr_decay 0: step unused
        lr=lr * c,
        lr_decay=0.0,
        weight_decay=0.0,
        eps=0.0,
        maximize=False,
        grad_scale=torch.tensor(c, dtype=torch.float32),
    )
