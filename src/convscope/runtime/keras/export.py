"""A convscope model written back out: a `.keras` file that Keras 3 loads, or ONNX.

    .keras  config.json (core.keras.save), metadata.json, model.weights.h5 with each
            layer's arrays under layers/<class_in_snake_case>[_k]/vars/<i>, as Keras's
            saving_lib names them (runtime.keras_read.saveable_names)
    .onnx   torch.onnx's TorchScript exporter; input (N, H, W, C) float32 as Keras's
            model.predict takes it (`takes`); output what Keras's model.predict returns

Both are written atomically; the ONNX file is checked with onnx and, when onnxruntime is
installed, run on a few images against the torch model.
"""

from __future__ import annotations

import io
import json
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ... import __version__
from ...core.errors import ConvscopeError, missing_extra
from ...core.files import atomic_write
from ...core.keras.save import KERAS_VERSION, model_config
from ..nn.model import KerasModel
from .read import saveable_names
from .weights import layer_arrays

FORMATS = ("keras", "onnx")


def weights_h5(model: KerasModel) -> bytes:
    """model.weights.h5 as Keras 3 writes it: one vars group per layer, arrays in order."""
    import h5py

    names = saveable_names(model.spec)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        layers = f.create_group("layers")
        for layer, module in zip(model.spec.layers, model.layers, strict=True):
            group = layers.create_group(names[layer.name]).create_group("vars")
            for i, array in enumerate(layer_arrays(module)):
                group.create_dataset(str(i), data=array)
    return buffer.getvalue()


def keras_bytes(model: KerasModel) -> bytes:
    metadata = {
        "keras_version": KERAS_VERSION,
        "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S"),
        "written_by": f"convscope {__version__}",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(model_config(model.spec)))
        archive.writestr("model.weights.h5", weights_h5(model))
    return buffer.getvalue()


def takes(input_shape: tuple[int, ...], scale: bool) -> str:
    """The input an exported model takes, in words: MNIST's and CIFAR's as the tutorials
    feed Keras (x / 255), the user's own photos and arrays as fit() took them."""
    shape = f"(N, {', '.join(map(str, input_shape))}) floats"
    return f"{shape} 0-1 (pixels / 255)" if scale else f"{shape} as the training data gave them"


def onnx_bytes(model: KerasModel) -> bytes:
    try:
        import onnx
    except ImportError:
        raise missing_extra("export --format onnx", "onnx", "onnx and onnxruntime") from None
    model = model.cpu().eval()
    example = torch.rand(2, *model.spec.input_shape)  # (N, H, W, C), as Keras takes it
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            buffer,  # type: ignore[arg-type]  # a file object works, as the docs say
            dynamo=False,
            input_names=["images"],
            output_names=["outputs"],
            dynamic_axes={"images": {0: "batch"}, "outputs": {0: "batch"}},
        )
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    check_onnx(model, data)
    return data


def check_onnx(model: KerasModel, data: bytes) -> None:
    """onnxruntime's outputs against torch's on a few random images, when it is installed."""
    try:
        import onnxruntime
    except ImportError:
        return
    x = np.random.default_rng(0).random((4, *model.spec.input_shape), dtype=np.float32)
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    ours = model(torch.from_numpy(x)).detach().numpy()
    theirs: Any = session.run(None, {"images": x})[0]
    if not np.allclose(ours, theirs, atol=1e-5):
        raise ConvscopeError("the ONNX file's outputs differ from the model's: not written")


def export(model: KerasModel, path: Path, fmt: str, force: bool = False) -> int:
    """Write the model as `fmt` to `path` (atomically); the bytes written."""
    if fmt not in FORMATS:
        raise ConvscopeError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if path.exists() and not force:
        raise ConvscopeError(f"{path} exists", hint="pass --force (force=True) to replace it")
    data = keras_bytes(model) if fmt == "keras" else onnx_bytes(model)
    atomic_write(path, data)
    return len(data)
