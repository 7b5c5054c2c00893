"""A saved Keras model's architecture (its config JSON) -> ModelSpec, read as data.

What `model.save()` writes as config.json in a .keras file (Keras 3) or as the
`model_config` attribute of a legacy .h5 (tf.keras 2 and Keras 3). Nothing is imported
or run: Keras's own safe_mode has been bypassed several times (CVE-2025-1550,
CVE-2025-8747, CVE-2025-9905, CVE-2025-9906), so only known layer classes from keras
modules are accepted, and anything that could carry code (Lambda layers, custom or
registered objects, TorchModuleWrapper, functions in a config) is refused by name.

Sequential models and functional models with one input and one output (any graph of
Keras layers between them; a chain is read as the Sequential it equals) are read, in
every layout Keras has saved them: Keras 3 and tf.keras 2.2.3+ as {"name", "layers"},
Keras 1.x to 2.2.2 as the plain list of layer configs (Keras 1's
argument names read through core.keras.legacy, each with a note). Each layer's config
goes through the same constructor tables as the source importer (core.keras.bind), so
defaults, checks and names are Keras's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from itertools import pairwise
from typing import Any

from .. import spec as s
from ..errors import SourceError, SpecError
from ..explain.rules import explain
from ..graph import keras_order, wire
from .bind import LayerCall, canonical, is_keras_layer, sequential
from .legacy import modernise
from .names import INPUT_CLASSES

SEQUENTIAL = ("Sequential",)
FUNCTIONAL = ("Functional", "Model")
CODE_CLASSES = {
    "Lambda": "a Lambda layer holds Python code",
    "TorchModuleWrapper": "a TorchModuleWrapper holds a pickled torch module",
    "TFSMLayer": "a TFSMLayer runs a TensorFlow SavedModel",
}
# Config keys Keras writes that change nothing convscope computes.
IGNORED = frozenset(
    {"dtype", "input_dtype", "build_config", "compile_config", "shared_object_id", "optional"}
)
# Config keys whose non-default value would add weights or change the arithmetic.
DEFAULT_ONLY = {
    "lora_rank": None,
    "quantization_config": None,
    "renorm": False,  # BatchNormalization's batch renormalisation
}
UNUSED_WITH_DEFAULTS = ("renorm_clipping", "renorm_momentum")  # meaningless without renorm


def where(source: str, layer: str | None) -> str:
    return f"{source}: layer {layer!r}" if layer else source


def refuse_code(value: Any, source: str, layer: str | None) -> None:
    """Anything in a config that names code or a non-keras module: refused, never loaded."""
    if isinstance(value, dict):
        module, cls = value.get("module"), value.get("class_name")
        if cls in ("__lambda__", "function") or module in ("builtins", "__main__"):
            raise SourceError(
                f"the config holds a Python function ({value.get('config')!r}); convscope never "
                "runs code from a file",
                where=where(source, layer),
            )
        if isinstance(module, str) and not (module == "keras" or module.startswith("keras.")):
            raise SourceError(
                f"the config names the module {module!r} (class {cls!r}): only Keras's own "
                "classes are read, custom code is never imported",
                where=where(source, layer),
            )
        registered = value.get("registered_name")
        if registered not in (None, cls) and cls != "__keras_tensor__":
            raise SourceError(
                f"{cls!r} is a registered custom object ({registered!r}): only Keras's own "
                "classes are read",
                where=where(source, layer),
            )
        for item in value.values():
            refuse_code(item, source, layer)
    elif isinstance(value, list):
        for item in value:
            refuse_code(item, source, layer)


def check_dtype(config: Mapping[str, Any], source: str, layer: str | None) -> None:
    dtype = config.get("dtype")
    name = dtype.get("config", {}).get("name") if isinstance(dtype, dict) else dtype
    if name not in (None, "float32"):
        raise SpecError(
            f"dtype policy {name!r}: convscope computes in float32", where=where(source, layer)
        )


def layer_call(entry: Any, source: str, position: int, notes: list[str]) -> LayerCall:
    """One layer of the config as the constructor call Keras 3 would make (Keras 1's
    argument names modernised, with a note appended to `notes`)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise SourceError(f"layer {position} of the config is not a Keras layer", where=source)
    cls = entry["class_name"]
    config = entry.get("config") or {}
    if not isinstance(config, dict):
        raise SourceError(f"layer {position} ({cls}) has no config object", where=source)
    name = config.get("name") if isinstance(config.get("name"), str) else None
    if cls in CODE_CLASSES:
        raise SourceError(
            f"{cls}: {CODE_CLASSES[cls]}; convscope never runs code from a file",
            where=where(source, name),
            hint="rebuild the model from Keras layers, or explain the source file instead",
        )
    refuse_code(entry, source, name)
    if not is_keras_layer(cls):
        raise SourceError(
            f"{cls!r} is not a Keras layer: a custom layer's code is never imported",
            where=where(source, name),
        )
    check_dtype(config, source, name)
    for key, default in DEFAULT_ONLY.items():
        if config.get(key, default) != default:
            raise SpecError(
                f"{cls} with {key}={config[key]!r} is not supported", where=where(source, name)
            )
    dropped = IGNORED | set(DEFAULT_ONLY) | set(UNUSED_WITH_DEFAULTS)
    kwargs = {k: v for k, v in config.items() if k not in dropped}
    try:
        _, kwargs, note = modernise(cls, (), kwargs)
    except SpecError as error:
        raise SpecError(f"{cls}: {error.message}", where=where(source, name)) from None
    if note:
        notes.append(f"{name}: {note}")
    return LayerCall(canonical(cls), (), kwargs, None)


