"""Shapes, parameter counts (trainable and not) and names equal those of real Keras 3."""

from __future__ import annotations

import pytest

from convscope.core.explain.rules import explain
from convscope.core.source.read import read_model

from .cases import CASES
from .keras_oracle import keras_model, weight_count


@pytest.mark.parametrize("case", CASES)
def test_matches_keras(case: str) -> None:
    spec = read_model(CASES[case], f"{case}.py").spec
    ours = explain(spec)
    model = keras_model(spec)
    layers = model.layers[1:] if ours.is_graph else model.layers  # a graph's InputLayer first

    assert [layer.name for layer in layers] == [row.name for row in ours.rows]
    for layer, row in zip(layers, ours.rows, strict=True):
        assert type(layer).__name__ == row.layer_type
        assert tuple(layer.output.shape) == (None, *row.output_shape), row.name
        assert layer.count_params() == row.params, row.name
        assert weight_count(layer.trainable_weights) == row.trainable, row.name
        assert weight_count(layer.non_trainable_weights) == row.non_trainable, row.name
    assert model.count_params() == ours.total_params
    assert weight_count(model.trainable_weights) == ours.trainable_params
    assert weight_count(model.non_trainable_weights) == ours.non_trainable_params


def test_case_table_is_broad() -> None:
    """At least 40 models, and every supported layer type appears in one of them (the
    merge layers in the branching models of test_graph_parity)."""
    from convscope.core.keras.bind import SIGNATURES
    from convscope.core.keras.merging import MERGING

    types = {
        row.layer_type
        for source in CASES.values()
        for row in explain(read_model(source, "x").spec).rows
    }
    assert len(CASES) >= 40
    assert set(SIGNATURES) - set(MERGING) <= types


def test_chollet_without_pooling_matches_keras() -> None:
    """The report's 'without pooling' numbers come from the same arithmetic as Keras's."""
    from convscope.core.presets import model
    from convscope.core.variants import without_pooling

    bare = without_pooling(model("chollet"))
    assert keras_model(bare).count_params() == explain(bare).total_params == 2_038_922


def test_pooling_variants_match_keras() -> None:
    """The pooling experiment's four models, counted by real Keras 3."""
    from convscope.core.presets import model
    from convscope.core.variants import POOLING_VARIANTS

    for variant in POOLING_VARIANTS:
        spec = variant.build(model("chollet"))
        built = keras_model(spec)
        assert built.count_params() == explain(spec).total_params, variant.key
        for layer, row in zip(built.layers, explain(spec).rows, strict=True):
            assert tuple(layer.output.shape[1:]) == row.output_shape, (variant.key, row.name)


@pytest.mark.slow
def test_written_variant_source_runs_in_keras(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """model.py of a variant run is real Keras code: Keras itself builds the same model."""
    import subprocess
    import sys

    from convscope.core.keras.write import to_source
    from convscope.core.presets import model
    from convscope.core.variants import POOLING_VARIANTS

    script = ["import runpy"]
    for variant in POOLING_VARIANTS:
        spec = variant.build(model("chollet"))
        path = tmp_path / f"{variant.key}.py"
        path.write_text(to_source(spec))
        script.append(f"print(runpy.run_path({str(path)!r})['model'].count_params())")
    out = subprocess.run(
        [sys.executable, "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "KERAS_BACKEND": "torch"},
    ).stdout.split()
    expected = [explain(v.build(model("chollet"))).total_params for v in POOLING_VARIANTS]
    assert [int(n) for n in out] == expected
