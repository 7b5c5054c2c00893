"""Trained .h5 files as Keras 1.2 and Keras 2.0/2.1 wrote them: a Sequential model's config
is a plain list of layer configs (until Keras 2.2.2; {"name", "layers"} from 2.2.3), with
that age's argument names. Keras 3 cannot load these files; convscope reads them.

Each file is written here with h5py, key for key as real files of that age hold them:

- Keras 2.0.6: 1524045patrick/CarND-BehavioiurCloning-P3 model.h5 (save_model), and the
  configs of 0x1za/keras_cnn model.json (to_json). Scalar bytes attributes keras_version,
  backend, model_config and training_config; model_weights with layer_names (fixed-length
  bytes), backend and keras_version; weight_names per layer (an empty float64 array for a
  layer without weights); arrays at model_weights/conv2d_1/conv2d_1/kernel:0; layer names
  counted from 1; Flatten and Dropout without data_format, noise_shape or seed; the input
  shape as the first layer's batch_input_shape; an optimizer_weights group.
- Keras 2.1.3: tomthetrainer/KerasImportTests KerasModels/sonar_tensorflow.h5: the same,
  with Adam's amsgrad in training_config.
- Keras 1.2.2: malfaro2/dl4j-test-resources mnist_cnn_reshape_tf_keras_1_config.json and
  keras 1.2.2's save_model: Convolution2D with nb_filter, nb_row, nb_col, border_mode,
  subsample, dim_ordering, init, W_regularizer, bias; Dropout's p; Dense's output_dim;
  model_weights with layer_names only; arrays named convolution2d_1_W:0 in the layer's
  group; BatchNormalization's mode and running_std (which holds the variance).

The oracle: Keras 3 builds the same model from modern source, takes the same arrays and
predicts real MNIST test digits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import convscope as cs
from convscope.core.errors import ConvscopeError
from convscope.runtime import data

from ..parity.keras_oracle import keras

GLOROT = {
    "class_name": "VarianceScaling",
    "config": {"distribution": "uniform", "scale": 1.0, "seed": None, "mode": "fan_avg"},
}
ZEROS = {"class_name": "Zeros", "config": {}}


def conv2d_k20(name: str, filters: int, first: bool = False) -> dict[str, Any]:
    config = {"kernel_initializer": GLOROT, "name": name, "kernel_constraint": None,
              "bias_regularizer": None, "bias_constraint": None, "activation": "linear",
              "trainable": True, "data_format": "channels_last", "filters": filters,
              "padding": "valid", "strides": [1, 1], "dilation_rate": [1, 1],
              "kernel_regularizer": None, "bias_initializer": ZEROS, "use_bias": True,
              "activity_regularizer": None, "kernel_size": [3, 3]}  # fmt: skip
    if first:
        config |= {"dtype": "float32", "batch_input_shape": [None, 28, 28, 1]}
    return {"class_name": "Conv2D", "config": config}


def dense_k20(name: str, units: int) -> dict[str, Any]:
    return {"class_name": "Dense", "config": {
        "kernel_initializer": GLOROT, "name": name, "kernel_constraint": None,
        "bias_regularizer": None, "bias_constraint": None, "activation": "linear",
        "trainable": True, "kernel_regularizer": None, "bias_initializer": ZEROS,
        "units": units, "use_bias": True, "activity_regularizer": None}}  # fmt: skip


def activation(name: str, function: str) -> dict[str, Any]:
    return {"class_name": "Activation",
            "config": {"activation": function, "trainable": True, "name": name}}  # fmt: skip


KERAS_20 = [
    conv2d_k20("conv2d_1", 8, first=True),
    activation("activation_1", "relu"),
    conv2d_k20("conv2d_2", 16),
    activation("activation_2", "relu"),
    {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d_1", "trainable": True,
     "data_format": "channels_last", "pool_size": [2, 2], "padding": "valid", "strides": [2, 2]}},
    {"class_name": "BatchNormalization", "config": {
        "name": "batch_normalization_1", "trainable": True, "axis": -1, "momentum": 0.99,
        "epsilon": 0.001, "center": True, "scale": True, "beta_initializer": ZEROS,
        "gamma_initializer": {"class_name": "Ones", "config": {}},
        "moving_mean_initializer": ZEROS,
        "moving_variance_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
        "gamma_constraint": None}},
    {"class_name": "Dropout", "config": {"rate": 0.25, "trainable": True, "name": "dropout_1"}},
    {"class_name": "Flatten", "config": {"trainable": True, "name": "flatten_1"}},
    dense_k20("dense_1", 32),
    activation("activation_3", "relu"),
    {"class_name": "Dropout", "config": {"rate": 0.5, "trainable": True, "name": "dropout_2"}},
    dense_k20("dense_2", 10),
    activation("activation_4", "softmax"),
]  # fmt: skip
KERAS_20_SOURCE = """
from keras import layers, Sequential
model = Sequential([
    layers.Input((28, 28, 1)),
    layers.Conv2D(8, 3), layers.Activation('relu'), layers.Conv2D(16, 3), layers.Activation('relu'),
    layers.MaxPooling2D(), layers.BatchNormalization(), layers.Dropout(0.25), layers.Flatten(),
    layers.Dense(32), layers.Activation('relu'), layers.Dropout(0.5), layers.Dense(10),
    layers.Activation('softmax'),
])
"""
KERAS_12 = [
    {"class_name": "Convolution2D", "config": {
        "b_regularizer": None, "W_constraint": None, "b_constraint": None,
        "name": "convolution2d_1", "activity_regularizer": None, "trainable": True,
        "dim_ordering": "tf", "nb_col": 3, "subsample": [1, 1], "init": "glorot_uniform",
        "bias": True, "nb_filter": 8, "input_dtype": "float32", "border_mode": "valid",
        "batch_input_shape": [None, 28, 28, 1], "W_regularizer": None, "activation": "relu",
        "nb_row": 3}},
    {"class_name": "MaxPooling2D", "config": {"name": "maxpooling2d_1", "trainable": True,
     "dim_ordering": "tf", "pool_size": [2, 2], "strides": [2, 2], "border_mode": "valid"}},
    {"class_name": "BatchNormalization", "config": {
        "name": "batchnormalization_1", "trainable": True, "epsilon": 0.001, "mode": 0,
        "axis": -1, "gamma_regularizer": None, "beta_regularizer": None, "momentum": 0.99}},
    {"class_name": "Dropout", "config": {"p": 0.25, "trainable": True, "name": "dropout_1"}},
    {"class_name": "Flatten", "config": {"trainable": True, "name": "flatten_1"}},
    {"class_name": "Dense", "config": {
        "W_constraint": None, "b_constraint": None, "name": "dense_1",
        "activity_regularizer": None, "trainable": True, "init": "glorot_uniform", "bias": True,
        "input_dim": 1352, "b_regularizer": None, "W_regularizer": None, "activation": "linear",
        "output_dim": 10}},
    activation("activation_1", "softmax"),
]  # fmt: skip
KERAS_12_SOURCE = """
from keras import layers, Sequential
model = Sequential([
    layers.Input((28, 28, 1)), layers.Conv2D(8, 3, activation='relu'), layers.MaxPooling2D(),
    layers.BatchNormalization(), layers.Dropout(0.25), layers.Flatten(), layers.Dense(10),
    layers.Activation('softmax'),
])
"""
# the names each layer's arrays have, in get_weights() order
WEIGHTS_20 = {"Conv2D": ["kernel:0", "bias:0"], "Dense": ["kernel:0", "bias:0"],
              "BatchNormalization": ["gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"]}  # fmt: skip
WEIGHTS_12 = {"Convolution2D": ["W:0", "b:0"], "Dense": ["W:0", "b:0"],
              "BatchNormalization": ["gamma:0", "beta:0", "running_mean:0", "running_std:0"]}  # fmt: skip
TRAINING_206 = {"metrics": None, "optimizer_config": {"config": {
    "lr": 9.999999747378752e-05, "beta_2": 0.9990000128746033, "beta_1": 0.8999999761581421,
    "decay": 0.0, "epsilon": 1e-08}, "class_name": "Adam"}, "loss": "mse", "loss_weights": None,
    "sample_weight_mode": None}  # fmt: skip
TRAINING_213 = {"loss_weights": None, "metrics": ["accuracy"], "optimizer_config": {
    "class_name": "Adam", "config": {"lr": 0.0010000000474974513, "decay": 0.0,
    "amsgrad": False, "beta_1": 0.8999999761581421, "epsilon": 1e-07,
    "beta_2": 0.9990000128746033}}, "loss": "categorical_crossentropy",
    "sample_weight_mode": None}  # fmt: skip


def write_h5(
    path: Path, version: str, layers: list[dict[str, Any]], arrays: list[list[np.ndarray]]
) -> None:
    """save_model as Keras `version` wrote it (see the module's docstring)."""
    keras1 = version.startswith("1.")
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = version.encode()
        if not keras1:
            f.attrs["backend"] = b"tensorflow"
        config = {"class_name": "Sequential", "config": layers}
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps(
            TRAINING_213 if version >= "2.1" else TRAINING_206
        ).encode()
        group = f.create_group("model_weights")
        names = [layer["config"]["name"] for layer in layers]
        group.attrs["layer_names"] = np.array([n.encode() for n in names])
        if not keras1:
            group.attrs["backend"] = b"tensorflow"
            group.attrs["keras_version"] = version.encode()
        for layer, name, values in zip(layers, names, arrays, strict=True):
            g = group.create_group(name)
            given = (WEIGHTS_12 if keras1 else WEIGHTS_20).get(layer["class_name"], [])
            full = [f"{name}_{w}" if keras1 else f"{name}/{w}" for w in given]
            g.attrs["weight_names"] = np.array([w.encode() for w in full]) if full else []
            for w, value in zip(full, values, strict=True):
                g.create_dataset(w, data=value)
        optimizer = f.create_group("optimizer_weights")
        optimizer.attrs["weight_names"] = np.array([b"iterations:0"])
        optimizer.create_dataset("iterations:0", data=np.float32(1875))


def keras3_model(source: str) -> Any:
    namespace: dict[str, Any] = {}
    keras.backend.clear_session(free_memory=False)
    exec(source, namespace)  # our own test source, not a user's file
    return namespace["model"]


def random_arrays(model: Any) -> list[list[np.ndarray]]:
    """Each layer's arrays with random values: BN statistics around 1, so they matter."""
    rng = np.random.default_rng(5)
    return [
        [
            (rng.uniform(0.5, 1.5, w.shape) if "normalization" in layer.name
             else rng.normal(0, 0.2, w.shape)).astype("float32")
            for w in layer.get_weights()
        ]
        for layer in model.layers
    ]  # fmt: skip


@pytest.mark.slow  # Keras 3 predicts as the oracle
@pytest.mark.parametrize(
    ("version", "layers", "source"),
    [("2.0.6", KERAS_20, KERAS_20_SOURCE), ("2.1.3", KERAS_20, KERAS_20_SOURCE),
     ("1.2.2", KERAS_12, KERAS_12_SOURCE)],
    ids=["keras-2.0.6", "keras-2.1.3", "keras-1.2.2"],
)  # fmt: skip
def test_an_old_keras_h5_reads_and_predicts_as_keras3_on_the_same_weights(
    tmp_path: Path, version: str, layers: list[dict[str, Any]], source: str
) -> None:
    reference = keras3_model(source)
    arrays = random_arrays(reference)
    for layer, values in zip(reference.layers, arrays, strict=True):
        layer.set_weights(values)
    path = tmp_path / f"keras-{version}.h5"
    write_h5(path, version, layers, arrays)

    explained = cs.explain(path)
    assert [r.name for r in explained.rows] == [layer["config"]["name"] for layer in layers]
    assert [r.output_shape for r in explained.rows] == [
        tuple(layer.output.shape[1:]) for layer in reference.layers
    ]
    assert explained.total_params == reference.count_params()
    images = data.load("mnist").test_images[:200]
    expected = np.asarray(reference.predict(images[..., None] / 255.0, verbose=0))
    ours = cs.load(path, dataset="mnist").predict(images)
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_keras1_arguments_are_noted() -> None:
    config = {"class_name": "Sequential", "config": KERAS_12}
    from convscope.core.keras.config import read_config

    notes = " ".join(read_config(config, "old.h5").notes)
    assert "convolution2d_1: Keras 1 arguments read as Keras 3's" in notes
    assert "border_mode" in notes and "nb_filter" in notes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dim_ordering": "th"}, "dim_ordering='th' (channels first) is not supported"),
        ({"mode": 2}, "mode=2 (Keras 1's per-sample normalisation) is not supported"),
    ],
    ids=["channels-first", "batchnorm-mode-2"],
)
def test_what_an_old_file_holds_that_cannot_be_read_is_named(
    change: dict[str, Any], message: str
) -> None:
    from convscope.core.keras.config import read_config

    layers = [dict(layer, config=dict(layer["config"])) for layer in KERAS_12]
    target = 0 if "dim_ordering" in change else 2
    layers[target]["config"].update(change)
    with pytest.raises(ConvscopeError) as error:
        read_config({"class_name": "Sequential", "config": layers}, "old.h5")
    assert message in str(error.value)
    assert layers[target]["config"]["name"] in str(error.value)
