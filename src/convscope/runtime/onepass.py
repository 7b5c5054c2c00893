"""Keras's RMSprop, Adagrad and Adam in one pass over memory, with torch's fused CPU kernels.

Why: on the CPU torch.sqrt is MKL's vsSqrt, four times slower than a division on AMD
Zen 4 (260 against 65 us for the 1.18M values of keras-cifar10-cnn's Dense kernel), and
a rule written as _foreach_ passes reads and writes every array once per pass. The fused
kernels take the vectorised square root and walk each array once.

RMSprop (keras/src/optimizers/rmsprop.py, neither centred nor with momentum):

    v <- rho * v + (1 - rho) * g^2
    p <- p - (lr * g) / sqrt(v + eps)

kept as s = v + eps (the "root sum", so the square root needs no addition first):

    s <- rho * s + (1 - rho) * eps                      a lerp towards eps
    s <- s + h^2,  h = g / c,  c = 1 / sqrt(1 - rho)     \\ torch._fused_adagrad_ with
    p <- p - ((lr * c) * h) / (sqrt(s) + 0)             / grad_scale c, lr * c, eps 0

which is Adagrad's step (FusedAdagradKernel.cpp: acc += g'^2; p -= clr * g' / (sqrt(acc) +
eps)) on g' = g / grad_scale. (lr * c) * (g / c) is lr * g up to rounding. The optimiser
went from 1.43 to 1.12 ms of a keras-cifar10-cnn training step (A/B in one process, 30
rounds of 20 steps), and that epoch from 1.18x to 1.22x tf.keras's. The kernel overwrites
the gradients with g / c; `zero_grad` drops them next.

Adagrad (keras/src/optimizers/adagrad.py: a += g^2; p <- p - lr * g / sqrt(a + eps)) is
the fused Adagrad step itself on s = a + eps, kept likewise: keras-cifar10-cnn compiled
with Adagrad, the optimiser took 0.79 against 1.38 ms of a training step in four _foreach_
passes, the step 3.3% less (A/B in one process, 30 rounds of 20 steps).

Adam (keras/src/optimizers/adam.py; t = iterations + 1, b1^t and b2^t its powers):

    p <- p - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)

torch's kernel (FusedAdamKernel.cpp) divides sqrt(v) by sqrt(1 - b2^t) before it adds its
eps, so given eps' = eps / sqrt(1 - b2^t) it computes

    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps')

the same rule (multiply above and below by sqrt(1 - b2^t)); m and v move as Keras's,
amsgrad's running maximum too. keras-cifar10-cnn compiled with Adam: the optimiser took
0.79 against 1.54 ms of a training step in _foreach_ passes, and the step 3.8% less (A/B
in one process, 30 rounds of 20 steps).

Both kernels walk a variable, its gradient and its slots with one index, so they get flat
views in memory order (`flat`); a variable whose memory has gaps, or another device,
takes the rule in _foreach_ passes instead (Keras parity tested both ways, rtol 1e-5).
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


class FlatViews:
    """Flat views of each variable and its slots, made once: both live as long as the
    optimiser, so a step makes only the gradients' (one call each). Making them all every
    step took 0.25 of RMSprop's 1.5 ms in a keras-cifar10-cnn training step."""

    def __init__(self) -> None:
        self.kept: dict[int, tuple[Tensor, ...] | None] = {}  # id(first slot): flat p, slots

    def __call__(
        self, params: list[Tensor], grads: list[Tensor], *slots: list[Tensor]
    ) -> tuple[list[Tensor], list[Tensor], list[list[Tensor]]] | None:
        """(params, grads, each slot's list) as flat views; None unless every variable is
        dense, on the CPU, and laid out as its gradient and slots."""
        flat_params, flat_grads = [], []
        flat_slots: list[list[Tensor]] = [[] for _ in slots]
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            own = [slot[i] for slot in slots]
            key = id(own[0])
            if key not in self.kept:
                self.kept[key] = fusable(p, *own)
            views = self.kept[key]
            if views is None or g.stride() != p.stride() or g.dtype != p.dtype:
                return None
            flat_params.append(views[0])
            flat_grads.append(g.as_strided((g.numel(),), (1,)))  # p's layout, so dense
            for out, view in zip(flat_slots, views[1:], strict=True):
                out.append(view)
        return flat_params, flat_grads, flat_slots


