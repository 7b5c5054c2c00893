"""RMSprop's fused pass (rootsum.py): every memory layout a model's variables have, the
_foreach_ fallback against Keras, and a checkpoint from before the fused rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convscope.core.training import OPTIMIZERS
from convscope.runtime.optim import make_optimizer
from convscope.runtime.rootsum import RMSpropPass, flat

from ..parity.keras_oracle import keras  # the oracle, with KERAS_BACKEND=torch


def channels_last(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous(memory_format=torch.channels_last)


def transposed(t: torch.Tensor) -> torch.Tensor:
    return t.t().contiguous().t()  # a Dense kernel kept as (in, out) in memory


LAYOUTS = [  # (id, make the layout from a contiguous tensor, shape)
    ("contiguous", lambda t: t, (3, 4)),
    ("channels_last", channels_last, (8, 3, 3, 3)),
    ("transposed", transposed, (6, 5)),
    ("vector", lambda t: t, (7,)),
]


@pytest.mark.parametrize(
    ("layout", "shape"), [(f, s) for _, f, s in LAYOUTS], ids=[i for i, *_ in LAYOUTS]
)
def test_flat_views_memory_in_order(layout, shape) -> None:  # type: ignore[no-untyped-def]
    t = layout(torch.arange(float(np.prod(shape))).reshape(shape))
    view = flat(t)
    assert view is not None and view.data_ptr() == t.data_ptr()
    assert torch.equal(view, t.as_strided((t.numel(),), (1,)))  # memory order itself


def test_flat_refuses_memory_with_gaps() -> None:
    assert flat(torch.zeros(4, 6)[:, ::2]) is None
    # the kernel walks params, grads and sums with one index: layouts must agree
    p, g = torch.zeros(6, 5), transposed(torch.zeros(6, 5))
    assert RMSpropPass(0.9, 1e-7).fused_views([p], [g], [torch.zeros(6, 5)]) is None


@pytest.mark.parametrize(
    ("layout", "shape"), [(f, s) for _, f, s in LAYOUTS], ids=[i for i, *_ in LAYOUTS]
)
def test_fused_rule_gives_the_same_bits_in_every_layout(layout, shape) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    start = torch.randn(shape)
    grads = [torch.randn(shape) for _ in range(4)]
    plain = torch.nn.Parameter(start.clone())
    laid = torch.nn.Parameter(layout(start.clone()))
    a = make_optimizer("rmsprop", [plain], OPTIMIZERS["rmsprop"])
    b = make_optimizer("rmsprop", [laid], OPTIMIZERS["rmsprop"])
    for g in grads:
        plain.grad, laid.grad = g.clone(), layout(g.clone())
        a.step()
        b.step()
    assert torch.equal(plain, laid)


def test_variables_with_gaps_take_the_foreach_passes_and_still_match_keras() -> None:
    rng = np.random.default_rng(1)
    start = rng.normal(size=(4, 6)).astype("float32")
    steps = [rng.normal(size=(4, 3)).astype("float32") for _ in range(5)]
    strided = torch.nn.Parameter(torch.tensor(start)[:, ::2])  # every other column
    assert flat(strided) is None
    ours = make_optimizer("rmsprop", [strided], OPTIMIZERS["rmsprop"])
    variable = keras.Variable(start[:, ::2])
    theirs = keras.optimizers.RMSprop()
    for g in steps:
        strided.grad = torch.tensor(g)
        ours.step()
        theirs.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
    np.testing.assert_allclose(
        strided.detach().numpy(), keras.ops.convert_to_numpy(variable), rtol=1e-5, atol=1e-6
    )


def test_a_checkpoint_with_kerass_velocity_resumes() -> None:
    """Runs saved before the fused rule hold `velocity`; it loads as velocity + epsilon."""
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(5, 4))
    b = torch.nn.Parameter(a.detach().clone())
    grads = [torch.randn(5, 4) for _ in range(4)]
    first = make_optimizer("rmsprop", [a], OPTIMIZERS["rmsprop"])
    for g in grads[:2]:
        a.grad = g.clone()
        first.step()
    saved = first.state_tensors()
    eps = OPTIMIZERS["rmsprop"]["epsilon"]
    legacy = {
        "optimizer.iterations": saved["optimizer.iterations"],
        "optimizer.0.velocity": saved["optimizer.0.velocity_plus_epsilon"] - eps,
    }
    second = make_optimizer("rmsprop", [b], OPTIMIZERS["rmsprop"])
    b.data.copy_(a.data)
    second.load_state_tensors(legacy)
    for g in grads[2:]:
        a.grad, b.grad = g.clone(), g.clone()
        first.step()
        second.step()
    torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-7)
