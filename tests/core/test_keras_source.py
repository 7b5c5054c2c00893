"""The importer: the forms people paste, and the mistakes they make."""

from __future__ import annotations

import textwrap

import pytest

from convscope.core.errors import ConvscopeError
from convscope.core.source.read import read_model

FORMS = {
    "list-form-keras-layers": """
        import keras
        model = keras.Sequential([keras.layers.Conv2D(8, 3, input_shape=(28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    """,
    "add-form-tf-keras": """
        import tensorflow as tf
        model = tf.keras.models.Sequential()
        model.add(tf.keras.layers.Conv2D(8, (3, 3), input_shape=(28, 28, 1)))
        model.add(tf.keras.layers.Flatten())
        model.add(tf.keras.layers.Dense(10))
    """,
    "from-imports": """
        from keras.models import Sequential
        from keras.layers import Conv2D, Flatten, Dense
        model = Sequential()
        model.add(Conv2D(8, kernel_size=3, input_shape=(28, 28, 1)))
        model.add(Flatten())
        model.add(Dense(10))
    """,
    "star-import": """
        from tensorflow.keras.layers import *
        from tensorflow.keras.models import Sequential
        model = Sequential([Input(shape=(28, 28, 1)), Conv2D(8, 3), Flatten(), Dense(10)])
    """,
    "aliased-layers-module": """
        from tensorflow.keras import layers as L, models
        model = models.Sequential([L.Conv2D(8, 3, input_shape=(28, 28, 1)), L.Flatten(), L.Dense(10)])
    """,
    "no-imports-snippet": """
        model = keras.Sequential([
            keras.layers.Conv2D(8, (3,3), activation=tf.nn.relu, input_shape=(28,28,1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation=tf.nn.softmax),
        ])
    """,
    "names-and-arithmetic": """
        from keras import layers, Sequential
        img_rows, img_cols = 28, 28
        input_shape = (img_rows, img_cols, 1)
        base = 4
        model = Sequential([layers.Conv2D(base * 2, 3, input_shape=input_shape), layers.Flatten(),
                            layers.Dense(num_classes if False else 10)])
    """,
    "channels-last-branch": """
        from keras import backend as K
        from keras import layers, Sequential
        if K.image_data_format() == 'channels_first':
            input_shape = (1, 28, 28)
        else:
            input_shape = (28, 28, 1)
        model = Sequential([layers.Conv2D(8, 3, input_shape=input_shape), layers.Flatten(), layers.Dense(10)])
    """,
    "built-in-a-function": """
        from keras import layers, models
        def build_model(filters, classes=10):
            model = models.Sequential()
            model.add(layers.Conv2D(filters, 3, input_shape=(28, 28, 1)))
            model.add(layers.Flatten())
            model.add(layers.Dense(classes))
            return model
        if __name__ == '__main__':
            model = build_model(8)
            model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
    """,
    "function-never-called": """
        from keras import layers, models
        def build_model():
            return models.Sequential([layers.Conv2D(8, 3, input_shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10)])
    """,
    "for-loop-over-literal": """
        from keras import layers, models
        model = models.Sequential([layers.Input((28, 28, 1))])
        for filters in [8]:
            model.add(layers.Conv2D(filters, 3))
        model.add(layers.Flatten())
        model.add(layers.Dense(10))
    """,
    "layer-list-built-then-passed": """
        from keras import layers, models
        stack = [layers.Conv2D(8, 3, input_shape=(28, 28, 1))]
        stack.append(layers.Flatten())
        stack += [layers.Dense(10)]
        model = models.Sequential(stack)
    """,
    "whole-training-script": """
        import numpy as np
        from tensorflow import keras
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        x_train = x_train.astype("float32") / 255
        x_train = np.expand_dims(x_train, -1)
        num_classes = 10
        y_train = keras.utils.to_categorical(y_train, num_classes)
        model = keras.Sequential(
            [keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
             keras.layers.Flatten(), keras.layers.Dropout(0.5), keras.layers.Dense(num_classes, activation="softmax")]
        )
        model.summary()
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        model.fit(x_train, y_train, batch_size=128, epochs=15, validation_split=0.1)
        score = model.evaluate(x_test, y_test, verbose=0)
        print("Test loss:", score[0])
    """,
}


@pytest.mark.parametrize("form", FORMS)
def test_reads_the_forms_people_paste(form: str) -> None:
    spec = read_model(textwrap.dedent(FORMS[form]), f"{form}.py").spec
    kinds = [layer.keras_class for layer in spec.layers]
    assert spec.input_shape == (28, 28, 1)
    assert kinds[0] == "Conv2D" and kinds[-1] == "Dense"
    assert spec.layers[0].filters == 8  # type: ignore[attr-defined]
    assert spec.layers[-1].units == 10  # type: ignore[attr-defined]


