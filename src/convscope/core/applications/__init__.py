"""keras.applications models, read from their Keras source here as a user's file is read
(no weights are needed to explain one); checked against keras.applications built with
weights=None (tests/parity/test_applications.py).

Each entry is the Keras source that defines the function of that name; the importer runs
it when a file calls `keras.applications.VGG16(...)` (or `...vgg16.VGG16`).
"""

from __future__ import annotations

from typing import Any

from . import mobilenet, resnet, vgg

SOURCES = {
    "VGG16": vgg.SOURCE,
    "VGG19": vgg.SOURCE,
    "ResNet50": resnet.SOURCE,
    "MobileNetV2": mobilenet.SOURCE,
}

BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"
FOLDERS = {"VGG16": "vgg16", "VGG19": "vgg19", "ResNet50": "resnet", "MobileNetV2": "mobilenet_v2"}
PARAMETERS = {  # the functions' parameters in order, to bind a call's positional arguments
    "VGG16": ("include_top", "weights", "input_tensor", "input_shape", "pooling", "classes"),
    "MobileNetV2": ("input_shape", "alpha", "include_top", "weights", "input_tensor"),
}


def weights_file(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """The file weights="imagenet" loads from Keras's cache (~/.keras/models/), as
    keras/src/applications names it; None for weights=None (or a path, which is read as
    given)."""
    params = PARAMETERS.get(name, PARAMETERS["VGG16"])  # VGG19 and ResNet50: as VGG16
    bound = {**dict(zip(params, args, strict=False)), **kwargs}
    if bound.get("weights", "imagenet") != "imagenet":
        return None
    top = bound.get("include_top", True)
    if name == "MobileNetV2":
        shape = bound.get("input_shape") or (224, 224, 3)
        rows = shape[0] if shape[0] == shape[1] and shape[0] in (96, 128, 160, 192, 224) else 224
        alpha = float(bound.get("alpha", 1.0))
        tail = "" if top else "_no_top"
        return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}{tail}.h5"
    tail = "" if top else "_notop"
    return f"{name.lower()}_weights_tf_dim_ordering_tf_kernels{tail}.h5"


def weights_url(name: str, file: str) -> str:
    return f"{BASE}{FOLDERS[name]}/{file}"
