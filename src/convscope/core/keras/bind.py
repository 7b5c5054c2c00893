"""Keras 3 layer constructors: their signatures and defaults, bound to convscope's dataclasses.

`build_layer("Conv2D", (32, 3), {"activation": "relu"}, ...)` binds the arguments
exactly as Python would bind them to `keras.layers.Conv2D.__init__` (Keras 3.x
signatures, positional order included), applies Keras's defaults, validates them as
Keras's constructors do, and returns the frozen layer. It also answers which names are
Keras layers at all, so a misspelling gets "did you mean" and a real but unsupported
layer gets a clear "not supported".

The constructor tables are in `layers` and the names of keras.layers in
`names` (both re-exported here); this module binds a call's arguments to them,
and assembles a Sequential model with Keras's auto-names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .. import normalise as n
from .. import spec as s
from ..errors import SpecError
from .layers import SIGNATURES as SIGNATURES
from .layers import SUPPORTED as SUPPORTED
from .names import INPUT_CLASSES as INPUT_CLASSES
from .names import canonical as canonical
from .names import is_keras_layer as is_keras_layer
from .names import suggest as suggest

# Keyword arguments that every Keras layer takes (Layer.__init__), and the ones that
# change no shape or count: accepted and ignored here.
_COMMON = frozenset(
    {
        "name",
        "trainable",
        "dtype",
        "autocast",
        "input_shape",
        "input_dim",
        "batch_input_shape",
        "batch_size",
        "activity_regularizer",
        "seed",
        "noise_shape",
        "data_format",
    }
)
NO_SHAPE_EFFECT = frozenset(
    {
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "bias_constraint",
        "depthwise_initializer",
        "pointwise_initializer",
        "depthwise_regularizer",
        "pointwise_regularizer",
        "depthwise_constraint",
        "pointwise_constraint",
        "beta_initializer",
        "gamma_initializer",
        "moving_mean_initializer",
        "moving_variance_initializer",
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
        "synchronized",
        "lora_rank",
        "lora_alpha",
        "quantization_config",
    }
)


@dataclass(frozen=True)
class BoundLayer:
    """A built layer plus what its constructor said about the model as a whole."""

    layer: s.Layer
    name: str | None  # name= if given
    input_shape: tuple[int, ...] | None  # input_shape= / input_dim= / batch_input_shape=


def bind(
    cls_name: str, params: tuple[str, ...], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """Bind positional and keyword arguments to parameter names, as Python would."""
    if len(args) > len(params):
        raise SpecError(
            f"{cls_name} takes at most {len(params)} positional arguments "
            f"({', '.join(params)}), got {len(args)}"
        )
    bound = dict(zip(params, args, strict=False))
    for key, value in kwargs.items():
        if key in bound:
            raise SpecError(f"{cls_name} got `{key}` both by position and by keyword")
        bound[key] = value
    return bound


def build_layer(cls_name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> BoundLayer:
    """Build a supported Keras layer from its constructor arguments.

    Raises SpecError naming the argument, the rule and the value received.
    """
    cls_name = canonical(cls_name)
    signature = SIGNATURES[cls_name]
    bound = bind(cls_name, signature.params, args, kwargs)
    known = set(signature.params) | NO_SHAPE_EFFECT
    if signature.layer_kwargs:
        known |= _COMMON
    for key in bound:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(set(signature.params) | _COMMON), n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise SpecError(f"{cls_name} has no argument `{key}`{hint}")
    for key in signature.required:
        if key not in bound:
            raise SpecError(f"{cls_name} needs `{key}`")
    data_format = bound.get("data_format")
    if data_format not in (None, "channels_last"):
        raise SpecError(
            f"only data_format='channels_last' (Keras's default) is supported, got {data_format!r}"
        )
    layer = signature.build(bound)
    name = bound.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecError(f"`name` must be a string, got {name!r}")
    return BoundLayer(layer, name, _input_shape(bound))


def _input_shape(bound: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The input shape a first layer may carry: input_shape, input_dim, batch_input_shape."""
    if bound.get("input_shape") is not None:
        return n.to_shape(bound["input_shape"], "input_shape")
    if bound.get("input_dim") is not None:
        return (n.to_positive_int(bound["input_dim"], "input_dim"),)
    batch_shape = bound.get("batch_input_shape")
    if batch_shape is not None:
        if not isinstance(batch_shape, (tuple, list)) or len(batch_shape) < 2:
            raise SpecError(f"`batch_input_shape` must include the batch axis, got {batch_shape!r}")
        return n.to_shape(tuple(batch_shape[1:]), "batch_input_shape")
    return None


