"""The report's answers, its windows and the no-pooling variant: this model's numbers."""

from __future__ import annotations

import pytest

from convscope.core import arith
from convscope.core.explain.answers import RunFacts, answers
from convscope.core.explain.rules import explain
from convscope.core.explain.table import Window, field_window, last_map
from convscope.core.presets import model
from convscope.core.source.read import read_model
from convscope.core.variants import pooling_layers, without_pooling

CHOLLET = model("chollet")


@pytest.mark.parametrize(
    ("start", "jump", "size", "index", "span"),
    [
        (0, 1, 1, 5, (5, 5)),  # the image itself
        (0, 1, 3, 0, (0, 2)),  # first 3x3 conv, first position
        (0, 4, 18, 2, (8, 25)),  # chollet's last conv, last position
        (-1, 2, 3, 0, (-1, 1)),  # 'same' padding: the window starts in the padding
    ],
    ids=["image", "conv3x3", "chollet-last", "same-padding"],
)
def test_window_span(start: int, jump: int, size: int, index: int, span: tuple[int, int]) -> None:
    assert arith.window_span(start, jump, size, index) == span


def test_chollet_last_map_is_a_3x3_grid_of_18x18_windows_4_apart() -> None:
    last = last_map(explain(CHOLLET).rows)
    assert last is not None and last.name == "conv2d_2"
    assert last.receptive_field is not None
    windows = {(r, c): field_window(last.receptive_field, r, c) for r in range(3) for c in range(3)}
    assert windows[(0, 0)] == Window(0, 0, 17, 17)
    assert windows[(1, 2)] == Window(4, 8, 21, 25)
    assert windows[(2, 2)] == Window(8, 8, 25, 25)
    assert {(w.height, w.width) for w in windows.values()} == {(18, 18)}


def test_window_clipped_to_the_image() -> None:
    assert Window(-1, -2, 5, 30).clipped(28, 28) == Window(0, 0, 5, 27)


def test_without_pooling_multiplies_dense_parameters_as_the_arithmetic_says() -> None:
    bare = without_pooling(CHOLLET)
    assert not pooling_layers(bare) and len(pooling_layers(CHOLLET)) == 2
    rows = {r.name: r for r in explain(bare).rows}
    # 28 -> 26 -> 24 -> 22 with three valid 3x3 convs: Flatten hands Dense 22*22*64 numbers.
    assert rows["conv2d_2"].output_shape == (22, 22, 64)
    assert rows["dense"].params == arith.dense_params(22 * 22 * 64, 64) == 1_982_528
    # the convolutions keep their parameters: pooling has none to lose
    original = {r.name: r.params for r in explain(CHOLLET).rows}
    assert all(rows[n].params == original[n] for n in ("conv2d", "conv2d_1", "conv2d_2"))


def by_key(facts: RunFacts | None = None, spec=CHOLLET) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each answer as one string, keyed by its anchor."""
    return {
        a.key: "\n".join([a.question, a.lead, *a.points])
        for a in answers(explain(spec), spec, facts)
    }


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("shapes", "28 - 3 + 1 = 26"),
        ("shapes", "32 filters, each a 3 x 3 x 1 block of weights"),
        ("shapes", "floor(11 / 2) = 5"),
        ("parameters", "(3*3*1 + 1) * 32 = 320"),
        ("parameters", "(3*3*32 + 1) * 64 = 18,496"),
        ("parameters", "Where are the 93,322 parameters?"),
        ("last-map", "How can a final 3 x 3 x 64 map classify?"),
        ("last-map", "an 18 x 18 window of the 28 x 28 input, 4 pixels apart"),
        ("last-map", "99.12% of the 10,000 MNIST test images correctly after 5 epochs"),
        ("pooling", "from 2,038,922 to 93,322 parameters"),
        ("pooling", "26 x 26 x 32 = 21,632 values become 13 x 13 x 32 = 5,408 (25% kept)"),
        ("pooling", "dense would need 1,982,528 parameters instead of 36,928"),
        ("pooling", "Max-pooling keeps the strongest response"),
    ],
    ids=lambda v: v if len(v) < 20 else v[:20],
)
def test_chollet_answers_use_its_numbers(key: str, expected: str) -> None:
    assert expected in by_key(RunFacts("MNIST", 0.9912, 10_000, 5))[key]


def test_untrained_model_says_so_instead_of_an_accuracy() -> None:
    text = by_key(None)["last-map"]
    assert "untrained" in text and "%" not in text.split("\n")[1]


def test_keras_mnist_cnn_answers() -> None:
    spec = model("keras-mnist-cnn")
    text = by_key(None, spec)
    assert "1,179,776" in text["parameters"]  # the seed's question: where does it come from
    assert "(9216 + 1) * 128 = 1,179,776" in text["parameters"]
    assert "12 x 12 x 64" in text["last-map"]


def test_a_model_without_pooling() -> None:
    spec = read_model(
        "from keras import layers, Sequential, Input\n"
        "model = Sequential([Input(shape=(28, 28, 1)), layers.Conv2D(8, 3, strides=2),"
        " layers.Flatten(), layers.Dense(10, activation='softmax')])\n",
        "strided.py",
    ).spec
    pooling = {a.key: a for a in answers(explain(spec), spec)}["pooling"]
    assert pooling.lead == "This model has no pooling layers." and not pooling.points


def test_average_pooling_is_described_as_such() -> None:
    spec = read_model(
        "from keras import layers, Sequential, Input\n"
        "model = Sequential([Input(shape=(28, 28, 1)), layers.Conv2D(8, 3),"
        " layers.AveragePooling2D(), layers.Flatten(), layers.Dense(10)])\n",
        "avg.py",
    ).spec
    text = by_key(None, spec)["pooling"]
    assert "Average-pooling keeps each window's mean" in text
    assert "Max-pooling" not in text
