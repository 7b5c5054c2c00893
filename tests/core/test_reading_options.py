"""Reading what a plain read cannot: several models in one file (--model NAME), a class
count known only at run time (--classes), an input shape taken from unknown data
(--input-shape), and the Keras 1 / tf.keras 2 spellings Keras 3 reads differently."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import convscope as cs
from convscope.core.errors import ConvscopeError
from convscope.core.source.read import read_model

from ..helpers import QUICK, run_cli

GAN = textwrap.dedent("""
    from tensorflow import keras
    from tensorflow.keras import layers

    def build_generator(latent_dim=100):
        model = keras.Sequential(name="gen")
        model.add(layers.Dense(7 * 7 * 16, input_dim=latent_dim))
        model.add(layers.Reshape((7, 7, 16)))
        model.add(layers.Conv2DTranspose(8, 4, strides=2, padding="same"))
        model.add(layers.Conv2D(1, 7, activation="sigmoid", padding="same"))
        return model

    def build_discriminator(in_shape=(14, 14, 1)):
        model = keras.Sequential()
        model.add(layers.Conv2D(8, 3, strides=2, padding="same", input_shape=in_shape))
        model.add(layers.Flatten())
        model.add(layers.Dense(1, activation="sigmoid"))
        model.compile(loss="binary_crossentropy", optimizer="adam")
        return model

    generator = build_generator()
    discriminator = build_discriminator()
    gan = keras.Sequential([generator, discriminator])
    gan.compile(loss="binary_crossentropy", optimizer="adam")
""")


@pytest.mark.parametrize(
    ("pick", "first_layer", "input_shape"),
    [
        ("generator", "dense", (100,)),  # the caller's variable
        ("build_generator", "dense", (100,)),  # the function that builds it
        ("gen", "dense", (100,)),  # its name=
        ("discriminator", "conv2d_1", (14, 14, 1)),  # Keras counts on from the generator
        ("gan", "dense", (100,)),
    ],
)
def test_model_name_picks_one_of_several(
    pick: str, first_layer: str, input_shape: tuple[int, ...]
) -> None:
    spec = read_model(GAN, "gan.py", pick=pick).spec
    assert spec.layers[0].name == first_layer and spec.input_shape == input_shape


def test_without_a_name_the_last_compiled_is_read_and_the_others_are_listed() -> None:
    spec = read_model(GAN, "gan.py").spec
    assert len(spec.layers) == 7  # gan: the generator's layers, then the discriminator's
    (note,) = [n for n in spec.notes if "builds 3 models" in n]
    assert "generator (build_generator, line 6)" in note and "--model NAME" in note


@pytest.mark.parametrize(
    ("pick", "message"),
    [
        ("nope", "no model is called 'nope'; the file builds generator (build_generator"),
        ("model", "2 models are called 'model'"),  # both functions' local variable
    ],
)
def test_a_name_that_picks_no_single_model_lists_them(pick: str, message: str) -> None:
    result = run_cli("explain", "-", "--model", pick, stdin=GAN)
    assert result.code == 2 and message in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("flag", [["--model", "x"], ["--classes", "3"]])
def test_file_options_on_a_preset_are_refused(flag: list[str]) -> None:
    result = run_cli("explain", "chollet", *flag)
    assert result.code == 2 and "is for a Keras .py or .ipynb file" in result.err


FROM_UNKNOWN_DATA = textwrap.dedent("""
    import pandas as pd
    from tensorflow import keras
    from tensorflow.keras import layers
    df = pd.read_csv("train.csv")
    labels = df["label"].values
    images = df.drop("label", axis=1).values.reshape(-1, 28, 28, 1) / 255.0
    num_classes = len(set(labels))
    model = keras.Sequential([
        keras.Input(shape=images.shape[1:]),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Flatten(),
        layers.Dense(num_classes, activation="softmax"),
    ])