def _model_config(config: Any, source: str) -> tuple[str, dict[str, Any]]:
    """(class name, inner config) of a saved model's config, Keras 2 or 3."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise SourceError("the model config is not a Keras model", where=source)
    cls = config["class_name"]
    inner = config.get("config")
    if cls in SEQUENTIAL and isinstance(inner, list):  # Keras 1.x to 2.2.2: the layers alone
        inner = {"name": "sequential", "layers": inner}
    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise SourceError(f"the model config ({cls}) lists no layers", where=source)
    module = config.get("module")
    if isinstance(module, str) and not module.startswith("keras"):
        raise SourceError(
            f"the model is a {module}.{cls}: only Keras's own models are read", where=source
        )
    if cls not in SEQUENTIAL + FUNCTIONAL:
        raise SourceError(
            f"the model is a {cls!r}, a subclassed model whose call() is Python code",
            where=source,
            hint="save a Sequential or functional model",
        )
    return cls, inner


def inbound(entry: dict[str, Any]) -> list[str]:
    """The names of the layers a functional layer is called on (Keras 2 and 3 formats)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            history = (
                value.get("config", {}).get("keras_history")
                if value.get("class_name") == "__keras_tensor__"
                else None
            )
            if isinstance(history, list) and history:
                found.append(str(history[0]))
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int):
                found.append(value[0])  # Keras 2: [layer_name, node_index, tensor_index, {}]
                return
            for item in value:
                walk(item)

    walk(entry.get("inbound_nodes", []))
    return found


def end_names(value: Any, what: str, source: str) -> str:
    """input_layers / output_layers: ["name", 0, 0] or [["name", 0, 0]]; one of each."""
    ends = [value] if isinstance(value, list) and value and isinstance(value[0], str) else value
    if not isinstance(ends, list) or not all(isinstance(e, list) and e for e in ends):
        raise SourceError(f"the model config's {what} are not Keras's [name, 0, 0]", where=source)
    if len(ends) != 1:
        raise SourceError(
            f"the model has {len(ends)} {what.split('_')[0]}s: convscope reads models with one "
            "input and one output",
            where=source,
        )
    return str(ends[0][0])


