"""Real-style Keras scripts (tests/fixtures/scripts, written for these tests in the styles
the tutorials use): each explained with the numbers of the same model written plainly,
and those checked against real Keras 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import convscope as cs
from convscope.core.source.read import read_model

SCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "scripts"
H = "from keras import layers, Sequential, Input\nmodel = Sequential([\n"

L = "layers."


def plain(shape: tuple[int, ...], *items: str) -> str:
    return H + f"Input({shape}), " + ", ".join(L + i for i in items) + "])\n"


# (script, --model) -> the same model with every shape written out. Ten scripts written
# for these tests in the styles of the tutorials, books and notebooks our users copy.
PLAIN: dict[tuple[str, str | None], str] = {
    ("mnist_from_data.py", None): plain(
        (28, 28, 1), "Conv2D(32, 3, activation='relu')", "MaxPooling2D()",
        "Conv2D(64, 3, activation='relu')", "Flatten()", "Dense(10, activation='softmax')",
    ),
    ("fashion_expand_dims.py", None): plain(
        (28, 28, 1), "Conv2D(16, 3, padding='same')", "MaxPooling2D(2, 2)", "Flatten()",
        "Dense(10)",
    ),
    ("cifar_small.py", None): plain(
        (32, 32, 3), "Conv2D(32, 3, padding='same', name='block0_conv')",
        "MaxPooling2D(name='block0_pool')", "Conv2D(64, 3, padding='same', name='block1_conv')",
        "MaxPooling2D(name='block1_pool')", "Flatten()", "Dense(10)",
    ),
    ("notebook_export.py", None): plain((28, 28, 1), "Conv2D(8, 3)", "Flatten()", "Dense(10)"),
    ("dcgan_two_models.py", None): plain(  # Keras's counters run on from the generator
        (28, 28, 1), "Conv2D(64, 5, strides=2, padding='same')", "LeakyReLU(name='leaky_re_lu_3')",
        "Dropout(0.3)", "Conv2D(128, 5, strides=2, padding='same')",
        "LeakyReLU(name='leaky_re_lu_4')", "Dropout(0.3)", "Flatten()", "Dense(1, name='dense_1')",
    ),
    ("dcgan_two_models.py", "generator"): plain(
        (100,), "Dense(12544, use_bias=False)", "BatchNormalization()", "LeakyReLU()",
        "Reshape((7, 7, 256))", "Conv2DTranspose(128, 5, padding='same', use_bias=False)",
        "BatchNormalization()", "LeakyReLU()",
        "Conv2DTranspose(64, 5, strides=2, padding='same', use_bias=False)",
        "BatchNormalization()", "LeakyReLU()",
        "Conv2DTranspose(1, 5, strides=2, padding='same', use_bias=False, activation='tanh')",
    ),
    ("keras1_mnist_cnn.py", None): plain(
        (28, 28, 1), "Conv2D(32, 3)", "Activation('relu')", "Conv2D(32, 3)",
        "Activation('relu')", "MaxPooling2D()", "Dropout(0.25)", "Flatten()", "Dense(128)",
        "Activation('relu')", "Dropout(0.5)", "Dense(10)", "Activation('softmax')",
    ),
    ("augmentation_pipeline.py", None): plain(
        (32, 32, 3), "RandomFlip('horizontal')", "RandomRotation(0.1)", "RandomZoom(0.1)",
        "Rescaling(1 / 255)", "Conv2D(16, 3, padding='same', activation='relu')",
        "MaxPooling2D()", "Conv2D(32, 3, padding='same', activation='relu')", "MaxPooling2D()",
        "Conv2D(64, 3, padding='same', activation='relu')", "MaxPooling2D()", "Dropout(0.2)",
        "Flatten()", "Dense(128, activation='relu')", "Dense(10, name='outputs')",
    ),
    ("conv_autoencoder.py", None): plain(
        (28, 28, 1), "Conv2D(16, 3, activation='relu', padding='same')",
        "MaxPooling2D(padding='same')", "Conv2D(8, 3, activation='relu', padding='same')",
        "MaxPooling2D(padding='same')", "Conv2D(8, 3, activation='relu', padding='same')",
        "MaxPooling2D(padding='same')", "Conv2D(8, 3, activation='relu', padding='same')",
        "UpSampling2D()", "Conv2D(8, 3, activation='relu', padding='same')", "UpSampling2D()",
        "Conv2D(16, 3, activation='relu')", "UpSampling2D()",
        "Conv2D(1, 3, activation='sigmoid', padding='same')",
    ),
    ("builder_function.py", None): plain(
        (28, 28, 1), *[
            block for f in (32, 64) for block in (
                f"Conv2D({f}, 3, padding='same', use_bias=False)", "BatchNormalization()",
                "PReLU(shared_axes=[1, 2])", f"Conv2D({f}, 3, padding='same', activation='elu')",
                "MaxPooling2D()", "SpatialDropout2D(0.25)",
            )
        ], "GlobalAveragePooling2D()", "Dense(128, activation='relu')",
        "Dense(10, activation='softmax')",
    ),
}  # fmt: skip
REFUSED = {"subclassed.py": "line 6: the model is built by subclassing"}
GRAPHS = {"functional_resnet.py": ("add", 2_650)}  # a merge layer, the total parameters


def test_a_functional_script_is_read_as_its_graph() -> None:
    for script, (merge, params) in GRAPHS.items():
        ex = cs.explain(SCRIPTS / script)
        assert ex.is_graph and ex.total_params == params
        assert any(r.name == merge and r.connected.count("[0][0]") == 2 for r in ex.rows)


def numbers(ex: cs.Explanation) -> list[tuple[str, tuple[int, ...], int]]:
    return [(r.name, r.output_shape, r.params) for r in ex.rows]


def case_id(case: tuple[str, str | None]) -> str:
    return case[0].removesuffix(".py") + (f"--model-{case[1]}" if case[1] else "")


@pytest.mark.parametrize("case", PLAIN, ids=case_id)
def test_a_real_script_has_the_plain_models_numbers(case: tuple[str, str | None]) -> None:
    script, pick = case
    ex = cs.explain(SCRIPTS / script, pick=pick)
    assert numbers(ex) == numbers(cs.explain(code=PLAIN[case]))


@pytest.mark.slow
@pytest.mark.parametrize("case", PLAIN, ids=case_id)
def test_the_plain_models_are_keras_numbers(case: tuple[str, str | None]) -> None:
    from ..parity.keras_oracle import keras_model

    spec = read_model(PLAIN[case], "plain.py").spec
    reference = keras_model(spec)
    ours = cs.explain(SCRIPTS / case[0], pick=case[1])
    assert reference.count_params() == ours.total_params
    assert [r.output_shape for r in ours.rows] == [
        tuple(layer.output.shape[1:]) for layer in reference.layers
    ]


def test_ten_of_eleven_scripts_are_explained_and_the_rest_named() -> None:
    scripts = sorted(p.name for p in SCRIPTS.glob("*.py"))
    explained = {script for script, _ in PLAIN}
    assert len(scripts) >= 10 and set(scripts) == explained | set(REFUSED) | set(GRAPHS)
    assert len(explained) + len(GRAPHS) >= 0.9 * len(scripts)
    for script, message in REFUSED.items():
        with pytest.raises(cs.ConvscopeError, match=message):
            cs.explain(SCRIPTS / script)


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
            "is a functional graph (resnet50), which a Sequential cannot hold",
        ),
        (
            "from keras import layers, Sequential, applications\n"
            "model = Sequential([layers.Input((224, 224, 3)), applications.InceptionV3(weights=None), layers.Dense(10)])\n",
            "InceptionV3 from keras.applications, which convscope does not read",
        ),
        (
            "from keras import layers, Sequential\nimport json\ncfg = json.load(open('c.json'))\n"
            "model = Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(**cfg)])\n",
            "Dense(**cfg): its settings are only known when the file runs",
        ),
    ],
    ids=["graph-in-a-sequential", "unsupported-application", "unknown-star-kwargs"],
)
def test_what_cannot_be_read_is_named(source: str, message: str) -> None:
    with pytest.raises(
        cs.ConvscopeError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
    ):
        cs.explain(code=source)
