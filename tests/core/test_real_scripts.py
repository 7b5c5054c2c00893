"""Real-style Keras scripts (tests/fixtures/scripts, written for these tests in the styles
the tutorials use): each explained with the numbers of the same model written plainly,
and those checked against real Keras 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import convscope as cs
from convscope.core.keras_source import read_model

SCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "scripts"
H = "from keras import layers, Sequential, Input\nmodel = Sequential([\n"

# script -> the same model with every shape written out
PLAIN = {
    "mnist_from_data.py": H + "Input((28, 28, 1)), layers.Conv2D(32, 3, activation='relu'), "
    "layers.MaxPooling2D(), layers.Conv2D(64, 3, activation='relu'), layers.Flatten(), "
    "layers.Dense(10, activation='softmax')])\n",
    "fashion_expand_dims.py": H + "Input((28, 28, 1)), layers.Conv2D(16, 3, padding='same'), "
    "layers.MaxPooling2D(2, 2), layers.Flatten(), layers.Dense(10)])\n",
    "cifar_small.py": H
    + "Input((32, 32, 3)), layers.Conv2D(32, 3, padding='same', name='block0_conv'), "
    "layers.MaxPooling2D(name='block0_pool'), layers.Conv2D(64, 3, padding='same', name='block1_conv'), "
    "layers.MaxPooling2D(name='block1_pool'), layers.Flatten(), layers.Dense(10)])\n",
    "notebook_export.py": H
    + "Input((28, 28, 1)), layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(10)])\n",
}


def numbers(ex: cs.Explanation) -> list[tuple[str, tuple[int, ...], int]]:
    return [(r.name, r.output_shape, r.params) for r in ex.rows]


@pytest.mark.parametrize("script", PLAIN)
def test_a_real_script_has_the_plain_models_numbers(script: str) -> None:
    ex = cs.explain(SCRIPTS / script)
    assert numbers(ex) == numbers(cs.explain(code=PLAIN[script]))


@pytest.mark.slow
@pytest.mark.parametrize("script", PLAIN)
def test_the_plain_models_are_keras_numbers(script: str) -> None:
    from ..parity.keras_oracle import keras_model

    spec = read_model(PLAIN[script], "plain.py").spec
    reference = keras_model(spec)
    assert reference.count_params() == cs.explain(SCRIPTS / script).total_params
    ours = [r.output_shape for r in cs.explain(SCRIPTS / script).rows]
    assert ours == [tuple(layer.output.shape[1:]) for layer in reference.layers]


def test_notes_say_where_the_shape_came_from() -> None:
    ex = cs.explain(SCRIPTS / "mnist_from_data.py")
    assert any("mnist.load_data() is read as Keras documents it" in n for n in ex.notes)


def test_a_notebook_is_read_cell_by_cell(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "source": ["# A model\n"]},
        {
            "cell_type": "code",
            "source": ["%matplotlib inline\n", "from keras import layers, Sequential\n"],
        },
        {
            "cell_type": "code",
            "source": "model = Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10)])",
        },
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    assert cs.explain(path).total_params == 7_850


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            H + "Input((28, 28, 1)), layers.Dense(2, name='a'), layers.Dense(2, name='a')])\n",
            "two layers are named 'a'",
        ),
        (H + "Input((28, 28, 1)), layers.Dense(2, name='a\\x1b[31m')])\n", "printable text"),
        (H + "Input((28, 28, 1)), layers.Dense(2, name='x' * 2000 + '\\n')])\n", "characters) ..."),
    ],
    ids=["duplicate-names", "escape-in-name", "long-echo"],
)
def test_names_keras_refuses_are_refused_readably(source: str, message: str) -> None:
    with pytest.raises(
        cs.ConvscopeError, match=message.replace("(", r"\(").replace(")", r"\)")
    ) as caught:
        cs.explain(code=source)
    text = str(caught.value)
    assert "\x1b" not in text and len(text) < 1300


def test_settings_that_change_no_number_are_accepted() -> None:
    source = (
        "import tensorflow as tf\nfrom tensorflow.keras import layers, regularizers\n"
        "model = tf.keras.Sequential([layers.Input((28, 28, 1)),\n"
        "  layers.Conv2D(4, 3, kernel_regularizer=regularizers.l2(1e-4), bias_initializer=tf.keras.initializers.Constant(0.1),\n"
        "                kernel_constraint=tf.keras.constraints.MaxNorm(2)),\n"
        "  layers.Flatten(), layers.Dense(10, kernel_regularizer=some_function_of_mine())])\n"
    )
    assert (
        cs.explain(code=source).total_params
        == cs.explain(
            code=H
            + "Input((28, 28, 1)), layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(10)])\n"
        ).total_params
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "from keras import layers, Sequential, applications\n"
            "model = Sequential([layers.Input((224, 224, 3)), applications.ResNet50(weights=None), layers.Dense(10)])\n",
            "ResNet50 from keras.applications, a pretrained network",
        ),
        (
            "from keras import layers, Sequential\nimport json\ncfg = json.load(open('c.json'))\n"
            "model = Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(**cfg)])\n",
            "Dense(**cfg): its settings are only known when the file runs",
        ),
    ],
    ids=["pretrained-application", "unknown-star-kwargs"],
)
def test_what_cannot_be_read_is_named(source: str, message: str) -> None:
    with pytest.raises(
        cs.ConvscopeError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
    ):
        cs.explain(code=source)
