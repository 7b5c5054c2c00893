"""Every optimiser against Keras 3 itself: same start, same gradients, same variables after."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convscope.core.training import OPTIMIZERS
from convscope.runtime.optim import OPTIMIZER_CLASSES, KerasOptimizer, make_optimizer

from ..parity.keras_oracle import keras  # the oracle, with KERAS_BACKEND=torch

CONFIGS = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("rmsprop", {}),
    ("rmsprop", {"momentum": 0.5, "centered": True}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"rho": 0.5, "epsilon": 1e-3}),
    ("adam", {}),
    ("adam", {"amsgrad": True, "learning_rate": 0.01}),
    ("adam", {"epsilon": 0.1}),  # large enough to tell where the rule adds it
    ("adamw", {}),
    ("nadam", {}),
    ("adadelta", {}),
    ("adadelta", {"learning_rate": 1.0}),
    ("adagrad", {}),
    ("adagrad", {"epsilon": 0.1, "initial_accumulator_value": 0.01}),
]
KERAS_CLASSES = {
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
    "nadam": "Nadam",
    "adadelta": "Adadelta",
    "adagrad": "Adagrad",
}


@pytest.mark.parametrize(
    ("name", "hyper"), CONFIGS, ids=[f"{n}-{'-'.join(h) or 'defaults'}" for n, h in CONFIGS]
)
def test_matches_keras(name: str, hyper: dict[str, float]) -> None:
    rng = np.random.default_rng(0)
    shapes = [(3, 3, 1, 4), (4,), (5, 2)]
    start = [rng.normal(size=s).astype("float32") for s in shapes]
    steps = [[rng.normal(size=s).astype("float32") for s in shapes] for _ in range(6)]

    keras_vars = [keras.Variable(w) for w in start]
    keras_opt = getattr(keras.optimizers, KERAS_CLASSES[name])(**hyper)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in start]
    ours = make_optimizer(name, params, {**OPTIMIZERS[name], **hyper})
    for grads in steps:
        keras_opt.apply_gradients(
            zip([keras.ops.convert_to_tensor(g) for g in grads], keras_vars, strict=True)
        )
        for p, g in zip(params, grads, strict=True):
            p.grad = torch.tensor(g)
        ours.step()
    for p, v in zip(params, keras_vars, strict=True):
        np.testing.assert_allclose(
            p.detach().numpy(), keras.ops.convert_to_numpy(v), rtol=1e-5, atol=1e-6
        )


def test_state_round_trip_continues_identically() -> None:
    torch.manual_seed(0)
    a = [torch.nn.Parameter(torch.randn(4, 3))]
    b = [torch.nn.Parameter(a[0].detach().clone())]
    grads = [torch.randn(4, 3) for _ in range(4)]
    first = make_optimizer("nadam", a, OPTIMIZERS["nadam"])
    for g in grads[:2]:
        a[0].grad = g
        first.step()
    second = make_optimizer("nadam", b, OPTIMIZERS["nadam"])
    b[0].data.copy_(a[0].data)
    second.load_state_tensors({k: v.clone() for k, v in first.state_tensors().items()})
    for g in grads[2:]:
        a[0].grad, b[0].grad = g, g.clone()
        first.step()
        second.step()
    assert torch.equal(a[0], b[0])


@pytest.mark.parametrize("output", ["softmax", "probabilities"])
def test_label_smoothing_loss_equals_keras(output: str) -> None:
    """CategoricalCrossentropy(label_smoothing=0.1): from the logits when the model ends in
    softmax, from normalised and clipped probabilities otherwise, as Keras computes it."""
    from dataclasses import replace

    from convscope.core import presets
    from convscope.runtime.heads import loss_fn

    rng = np.random.default_rng(2)
    logits = rng.normal(size=(16, 10)).astype("float32") * 3
    labels = rng.integers(0, 10, 16)
    training = replace(presets.get("chollet").training, label_smoothing=0.1)

    class Model:
        softmax_output = output == "softmax"

    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    given = logits if output == "softmax" else probabilities
    ours = float(loss_fn(Model(), training)(torch.tensor(given), torch.tensor(labels)))  # type: ignore[arg-type]
    one_hot = np.eye(10, dtype="float32")[labels]
    theirs = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(one_hot, probabilities)
    assert ours == pytest.approx(float(keras.ops.convert_to_numpy(theirs)), rel=1e-5)


# the rules that keep a one-variable `update` beside `update_all` (for other settings)
BOTH_WAYS = [
    (n, h)
    for n, h in [*CONFIGS, ("adamw", {"weight_decay": 0.1})]
    if OPTIMIZER_CLASSES[n].update is not KerasOptimizer.update
]


@pytest.mark.parametrize(
    ("name", "hyper"), BOTH_WAYS, ids=[f"{n}-{'-'.join(h) or 'defaults'}" for n, h in BOTH_WAYS]
)
def test_rules_applied_together_give_the_bits_of_one_by_one(
    name: str, hyper: dict[str, float]
) -> None:
    """`update_all` (torch's _foreach_ ops over every variable) computes what `update` does
    for each variable alone, bit for bit: a resumed or repeated run does not depend on it."""
    torch.manual_seed(0)
    shapes = [(3, 3, 1, 4), (4,), (5, 2)]
    start = [torch.randn(s) for s in shapes]
    steps = [[torch.randn(s) for s in shapes] for _ in range(5)]
    together = [torch.nn.Parameter(w.clone()) for w in start]
    alone = [torch.nn.Parameter(w.clone()) for w in start]
    a = make_optimizer(name, together, {**OPTIMIZERS[name], **hyper})
    b = make_optimizer(name, alone, {**OPTIMIZERS[name], **hyper})
    b.update_all = lambda ps, gs, states: [  # type: ignore[method-assign]
        b.update(p, g, s) for p, g, s in zip(ps, gs, states, strict=True)
    ]
    for grads in steps:
        for pa, pb, g in zip(together, alone, grads, strict=True):
            pa.grad, pb.grad = g.clone(), g.clone()
        a.step()
        b.step()
    for pa, pb in zip(together, alone, strict=True):
        assert torch.equal(pa, pb)