""")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "line 10: Input: `shape` cannot be worked out without running the file "
         "(`images.shape[1:]`)\n  pass the input shape with --input-shape"),
        (["--input-shape", "28,28,1"], "line 13: Dense: an argument cannot be worked out "
         "without running the file (`len(set(labels))`)\n  if this is the number of classes, "
         "pass it with --classes"),
    ],
)  # fmt: skip
def test_what_the_data_decides_names_the_option_that_supplies_it(
    options: list[str], message: str
) -> None:
    result = run_cli("explain", "-", *options, stdin=FROM_UNKNOWN_DATA)
    assert result.code == 2 and message in result.err


def test_input_shape_and_classes_complete_the_model() -> None:
    ex = cs.explain(code=FROM_UNKNOWN_DATA, input_shape=(28, 28, 1), classes=10)
    assert ex.rows[-1].output_shape == (10,) and ex.total_params == 320 + (26 * 26 * 32 + 1) * 10
    assert any("Dense units taken from --classes 10" in n for n in ex.notes)


KERAS1 = {
    "conv-three-numbers": ("Convolution2D(32, 3, 3, input_shape=(28, 28, 1))", (26, 26, 32),
                           "read as Keras 1 wrote it: 32 filters of 3x3"),
    "nb-row-nb-col": ("Convolution2D(nb_filter=8, nb_row=5, nb_col=3, border_mode='same', "
                      "input_shape=(28, 28, 1))", (28, 28, 8), "nb_filter, border_mode"),
    "subsample": ("Convolution2D(8, 3, 3, subsample=(2, 2), init='he_normal', "
                  "input_shape=(28, 28, 1))", (13, 13, 8), "subsample, init"),
    "dense-output-dim": ("Dense(output_dim=16, input_dim=784)", (16,), "output_dim"),
    "average-pooling-without-size": ("AveragePooling2D(input_shape=(28, 28, 1))", (14, 14, 1),
                                     "Keras 3 refuses it; read as tf.keras 2 did"),
}  # fmt: skip


@pytest.mark.parametrize(("layer", "shape", "note"), KERAS1.values(), ids=KERAS1.keys())
def test_keras1_spellings_are_read_as_meant_with_a_note(
    layer: str, shape: tuple[int, ...], note: str
) -> None:
    code = (
        "from keras.models import Sequential\nfrom keras.layers import *\n"
        f"model = Sequential()\nmodel.add({layer})\n"
    )
    ex = cs.explain(code=code)
    assert ex.rows[0].output_shape == shape
    assert any(note in n and n.startswith("line 4:") for n in ex.notes), ex.notes


def test_channels_first_keras1_is_refused() -> None:
    code = "from keras.layers import *\nfrom keras.models import Sequential\nm = Sequential()\n"
    code += "m.add(Convolution2D(8, 3, 3, dim_ordering='th', input_shape=(1, 28, 28)))\n"
    with pytest.raises(ConvscopeError, match="line 4: Convolution2D: dim_ordering='th'"):
        cs.explain(code=code)


TWO_CLASSIFIERS = textwrap.dedent("""
    from keras import layers, Sequential, Input
    small = Sequential([Input((28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    big = Sequential([Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                      layers.Flatten(), layers.Dense(10, activation="softmax")])
    big.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
""")


@pytest.mark.slow
def test_a_run_of_a_picked_model_reopens_as_that_model(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text(TWO_CLASSIFIERS)
    runs = tmp_path / "runs"
    result = run_cli("train", str(path), "--model", "small", *QUICK, "--runs-dir", str(runs))
    assert result.code == 0, result.err
    (run,) = runs.iterdir()
    assert cs.explain(str(path), pick="small").total_params == cs.load(run).explain().total_params
    assert run_cli("evaluate", str(run)).code == 0
    resumed = run_cli("train", "--resume", str(run), "--model", "big")
    assert resumed.code == 2 and "--model cannot change them" in resumed.err


def test_the_shape_of_the_data_given_to_fit_builds_the_model() -> None:
    code = textwrap.dedent("""
        from tensorflow import keras
        from tensorflow.keras import layers
        (x_train, y_train), _ = keras.datasets.fashion_mnist.load_data()
        x_train = x_train.reshape(-1, 28, 28, 1) / 255.0
        model = keras.Sequential([layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(10)])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x_train, y_train, epochs=1)
    """)
    ex = cs.explain(code=code)
    assert ex.input_shape == (28, 28, 1) and ex.total_params == 80 + (26 * 26 * 8 + 1) * 10
    assert any(
        "line 8: the input shape (28, 28, 1) is the shape of the data" in n for n in ex.notes
    )


def test_fit_data_says_nothing_when_the_model_has_its_own_input() -> None:
    code = textwrap.dedent("""
        from tensorflow import keras
        from tensorflow.keras import layers
        (x_train, y_train), _ = keras.datasets.fashion_mnist.load_data()
        model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3), layers.Flatten()])
        model.fit(x_train, y_train, epochs=1)
    """)
    ex = cs.explain(code=code)
    assert ex.input_shape == (28, 28, 1)
    assert not any("the shape of the data" in n for n in ex.notes)


# ---- real notebook exports and data handling (issue 24, item 5) ----

NOTEBOOK_PIP = textwrap.dedent("""
    pip install -q tensorflow==2.15
    cd ..
    import tensorflow as tf
    model = tf.keras.Sequential([
        tf.keras.layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    time = 5  # Python's own, not IPython's %time
""")
CIFAR_STANDARDISED = textwrap.dedent("""
    import numpy as np
    from keras.datasets import cifar10
    from keras.models import Sequential
    from keras.layers import Conv2D, Flatten, Dense
    from keras.utils import to_categorical
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    x_train = x_train.astype('float32')
    x_test = x_test.astype('float32')
    mean = np.mean(x_train, axis=(0, 1, 2, 3))
    std = np.std(x_train, axis=(0, 1, 2, 3))
    x_train = (x_train - mean) / (std + 1e-7)
    x_test = (x_test - mean) / (std + 1e-7)
    {extra}
    y_train = to_categorical(y_train, 10)
    model = Sequential()
    model.add(Conv2D(32, (3, 3), padding='same', input_shape=x_train.shape[1:]))
    model.add(Flatten())
    model.add(Dense(10, activation='softmax'))
""")
FLOWERS = textwrap.dedent("""
    import tensorflow as tf
    from tensorflow.keras import layers
    from tensorflow.keras.models import Sequential
    train_ds = tf.keras.utils.image_dataset_from_directory(
        "flower_photos", validation_split=0.2, subset="training", seed=123, {size}batch_size=32)
    val_ds = tf.keras.utils.image_dataset_from_directory(
        "flower_photos", validation_split=0.2, subset="validation", seed=123, {size}batch_size=32)
    AUTOTUNE = tf.data.AUTOTUNE
    train_ds = train_ds.cache().shuffle(1000).prefetch(buffer_size=AUTOTUNE)
    model = Sequential([
        layers.Rescaling(1./255),
        layers.Conv2D(16, 3, padding='same', activation='relu'),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(5),
    ])
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
    model.fit(train_ds, validation_data=val_ds, epochs=10)
""")


@pytest.mark.parametrize(
    ("source", "input_shape", "note"),
    [
        (NOTEBOOK_PIP, (28, 28, 1), None),
        (CIFAR_STANDARDISED.format(extra=""), (32, 32, 3), None),
        (CIFAR_STANDARDISED.format(
            extra="x_train = (x_train - x_train.mean(axis=(0, 1, 2), keepdims=True)) / x_train.std()"),
         (32, 32, 3), None),
        (FLOWERS.format(size="image_size=(180, 180), "), (180, 180, 3),
         "the input shape (180, 180, 3) is the shape of the data model.fit() is given "
         "(image_dataset_from_directory's 180x180 rgb images)"),
        (FLOWERS.format(size=""), (256, 256, 3), "256x256 rgb images"),
        (FLOWERS.format(size="color_mode='grayscale', image_size=(64, 48), "), (64, 48, 1), "64x48 grayscale"),
        (FLOWERS.format(size="image_size=(32, 32), ").replace('subset="training"', 'subset="both"')
         .replace("train_ds = tf", "train_ds, _ = tf"), (32, 32, 3), "32x32 rgb"),
    ],
    ids=["bare-pip-install", "cifar-mean-std", "cifar-per-channel-keepdims", "image-folder",
         "image-folder-default-size", "image-folder-grayscale", "image-folder-subset-both"],
)  # fmt: skip
def test_real_notebook_exports_and_data_handling_are_read(
    source: str, input_shape: tuple[int, ...], note: str | None
) -> None:
    ex = cs.explain(code=source)
    assert ex.input_shape == input_shape
    if note:
        assert any(note in n for n in ex.notes), ex.notes


def test_shapes_that_do_not_broadcast_stay_unknown() -> None:
    source = CIFAR_STANDARDISED.format(extra="x_train = x_train - np.mean(x_train, axis=(1, 2))")
    result = run_cli("explain", "-", stdin=source)
    assert result.code == 2 and "line 17: Conv2D: `input_shape` cannot be worked out" in result.err
