"""RMSprop's, Adagrad's and Adam's fused passes (onepass.py): every memory layout a
model's variables have, the _foreach_ fallback against Keras, and checkpoints from before
the fused rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convscope.core.training import OPTIMIZERS
from convscope.runtime.onepass import RootSumPass, flat
from convscope.runtime.optim import make_optimizer

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
    assert RootSumPass(0.9, 1e-7).fused_views([p], [g], [torch.zeros(6, 5)]) is None


# the optimisers with a fused pass: (id, name, hyper, Keras's class and arguments)
FUSED = [
    ("rmsprop", "rmsprop", {}, "RMSprop", {}),
    ("adam", "adam", {}, "Adam", {}),
    ("adam-epsilon", "adam", {"epsilon": 0.1}, "Adam", {"epsilon": 0.1}),
    ("adam-amsgrad", "adam", {"amsgrad": True, "learning_rate": 0.01}, "Adam",
     {"amsgrad": True, "learning_rate": 0.01}),
    ("adamw", "adamw", {"weight_decay": 0.1}, "AdamW", {"weight_decay": 0.1}),
    ("adagrad", "adagrad", {}, "Adagrad", {}),
    ("adagrad-epsilon", "adagrad", {"epsilon": 0.1, "initial_accumulator_value": 0.01},
     "Adagrad", {"epsilon": 0.1, "initial_accumulator_value": 0.01}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("layout", "shape"), [(f, s) for _, f, s in LAYOUTS], ids=[i for i, *_ in LAYOUTS]
)
@pytest.mark.parametrize(("name", "hyper"), [(n, h) for _, n, h, *_ in FUSED],
                         ids=[i for i, *_ in FUSED])  # fmt: skip
def test_fused_rule_gives_the_same_values_in_every_layout(layout, shape, name, hyper) -> None:  # type: ignore[no-untyped-def]
    """The flat views walk each variable in memory order: a wrong order would move values
    far. Last bits may differ: the kernels take a scalar path for the values after the
    last full vector, so one value can round in the vector path in one layout and in the
    scalar path in another."""
    torch.manual_seed(0)
    start = torch.randn(shape)
    grads = [torch.randn(shape) for _ in range(4)]
    plain = torch.nn.Parameter(start.clone())
    laid = torch.nn.Parameter(layout(start.clone()))
    a = make_optimizer(name, [plain], {**OPTIMIZERS[name], **hyper})
    b = make_optimizer(name, [laid], {**OPTIMIZERS[name], **hyper})
    for g in grads:
        plain.grad, laid.grad = g.clone(), layout(g.clone())
        a.step()
        b.step()
    torch.testing.assert_close(laid, plain, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("gaps", [False, True], ids=["fused", "with-gaps-foreach"])
@pytest.mark.parametrize(("name", "hyper", "keras_class", "keras_hyper"),
                         [f[1:] for f in FUSED], ids=[f[0] for f in FUSED])  # fmt: skip
def test_both_ways_match_keras(name, hyper, keras_class, keras_hyper, gaps) -> None:  # type: ignore[no-untyped-def]
    """A variable whose memory has gaps (every other column) takes the _foreach_ passes;
    a dense one the fused kernel: both end where Keras's optimiser does."""
    rng = np.random.default_rng(1)
    start = rng.normal(size=(4, 6)).astype("float32")
    steps = [rng.normal(size=(4, 3)).astype("float32") for _ in range(5)]
    kept = start[:, ::2]
    variable = torch.tensor(start)[:, ::2] if gaps else torch.tensor(np.ascontiguousarray(kept))
    ours_p = torch.nn.Parameter(variable)
    assert (flat(ours_p) is None) == gaps
    ours = make_optimizer(name, [ours_p], {**OPTIMIZERS[name], **hyper})
    theirs_v = keras.Variable(kept)
    theirs = getattr(keras.optimizers, keras_class)(**keras_hyper)
    for g in steps:
        ours_p.grad = torch.tensor(g)
        ours.step()
        theirs.apply_gradients([(keras.ops.convert_to_tensor(g), theirs_v)])
    np.testing.assert_allclose(
        ours_p.detach().numpy(), keras.ops.convert_to_numpy(theirs_v), rtol=1e-5, atol=1e-6
    )


# the fused rules that keep a slot plus epsilon: (optimiser, Keras's own slot)
PLUS_EPSILON = [("rmsprop", "velocity"), ("adagrad", "accumulator")]


@pytest.mark.parametrize(("name", "slot"), PLUS_EPSILON, ids=[n for n, _ in PLUS_EPSILON])
def test_a_checkpoint_with_kerass_own_slot_resumes(name: str, slot: str) -> None:
    """Runs saved before the fused rule hold Keras's slot; it loads as slot + epsilon."""
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(5, 4))
    b = torch.nn.Parameter(a.detach().clone())
    grads = [torch.randn(5, 4) for _ in range(4)]
    first = make_optimizer(name, [a], OPTIMIZERS[name])
    for g in grads[:2]:
        a.grad = g.clone()
        first.step()
    saved = first.state_tensors()
    eps = OPTIMIZERS[name]["epsilon"]
    legacy = {
        "optimizer.iterations": saved["optimizer.iterations"],
        f"optimizer.0.{slot}": saved[f"optimizer.0.{slot}_plus_epsilon"] - eps,
    }
    second = make_optimizer(name, [b], OPTIMIZERS[name])
    b.data.copy_(a.data)
    second.load_state_tensors(legacy)
    for g in grads[2:]:
        a.grad, b.grad = g.clone(), g.clone()
        first.step()
        second.step()
    torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-7)
