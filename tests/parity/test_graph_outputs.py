"""With the same weights, the compiled graph computes what Keras 3 computes, layer by
layer, on every branching model (inference: BN moving statistics made non-trivial)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convscope.core.source.read import read_model
from convscope.runtime.keras.weights import load_keras_weights
from convscope.runtime.nn.model import KerasModel

from .graph_cases import GRAPH_CASES
from .keras_oracle import keras
from .test_graph_parity import run_in_keras


@pytest.mark.parametrize("case", GRAPH_CASES)
def test_every_layer_of_a_graph_matches_keras(case: str) -> None:
    spec = read_model(GRAPH_CASES[case], f"{case}.py").spec
    reference = run_in_keras(GRAPH_CASES[case])
    rng = np.random.default_rng(1)
    for layer in reference.layers:
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in weights])
    layers = reference.layers[1:]  # the InputLayer holds nothing
    model = KerasModel(spec).eval()
    load_keras_weights(model, [layer.get_weights() for layer in layers])

    batch = rng.uniform(0, 1, (3, *spec.input_shape)).astype("float32")
    probe = keras.Model(reference.inputs, [layer.output for layer in layers])
    expected = probe([batch], training=False)
    with torch.no_grad():
        ours = model.activations(torch.from_numpy(batch))
    for layer, want, got in zip(layers, expected, ours, strict=True):
        want = keras.ops.convert_to_numpy(want)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5, err_msg=layer.name)


def test_a_graph_trains_its_merge_inputs() -> None:
    """Gradients reach both paths of a shortcut: the graph is one differentiable model."""
    spec = read_model(GRAPH_CASES["identity-shortcut"], "x.py").spec
    model = KerasModel(spec)
    x = torch.rand(2, *spec.input_shape, requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None and all(
        p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters()
    )
