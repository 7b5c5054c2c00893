"""Pooling variants and the Keras source writer: shapes, parameters, and a lossless round trip."""

from __future__ import annotations

from dataclasses import replace

import pytest

from convscope.core import spec as s
from convscope.core.explain.rules import explain
from convscope.core.keras.write import to_source
from convscope.core.presets import model
from convscope.core.source.read import read_model
from convscope.core.variants import POOLING_VARIANTS, pooling_layers

from ..parity.cases import CASES

CHOLLET = model("chollet")
VARIANTS = {v.key: v.build(CHOLLET) for v in POOLING_VARIANTS}


def without_lines(spec: s.ModelSpec) -> tuple[s.Layer, ...]:
    return tuple(replace(layer, line=None) for layer in spec.layers)


@pytest.mark.parametrize("case", sorted(CASES))
def test_written_source_reads_back_as_the_same_model(case: str) -> None:
    original = read_model(CASES[case], case).spec
    again = read_model(to_source(original), case).spec
    assert again.input_shape == original.input_shape
    assert without_lines(again) == without_lines(original)


def test_written_source_keeps_user_names_and_omits_keras_defaults() -> None:
    text = to_source(read_model(CASES["preset-chollet"], "chollet").spec, comment="a\nb")
    assert text.startswith("# a\n# b\nimport keras\n")
    assert 'layers.Conv2D(32, (3, 3), activation="relu"),' in text
    assert "layers.MaxPooling2D((2, 2))," in text  # strides=None: the pool size
    assert "name=" not in text  # all of chollet's names are Keras's own
    named = replace(CHOLLET, layers=(replace(CHOLLET.layers[0], name="edges"), *CHOLLET.layers[1:]))
    assert 'name="edges"' in to_source(named)


@pytest.mark.parametrize(
    ("key", "last_map", "dense_params", "total"),
    [
        ("max", (3, 3, 64), 36_928, 93_322),
        ("average", (3, 3, 64), 36_928, 93_322),
        # two ReLU convs with the pools' 2x2 windows: 32*32*4+32 and 64*64*4+64 weights more
        ("strided", (3, 3, 64), 36_928, 93_322 + 4_128 + 16_448),
        # 28 -> 26 -> 24 -> 22: Dense sees 22*22*64 numbers instead of 3*3*64
        ("none", (22, 22, 64), 22 * 22 * 64 * 64 + 64, 2_038_922),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_pooling_variants_of_chollet(
    key: str, last_map: tuple[int, ...], dense_params: int, total: int
) -> None:
    variant = VARIANTS[key]
    rows = explain(variant).rows
    flatten = next(i for i, r in enumerate(rows) if r.layer_type == "Flatten")
    assert rows[flatten - 1].output_shape == last_map
    assert rows[flatten + 1].params == dense_params
    assert explain(variant).total_params == total
    # nothing else changes: the same convolutions and Dense layers, in the same order
    kept = [type(x) for x in variant.layers if not isinstance(x, s.Pooling2D)]
    assert kept.count(s.Dense) == 2


def test_variants_change_only_the_pooling() -> None:
    assert {type(p) for p in pooling_layers(VARIANTS["max"])} == {s.MaxPooling2D}
    assert {type(p) for p in pooling_layers(VARIANTS["average"])} == {s.AveragePooling2D}
    assert not pooling_layers(VARIANTS["strided"]) and not pooling_layers(VARIANTS["none"])
    strided = [x for x in VARIANTS["strided"].layers if isinstance(x, s.Conv2D)]
    assert [(c.filters, c.kernel_size, c.strides) for c in strided[1::2]] == [
        (32, s.Pair(2, 2), s.Pair(2, 2)),
        (64, s.Pair(2, 2), s.Pair(2, 2)),
    ]
    # the written source names layers the way Keras would, without collisions
    names = [x.name for x in read_model(to_source(VARIANTS["strided"]), "v").spec.layers]
    assert names[:5] == ["conv2d", "conv2d_1", "conv2d_2", "conv2d_3", "conv2d_4"]