def test_compile_and_fit_arguments_are_kept() -> None:
    found = read_model(textwrap.dedent(FORMS["whole-training-script"]), "s.py")
    assert found.compile_args["optimizer"] == "adam"
    assert found.fit_args["batch_size"] == 128
    assert found.fit_args["epochs"] == 15


def test_arguments_normalise_once() -> None:
    source = """
        from keras import layers, Sequential
        model = Sequential([layers.Input((28, 28, 1)), layers.Conv2D(4, 3), layers.Conv2D(4, (3, 3)),
                            layers.Conv2D(4, [3, 3])])
    """
    layers = read_model(textwrap.dedent(source), "n.py").spec.layers
    assert len({layer.kernel_size for layer in layers}) == 1  # type: ignore[attr-defined]


def test_never_executes_the_file(tmp_path: object) -> None:
    source = """
        import os
        os.system("touch /tmp/convscope-was-run")
        open("/tmp/convscope-was-run", "w").write("x")
        from keras import layers, Sequential
        model = Sequential([layers.Dense(2, input_shape=(3,))])
    """
    import os

    if os.path.exists("/tmp/convscope-was-run"):
        os.remove("/tmp/convscope-was-run")
    read_model(textwrap.dedent(source), "side_effects.py")
    assert not os.path.exists("/tmp/convscope-was-run")


