"""Keras 3's learning-rate schedules (core/schedules.py) against Keras itself, step by step."""

from __future__ import annotations

import pytest

from convscope.core.schedules import learning_rate_at, read_schedule

from ..parity.keras_oracle import keras  # the oracle, with KERAS_BACKEND=torch

# (id, Keras class, args, kwargs, steps to compare)
CASES = [
    ("cosine", "CosineDecay", (0.1, 50), {}, range(0, 70, 3)),
    ("cosine-alpha", "CosineDecay", (0.1, 50), {"alpha": 0.2}, range(0, 70, 3)),
    (
        "cosine-warmup-one-cycle",
        "CosineDecay",
        (0.0004, 165),
        {"warmup_target": 0.01, "warmup_steps": 70},
        range(0, 260, 7),
    ),
    ("exponential", "ExponentialDecay", (0.1, 10, 0.5), {}, range(0, 40, 3)),
    ("exponential-staircase", "ExponentialDecay", (0.1, 10, 0.5), {"staircase": True}, range(40)),
    ("piecewise", "PiecewiseConstantDecay", ([10, 20], [0.1, 0.01, 0.001]), {}, range(0, 30)),
]


@pytest.mark.parametrize(
    ("cls", "args", "kwargs", "steps"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_step_equals_keras(cls: str, args: tuple, kwargs: dict, steps: range) -> None:
    theirs = getattr(keras.optimizers.schedules, cls)(*args, **kwargs)
    ours = read_schedule(cls, args, kwargs, "m.py")
    for step in steps:
        want = float(keras.ops.convert_to_numpy(theirs(step)))
        # Keras computes in float32: about 1e-7 of the peak rate
        assert learning_rate_at(ours, step) == pytest.approx(want, rel=1e-5, abs=1e-8), step


def test_an_optimiser_follows_its_schedule_as_keras_does() -> None:
    """Adam with a schedule, six updates: the same variables as Keras's Adam (the rate
    is asked for with iterations = updates done so far)."""
    import numpy as np
    import torch

    from convscope.core.training import OPTIMIZERS
    from convscope.runtime.optim import make_optimizer

    rng = np.random.default_rng(1)
    start = rng.normal(size=(4, 3)).astype("float32")
    grads = [rng.normal(size=(4, 3)).astype("float32") for _ in range(6)]
    args, kwargs = (0.0, 3), {"warmup_target": 0.1, "warmup_steps": 2}
    variable = keras.Variable(start)
    schedule = keras.optimizers.schedules.CosineDecay(*args, **kwargs)
    theirs = keras.optimizers.Adam(schedule)
    p = torch.nn.Parameter(torch.tensor(start))
    ours = make_optimizer(
        "adam", [p], OPTIMIZERS["adam"], read_schedule("CosineDecay", args, kwargs, "m.py")
    )
    for g in grads:
        theirs.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
        p.grad = torch.tensor(g)
        ours.step()
        np.testing.assert_allclose(
            p.detach().numpy(), keras.ops.convert_to_numpy(variable), rtol=1e-5, atol=1e-6
        )
