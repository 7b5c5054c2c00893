"""The fused training pass (runtime/fused.py) against the plain layer-by-layer pass.

Each model runs a batch of real MNIST digits both ways, with biases drawn so that flat
background windows tie at positive values as well as at zero and below. Outputs and
every parameter's gradient must equal the plain pass's (to 1e-5 of their scale: the
issue's bound; today they agree bit for bit).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from convscope.core import presets
from convscope.core.source.read import read_model
from convscope.runtime import data
from convscope.runtime.nn.dropout import Dropout
from convscope.runtime.nn.fused import PoolThenReLU
from convscope.runtime.nn.model import KerasModel
from convscope.runtime.splits import pixels
from convscope.runtime.train import Silent

HEAD = "from keras import layers, Sequential, Input\nmodel = Sequential([Input((28, 28, 1)), "
TAIL = "layers.Flatten(), layers.Dense(10, activation='softmax')])\n"

# model -> (its layers between the input and the flatten, how many pairs fuse)
MODELS = {
    "conv-relu-then-pool": ("layers.Conv2D(8, 3, activation='relu'), layers.MaxPooling2D(),", 1),
    "odd-map-drops-a-row": (
        "layers.Conv2D(8, 4, activation='relu'), layers.MaxPooling2D(2),",
        1,
    ),  # 25x25 -> 12x12: the last row and column are never pooled
    "same-padded-pool": (
        "layers.Conv2D(8, 3, activation='relu'), layers.MaxPooling2D(3, 2, padding='same'),",
        1,
    ),
    "relu-layer-then-pool": (
        "layers.Conv2D(8, 3), layers.ReLU(), layers.MaxPooling2D(),",
        1,
    ),
    "activation-layer-then-pool": (
        "layers.Conv2D(8, 3), layers.Activation('relu'), layers.MaxPooling2D(),",
        1,
    ),
    "leaky-relu-is-left-alone": (
        "layers.Conv2D(8, 3, activation='leaky_relu'), layers.MaxPooling2D(),",
        0,
    ),
    "average-pool-is-left-alone": (
        "layers.Conv2D(8, 3, activation='relu'), layers.AveragePooling2D(),",
        0,
    ),
    "activation-layer-in-place": (
        "layers.Conv2D(8, 3), layers.Activation('relu'), layers.Conv2D(8, 3), layers.ReLU(), "
        "layers.MaxPooling2D(),",
        1,
    ),  # the first pair runs as one in-place step, the second pools first
    "capped-relu-is-left-alone": (
        "layers.Conv2D(8, 3), layers.ReLU(max_value=0.5), layers.MaxPooling2D(),",
        0,
    ),
}


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    mnist = data.load("mnist", allow_download=False)
    return torch.from_numpy(mnist.test_images[:64].copy()), torch.from_numpy(
        mnist.test_labels[:64].astype("int64")
    )


def plain_logits(model: KerasModel, x: torch.Tensor) -> torch.Tensor:
    """The layer-by-layer pass, as feature maps and the plain torch layers compute it."""
    keep: list[torch.Tensor] = []
    return model.logits_nchw(x, keep=keep)


def outputs_and_gradients(
    model: KerasModel, x: torch.Tensor, y: torch.Tensor, fused: bool
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    logits = model.logits_nchw(x) if fused else plain_logits(model, x)
    F.cross_entropy(logits, y).backward()  # type: ignore[no-untyped-call]
    return logits.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]


def with_ties(model: KerasModel) -> KerasModel:
    """Biases in [-0.2, 0.2]: the blank background gives equal positive, zero or negative maps."""
    torch.manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.uniform_(-0.2, 0.2)
    return model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]


def assert_same(got: torch.Tensor, want: torch.Tensor) -> None:
    scale = float(want.abs().max()) or 1.0
    assert float((got - want).abs().max()) <= 1e-5 * scale


@pytest.mark.parametrize(("body", "pairs"), MODELS.values(), ids=MODELS.keys())
def test_the_fused_pass_computes_the_plain_pass(
    body: str, pairs: int, digits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    model = with_ties(KerasModel(read_model(HEAD + body + TAIL, "m.py").spec))
    assert sum(isinstance(stage, PoolThenReLU) for stage in model.body) == pairs
    x = pixels(digits[0].numpy(), model.spec, torch.device("cpu"))  # (64, 1, 28, 28)
    assert_same_pass(model, x, digits[1])


def assert_same_pass(model: KerasModel, x: torch.Tensor, y: torch.Tensor) -> None:
    """The training pass's output and every parameter's gradient are the plain pass's."""
    want, want_grads = outputs_and_gradients(model, x, y, fused=False)
    got, got_grads = outputs_and_gradients(model, x, y, fused=True)
    assert_same(got, want)
    assert len(got_grads) == len(want_grads) == len(list(model.parameters()))
    for g, w in zip(got_grads, want_grads, strict=True):
        assert_same(g, w)


