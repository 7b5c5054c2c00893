"""The inference kernels (runtime/nn/inference.py) against the plain layers: every layer's
output of real MNIST digits (and a colour batch) under torch.no_grad, where the kernels
run, must equal the output with gradients on, where the plain torch layers run, bit for
bit; and the fused convolution must equal torch.nn's conv2d + relu."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from convscope.core.source.read import read_model
from convscope.runtime import data
from convscope.runtime.nn import inference
from convscope.runtime.nn.model import Conv, KerasModel, Pool, to_keras_layout
from convscope.runtime.splits import pixels

TAIL = "layers.Flatten(), layers.Dense(10, activation='softmax')])\n"

# model -> (input, its layers before the flatten, how many convs fuse, how many pools pair)
MODELS = {
    "valid-3x3": ((28, 28, 1), "layers.Conv2D(8, 3, activation='relu'), layers.MaxPooling2D(),",
                  1, 1),
    "same-even-pads": ((28, 28, 1), "layers.Conv2D(8, 3, padding='same', activation='relu'),",
                       1, 0),
    "same-odd-pixel-after": ((28, 28, 1), "layers.Conv2D(8, 3, 2, padding='same', "
                             "activation='relu'),", 1, 0),
    "dilated-no-bias": ((28, 28, 1), "layers.Conv2D(8, 3, dilation_rate=2, use_bias=False, "
                        "activation='relu'),", 1, 0),
    "depthwise": ((28, 28, 1), "layers.Conv2D(8, 3), layers.DepthwiseConv2D(3, "
                  "activation='relu'),", 1, 0),
    "separable-is-left-alone": ((28, 28, 1), "layers.SeparableConv2D(8, 3, activation='relu'),",
                                0, 0),
    "linear-conv-is-left-alone": ((28, 28, 1), "layers.Conv2D(8, 3), layers.MaxPooling2D(),",
                                  0, 1),
    "odd-map-drops-a-row": ((28, 28, 1), "layers.Conv2D(8, 4, activation='relu'), "
                            "layers.MaxPooling2D(2),", 1, 1),  # 25x25 -> 12x12
    "same-padded-pool-is-left-alone": ((28, 28, 1), "layers.Conv2D(8, 4), "
                                       "layers.MaxPooling2D(2, padding='same'),", 0, 0),
    "pool-3-is-left-alone": ((28, 28, 1), "layers.MaxPooling2D(3),", 0, 0),
    "colour": ((32, 32, 3), "layers.Conv2D(16, 3, activation='relu'), layers.MaxPooling2D(), "
               "layers.Conv2D(16, 3, padding='same', activation='relu'), layers.MaxPooling2D(),",
               2, 2),
}  # fmt: skip


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return torch.from_numpy(data.load("mnist", allow_download=False).test_images[:32].copy())


def images(shape: tuple[int, ...], digits: torch.Tensor) -> torch.Tensor:
    if shape == (28, 28, 1):
        return digits
    return torch.randint(0, 256, (32, *shape), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(("shape", "body", "convs", "pools"), MODELS.values(), ids=MODELS.keys())
@pytest.mark.parametrize("layout", ["channels_last", "contiguous"])
def test_inference_computes_the_plain_layers(
    shape: tuple[int, ...], body: str, convs: int, pools: int, layout: str, digits: torch.Tensor
) -> None:
    head = f"from keras import layers, Sequential, Input\nmodel = Sequential([Input({shape}), "
    model = KerasModel(read_model(head + body + TAIL, "m.py").spec).eval()
    torch.manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.uniform_(-0.2, 0.2)  # maps with zeros, ties and negatives
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    assert sum(isinstance(m, Conv) and m.relu for m in model.layers) == convs
    assert sum(isinstance(m, Pool) and m.pairs for m in model.layers) == pools
    x = to_keras_layout(pixels(images(shape, digits).numpy(), model.spec, torch.device("cpu")))
    with torch.enable_grad():
        want = [a.detach() for a in model.activations(x)]
    with torch.no_grad():
        got = model.activations(x)
    for layer, g, w in zip(model.spec.layers, got, want, strict=True):
        assert torch.equal(g, w), layer.name


def test_the_fused_convolution_is_torch_nn_conv2d_then_relu() -> None:
    assert inference.POINTWISE is not None  # the kernel is there: the fast path runs
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(16, 32, 3, stride=2, padding=1, dilation=1)
    x = torch.randn(8, 16, 30, 30).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        assert inference.can_fuse(x, conv.weight)
        assert torch.equal(inference.conv_relu(conv, x), F.relu(conv(x)))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert not inference.can_fuse(x, conv.weight)  # bf16 runs torch's own
    assert not inference.can_fuse(x, conv.weight)  # a gradient wanted


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore::DeprecationWarning")
def test_a_tracer_records_the_plain_layers() -> None:
    """An export traced under no_grad (torch.onnx's exporter) gets Conv, Relu, MaxPool and
    the Dense products, which ONNX knows, not oneDNN's fused kernels (a batch of 64 makes
    the Dense(512) product large enough for matmul.py's oneDNN path outside a trace)."""
    source = (
        "from keras import layers, Sequential, Input\nmodel = Sequential([Input((28, 28, 1)), "
        "layers.Conv2D(8, 3, activation='relu'), layers.MaxPooling2D(), layers.Flatten(), "
        "layers.Dense(512, activation='relu'), layers.Dense(10, activation='softmax')])\n"
    )
    model = KerasModel(read_model(source, "m.py").spec).eval()
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.rand(64, 28, 28, 1))
    kinds = {node.kind() for node in traced.inlined_graph.nodes()}
    assert "aten::max_pool2d" in kinds and "aten::relu" in kinds and "aten::linear" in kinds
    assert not any("mkldnn" in kind or "maximum" in kind for kind in kinds)