def fusable(p: Tensor, *slots: Tensor) -> tuple[Tensor, ...] | None:
    """Flat views of a variable and its slots where all are dense, alike, on the CPU."""
    if p.device.type != "cpu" or p.dtype not in FUSED_DTYPES:
        return None
    if any(s.dtype != p.dtype or s.stride() != p.stride() for s in slots):
        return None
    views = [flat(t) for t in (p, *slots)]
    return None if any(v is None for v in views) else tuple(views)  # type: ignore[arg-type]


class RootSumPass:
    """p <- p - lr * g / sqrt(s) on sums s kept as Keras's sum of squared gradients plus
    epsilon: Adagrad's rule (rho None: s <- s + g^2), or plain RMSprop's (s <- rho * s +
    (1 - rho) * (eps + g^2)), for one optimiser's variables."""

    def __init__(self, rho: float | None, eps: float) -> None:
        self.rho, self.eps = rho, eps
        self.share = 1.0 if rho is None else 1 - rho  # of g^2 in s
        self.c = 1 / math.sqrt(self.share)  # the gradients' divisor
        self.grad_scale = None if rho is None else torch.tensor(self.c, dtype=torch.float32)
        decays = rho is not None  # Adagrad's sums only grow: nothing to lerp towards
        self.towards = {t: torch.tensor(eps, dtype=t) for t in FUSED_DTYPES if decays}
        self.fused_views = FlatViews()

    def step(
        self, params: list[Tensor], grads: list[Tensor], sums: list[Tensor], lr: float
    ) -> None:
        """One update of every variable; `sums` is updated."""
        views = self.fused_views(params, grads, sums)
        if views is None:  # another device or layout: the same rule in _foreach_ passes
            if self.rho is not None:
                torch._foreach_mul_(sums, self.rho)
                torch._foreach_add_(sums, self.share * self.eps)
            torch._foreach_addcmul_(sums, grads, grads, value=self.share)
            torch._foreach_addcdiv_(params, grads, torch._foreach_sqrt(sums), value=-lr)
            return
        params, grads, (sums,) = views
        if self.rho is not None:
            towards = [self.towards[s.dtype] for s in sums]  # 0-d: broadcast
            torch._foreach_lerp_(sums, towards, self.share)  # rho * s + (1 - rho) * eps
        adagrad_kernel(params, grads, sums, lr * self.c, self.grad_scale)


UNUSED_STEP = torch.ones((), dtype=torch.float32)  # Adagrad's step only scales lr_decay


def adagrad_kernel(
    params: list[Tensor], grads: list[Tensor], sums: list[Tensor], lr: float,
    grad_scale: Tensor | None = None,
) -> None:  # fmt: skip
    """torch's fused Adagrad on flat views: sums += g'^2; p -= lr * g' / sqrt(sums), with
    g' = g / grad_scale (written into the gradients)."""
    torch._fused_adagrad_(
        params,
        grads,
        sums,
        [UNUSED_STEP] * len(params),
        lr=lr,
        lr_decay=0.0,
        weight_decay=0.0,
        eps=0.0,
        maximize=False,
        grad_scale=grad_scale,
    )


class AdamPass:
    """Keras's Adam (amsgrad too) for one optimiser's variables, where they are fusable."""

    def __init__(self, beta_1: float, beta_2: float, eps: float) -> None:
        self.beta_1, self.beta_2, self.eps = beta_1, beta_2, eps
        self.t = torch.zeros((), dtype=torch.float32)  # the kernel reads t from a tensor
        self.fused_views = FlatViews()

    def step(
        self, params: list[Tensor], grads: list[Tensor], slots: list[list[Tensor]], lr: float,
        t: int,
    ) -> bool:  # fmt: skip
        """One update at step t of every variable, slots [m, v] or [m, v, v_hat]; False
        (and nothing done) where they cannot be fused."""
        views = self.fused_views(params, grads, *slots)
        if views is None:
            return False
        params, grads, (ms, vs, *v_hats) = views
        self.t.fill_(t)
        torch._fused_adam_(
            params,
            grads,
            ms,
            vs,
            v_hats[0] if v_hats else [],
            [self.t] * len(params),
            lr=lr,
            beta1=self.beta_1,
            beta2=self.beta_2,
            weight_decay=0.0,  # Keras's decay is decoupled: KerasOptimizer.step applies it
            eps=self.eps / math.sqrt(1 - self.beta_2**t),
            amsgrad=bool(v_hats),
            maximize=False,
        )
        return True
