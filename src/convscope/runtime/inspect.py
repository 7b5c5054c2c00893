"""Look inside a model: every layer's output for one image, the conv filters, the image
the user chose. Returns numpy arrays in Keras's layout; drawing them is `present.plots`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..core import graph as g
from ..core.errors import ConvscopeError
from ..core.training import GREY
from . import data
from .allocator import keep_freed_memory
from .imagecache import decode
from .images import prepare
from .nn.model import Conv, KerasModel, to_keras_layout
from .splits import divides_by_255, pixels
from .train import eval_batch


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
    pixels: np.ndarray  # (H, W) or (H, W, C) as the model's data set stores its images
    label: int | None  # the true class, for a test image
    title: str  # "test image 7 (a 9)" or "my.png"
    steps: tuple[str, ...] = ()  # how a user's file was prepared


@torch.no_grad()
def layer_outputs(model: KerasModel, image: np.ndarray, scale: bool = True) -> list[LayerOutput]:
    """The input and every layer's output for one (H, W[, C]) image as its data set
    stores it (`scale`: x / 255 as for MNIST and CIFAR), in inference mode."""
    model.eval()
    x = to_keras_layout(pixels(image[None], model.spec, torch.device("cpu"), scale))  # (1, H, W, C)
    outputs = [LayerOutput("input", "Input", x[0].numpy(), False)]
    for i, (layer, values) in enumerate(zip(model.spec.layers, model.activations(x), strict=True)):
        current = values[0].contiguous().numpy()
        previous = outputs[g.sources(model.spec, i)[0]].values  # what it reads (a graph's node)
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


def prepare_photo(
    image: Path | BinaryIO, dataset: str, input_shape: tuple[int, ...], name: str = ""
) -> tuple[np.ndarray, list[str]]:
    """A user's PNG/JPEG as the model's training images were made: MNIST's and
    Fashion-MNIST's centring for a model of theirs, else read with the model's channels
    and resized to its input (bilinear), as image_dataset_from_directory reads photos."""
    if dataset in GREY or len(input_shape) != 3:
        return prepare(image, dataset, name)
    steps: list[str] = []
    try:
        photo = decode(image, input_shape[:2], input_shape[2], steps)  # (H, W, C)
    except FileNotFoundError:
        raise ConvscopeError(f"{name or image}: no such image file") from None
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise ConvscopeError(f"{name or image}: not a readable image ({error})") from None
    return (photo[..., 0] if input_shape[2] == 1 else photo), steps or ["used as it is"]


def choose_image(
    choice: str,
    dataset_name: str,
    dataset: data.Dataset | None,
    input_shape: tuple[int, ...] = (28, 28, 1),
) -> ChosenImage:
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
    image, steps = prepare_photo(Path(choice), dataset_name, input_shape)
    return ChosenImage(image, None, Path(choice).name, tuple(steps))


def fits_input(images: object, input_shape: tuple[int, ...]) -> bool:
    """An array shaped (N, *input_shape): the model takes it as it is."""
    return bool(np.asarray(images).shape[1:] == input_shape)


def as_images(
    images: object, size: tuple[int, int] = (28, 28), input_shape: tuple[int, ...] = ()
) -> np.ndarray:
    """A user's array -> float32 on the training images' 0..255 scale: (N, H, W), or
    (N, *input_shape) as given when it is shaped like the model's input.

    Accepts (N, H, W), (N, H, W, 1) or one (H, W) image of `size`, and (N, *input_shape)
    (a Dense model's (N, 784), as Keras's predict takes it); integers 0..255 (uint8, as
    MNIST is stored) or floats 0..1 (x / 255, as the tutorials feed Keras). Checked once,
    here.
    """
    given = np.asarray(images)
    a = given[None] if given.ndim == 2 else given  # one image
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]  # (N, H, W, 1) -> (N, H, W)
    image = a.ndim == 3 and a.shape[1:] == size and len(a) > 0
    if not image and fits_input(given, input_shape) and len(given):
        a = given  # shaped like the model's input: used as it is
    elif not image:
        h, w = size
        model = f", or (N, {', '.join(map(str, input_shape))}) as the model takes" * (
            input_shape not in ((h, w), (h, w, 1), ())
        )
        raise ConvscopeError(
            f"images must be an array of shape (N, {h}, {w}) or (N, {h}, {w}, 1){model}, or "
            f"one ({h}, {w}) image; got {given.shape}"
        )
    if a.dtype.kind not in "uif":
        raise ConvscopeError(f"images must be numbers (uint8 0-255 or float 0-1), got {a.dtype}")
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise ConvscopeError("images hold NaN or infinite values")
        low, high = float(a.min()), float(a.max())
        if low < 0 or high > 1:
            raise ConvscopeError(
                f"float images must be scaled to 0-1 (x / 255), got values from {low:g} to "
                f"{high:g}",
                hint="pass uint8 0-255 images as they are, or divide by 255",
            )
        return (a * 255).astype(np.float32)
    low, high = int(a.min()), int(a.max())
    if low < 0 or high > 255:
        raise ConvscopeError(f"integer images must be 0-255, got values from {low} to {high}")
    return a.astype(np.float32)


@torch.no_grad()
def model_outputs(
    model: KerasModel, images: np.ndarray, batch: int | None = None, scale: bool = True
) -> np.ndarray:
    """(N, outputs): what Keras's model.predict returns (probabilities after a softmax or
    a sigmoid), for float32 images as the data set stores them; `batch` at a time."""
    keep_freed_memory()  # see eval_batch
    model.eval()
    device = next(model.parameters()).device
    outputs = []
    batch = batch or eval_batch(model)
    for start in range(0, len(images), batch):
        x = pixels(images[start : start + batch], model.spec, device, scale)  # (B, C, H, W)
        logits = model.logits_nchw(x).float()  # (B, classes)
        if model.softmax_output:
            logits = torch.softmax(logits, -1)
        elif model.sigmoid_output:
            logits = torch.sigmoid(logits)
        outputs.append(logits)
    return torch.cat(outputs).cpu().numpy()


def predict_input(images: object, input_shape: tuple[int, ...], scale: bool) -> np.ndarray:
    """A user's array for the model, float32 as its data set stores images: the user's
    own data as fit() took it, (N, *input_shape) or one image; MNIST-like data as_images
    reads it (uint8 0..255 or floats 0..1, (N, 28, 28) grey too)."""
    if scale and (len(input_shape) != 3 or input_shape[-1] == 1):
        return as_images(images, input_shape[:2] if len(input_shape) == 3 else (28, 28),
                         input_shape)  # fmt: skip
    x = np.asarray(images)
    x = x[None] if x.shape == input_shape else x  # one image
    if x.shape[1:] != input_shape or not len(x) or x.dtype.kind not in "uif":
        raise ConvscopeError(
            f"images must be numbers shaped (N, {', '.join(map(str, input_shape))}) as the "
            f"model takes them, or one such image; got {x.dtype} {x.shape}"
        )
    if not np.isfinite(x).all():
        raise ConvscopeError("images hold NaN or infinite values")
    if scale and x.dtype.kind == "f" and x.max() <= 1:
        x = x * 255  # x / 255 as the tutorials feed Keras: back on the 0..255 scale
    return x.astype(np.float32)


def one_input(image: object, input_shape: tuple[int, ...], scale: bool) -> np.ndarray:
    """One image of a user's array (predict_input), without its batch axis."""
    found = predict_input(image, input_shape, scale)
    if len(found) != 1:
        raise ConvscopeError(f"layer_outputs takes one image, got {len(found)}")
    one: np.ndarray = found[0]
    return one


