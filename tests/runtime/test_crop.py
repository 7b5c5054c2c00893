"""Cropped convolutions (runtime/nn/crop.py): the pixels no later layer reads.

Two oracles: autograd, which must give every left-out output pixel a zero gradient and the
last kept row and column some non-zero one (so `needed` is neither too small nor too
large); and the plain layer-by-layer pass, whose outputs and gradients the cropped
training pass must give (to 1e-5 of their scale).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from convscope.core import presets
from convscope.core.explain.unread import cropped
from convscope.core.source.read import read_model
from convscope.runtime import data
from convscope.runtime.nn.crop import CroppedConv
from convscope.runtime.nn.dropout import Dropout
from convscope.runtime.nn.fused import PoolThenReLU, ReLUInPlace
from convscope.runtime.nn.model import KerasModel
from convscope.runtime.splits import pixels

from .test_fused import assert_same, assert_same_pass

HEAD = "from keras import layers, Sequential, Input\nmodel = Sequential([Input((28, 28, 1)), "
TAIL = "layers.Flatten(), layers.Dense(10, activation='softmax')])\n"
C8 = "layers.Conv2D(8, 3, activation='relu'), "  # 28 -> 26

# model -> (its layers between the input and the Flatten, {layer index: (rows, cols) of
# its output that are computed} for each convolution computing less than its whole map)
MODELS = {
    "pool-drops-a-row": ("layers.Conv2D(8, 4, activation='relu'), layers.MaxPooling2D(),", {0: (24, 24)}),  # 25 -> 12
    "chain-of-two": (C8 + "layers.Conv2D(8, 4, activation='relu'), layers.MaxPooling2D(),", {0: (25, 25), 1: (22, 22)}),
    "same-conv-keeps-its-top-padding": (
        "layers.Conv2D(8, 3, padding='same'), layers.Conv2D(8, 4), layers.MaxPooling2D(),",
        {0: (27, 27), 1: (24, 24)},
    ),  # 28 -> 25 -> 12: the 'same' conv pads 1 before, none after
    "strided-conv-skips-a-row": (C8 + "layers.Conv2D(8, 3, strides=2),", {0: (25, 25)}),  # 26 -> 12
    "dilated-conv": (C8 + "layers.Conv2D(8, 3, dilation_rate=2), layers.MaxPooling2D(3),", {0: (25, 25), 1: (21, 21)}),
    "depthwise-conv": (C8 + "layers.DepthwiseConv2D(4), layers.MaxPooling2D(),", {0: (25, 25), 1: (22, 22)}),
    "separable-conv": ("layers.SeparableConv2D(8, 4, activation='relu'), layers.MaxPooling2D(),", {0: (24, 24)}),
    "average-pool": ("layers.Conv2D(8, 4), layers.AveragePooling2D(),", {0: (24, 24)}),
    "pool-3-stride-2": (C8 + "layers.MaxPooling2D(3, 2),", {0: (25, 25)}),  # 26 -> 12
    "relu-layer-between": ("layers.Conv2D(8, 4), layers.ReLU(), layers.MaxPooling2D(),", {0: (24, 24)}),
    "rows-only": ("layers.Conv2D(8, (4, 3), activation='relu'), layers.MaxPooling2D(),", {0: (24, 26)}),
    "same-pool-reads-everything": ("layers.Conv2D(8, 4), layers.MaxPooling2D(padding='same'),", {}),
    "dropout-keeps-its-map": ("layers.Conv2D(8, 4), layers.Dropout(0.5), layers.MaxPooling2D(),", {}),
    "batchnorm-keeps-its-map": (
        "layers.Conv2D(8, 4), layers.BatchNormalization(), layers.MaxPooling2D(),",
        {},
    ),  # its statistics are over the whole map
    "even-map": (C8 + "layers.MaxPooling2D(),", {}),
}  # fmt: skip

PRESETS = {
    "keras-cifar10-cnn": {6: (14, 14), 8: (12, 12)},  # 15x15 -> 14x14, 13x13 -> 12x12
    "chollet": {0: (24, 24), 2: (10, 10)},  # 26 -> 24, 11 -> 10
    "chollet-cats-dogs": {4: (172, 172), 6: (84, 84), 8: (40, 40)},  # 178, 87, 41
    "keras-mnist-cnn": {},
    "tf-course": {0: (24, 24), 2: (10, 10)},
}


def computed(model: KerasModel) -> dict[int, tuple[int, int]]:
    """What core/explain/unread.py says of the training pass's chain (all but the head)."""
    return cropped(model.spec.layers[:-1], model.shapes)


