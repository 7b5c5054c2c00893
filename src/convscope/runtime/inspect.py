"""Look inside a model: every layer's output for one image, the conv filters, the image
the user chose. Returns numpy arrays in Keras's layout; drawing them is `present.plots`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.errors import ConvscopeError
from . import data
from .images import prepare
from .torch_model import Conv, KerasModel, to_keras_layout
from .train import pixels


@dataclass(frozen=True)
class LayerOutput:
    name: str
    layer_type: str
    values: np.ndarray  # one image's output, Keras layout without the batch axis: (H, W, C) or (F,)
    same_as_previous: bool  # Dropout and friends at inference: nothing changed

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)


@dataclass(frozen=True)
class LayerFilters:
    name: str
    layer_type: str
    kernels: np.ndarray  # (filters, in_channels, kh, kw); depthwise: (channels, 1, kh, kw)
    bias: np.ndarray | None


@dataclass(frozen=True)
class ChosenImage:
    pixels: np.ndarray  # (28, 28) uint8 as the model's data set stores them
    label: int | None  # the true class, for a test image
    title: str  # "test image 7 (a 9)" or "my.png"
    steps: tuple[str, ...] = ()  # how a user's file was prepared


@torch.no_grad()
def layer_outputs(model: KerasModel, image: np.ndarray) -> list[LayerOutput]:
    """The input and every layer's output for one (H, W) uint8 image, in inference mode."""
    model.eval()
    x = to_keras_layout(pixels(image[None], model.spec, torch.device("cpu")))  # (1, H, W, C)
    outputs = [LayerOutput("input", "Input", x[0].numpy(), False)]
    for layer, values in zip(model.spec.layers, model.activations(x), strict=True):
        current = values[0].contiguous().numpy()
        previous = outputs[-1].values
        same = current.shape == previous.shape and bool(np.array_equal(current, previous))
        outputs.append(LayerOutput(layer.name, layer.keras_class, current, same))
    return outputs


def conv_filters(model: KerasModel) -> list[LayerFilters]:
    """The kernels of every convolution, (filters, in_channels, kh, kw), as numpy."""
    found = []
    for layer, module in zip(model.spec.layers, model.layers, strict=True):
        if not isinstance(module, Conv):
            continue
        weight = module.conv.weight.detach().float().cpu().numpy()
        bias = module.conv.bias
        found.append(
            LayerFilters(
                layer.name,
                layer.keras_class,
                weight,
                None if bias is None else bias.detach().float().cpu().numpy(),
            )
        )
    return found


def choose_image(choice: str, dataset_name: str, dataset: data.Dataset | None) -> ChosenImage:
    """`7` is test image 7; anything else is a PNG/JPEG path, prepared like the data set."""
    if choice.isdigit():
        if dataset is None:
            raise ConvscopeError(f"--image {choice} needs the {dataset_name} test set")
        index, count = int(choice), len(dataset.test_labels)
        if index >= count:
            raise ConvscopeError(
                f"--image {choice}: the {dataset_name} test set has images 0 to {count - 1}"
            )
        label = int(dataset.test_labels[index])
        name = dataset.info.class_names[label]
        return ChosenImage(dataset.test_images[index], label, f"test image {index} (class {name})")
    image, steps = prepare(Path(choice), dataset_name)
    return ChosenImage(image, None, Path(choice).name, tuple(steps))
