"""ModelSpec -> Keras source: the inverse of core.source, for models convscope builds itself.

An experiment's variant (the same network without pooling, say) is trained like any other
run, and a run keeps its model as Keras code in model.py. This writes that code: a
`keras.Sequential([...])` a Keras user can paste, with only the arguments that differ
from Keras 3's defaults. Reading it back gives the same ModelSpec (tested on every
parity model).
"""

from __future__ import annotations

import dataclasses

from .. import graph as g
from .. import spec as s
from .bind import auto_name, next_auto_name, to_snake_case

# Arguments Keras takes by position, in Keras's order (the dataclass order differs).
POSITIONAL: dict[type[s.Layer], tuple[str, ...]] = {
    s.Conv2D: ("filters", "kernel_size"),
    s.SeparableConv2D: ("filters", "kernel_size"),
    s.DepthwiseConv2D: ("kernel_size",),
    s.MaxPooling2D: ("pool_size",),
    s.AveragePooling2D: ("pool_size",),
    s.Dense: ("units",),
    s.Dropout: ("rate",),
    s.SpatialDropout2D: ("rate",),
    s.Activation: ("activation",),
    s.Rescaling: ("scale",),
}
SKIPPED = frozenset({"name", "line", "trainable"})


def literal(value: object) -> str:
    """A Python literal for an argument value: Pair -> (3, 3), strings double-quoted."""
    if isinstance(value, s.Pair):
        return f"({value.h}, {value.w})"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _is_default(layer: s.Layer, field: dataclasses.Field[object], value: object) -> bool:
    if isinstance(layer, s.Pooling2D) and field.name == "strides":
        return value == layer.pool_size  # Keras's strides=None means the pool size
    return field.default is not dataclasses.MISSING and value == field.default


def arguments(layer: s.Layer) -> list[str]:
    """The layer's constructor arguments, positional first, defaults left out."""
    positional = POSITIONAL.get(type(layer), ())
    fields = {f.name: f for f in dataclasses.fields(layer)}
    args = [literal(getattr(layer, name)) for name in positional]
    if isinstance(layer, s.ZeroPadding2D):
        sides = ((layer.top, layer.bottom), (layer.left, layer.right))
        return args + ([] if sides == ((1, 1), (1, 1)) else [f"padding={sides!r}"])
    for name, field in fields.items():
        if name in SKIPPED or name in positional:
            continue
        value = getattr(layer, name)
        if not _is_default(layer, field, value):
            args.append(f"{name}={literal(value)}")
    return args


def layer_call(layer: s.Layer, name: str | None) -> str:
    args = arguments(layer)
    if name is not None:
        args.append(f"name={literal(name)}")
    if not layer.trainable:
        args.append("trainable=False")
    return f"layers.{layer.keras_class}({', '.join(args)})"


def explicit_names(model: s.ModelSpec) -> list[str | None]:
    """name= for each layer, or None where Keras's auto-name gives the same (conv2d_1)."""
    uids: dict[str, int] = {}
    names: list[str | None] = []
    for layer in model.layers:
        prefix = to_snake_case(layer.keras_class)
        if layer.name in ("", next_auto_name(prefix, uids)):
            auto_name(prefix, uids)  # only unnamed layers take a number
            names.append(None)
        else:
            names.append(layer.name)
    return names


def graph_source(model: s.ModelSpec) -> str:
    """A graph as Keras 3's functional API: `x3 = layers.Add()([x1, x2])`, node by node."""
    named = "" if model.input_name == "input_layer" else f", name={literal(model.input_name)}"
    lines = [f"x0 = keras.Input(shape={model.input_shape!r}{named})"]
    for i, (layer, name) in enumerate(zip(model.layers, explicit_names(model), strict=True)):
        reads = [f"x{j}" for j in g.sources(model, i)]
        called = f"[{', '.join(reads)}]" if layer.kind == s.LayerKind.MERGE else reads[0]
        lines.append(f"x{i + 1} = {layer_call(layer, name)}({called})")
    lines.append(f"model = keras.Model(x0, x{len(model.layers)})")
    return "import keras\nfrom keras import layers\n\n" + "\n".join(lines) + "\n"


def to_source(model: s.ModelSpec, comment: str = "") -> str:
    """The model as Keras 3 source: `keras.Sequential([keras.Input(shape=...), ...])`, or
    a graph through the functional API."""
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    if g.is_graph(model):
        return header + graph_source(model)
    calls = [
        layer_call(layer, name)
        for layer, name in zip(model.layers, explicit_names(model), strict=True)
    ]
    body = "".join(f"    {call},\n" for call in calls)
    return (
        f"{header}import keras\nfrom keras import layers\n\n"
        f"model = keras.Sequential([\n    keras.Input(shape={model.input_shape!r}),\n{body}])\n"
    )