def predict_arrays(model: KerasModel, images: object, scale: bool) -> np.ndarray:
    """Keras's model.predict on a user's array."""
    return model_outputs(model, predict_input(images, model.spec.input_shape, scale), scale=scale)


@dataclass(frozen=True)
class Prediction:
    label: int
    class_names: tuple[str, ...]
    probabilities: tuple[float, ...]
    steps: tuple[str, ...]  # how the image was prepared, in order


def scaling_steps(model: KerasModel, scale: bool) -> tuple[str, ...]:
    """The last preparation step a user's photo gets, if any."""
    return (
        ("pixel values divided by 255, as in training",)
        if divides_by_255(model.spec, scale)
        else ()
    )


def two_classes(outputs: np.ndarray, model: KerasModel) -> np.ndarray:
    """(N, classes) from Keras's (N, units): one sigmoid unit's p is the second class's
    probability."""
    if model.sigmoid_output:
        return np.concatenate([1 - outputs, outputs], axis=1)
    return outputs


def predict_file(
    model: KerasModel,
    dataset: str,
    image: Path,
    class_names: tuple[str, ...],
    scale: bool = True,
) -> Prediction:
    """A user's PNG/JPEG, prepared as the data set's images were, through the model."""
    prepared, steps = prepare_photo(image, dataset, model.spec.input_shape)
    steps += scaling_steps(model, scale)
    found = model_outputs(model, prepared[None].astype(np.float32), scale=scale)  # (1, units)
    outputs = two_classes(found, model)[0]
    return Prediction(
        label=int(outputs.argmax()),
        class_names=class_names,
        probabilities=tuple(float(p) for p in outputs),
        steps=tuple(steps),
    )
