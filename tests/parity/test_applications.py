"""keras.applications read from their Keras source equal keras.applications itself (built
offline, weights=None): every layer's name, class, output shape, parameters and
"Connected to", the totals and the model's name."""

from __future__ import annotations

import pytest

from convscope.core.explain.rules import explain
from convscope.core.source.read import read_model

from .keras_oracle import keras
from .test_graph_parity import summary

CALLS = {
    "vgg16": "VGG16(weights=None)",
    "vgg19-no-top-avg": "VGG19(include_top=False, weights=None, input_shape=(64, 64, 3), pooling='avg')",
    "resnet50": "ResNet50(weights=None)",
    "resnet50-no-top-max-cifar": "ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3), pooling='max')",
    "resnet50-10-classes": "ResNet50(weights=None, input_shape=(96, 96, 3), classes=10)",
    "mobilenetv2": "MobileNetV2(weights=None)",
    "mobilenetv2-alpha-035-96": "MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=7)",
    "mobilenetv2-odd-size-no-top": "MobileNetV2(input_shape=(75, 75, 3), include_top=False, weights=None, pooling='avg')",
    "mobilenetv2-alpha-14": "MobileNetV2(alpha=1.4, weights=None)",
}  # fmt: skip


@pytest.mark.parametrize("case", CALLS)
def test_an_application_matches_keras(case: str) -> None:
    call = CALLS[case]
    ex = explain(read_model(f"import keras\nmodel = keras.applications.{call}\n", "a.py").spec)
    keras.backend.clear_session(free_memory=False)
    reference = eval(f"keras.applications.{call}")  # our own test's call, not user content
    ours = [
        (r.name, r.layer_type, r.output_shape, r.trainable, r.non_trainable, r.connected)
        for r in ex.rows
    ]
    expected = summary(reference)[1:]  # after the InputLayer
    if not ex.is_graph:  # a chain (VGG) is explained as the Sequential it equals
        expected = [(*row[:5], "") for row in expected]
    assert ours == expected
    assert ex.model == reference.name
    assert ex.total_params == reference.count_params()
