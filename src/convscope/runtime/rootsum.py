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
fused kernel, which takes the vectorised square root, moves 6, plus the lerp's 2: the
optimiser went from 1.43 to 1.12 ms of a keras-cifar10-cnn training step (1.5% of it;
A/B in one process, 30 rounds of 20 steps), and that epoch from 1.18x to 1.22x tf.keras's.
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


class RMSpropPass:
    """Keras's RMSprop for one optimiser's variables and sums, fused where it can be.

    The flat views of the variables and of their sums are made once, as both live as long
    as the optimiser; a step makes only the gradients' (one call each). Making all three
    every step took 0.25 of the optimiser's 1.5 ms in a keras-cifar10-cnn training step."""

    def __init__(self, rho: float, eps: float) -> None:
        self.rho, self.eps = rho, eps
        self.c = 1 / math.sqrt(1 - rho)  # the gradients' divisor
        self.grad_scale = torch.tensor(self.c, dtype=torch.float32)
        self.unused_steps = torch.ones((), dtype=torch.float32)  # lr_decay 0: step unused
        self.towards = {dtype: torch.tensor(eps, dtype=dtype) for dtype in FUSED_DTYPES}
        self.views: dict[int, tuple[Tensor, Tensor] | None] = {}  # id(sum): flat p and sum

    def step(
        self, params: list[Tensor], grads: list[Tensor], sums: list[Tensor], lr: float
    ) -> None:
        """One update of every variable; sums holds v + eps and is updated."""
        views = self.fused_views(params, grads, sums)
        if views is None:  # another device or layout: the same rule in _foreach_ passes
            torch._foreach_mul_(sums, self.rho)
            torch._foreach_add_(sums, (1 - self.rho) * self.eps)
            torch._foreach_addcmul_(sums, grads, grads, value=1 - self.rho)
            torch._foreach_addcdiv_(params, grads, torch._foreach_sqrt(sums), value=-lr)
            return
        params, grads, sums = views
        towards = [self.towards[s.dtype] for s in sums]  # 0-d: broadcast
        torch._foreach_lerp_(sums, towards, 1 - self.rho)  # rho * s + (1 - rho) * eps
        torch._fused_adagrad_(
            params,
            grads,
            sums,
            [self.unused_steps] * len(params),
            lr=lr * self.c,
            lr_decay=0.0,
            weight_decay=0.0,
            eps=0.0,
            maximize=False,
            grad_scale=self.grad_scale,
        )

    def fused_views(
        self, params: list[Tensor], grads: list[Tensor], sums: list[Tensor]
    ) -> tuple[list[Tensor], list[Tensor], list[Tensor]] | None:
        """Flat views for the fused kernel, which walks a variable, its gradient and its sum
        with one index: None unless each is dense, on the CPU, one dtype and one layout."""
        flat_params, flat_grads, flat_sums = [], [], []
        for p, g, s in zip(params, grads, sums, strict=True):
            if id(s) not in self.views:
                self.views[id(s)] = fusable_pair(p, s)
            pair = self.views[id(s)]
            if pair is None or g.stride() != p.stride() or g.dtype != p.dtype:
                return None
            flat_params.append(pair[0])
            flat_sums.append(pair[1])
            flat_grads.append(g.as_strided((g.numel(),), (1,)))  # p's layout, so dense
        return flat_params, flat_grads, flat_sums


def fusable_pair(p: Tensor, s: Tensor) -> tuple[Tensor, Tensor] | None:
    """Flat views of a variable and its sum where both are dense, alike, on the CPU."""
    if p.device.type != "cpu" or p.dtype not in FUSED_DTYPES:
        return None
    if s.dtype != p.dtype or s.stride() != p.stride():
        return None
    flat_p, flat_s = flat(p), flat(s)
    return None if flat_p is None or flat_s is None else (flat_p, flat_s)
