"""Graphs explained: merge shapes and their mistakes, receptive fields through branches,
the notes on shortcuts, the written source and the wiring helpers (no torch, no Keras)."""

from __future__ import annotations

import pytest

import convscope as cs
from convscope.core import graph as g
from convscope.core import variants
from convscope.core.explain.rules import explain
from convscope.core.keras.write import to_source
from convscope.core.presets import model as preset
from convscope.core.source.read import read_model

from ..helpers import Cli

HEAD = "import keras\nfrom keras import layers\ninputs = keras.Input(shape=(16, 16, 3))\n"

MISTAKES = {
    "add-of-different-shapes": (
        "a = layers.Conv2D(8, 3)(inputs)\nb = layers.Conv2D(8, 1)(inputs)\ny = layers.Add()([a, b])\n",
        "x.py: add (Add, line 6): Add needs equal shapes, got (None, 14, 14, 8), (None, 16, 16, 8)",
    ),
    "add-of-different-ranks": (
        "a = layers.Flatten()(inputs)\ny = layers.add([a, inputs])\n",
        "add (Add, line 5): Add needs tensors of one rank, got (None, 768), (None, 16, 16, 3)",
    ),
    "concatenate-on-a-mismatched-axis": (
        "a = layers.Conv2D(4, 3, strides=2, padding='same')(inputs)\n"
        "y = layers.Concatenate(axis=-1)([a, inputs])\n",
        "Concatenate on axis -1 needs equal sizes on every other axis, got (None, 8, 8, 4), (None, 16, 16, 3)",
    ),
    "concatenate-axis-outside": (
        "y = layers.Concatenate(axis=4)([inputs, inputs])\n",
        "Concatenate axis=4 is outside a 4-d tensor",
    ),
    "subtract-of-three": (
        "y = layers.subtract([inputs, inputs, inputs])\n",
        "Subtract takes exactly 2 tensors, got 3",
    ),
    "concatenate-on-the-batch-axis": (
        "y = layers.Concatenate(axis=0)([inputs, inputs])\n",
        "`axis=0` is the batch axis",
    ),
}