def build(body: str) -> KerasModel:
    torch.manual_seed(3)
    model = KerasModel(read_model(HEAD + body + TAIL, "m.py").spec)
    with torch.no_grad():  # biases above zero: few ReLUs are dead, so gradients reach far
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.uniform_(0.05, 0.2)
    for module in model.modules():  # the same network both ways (no dropout masks)
        if isinstance(module, Dropout):
            module.eval()
    return model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    mnist = data.load("mnist", allow_download=False)
    images = mnist.test_images[:32].copy()
    return torch.from_numpy(images), torch.from_numpy(mnist.test_labels[:32].astype("int64"))


@pytest.mark.parametrize(("body", "crops"), MODELS.values(), ids=MODELS.keys())
def test_needed_is_what_autograd_reaches(
    body: str, crops: dict[int, tuple[int, int]], digits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    model = build(body)
    assert computed(model) == crops
    x = pixels(digits[0].numpy(), model.spec, torch.device("cpu"))
    kept: list[torch.Tensor] = []
    loss = F.cross_entropy(model.logits_nchw(x, keep=kept), digits[1])
    grads = torch.autograd.grad(loss, kept)
    for i, (rows, cols) in crops.items():
        g = grads[i].abs().sum(dim=(0, 1))  # (H, W): how much each position matters
        assert float(g[rows:].sum()) == 0 and float(g[:, cols:].sum()) == 0, "read after all"
        assert float(g[rows - 1].sum()) > 0 and float(g[:, cols - 1].sum()) > 0, "left unread"
    with torch.no_grad():
        assert computed_sizes(model, x) == list(crops.values())


def computed_sizes(model: KerasModel, x: torch.Tensor) -> list[tuple[int, int]]:
    """The (rows, cols) each cropped convolution of the training pass computes."""
    sizes = []
    for stage in model.body:
        inner = unwrapped(stage)
        if isinstance(inner, CroppedConv):
            sizes.append(tuple(inner.pre_activation(x).shape[2:]))
        x = stage(x)
    return sizes  # type: ignore[return-value]


def unwrapped(stage: object) -> object:
    """The layer a fused stage (fused.py) runs first."""
    if isinstance(stage, PoolThenReLU):
        return stage.before
    return stage.layer if isinstance(stage, ReLUInPlace) else stage


@pytest.mark.parametrize(("name", "crops"), PRESETS.items(), ids=PRESETS.keys())
def test_the_presets_crop_what_their_pools_drop(
    name: str, crops: dict[int, tuple[int, int]]
) -> None:
    assert computed(KerasModel(presets.model(name))) == crops


@pytest.mark.parametrize(("body", "crops"), MODELS.values(), ids=MODELS.keys())
def test_the_cropped_pass_computes_the_whole_maps_numbers(
    body: str, crops: dict[int, tuple[int, int]], digits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    model = build(body)
    x = pixels(digits[0].numpy(), model.spec, torch.device("cpu"))  # (32, 1, 28, 28)
    assert_same_pass(model, x, digits[1])


@pytest.mark.parametrize(("body", "crops"), MODELS.values(), ids=MODELS.keys())
def test_inference_through_the_stages_gives_the_layers_outputs(
    body: str, crops: dict[int, tuple[int, int]], digits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    """predict, evaluate and validation (eval mode, no gradient, no hook) run the cropped,
    fused stages, with oneDNN's conv + ReLU where a ReLU follows."""
    model = build(body).eval()
    x = pixels(digits[0].numpy(), model.spec, torch.device("cpu"))
    with torch.no_grad():
        assert_same(model.logits_nchw(x), model.logits_nchw(x, keep=[]))


def test_a_hook_sees_every_layer_when_inferring_too() -> None:
    model = KerasModel(presets.model("keras-cifar10-cnn")).eval()
    seen: list[int] = []
    for i, layer in enumerate(model.layers):
        layer.register_forward_hook(lambda *_, i=i: seen.append(i))
    with torch.no_grad():
        model.logits_nchw(torch.zeros(2, 3, 32, 32))
    assert seen == list(range(len(model.layers) - 1))