MISTAKES = {
    "syntax-missing-comma": (
        "model = keras.Sequential([\n    keras.layers.Dense(2, input_shape=(3,))\n    keras.layers.Dense(1)\n])\n",
        "m.py, line 2: syntax error: a comma is missing between the items on lines 2 and 3",
    ),
    "misspelt-layer": (
        "from keras import layers\nm = keras.Sequential([layers.Conv2D(2, 3, input_shape=(8, 8, 1)),\n  layers.MaxPooling2d(2)])\n",
        "m.py, line 3: unknown layer `MaxPooling2d`: Keras has no such layer\n  did you mean MaxPooling2D?",
    ),
    "misspelt-bare-layer": (
        "from keras.layers import *\nm = Sequential([Conv2D(2, 3, input_shape=(8, 8, 1)), Flaten()])\n",
        "did you mean Flatten?",
    ),
    "unsupported-layer": (
        "import keras\nm = keras.Sequential([keras.layers.LSTM(4, input_shape=(8, 3))])\n",
        "m.py, line 2: `LSTM` is a Keras layer that convscope does not support yet",
    ),
    "two-inputs": (
        "import keras\na = keras.Input((8, 8, 1))\nb = keras.Input((8, 8, 1))\n"
        "model = keras.Model([a, b], keras.layers.add([a, b]))\n",
        "m.py, line 4: keras.Model with 2 inputs: convscope reads models with one input and one output",
    ),
    "two-outputs": (
        "import keras\na = keras.Input((8, 8, 1))\nx = keras.layers.Conv2D(2, 3)(a)\n"
        "model = keras.Model(a, [x, keras.layers.Conv2D(2, 3)(a)])\n",
        "m.py, line 4: keras.Model with 2 outputs",
    ),
    "output-from-another-input": (
        "import keras\na = keras.Input((8, 8, 1))\nb = keras.Input((8, 8, 1))\n"
        "model = keras.Model(a, keras.layers.add([a, b]))\n",
        "m.py, line 4: the output is computed from 2 inputs",
    ),
    "shared-layer": (
        "import keras\na = keras.Input((8, 8, 2))\nconv = keras.layers.Conv2D(2, 3, padding='same')\n"
        "model = keras.Model(a, conv(conv(a)))\n",
        "m.py, line 4: a Conv2D layer is called twice (its weights shared)",
    ),
    "merge-on-one-tensor": (
        "import keras\na = keras.Input((8, 8, 2))\nmodel = keras.Model(a, keras.layers.Add()(a))\n",
        "m.py, line 3: Add is a merge layer: it is called on a list of tensors",
    ),
    "layer-on-a-list": (
        "import keras\na = keras.Input((8, 8, 2))\nmodel = keras.Model(a, keras.layers.Conv2D(2, 3)([a, a]))\n",
        "m.py, line 3: Conv2D is called on a list of tensors",
    ),
    "subclassing": (
        "import keras\nclass Net(keras.Model):\n    def call(self, x):\n        return x\n",
        "m.py, line 2: the model is built by subclassing (class Net(Model)), whose call() is Python code",
    ),
    "no-model": ("x = 1\n", "m.py: no Keras model found"),
    "unknown-argument": (
        "import keras\nm = keras.Sequential([keras.layers.Conv2D(filter=3, kernel_size=3, input_shape=(8, 8, 1))])\n",
        "m.py, line 2: Conv2D: Conv2D has no argument `filter`; did you mean `filters`?",
    ),
    "bad-padding": (
        "import keras\nm = keras.Sequential([keras.layers.Conv2D(3, 3, padding='full', input_shape=(8, 8, 1))])\n",
        "m.py, line 2: Conv2D: `padding` must be 'valid' or 'same', got 'full'",
    ),
    "value-from-run-time": (
        "import sys, keras\nn = int(sys.argv[1])\nm = keras.Sequential([keras.layers.Dense(n, input_shape=(3,))])\n",
        "m.py, line 3: Dense: an argument cannot be worked out without running the file",
    ),
    "no-input-shape": (
        "import keras\nm = keras.Sequential([keras.layers.Dense(4)])\n",
        "m.py: the model has no input shape",
    ),
    "channels-first": (
        "import keras\nm = keras.Sequential([keras.layers.Conv2D(4, 3, data_format='channels_first', input_shape=(1, 8, 8))])\n",
        "only data_format='channels_last'",
    ),
    "strided-dilation": (
        "import keras\nm = keras.Sequential([keras.layers.Conv2D(4, 3, strides=2, dilation_rate=2, input_shape=(9, 9, 1))])\n",
        "`strides > 1` cannot be combined with `dilation_rate > 1`",
    ),
    "dropout-rate": (
        "import keras\nm = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), keras.layers.Dropout(1.5)])\n",
        "m.py, line 2: Dropout: `rate` must be a number between 0 and 1, got 1.5",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistakes_get_one_clear_message(mistake: str) -> None:
    source, expected = MISTAKES[mistake]
    with pytest.raises(ConvscopeError) as caught:
        read_model(source, "m.py")
    message = str(caught.value)
    assert expected in message
    assert len(message.splitlines()) <= 2
    assert "Traceback" not in message


def test_unknown_if_condition_follows_first_branch_and_says_so() -> None:
    source = """
        import sys, keras
        if len(sys.argv) > 1:
            model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,))])
        else:
            model = keras.Sequential([keras.layers.Dense(8, input_shape=(3,))])
    """
    spec = read_model(textwrap.dedent(source), "c.py").spec
    assert spec.layers[0].units == 4  # type: ignore[attr-defined]
    assert any("first branch" in note for note in spec.notes)


def test_last_compiled_model_is_chosen_and_noted() -> None:
    source = """
        import keras
        small = keras.Sequential([keras.layers.Dense(4, input_shape=(3,))])
        big = keras.Sequential([keras.layers.Dense(8, input_shape=(3,))])
        small.compile(optimizer='sgd', loss='mse')
    """
    spec = read_model(textwrap.dedent(source), "two.py").spec
    assert spec.layers[0].units == 4  # type: ignore[attr-defined]
    assert any("2 models" in note for note in spec.notes)


def test_model_name_is_keras_default_or_given() -> None:
    plain = read_model(
        "import keras\nm = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])\n", "a.py"
    )
    named = read_model(
        "import keras\nm = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))], name='tiny')\n",
        "b.py",
    )
    assert (plain.spec.name, named.spec.name) == ("sequential", "tiny")


def test_leaky_relu_takes_keras2_alpha() -> None:
    source = "import keras\nm = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), keras.layers.LeakyReLU(alpha=0.1)])\n"
    assert read_model(source, "a.py").spec.layers[1].negative_slope == 0.1  # type: ignore[attr-defined]


def test_activation_given_as_a_layer_object_says_what_to_do() -> None:
    source = "import keras\nm = keras.Sequential([keras.layers.Conv2D(4, 3, activation=keras.layers.LeakyReLU(), input_shape=(8, 8, 1))])\n"
    with pytest.raises(ConvscopeError) as caught:
        read_model(source, "a.py")
    assert "`activation` is a layer object (LeakyReLU(...))" in str(caught.value)
    assert "add it as its own layer" in str(caught.value)


def test_mistake_inside_an_uncalled_function_is_reported() -> None:
    source = "from keras import layers, models\ndef build():\n    return models.Sequential([layers.Dense(2, input_shape=(3,)), layers.Dropuot(0.5)])\n"
    with pytest.raises(ConvscopeError) as caught:
        read_model(source, "f.py")
    assert "f.py, line 3: unknown layer `Dropuot`" in str(caught.value)
    assert "did you mean Dropout?" in str(caught.value)
