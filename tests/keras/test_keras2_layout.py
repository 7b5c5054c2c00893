"""A legacy .h5 in tf.keras 2's layout, as tf_keras 2.21 writes it: the first layer's
batch_input_shape, weight names with ':0', BatchNormalization's axis saved as [3], layer
names split over two attributes (HDF5's 64 KB attribute limit). TensorFlow is not a test
dependency, so the file is written here with h5py, key for key as the real one; Keras 3
loads it too, and is the oracle for its predictions."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import convscope as cs
from convscope.core.source.read import read_model
from convscope.runtime import data
from convscope.runtime.keras.weights import layer_arrays
from convscope.runtime.nn.model import KerasModel

from ..parity.keras_oracle import keras

pytestmark = pytest.mark.slow  # Keras 3 loads the file as the oracle

LAYERS = [
    ("Conv2D", "conv2d", {"filters": 16, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                          "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                          "activation": "relu", "use_bias": True}),
    ("MaxPooling2D", "max_pooling2d", {"pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
                                       "data_format": "channels_last"}),
    ("BatchNormalization", "batch_normalization", {"axis": [3], "momentum": 0.99, "epsilon": 0.001,
                                                   "center": True, "scale": True}),
    ("Flatten", "flatten", {"data_format": "channels_last"}),
    ("Dropout", "dropout", {"rate": 0.3, "noise_shape": None, "seed": None}),
    ("Dense", "dense", {"units": 10, "activation": "softmax", "use_bias": True}),
]  # fmt: skip
WEIGHT_NAMES = {
    "conv2d": ["kernel:0", "bias:0"],
    "batch_normalization": ["gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"],
    "dense": ["kernel:0", "bias:0"],
}


def keras2_h5(path: Path, arrays: dict[str, list[np.ndarray]]) -> None:
    layers = [{"class_name": "InputLayer", "config": {
        "batch_input_shape": [None, 28, 28, 1], "dtype": "float32", "sparse": False,
        "ragged": False, "name": "conv2d_input"}}]  # fmt: skip
    for i, (cls, name, config) in enumerate(LAYERS):
        extra = {"batch_input_shape": [None, 28, 28, 1]} if i == 0 else {}
        layers.append({"class_name": cls, "config": {"name": name, "trainable": True,
                                                     "dtype": "float32", **extra, **config}})  # fmt: skip
    model_config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "2.21.0"
        f.attrs["model_config"] = json.dumps(model_config)
        weights = f.create_group("model_weights")
        names = [name.encode() for _, name, _ in LAYERS]
        weights.attrs["layer_names0"], weights.attrs["layer_names1"] = names[:3], names[3:]
        weights.attrs["backend"], weights.attrs["keras_version"] = "tensorflow", "2.21.0"
        for _, name, _ in LAYERS:
            group = weights.create_group(name)
            given = WEIGHT_NAMES.get(name, [])
            group.attrs["weight_names"] = [f"{name}/{w}".encode() for w in given]
            for w, array in zip(given, arrays.get(name, []), strict=True):
                group.create_dataset(f"{name}/{w}", data=array)


SOURCE = """
from keras import layers, Sequential
model = Sequential([
    layers.Conv2D(16, 3, activation='relu', input_shape=(28, 28, 1)),
    layers.MaxPooling2D(), layers.BatchNormalization(), layers.Flatten(), layers.Dropout(0.3),
    layers.Dense(10, activation='softmax'),
])
"""


def random_arrays() -> dict[str, list[np.ndarray]]:
    """Each layer's arrays, in Keras's layout, with random values: small weights, and BN
    statistics around 1 (so they matter)."""
    model = KerasModel(read_model(SOURCE, "k2.py").spec)
    rng = np.random.default_rng(3)
    found = {}
    for layer, module in zip(model.spec.layers, model.layers, strict=True):
        norm = layer.kind == "norm"
        arrays = [
            (rng.uniform(0.5, 1.5, a.shape) if norm else rng.normal(0, 0.1, a.shape)).astype(
                "float32"
            )
            for a in layer_arrays(module)
        ]
        if arrays:
            found[layer.name] = arrays
    return found


def test_a_keras2_h5_reads_and_predicts_as_keras_does(tmp_path: Path) -> None:
    keras2_h5(tmp_path / "tf2.h5", random_arrays())
    assert cs.explain(tmp_path / "tf2.h5").total_params == cs.explain(code=SOURCE).total_params
    ours = cs.load(tmp_path / "tf2.h5", dataset="mnist")
    images = data.load("mnist").test_images[:100]
    reference = keras.models.load_model(tmp_path / "tf2.h5", compile=False)
    expected = np.asarray(reference.predict(images[..., None] / 255.0, verbose=0))
    np.testing.assert_allclose(ours.predict(images), expected, atol=1e-5)