@pytest.mark.parametrize(
    "name", ["chollet", "keras-mnist-cnn", "tf-course", "coursera-fashion", "keras-cifar10-cnn"]
)
def test_every_preset_trains_through_the_fused_pass_unchanged(
    name: str, digits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    model = with_ties(KerasModel(presets.model(name)))
    if model.spec.input_shape == (32, 32, 3):  # the digits, padded and in three channels
        digits = (torch.nn.functional.pad(digits[0], (2, 2, 2, 2))[..., None].expand(
            -1, -1, -1, 3).contiguous(), digits[1])  # fmt: skip
    for module in model.modules():  # dropout off, so both passes see the same network
        if isinstance(module, Dropout):
            module.eval()
    x = pixels(digits[0].numpy(), model.spec, torch.device("cpu"))
    want, want_grads = outputs_and_gradients(model, x, digits[1], fused=False)
    got, got_grads = outputs_and_gradients(model, x, digits[1], fused=True)
    assert any(isinstance(stage, PoolThenReLU) for stage in model.body)
    assert_same(got, want)
    for g, w in zip(got_grads, want_grads, strict=True):
        assert_same(g, w)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["chollet", "best-mnist"])
def test_a_whole_training_ends_with_the_same_weights_either_way(
    name: str, digits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    """Forty steps of a preset's own training (its optimiser, schedule, dropout, batch
    normalisation and augmentation layers), once fused and once layer by layer."""
    from convscope.runtime.splits import Split, to_split
    from convscope.runtime.train import StopFlag, Trainer

    mnist = data.load("mnist", allow_download=False)
    spec = presets.model(name)
    assert spec.training is not None
    n = 40 * spec.training.batch_size
    train = to_split(mnist.train_images[:n], mnist.train_labels[:n], spec, torch.device("cpu"))
    tiny = Split(train.x[:10], train.y[:10])
    weights = []
    for fused in (True, False):
        trainer = Trainer.create(spec, replace(spec.training, epochs=1), train, tiny, seed=3)
        if not fused:
            trainer.model.body = list(trainer.model.layers[:-1])
        trainer.fit(Silent(), StopFlag(), on_epoch=lambda: None)
        weights.append(trainer.model.state_dict())
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]), key  # bit for bit


def test_in_eval_mode_every_layer_runs_and_its_hooks_fire() -> None:
    """Attribution (Captum's forward hooks), probes and feature maps need each layer's own
    forward: the fused pass is for training only."""
    model = KerasModel(presets.model("chollet")).eval()
    seen: list[str] = []
    for i, layer in enumerate(model.layers):
        layer.register_forward_hook(lambda *_, i=i: seen.append(str(i)))
    model.logits_nchw(torch.zeros(2, 1, 28, 28))
    assert seen == [str(i) for i in range(len(model.layers) - 1)]
