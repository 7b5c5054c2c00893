"""Branching models read from source equal the same source run in real Keras 3: order,
names, classes, output shapes, parameters (trainable and not), "Connected to", totals."""

from __future__ import annotations

from typing import Any

import pytest

from convscope.core.explain.rules import explain
from convscope.core.explain.table import Explanation
from convscope.core.source.read import read_model

from .graph_cases import GRAPH_CASES, NESTED
from .keras_oracle import keras, weight_count


def run_in_keras(source: str) -> Any:
    """The `model` the source builds, in a fresh Keras session (names from zero)."""
    keras.backend.clear_session(free_memory=False)
    scope: dict[str, Any] = {}
    exec(compile(source, "case.py", "exec"), scope)  # our own test source, not user content
    return scope["model"]


def keras_connections(layer: Any) -> str:
    """Keras's summary column (keras/src/utils/summary_utils.py get_connections)."""
    found = []
    for tensor in layer._inbound_nodes[0].input_tensors:
        history = tensor._keras_history
        found.append(f"{history.operation.name}[{history.node_index}][{history.tensor_index}]")
    return ", ".join(found) or "-"


def summary(model: Any) -> list[tuple[str, str, tuple[int, ...], int, int, str]]:
    return [
        (
            layer.name,
            type(layer).__name__,
            tuple(layer.output.shape[1:]),
            weight_count(layer.trainable_weights),
            weight_count(layer.non_trainable_weights),
            keras_connections(layer),
        )
        for layer in model.layers
    ]


def ours(ex: Explanation) -> list[tuple[str, str, tuple[int, ...], int, int, str]]:
    first = (ex.input_name, "InputLayer", ex.input_shape, 0, 0, "-")
    rest = [
        (r.name, r.layer_type, r.output_shape, r.trainable, r.non_trainable, r.connected)
        for r in ex.rows
    ]
    return [first, *rest]


@pytest.mark.parametrize("case", GRAPH_CASES)
def test_a_branching_model_matches_keras(case: str) -> None:
    source = GRAPH_CASES[case]
    spec = read_model(source, f"{case}.py").spec
    ex = explain(spec)
    model = run_in_keras(source)
    assert ex.is_graph
    assert ex.model == model.name
    assert ours(ex) == summary(model)
    assert ex.total_params == model.count_params()
    assert ex.trainable_params == weight_count(model.trainable_weights)


def test_at_least_25_branching_models_with_every_merge_layer() -> None:
    types = {
        r.layer_type
        for source in GRAPH_CASES.values()
        for r in explain(read_model(source, "x.py").spec).rows
    }
    merges = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"}
    assert len(GRAPH_CASES) >= 25 and merges <= types


def test_a_sequential_called_as_a_layer_is_its_layers() -> None:
    ex = explain(read_model(NESTED, "nested.py").spec)
    model = run_in_keras(NESTED)
    assert ex.total_params == model.count_params()
    assert ex.rows[-1].output_shape == tuple(model.output.shape[1:])
    assert [r.layer_type for r in ex.rows[:2]] == ["Conv2D", "MaxPooling2D"]