@pytest.mark.parametrize("case", MISTAKES)
def test_a_graph_mistake_gets_one_clear_message(case: str, cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    body, message = MISTAKES[case]
    path = tmp_path / "x.py"
    path.write_text(HEAD + body + "model = keras.Model(inputs, y)\n")
    r = cli("explain", str(path))
    assert r.code == 2 and "Traceback" not in r.err
    assert message in r.err, r.err
    assert len(r.err.strip().splitlines()) <= 2


def test_receptive_field_where_paths_meet_is_the_largest_window() -> None:
    ex = cs.explain(code=HEAD + (
        "a = layers.Conv2D(4, 5, padding='same')(inputs)\n"
        "b = layers.Conv2D(4, 3, padding='same')(inputs)\nb = layers.Conv2D(4, 3, padding='same')(b)\n"
        "b = layers.Conv2D(4, 3, padding='same')(b)\ny = layers.add([a, b])\n"
        "model = keras.Model(inputs, y)\n"
    ))  # fmt: skip
    fields = {r.name: r.receptive_field for r in ex.rows}
    assert fields["conv2d"].size.h == 5 and fields["conv2d_3"].size.h == 7  # type: ignore[union-attr]
    assert fields["add"].size.h == 7 and fields["add"].start.h == -3  # type: ignore[union-attr]


def test_paths_that_step_differently_are_said() -> None:
    ex = cs.explain(code=HEAD + (
        "a = layers.Conv2D(4, 3, strides=2, padding='same')(inputs)\n"
        "b = layers.MaxPooling2D(4)(layers.ZeroPadding2D(((0, 1), (0, 1)))(inputs))\n"
        "b = layers.UpSampling2D()(b)\nb = layers.Conv2D(4, 1)(b)\n"
        "y = layers.Concatenate()([a, b])\nmodel = keras.Model(inputs, y)\n"
    ))  # fmt: skip
    assert ex.rows[-1].output_shape == (8, 8, 8)
    assert ex.rows[-1].receptive_field is None  # up-sampling on one path: no whole-pixel window


def test_notes_say_what_a_shortcut_costs() -> None:
    notes = " ".join(cs.explain("residual-mnist").notes)
    assert "the shortcut from re_lu is the identity, so it adds no parameters" in notes
    assert "a 1x1 projection with 512 parameters" in notes and "Add needs equal shapes" in notes
    inception = cs.explain(code=HEAD + (
        "a = layers.Conv2D(8, 1)(inputs)\nb = layers.Conv2D(4, 3, padding='same')(inputs)\n"
        "c = layers.concatenate([a, b])\ny = layers.Conv2D(2, 3)(c)\n"
        "model = keras.Model(inputs, y)\n"
    ))  # fmt: skip
    said = [n for n in inception.notes if n.startswith("concatenate (Concatenate)")]
    assert said and "8 + 4 = 12" in said[0] and "all 12 channels" in said[0]


@pytest.mark.parametrize("name", ["residual-mnist", "resnet20-cifar"])
def test_a_graph_is_written_and_read_back_the_same(name: str) -> None:
    spec = preset(name)
    back = read_model(to_source(spec), "back.py").spec
    strip = lambda m: [(type(x), x.name, g.sources(m, i)) for i, x in enumerate(m.layers)]  # noqa: E731
    assert strip(back) == strip(spec) and back.input_shape == spec.input_shape


def test_variants_of_a_graph_are_rewired() -> None:
    spec = preset("residual-mnist")
    bare = variants.without_pooling(spec)
    assert len(bare.layers) == len(spec.layers) - 2 and explain(bare).rows[-1].output_shape == (10,)
    dropped = variants.with_dropout(spec, 0.3)
    dense = next(i for i, x in enumerate(dropped.layers) if x.keras_class == "Dense")
    assert dropped.layers[dense - 1].keras_class == "Dropout"
    assert g.sources(dropped, dense) == (dense,)  # the Dense reads the new Dropout


def test_keras_order_is_deepest_first_then_first_visited() -> None:
    parents = {
        "out": ["add"],
        "add": ["b2", "a"],
        "b2": ["b1"],
        "b1": ["in"],
        "a": ["in"],
        "in": [],
    }
    assert g.keras_order("out", lambda n: parents[n]) == ["in", "b1", "b2", "a", "add", "out"]
    with pytest.raises(cs.ConvscopeError, match="cycle"):
        g.keras_order("x", lambda n: {"x": ["y"], "y": ["x"]}[n])


def test_a_functional_model_called_as_a_layer() -> None:
    """An encoder built with keras.Model and then called on a new input, once: its layers
    in the outer model (twice would share its weights: said)."""
    source = HEAD + (
        "x = layers.Conv2D(4, 3, padding='same')(inputs)\ny = layers.Conv2D(4, 1)(inputs)\n"
        "encoder = keras.Model(inputs, layers.add([x, y]))\n"
        "outer = keras.Input(shape=(16, 16, 3))\nz = encoder(outer)\n"
        "model = keras.Model(outer, layers.Dense(2)(layers.Flatten()(z)))\n"
    )
    ex = cs.explain(code=source, pick="model")
    assert [r.layer_type for r in ex.rows][:3] == ["Conv2D", "Conv2D", "Add"]
    assert ex.total_params == (27 * 4 + 4) + (3 * 4 + 4) + (16 * 16 * 4 * 2 + 2)
    twice = source.replace(
        "z = encoder(outer)\n", "z = layers.add([encoder(outer), encoder(outer)])\n"
    )
    with pytest.raises(cs.ConvscopeError, match="called twice"):
        cs.explain(code=twice, pick="model")
