"""compile()/fit() in a user's file -> training settings, with Keras 3's defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from convscope.core import presets, training
from convscope.core.errors import ConvscopeError
from convscope.core.source.read import read_model
from convscope.core.spec import Schedule, TrainingSpec

SEEDS = Path(__file__).parents[1] / "fixtures" / "seeds"

MODEL = """
import keras
from keras import layers
model = keras.Sequential([
    layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
"""


def settings(tail: str) -> TrainingSpec:
    text = MODEL + tail
    return training.from_source(training.read_compile_fit(read_model(text, "m.py"), text))


# (id, what the file says after the model, expected fields)
CASES = [
    (
        "string-optimizer",
        "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')",
        {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "learning_rate": None},
    ),
    (
        "class-with-rate",
        "model.compile(optimizer=keras.optimizers.Adadelta(learning_rate=1.0), loss='categorical_crossentropy')",
        {"optimizer": "adadelta", "optimizer_args": (("learning_rate", 1.0),)},
    ),
    (
        "positional-rate-and-momentum",
        "model.compile(optimizer=keras.optimizers.SGD(0.1, 0.9), loss='categorical_crossentropy')",
        {"optimizer": "sgd", "optimizer_args": (("learning_rate", 0.1), ("momentum", 0.9))},
    ),
    (
        "keras2-lr-spelling",
        "model.compile(optimizer=keras.optimizers.RMSprop(lr=0.01), loss='categorical_crossentropy')",
        {"optimizer": "rmsprop", "optimizer_args": (("learning_rate", 0.01),)},
    ),
    (
        "loss-function-object",
        "model.compile(optimizer='sgd', loss=keras.losses.categorical_crossentropy)",
        {"loss": "categorical_crossentropy", "from_logits": False},
    ),
    (
        "loss-class-from-logits",
        "model.compile(optimizer='sgd', loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))",
        {"loss": "sparse_categorical_crossentropy", "from_logits": True},
    ),
    (
        "fit-batch-and-epochs",
        "model.compile(optimizer='adam', loss='categorical_crossentropy')\nmodel.fit(x, y, 256, 3)",
        {"batch_size": 256, "epochs": 3},
    ),
    (
        "fit-keywords",
        "model.compile(optimizer='adam', loss='categorical_crossentropy')\nmodel.fit(x, y, epochs=7, batch_size=16)",
        {"batch_size": 16, "epochs": 7},
    ),
    (
        "no-compile-keras-fit-defaults",
        "",
        {"optimizer": "adam", "batch_size": 32, "epochs": 5, "dataset": "mnist"},
    ),
    (
        "fashion-dataset",
        "from keras.datasets import fashion_mnist\n(x, y), _ = fashion_mnist.load_data()",
        {"dataset": "fashion-mnist"},
    ),
    (
        "cosine-schedule-as-the-rate",
        "s = keras.optimizers.schedules.CosineDecay(0.001, 1000, alpha=0.1)\n"
        "model.compile(optimizer=keras.optimizers.Adam(learning_rate=s), loss='categorical_crossentropy')",
        {
            "optimizer_args": (),
            "schedule": Schedule(
                "CosineDecay",
                (("initial_learning_rate", 0.001), ("decay_steps", 1000), ("alpha", 0.1)),
            ),
        },
    ),
    (
        "exponential-schedule-positional",
        "model.compile(optimizer=keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay("
        "0.1, 100, 0.5, staircase=True), momentum=0.9), loss='categorical_crossentropy')",
        {
            "optimizer_args": (("momentum", 0.9),),
            "schedule": Schedule(
                "ExponentialDecay",
                (
                    ("initial_learning_rate", 0.1),
                    ("decay_steps", 100),
                    ("decay_rate", 0.5),
                    ("staircase", True),
                ),
            ),
        },
    ),
    (
        "label-smoothing",
        "model.compile(optimizer='adam', loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1))",
        {"loss": "categorical_crossentropy", "label_smoothing": 0.1},
    ),
    (
        "fashion-dataset-attribute",
        "data = keras.datasets.fashion_mnist.load_data()",
        {"dataset": "fashion-mnist"},
    ),
]


@pytest.mark.parametrize(("tail", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_compile_and_fit_arguments(tail: str, expected: dict[str, object]) -> None:
    spec = settings(tail)
    for field, value in expected.items():
        assert getattr(spec, field) == value, field


MISTAKES = [
    (
        "unknown-optimizer",
        "model.compile(optimizer='adamax', loss='categorical_crossentropy')",
        "unknown optimizer 'adamax'",
    ),
    ("regression-loss", "model.compile(optimizer='adam', loss='mse')", "got loss 'mse'"),
    (
        "wrong-argument",
        "model.compile(optimizer=keras.optimizers.Adam(momentum=0.9), loss='categorical_crossentropy')",
        "adam takes no argument 'momentum'",
    ),
    (
        "unknown-schedule",
        "model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CyclicDecay(1)), loss='categorical_crossentropy')",
        "does not know the learning-rate schedule CyclicDecay",
    ),
    (
        "schedule-without-steps",
        "model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.1)), loss='categorical_crossentropy')",
        "CosineDecay() needs decay_steps=",
    ),
    (
        "schedule-wrong-argument",
        "model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.1, 10, warmup=5)), loss='categorical_crossentropy')",
        "CosineDecay takes no argument 'warmup'",
    ),
    (
        "schedule-unknown-value",
        "model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.1, n)), loss='categorical_crossentropy')",
        "CosineDecay(decay_steps=...) must be a number known when the file is read",
    ),
    (
        "warmup-target-without-steps",
        "model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.1)), loss='categorical_crossentropy')",
        "needs warmup_steps > 0, got 0",
    ),
    (
        "piecewise-lengths",
        "model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01])), loss='categorical_crossentropy')",
        "one more value than boundaries, got 2 boundaries and 2 values",
    ),
    (
        "sparse-label-smoothing",
        "model.compile(optimizer='adam', loss=keras.losses.SparseCategoricalCrossentropy(label_smoothing=0.1))",
        "SparseCategoricalCrossentropy takes no argument 'label_smoothing'",
    ),
    (
        "label-smoothing-out-of-range",
        "model.compile(optimizer='adam', loss=keras.losses.CategoricalCrossentropy(label_smoothing=1.5))",
        "label_smoothing must be a number in [0, 1), got 1.5",
    ),
    (
        "zero-epochs",
        "model.compile(optimizer='adam', loss='categorical_crossentropy')\nmodel.fit(x, y, epochs=0)",
        "epochs=...) must be a positive integer, got 0",
    ),
]


@pytest.mark.parametrize(
    ("tail", "message"), [c[1:] for c in MISTAKES], ids=[c[0] for c in MISTAKES]
)
def test_mistakes_are_named(tail: str, message: str) -> None:
    with pytest.raises(ConvscopeError, match=re.escape(message)) as error:
        settings(tail)
    assert error.value.where == "m.py"


def test_the_keras_example_gets_keras3_adadelta_and_a_warning() -> None:
    text = (SEEDS / "keras_mnist_cnn.py").read_text()
    spec = training.from_source(training.read_compile_fit(read_model(text, "mnist_cnn.py"), text))
    assert (spec.optimizer, spec.loss, spec.batch_size, spec.epochs) == (
        "adadelta",
        "categorical_crossentropy",
        128,
        12,
    )
    assert training.hyperparameters(spec)["learning_rate"] == 0.001
    [warning] = training.training_warnings(spec)
    assert "0.001" in warning and "1.0" in warning and "84%" in warning


def test_the_preset_trains_adadelta_at_1_without_warning() -> None:
    spec = presets.model("keras-mnist-cnn").training
    assert spec is not None
    assert training.hyperparameters(spec)["learning_rate"] == 1.0
    assert training.training_warnings(spec) == []


@pytest.mark.parametrize(
    ("name", "defaults"),
    [
        ("rmsprop", {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7}),
        ("adam", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
        ("sgd", {"learning_rate": 0.01, "momentum": 0.0}),
        ("adadelta", {"learning_rate": 0.001, "rho": 0.95}),
        ("adagrad", {"initial_accumulator_value": 0.1}),
        ("adamw", {"weight_decay": 0.004}),
    ],
)
def test_defaults_are_keras3s(name: str, defaults: dict[str, float]) -> None:
    """Against Keras 3 itself."""
    from ..parity.keras_oracle import keras

    keras_class = {v: k for k, v in training.OPTIMIZER_CLASSES.items()}[name]
    config = getattr(keras.optimizers, keras_class)().get_config()
    for key, value in {**training.OPTIMIZERS[name], **defaults}.items():
        assert config[key] == pytest.approx(value), key


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_a_presets_settings_are_what_its_source_says(name: str) -> None:
    """The code shown is the code trained: compile() and fit() read from the preset's
    source give its declared settings (the dataset, which fit() only names, aside)."""
    preset = presets.get(name)
    found = training.read_compile_fit(read_model(preset.source, name), preset.source)
    declared = preset.training
    assert found.optimizer == declared.optimizer
    assert found.loss == declared.loss
    assert found.schedule == declared.schedule
    assert found.label_smoothing == declared.label_smoothing
    assert found.from_logits == declared.from_logits
    assert dict(found.optimizer_args) == {
        **dict(declared.optimizer_args),
        **({"learning_rate": declared.learning_rate} if declared.learning_rate else {}),
    }
    assert found.epochs in (declared.epochs, None)
    assert found.batch_size in (declared.batch_size, None)
