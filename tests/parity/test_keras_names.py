"""Layer and model names of a file that builds several models, as Keras 3 gives them: its
name counters belong to the session, so a second model continues the first's
(leaky_re_lu_3, dense_1, sequential_1). Keras runs each file here (our own test source)
and is the oracle; convscope reads it without running it, one model at a time."""

from __future__ import annotations

from typing import Any

import pytest

from convscope.core.explain.rules import explain
from convscope.core.source.read import read_model

from .keras_oracle import keras

GAN = """
import keras
from keras import layers

def make_generator_model():
    model = keras.Sequential()
    model.add(layers.Input((100,)))
    model.add(layers.Dense(7 * 7 * 16, use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Reshape((7, 7, 16)))
    model.add(layers.Conv2DTranspose(8, (5, 5), strides=(1, 1), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(4, (5, 5), strides=(2, 2), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", activation="tanh"))
    return model

def make_discriminator_model():
    model = keras.Sequential()
    model.add(layers.Input((28, 28, 1)))
    model.add(layers.Conv2D(8, (5, 5), strides=(2, 2), padding="same"))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Conv2D(16, (5, 5), strides=(2, 2), padding="same"))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model

generator = make_generator_model()
discriminator = make_discriminator_model()
"""
BUILT_TWICE = """
from keras import layers, Sequential

def build(width):
    return Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(width, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(10, activation="softmax", name="classes" if width > 8 else None),
    ])

small = build(8)
wide = build(16)
unused = layers.Dense(3)
third = Sequential([layers.Input((4,)), layers.Dense(2)], name="mine")
"""
CHAIN = """
import keras
from keras import layers

data_augmentation = keras.Sequential(
    [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.2)]
)
inputs = keras.Input(shape=(180, 180, 3))
x = data_augmentation(inputs)
x = layers.Rescaling(1./255)(x)
x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
second = keras.Model([inputs], [x])
"""
CASES = {
    "gan": (GAN, ["generator", "discriminator"]),
    "built-twice": (BUILT_TWICE, ["small", "wide", "third"]),
    "functional-chain": (CHAIN, ["model", "second"]),
}


def flat_layers(model: Any) -> list[Any]:
    """A model's layers with a nested Sequential's in its place (as convscope reads it)."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Sequential):
            found += flat_layers(layer)
        elif not isinstance(layer, keras.layers.InputLayer):
            found.append(layer)
    return found


def run_in_keras(source: str) -> dict[str, Any]:
    keras.backend.clear_session(free_memory=False)  # a fresh session, as a script starts
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # the test's own source, not a user's file
    return namespace


@pytest.mark.parametrize("case", CASES)
def test_every_models_names_continue_keras_counters(case: str) -> None:
    source, models = CASES[case]
    built = run_in_keras(source)
    for variable in models:
        spec = read_model(source, f"{case}.py", pick=variable).spec
        reference = built[variable]
        assert [layer.name for layer in spec.layers] == [
            layer.name for layer in flat_layers(reference)
        ], variable
        assert spec.name == reference.name, variable
        assert explain(spec).total_params == reference.count_params(), variable


def test_the_gan_fixture_names_its_discriminator_as_keras_does() -> None:
    """The issue's own example: the discriminator of a DCGAN script built after its generator."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures" / "scripts" / "dcgan_two_models.py"
    spec = read_model(path.read_text(), path.name, pick="discriminator").spec
    names = [layer.name for layer in spec.layers]
    assert names[:2] == ["conv2d", "leaky_re_lu_3"] and names[-1] == "dense_1"
    assert spec.name == "sequential_1"
