"""Keras's random augmentation layers in training mode: with a range of one value the
transform is fixed, so convscope's images must equal Keras's (torch backend, training=True).
At inference they are the identity (the parity cases check that layer by layer)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convscope.core.source.read import read_model
from convscope.runtime.nn.model import KerasModel

FIXED = {
    "rotation-quarter-turn": "RandomRotation((0.25, 0.25))",
    "rotation-constant-fill": "RandomRotation((0.1, 0.1), fill_mode='constant', fill_value=0.5)",
    "rotation-nearest": "RandomRotation((-0.05, -0.05), interpolation='nearest')",
    "zoom-out": "RandomZoom((0.5, 0.5))",
    "zoom-in-and-wider": "RandomZoom((-0.3, -0.3), (0.2, 0.2), fill_mode='nearest')",
    "translate-constant": "RandomTranslation((0.25, 0.25), (-0.2, -0.2), fill_mode='constant')",
    "translate-nearest": "RandomTranslation((0.1, 0.1), (0.3, 0.3), interpolation='nearest')",
}


def model(layer: str, shape: tuple[int, ...] = (12, 10, 1)) -> KerasModel:
    source = (
        "from keras import layers, Sequential, Input\n"
        f"model = Sequential([Input({shape}), layers.{layer}])\n"
    )
    return KerasModel(read_model(source, "augment.py").spec)


@pytest.mark.parametrize("layer", FIXED.values(), ids=FIXED.keys())
def test_a_fixed_transform_equals_keras_in_training(layer: str) -> None:
    import keras

    x = np.random.default_rng(0).uniform(0, 1, (2, 12, 10, 1)).astype("float32")
    want = keras.ops.convert_to_numpy(eval("keras.layers." + layer)(x, training=True))
    got = model(layer).train()(torch.from_numpy(x)).detach().numpy()
    assert np.abs(want - x).max() > 0.1  # the transform really moved something
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_random_layers_draw_a_new_transform_per_image_and_none_when_predicting() -> None:
    torch.manual_seed(0)
    x = torch.rand(64, 12, 10, 1).expand(64, 12, 10, 1).contiguous()
    x[:] = x[0]  # 64 copies of one image
    flip = model("RandomFlip('horizontal')").train()
    out = flip(x)
    flipped = torch.isclose(out, x.flip(2)).flatten(1).all(1)  # (64,)
    kept = torch.isclose(out, x).flatten(1).all(1)
    assert bool((flipped | kept).all()) and 10 < int(flipped.sum()) < 54
    turn = model("RandomRotation(0.2)").train()(x)
    assert len({round(float(v), 4) for v in turn.flatten(1).sum(1)}) > 50
    for layer in ("RandomFlip()", "RandomRotation(0.2)", "RandomZoom(0.3)"):
        assert torch.equal(model(layer).eval()(x), x)


FLAT_WITH_AUGMENTATION = """
import keras
from keras import layers
model = keras.Sequential([
    layers.Input(shape=(784,)),
    layers.Reshape((28, 28, 1)),
    layers.RandomRotation(0.05),
    layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
    layers.Conv2D(8, 3),
    layers.PReLU(shared_axes=[1, 2]),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
"""


@pytest.mark.slow
def test_a_flat_model_with_augmentation_layers_trains_and_is_drawn(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import convscope as cs

    path = tmp_path / "flat_augmented.py"
    path.write_text(FLAT_WITH_AUGMENTATION)
    run = cs.train(path, epochs=2, train_images=5000, runs_dir=tmp_path / "runs", quiet=True)
    assert run.test_accuracy > 0.75  # chance is 0.10; 0.83 measured with seed 1
    figures = cs.load(run.path).figures()
    assert {"feature_maps", "confusion"} <= set(figures.keys())  # the maps and the test results