def input_layer_shape(
    cls_name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[int, ...]:
    """The shape of `keras.Input(shape=...)` or `InputLayer(shape=... | input_shape=...)`."""
    params = ("shape", "batch_size", "dtype", "sparse", "ragged", "batch_shape", "name")
    bound = bind(cls_name, params, args, kwargs)
    if bound.get("shape") is not None:
        return n.to_shape(bound["shape"], "shape")
    if bound.get("input_shape") is not None:
        return n.to_shape(bound["input_shape"], "input_shape")
    for key in ("batch_shape", "batch_input_shape"):
        batch_shape = bound.get(key)
        if isinstance(batch_shape, (tuple, list)) and len(batch_shape) >= 2:
            return n.to_shape(tuple(batch_shape[1:]), key)
    raise SpecError(f"{cls_name} needs `shape`, such as shape=(28, 28, 1)")


# ---- Sequential: layer names and the input shape, as a fresh Keras 3 session gives them ----


@dataclass(frozen=True)
class LayerCall:
    """One `SomeLayer(...)` call as written in the source: class name, arguments, line."""

    cls: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    line: int | None = None
    auto: str | None = None  # the name Keras gives it without name=, where the file made it


def to_snake_case(name: str) -> str:
    """Keras's layer-name prefix: MaxPooling2D -> max_pooling2d, ReLU -> re_lu.

    Same regular expressions as keras/src/utils/naming.py to_snake_case.
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def next_auto_name(prefix: str, uids: dict[str, int]) -> str:
    """The name Keras's uniquify would give the next unnamed layer: conv2d, conv2d_1, ..."""
    return f"{prefix}_{uids[prefix]}" if prefix in uids else prefix


def auto_name(prefix: str, uids: dict[str, int]) -> str:
    """Keras's uniquify: conv2d, conv2d_1, ...; only layers without name= take a number."""
    name = next_auto_name(prefix, uids)
    uids[prefix] = uids.get(prefix, 0) + 1
    return name


def sequential(
    calls: list[LayerCall],
    *,
    source: str,
    name: str | None = None,
    input_shape: tuple[int, ...] | None = None,
    notes: tuple[str, ...] = (),
    built_shape: tuple[int, ...] | None = None,
    built_note: str | None = None,
    inbound: tuple[tuple[int, ...], ...] = (),
) -> s.ModelSpec:
    """Assemble `keras.Sequential([...])`: input shape, layers, Keras's auto names.

    Names follow keras/src/utils/naming.py uniquify in a fresh session: the first
    Conv2D is conv2d, the next conv2d_1; a layer given name= keeps it. A call that knows
    the name Keras gave it where the file made it (`auto`: the session's counters run on
    through every model a file builds) keeps that one. `input_shape`,
    when given, overrides the file's own (the CLI's --input-shape). A functional graph
    passes its wiring (`inbound`, core.graph) with its Input first and layers in order.
    """
    file_shape: tuple[int, ...] | None = None
    input_name = "input_layer"
    layers: list[s.Layer] = []
    uids: dict[str, int] = {}
    for position, call in enumerate(calls):
        where = f"{source}, line {call.line}" if call.line else source
        try:
            if canonical(call.cls) in INPUT_CLASSES:
                if position != 0:
                    raise SpecError(f"{call.cls} must be the first item of a Sequential model")
                file_shape = input_layer_shape(call.cls, call.args, call.kwargs)
                input_name = str(call.kwargs.get("name") or call.auto or input_name)
                continue
            bound = build_layer(call.cls, call.args, call.kwargs)
            trainable = n.to_bool(call.kwargs.get("trainable", True), "trainable")
        except SpecError as error:
            raise SpecError(f"{canonical(call.cls)}: {error.message}", where=where) from None
        if not layers and file_shape is None:
            file_shape = bound.input_shape
        prefix = to_snake_case(bound.layer.keras_class)
        layer_name = bound.name or call.auto or auto_name(prefix, uids)
        if not layer_name.isprintable() or "/" in layer_name:
            raise SpecError(
                f"a layer name must be printable text without '/', got {layer_name!r}", where=where
            )
        if any(layer.name == layer_name for layer in layers):  # as Keras's Sequential refuses
            raise SpecError(
                f"two layers are named {layer_name!r}: Keras requires unique names in a model",
                where=where,
            )
        layers.append(replace(bound.layer, name=layer_name, line=call.line, trainable=trainable))
    if not layers:
        raise SpecError("the Sequential model has no layers", where=source)
    shape = input_shape or file_shape or built_shape  # model.build(...) when nothing else says
    if built_note and not (input_shape or file_shape):
        notes = (*notes, built_note)
    if shape is None:
        raise SpecError(
            "the model has no input shape: neither keras.Input(shape=...) nor input_shape= "
            "on its first layer",
            where=source,
            hint="add input_shape=(28, 28, 1) to the first layer, or pass --input-shape 28,28,1",
        )
    return s.ModelSpec(
        name=name or "sequential",
        input_shape=shape,
        layers=tuple(layers),
        source=source,
        notes=notes,
        inbound=inbound,
        input_name=input_name,
    )
