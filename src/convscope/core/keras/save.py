"""ModelSpec -> the config.json of a Keras 3 `.keras` file: the inverse of core.keras.config.

Each layer is written as Keras 3's `model.save()` writes it (module, class_name, config,
registered_name, build_config), with every argument spelt out; real Keras 3 loads the
file with `keras.models.load_model(path)` in its default safe mode (tested).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import graph as g
from .. import spec as s
from ..explain.rules import explain

SKIPPED = frozenset({"name", "line", "trainable"})
KERAS_VERSION = "3.5.0"  # the oldest Keras 3 the tests check these files against


def value(v: object) -> object:
    """A config value as Keras writes it: pairs as [h, w] lists."""
    return [v.h, v.w] if isinstance(v, s.Pair) else v


def layer_arguments(layer: s.Layer) -> dict[str, Any]:
    """Every constructor argument of the layer, under Keras's names."""
    if isinstance(layer, s.ZeroPadding2D):
        return {"padding": [[layer.top, layer.bottom], [layer.left, layer.right]]}
    found = {
        f.name: value(getattr(layer, f.name))
        for f in dataclasses.fields(layer)
        if f.name not in SKIPPED
    }
    if isinstance(layer, s.Conv2D | s.DepthwiseConv2D | s.SeparableConv2D | s.Pooling2D):
        found["data_format"] = "channels_last"
    if isinstance(layer, s.BatchNormalization):
        found["axis"] = -1
    return found


def layer_config(layer: s.Layer, input_shape: tuple[int, ...]) -> dict[str, Any]:
    return {
        "module": "keras.layers",
        "class_name": layer.keras_class,
        "config": {
            "name": layer.name,
            "trainable": layer.trainable,
            "dtype": "float32",
            **layer_arguments(layer),
        },
        "registered_name": None,
        "build_config": {"input_shape": [None, *input_shape]},
    }


def keras_tensor(name: str, shape: tuple[int, ...]) -> dict[str, Any]:
    """One input of a layer's call, as Keras 3 serialises a KerasTensor."""
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": [None, *shape], "dtype": "float32", "keras_history": [name, 0, 0]},
    }


def functional_config(model: s.ModelSpec, input_layer: dict[str, Any]) -> dict[str, Any]:
    """config.json of a graph: each layer with its inbound node, as Keras 3 saves it."""
    ex = explain(model)
    shapes = [model.input_shape, *(row.output_shape for row in ex.rows)]
    entries = [{**input_layer, "name": model.input_name, "inbound_nodes": []}]
    entries[0]["config"] = {**input_layer["config"], "name": model.input_name}
    for i, (layer, row) in enumerate(zip(model.layers, ex.rows, strict=True)):
        reads = g.sources(model, i)
        tensors = [keras_tensor(g.node_name(model, j), shapes[j]) for j in reads]
        merging = layer.kind == s.LayerKind.MERGE
        entry = layer_config(layer, row.input_shape)
        if merging:
            entry["build_config"] = {"input_shape": [[None, *shapes[j]] for j in reads]}
        node: dict[str, Any] = {"args": [tensors] if merging else tensors, "kwargs": {}}
        entries.append({**entry, "name": layer.name, "inbound_nodes": [node]})
    ends = (model.input_name, model.layers[-1].name)
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {
            "name": model.name,
            "trainable": True,
            "layers": entries,
            "input_layers": [ends[0], 0, 0],
            "output_layers": [ends[1], 0, 0],
        },
        "registered_name": "Functional",
        "build_config": {"input_shape": None},
    }


def model_config(model: s.ModelSpec) -> dict[str, Any]:
    """config.json: a Sequential with its InputLayer and every layer, or a graph's
    functional config, as Keras 3 saves them."""
    rows = explain(model).rows
    input_layer = {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {"batch_shape": [None, *model.input_shape], "dtype": "float32",
                   "sparse": False, "name": "input_layer"},
        "registered_name": None,
    }  # fmt: skip
    if g.is_graph(model):
        return functional_config(model, input_layer)
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": model.name,
            "trainable": True,
            "dtype": "float32",
            "layers": [
                input_layer,
                *(
                    layer_config(layer, row.input_shape)
                    for layer, row in zip(model.layers, rows, strict=True)
                ),
            ],
        },
        "registered_name": None,
        "build_config": {"input_shape": [None, *model.input_shape]},
    }
