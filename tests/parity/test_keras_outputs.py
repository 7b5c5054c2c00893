"""With the same weights, the torch model computes what Keras 3 computes, layer by layer.

Every parity case is built in Keras 3 (torch backend) with its own random initial
weights; convscope's model receives them through load_keras_weights, and every layer's
output on a random batch must agree to 1e-5 (inference mode: dropout off, BN moving
statistics).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convscope.core.source.read import read_model
from convscope.runtime.keras.weights import load_keras_weights
from convscope.runtime.nn.model import KerasModel

from .cases import CASES
from .keras_oracle import keras_model


@pytest.mark.parametrize("case", CASES)
def test_same_outputs_as_keras(case: str) -> None:
    import keras

    spec = read_model(CASES[case], f"{case}.py").spec
    reference = keras_model(spec)
    rng = np.random.default_rng(0)
    for layer in reference.layers:  # non-trivial BN statistics, so they are really compared
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in weights])
    layers = [layer for layer in reference.layers if type(layer).__name__ != "InputLayer"]
    model = KerasModel(spec).eval()
    load_keras_weights(model, [layer.get_weights() for layer in layers])

    batch = rng.uniform(0, 1, (3, *spec.input_shape)).astype("float32")
    probe = keras.Model(reference.inputs, [layer.output for layer in layers])
    expected = probe([batch], training=False)
    expected = expected if isinstance(expected, list) else [expected]
    with torch.no_grad():
        ours = model.activations(torch.from_numpy(batch))
    for layer, want, got in zip(layers, expected, ours, strict=True):
        want = keras.ops.convert_to_numpy(want)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5, err_msg=layer.name)