def graph(inner: dict[str, Any], source: str) -> tuple[list[Any], tuple[tuple[int, ...], ...]]:
    """A functional model's layer configs in Keras's order and its wiring (core.graph);
    a graph that is one chain comes back without wiring, as the Sequential it equals."""
    entries = [e for e in inner["layers"] if isinstance(e, dict)]
    by_name = {str(e.get("name") or e.get("config", {}).get("name")): e for e in entries}
    for name, entry in by_name.items():
        if len(entry.get("inbound_nodes") or []) > 1:
            raise SourceError(
                f"layer {name!r} is called {len(entry['inbound_nodes'])} times (its weights "
                "shared), which convscope does not read",
                where=source,
            )
    parents = {name: inbound(e) for name, e in by_name.items()}
    start = end_names(inner.get("input_layers"), "input_layers", source)
    end = end_names(inner.get("output_layers"), "output_layers", source)
    for name in [start, end, *(p for found in parents.values() for p in found)]:
        if name not in by_name:
            raise SourceError(f"the graph names a layer {name!r} it does not hold", where=source)
    try:
        order = keras_order(end, lambda name: parents[name])
    except SpecError as error:
        raise SourceError(error.message, where=source) from None
    roots = [name for name in order if not parents[name]]
    if roots != [start]:
        raise SourceError(
            f"the output is computed from {', '.join(roots)}: convscope reads models with one "
            "input and one output",
            where=source,
        )
    if all(parents[b] == [a] for a, b in pairwise(order)):
        return [by_name[name] for name in order], ()
    layers = order[1:]
    return [by_name[name] for name in order], wire(layers, parents, start)


def read_config(config: Any, source: str) -> s.ModelSpec:
    """The ModelSpec of a saved Keras model's config (config.json / model_config)."""
    cls, inner = _model_config(config, source)
    refuse_code(inner.get("dtype"), source, None)
    entries, wiring = (list(inner["layers"]), ()) if cls in SEQUENTIAL else graph(inner, source)
    notes: list[str] = []
    calls = [layer_call(e, source, i, notes) for i, e in enumerate(entries)]
    for call in calls:
        if call.cls not in INPUT_CLASSES and not isinstance(call.kwargs.get("name"), str):
            raise SourceError(f"a {call.cls} layer has no name", where=source)
    axes = {str(c.kwargs["name"]): c.kwargs["axis"] for c in calls if "axis" in c.kwargs}
    calls = [channels_axis(c) for c in calls]
    # The input shape: Keras 3's InputLayer(batch_shape=...), Keras 2's batch_input_shape.
    name = str(inner.get("name") or "sequential")
    spec = sequential(calls, source=source, name=name, notes=tuple(notes), inbound=wiring)
    check_axes(spec, axes, source)
    return spec


def channels_axis(call: LayerCall) -> LayerCall:
    """tf.keras 2 saves BatchNormalization's axis as [3] (the batch axis counted): -1 here,
    checked against the layer's input by check_axes once the shapes are known."""
    axis = call.kwargs.get("axis")
    if call.cls != "BatchNormalization" or axis in (None, -1):
        return call
    return replace(call, kwargs={**call.kwargs, "axis": -1})


def check_axes(spec: s.ModelSpec, axes: dict[str, Any], source: str) -> None:
    """Each BatchNormalization's saved axis is its input's last (the channels) axis."""
    if all(axis in (None, -1) for axis in axes.values()):
        return  # nothing saved but Keras 3's -1: no shapes to work out
    for row in explain(spec).rows:
        axis = axes.get(row.name)
        if row.kind != s.LayerKind.NORM or axis in (None, -1):
            continue
        last = len(row.input_shape)  # counting the batch axis, as Keras 2 saves it
        if axis not in (last, [last], [-1]):
            raise SpecError(
                f"axis {axis!r} is not the channels axis of a {len(row.input_shape)}-d input; "
                "only channels-last normalisation is supported",
                where=where(source, row.name),
            )
