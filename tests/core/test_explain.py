"""Explain: the worked formulas, receptive fields, costs and notes the issue asks for."""

from __future__ import annotations

import textwrap

import pytest

from convscope.core.errors import ShapeError
from convscope.core.explain.rules import explain
from convscope.core.explain.table import Explanation
from convscope.core.presets import PRESETS, model
from convscope.core.source.read import read_model


def rows(ex: Explanation) -> dict[str, object]:
    return {r.name: r for r in ex.rows}


def from_source(source: str) -> Explanation:
    return explain(read_model(textwrap.dedent(source), "m.py").spec)


def test_chollet_numbers() -> None:
    ex = explain(model("chollet"))
    by = {r.name: r for r in ex.rows}
    assert ex.total_params == 93_322
    assert by["conv2d_2"].output_shape == (3, 3, 64)
    assert by["conv2d_2"].params == 36_928
    assert by["conv2d"].shape_formula.startswith("28 - 3 + 1 = 26")
    assert by["max_pooling2d"].shape_formula.startswith("floor(26 / 2) = 13")
    assert by["flatten"].shape_formula == "3 x 3 x 64 = 576"
    assert by["conv2d"].params_formula == "(3*3*1 + 1) * 32 = 320"


def test_keras_mnist_cnn_numbers_and_dense_note() -> None:
    ex = explain(model("keras-mnist-cnn"))
    by = {r.name: r for r in ex.rows}
    assert ex.total_params == 1_199_882
    assert [r.params for r in ex.rows] == [320, 18_496, 0, 0, 0, 1_179_776, 0, 1_290]
    assert by["dense"].params_formula == "(9216 + 1) * 128 = 1,179,776"
    assert any(n.startswith("dense holds 98.3% of all parameters") for n in ex.notes)


def test_same_padding_stride_two_formula() -> None:
    ex = from_source("""
        import keras
        m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, strides=2, padding='same')])
    """)
    assert ex.rows[0].shape_formula.startswith("ceil(28 / 2) = 14")
    assert ex.rows[0].output_shape == (14, 14, 4)


def test_non_square_formula_names_both_axes() -> None:
    ex = from_source("""
        import keras
        m = keras.Sequential([keras.Input((28, 20, 1)), keras.layers.Conv2D(4, (3, 5))])
    """)
    assert ex.rows[0].shape_formula.startswith("height 28 - 3 + 1 = 26; width 20 - 5 + 1 = 16")


def test_batchnorm_four_per_channel_two_not_trainable() -> None:
    ex = from_source("""
        import keras
        m = keras.Sequential([keras.Input((8, 8, 32)), keras.layers.BatchNormalization()])
    """)
    row = ex.rows[0]
    assert (row.params, row.trainable, row.non_trainable) == (128, 64, 64)
    assert row.params_formula.startswith("4 * 32 = 128")
    assert any("non-trainable" in n for n in ex.notes)


def test_receptive_field_and_last_map_note_for_chollet() -> None:
    ex = explain(model("chollet"))
    field = {r.name: r for r in ex.rows}["conv2d_2"].receptive_field
    assert field is not None and str(field.size) == "18x18" and str(field.jump) == "4x4"
    note = next(n for n in ex.notes if n.startswith("The last feature map"))
    assert "3 x 3 x 64 = 576 numbers" in note
    assert "each of the 9 positions sees an 18 x 18 window of the 28 x 28 input" in note
    assert "MNIST centres every digit" in note


def test_whole_input_coverage() -> None:
    ex = explain(model("keras-mnist-cnn"))
    note = next(n for n in ex.notes if n.startswith("The last feature map"))
    assert note.startswith("The last feature map, max_pooling2d's 12 x 12 x 64")  # not dropout's
    assert "cover the whole input" in note


def test_macs_and_memory() -> None:
    ex = explain(model("keras-mnist-cnn"))
    by = {r.name: r for r in ex.rows}
    assert by["conv2d"].macs == 26 * 26 * 32 * 9
    assert by["conv2d_1"].macs == 24 * 24 * 64 * 9 * 32
    assert by["dense"].macs == 9216 * 128
    assert by["conv2d"].activation_bytes == 26 * 26 * 32 * 4


def test_dense_on_a_map_applies_to_the_last_axis() -> None:
    ex = from_source("""
        import keras
        m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Dense(8)])
    """)
    assert ex.rows[0].output_shape == (28, 28, 8)
    assert ex.rows[0].params == 16


SHAPE_ERRORS = {
    "kernel-does-not-fit": (
        """\
        import keras
        from keras import layers
        model = keras.Sequential()
        model.add(layers.Conv2D(32, 3, activation='relu', input_shape=(28, 28, 1)))
        model.add(layers.MaxPooling2D(2))
        model.add(layers.Conv2D(64, 3, activation='relu'))
        model.add(layers.MaxPooling2D(2))
        model.add(layers.Conv2D(64, 3, activation='relu'))
        model.add(layers.MaxPooling2D(2))
        model.add(layers.Conv2D(64, 3, activation='relu'))
        """,
        "m.py: conv2d_3 (Conv2D, line 10): a 3x3 kernel does not fit a 1x1 input",
    ),
    "conv-after-flatten": (
        """\
        import keras
        m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Conv2D(4, 3)])
        """,
        "m.py: conv2d (Conv2D, line 2): needs a (height, width, channels) input, got (None, 784)",
    ),
    "missing-channel-axis": (
        """\
        import keras
        m = keras.Sequential([keras.layers.Conv2D(4, 3, input_shape=(28, 28))])
        """,
        "add the channel axis",
    ),
    "pool-too-big": (
        """\
        import keras
        m = keras.Sequential([keras.Input((3, 3, 1)), keras.layers.MaxPooling2D(4)])
        """,
        "a 4x4 pool window does not fit a 3x3 input",
    ),
    "groups-do-not-divide": (
        """\
        import keras
        m = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, groups=2)])
        """,
        "3 input channels cannot be split into groups=2",
    ),
}


@pytest.mark.parametrize("case", SHAPE_ERRORS)
def test_shape_errors_name_layer_line_rule_and_value(case: str) -> None:
    source, expected = SHAPE_ERRORS[case]
    with pytest.raises(ShapeError) as caught:
        from_source(source)
    assert expected in str(caught.value)


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_explains_with_its_classes(name: str) -> None:
    """Ten outputs for the digits, clothes and CIFAR-10; one sigmoid for cats vs dogs."""
    ex = explain(model(name))
    assert ex.rows[-1].output_shape == ((1,) if name == "chollet-cats-dogs" else (10,))
    assert ex.notes


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("18 x 18", "an 18 x 18"),
        ("8x8", "an 8x8"),
        ("11x11", "an 11x11"),
        ("3x3", "a 3x3"),
        ("180x180", "a 180x180"),
        ("110x110", "a 110x110"),
        ("84x84", "an 84x84"),
    ],
)
def test_article_follows_the_spoken_number(size: str, expected: str) -> None:
    from convscope.core.explain.notes import article

    assert article(size) == expected
