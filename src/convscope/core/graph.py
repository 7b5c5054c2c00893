"""Functional models that are graphs: the merge layers, and how layers are wired.

A ModelSpec keeps its layers in Keras's order and, for a graph, `inbound[i]`: the nodes
layer i is called on. Node 0 is the model's input, node j + 1 is layer j's output, so a
layer only reads nodes before it and the last layer is the output. A chain (every
Sequential) leaves `inbound` empty: layer i reads node i.

Keras's order is the one `model.summary()` prints (keras/src/ops/function.py, map_graph):
each layer's depth is the longest path from it to the output; layers go deepest first,
and layers of equal depth in the order a depth-first walk from the output meets them,
each node's inputs taken in the order the call lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, TypeVar

from .errors import SpecError
from .spec import Layer, LayerKind, ModelSpec

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, kw_only=True)
class Merge(Layer):
    """Add, Subtract, Multiply, Average, Maximum, Minimum: position by position over
    tensors of one shape (an axis of 1 is broadcast, as Keras's merge layers allow)."""

    kind = LayerKind.MERGE
    op: ClassVar[str] = ""
    verb: ClassVar[str] = ""


@dataclass(frozen=True, kw_only=True)
class Add(Merge):
    keras_class, op, verb = "Add", "add", "adds"


@dataclass(frozen=True, kw_only=True)
class Subtract(Merge):
    keras_class, op, verb = "Subtract", "subtract", "subtracts the second from the first of"


@dataclass(frozen=True, kw_only=True)
class Multiply(Merge):
    keras_class, op, verb = "Multiply", "multiply", "multiplies"


@dataclass(frozen=True, kw_only=True)
class Average(Merge):
    keras_class, op, verb = "Average", "average", "averages"


@dataclass(frozen=True, kw_only=True)
class Maximum(Merge):
    keras_class, op, verb = "Maximum", "maximum", "takes the larger value of"


@dataclass(frozen=True, kw_only=True)
class Minimum(Merge):
    keras_class, op, verb = "Minimum", "minimum", "takes the smaller value of"


@dataclass(frozen=True, kw_only=True)
class Concatenate(Layer):
    """Tensors side by side along `axis` (Keras counts the batch axis: -1 is channels)."""

    keras_class = "Concatenate"
    kind = LayerKind.MERGE
    axis: int = -1


MERGES: tuple[type[Merge], ...] = (Add, Subtract, Multiply, Average, Maximum, Minimum)


def is_graph(model: ModelSpec) -> bool:
    return bool(model.inbound)


def sources(model: ModelSpec, i: int) -> tuple[int, ...]:
    """The nodes layer i reads: (i,) in a chain (node 0 being the input)."""
    return model.inbound[i] if model.inbound else (i,)


def node_name(model: ModelSpec, node: int) -> str:
    return model.input_name if node == 0 else model.layers[node - 1].name


def connected_to(model: ModelSpec, i: int) -> str:
    """Keras's "Connected to" column: `conv2d[0][0], input_layer[0][0]`."""
    return ", ".join(f"{node_name(model, j)}[0][0]" for j in sources(model, i))


def consumers(model: ModelSpec) -> list[list[int]]:
    """For each node, the layers that read it (in order)."""
    found: list[list[int]] = [[] for _ in range(len(model.layers) + 1)]
    for i in range(len(model.layers)):
        for j in sources(model, i):
            found[j].append(i)
    return found


def last_reads(model: ModelSpec) -> list[int]:
    """For each node, the last layer that reads it (-1: none): a forward pass may drop a
    node's tensor after that layer, so a graph holds only the tensors still needed."""
    return [users[-1] if users else -1 for users in consumers(model)]


def keras_order(output: K, parents: Callable[[K], Sequence[K]]) -> list[K]:
    """The nodes that reach `output`, in Keras's order (map_graph: deepest first, ties by
    first visit of a depth-first walk from the output). SpecError on a cycle."""
    visit: dict[K, int] = {}  # first-visit index
    finished: list[K] = []  # inputs before outputs
    in_progress: set[K] = set()
    stack: list[tuple[K, int]] = [(output, 0)]
    while stack:  # the recursive walk of _build_map_helper, without Python's recursion limit
        node, child = stack.pop()
        if child == 0:
            if node in visit and node not in in_progress:
                continue  # finished already: a shared subgraph
            if node in in_progress:
                raise SpecError(f"the graph has a cycle through {node!r}")
            visit[node] = len(visit)
            in_progress.add(node)
        ups = parents(node)
        if child < len(ups):
            stack.append((node, child + 1))
            if ups[child] not in visit or ups[child] in in_progress:
                stack.append((ups[child], 0))
            continue
        in_progress.discard(node)
        finished.append(node)
    depth: dict[K, int] = {}
    for node in reversed(finished):  # outputs first: a parent is one deeper than its child
        depth.setdefault(node, 0)
        for up in parents(node):
            depth[up] = max(depth.get(up, 0), depth[node] + 1)
    return sorted(finished, key=lambda n: (-depth[n], visit[n]))


def wire(
    order: Sequence[K], parents: Mapping[K, Sequence[K]], model_input: K
) -> tuple[tuple[int, ...], ...]:
    """`inbound` for layers in `order` (the input not among them): each parent's node."""
    node = {model_input: 0, **{key: i + 1 for i, key in enumerate(order)}}
    return tuple(tuple(node[p] for p in parents[key]) for key in order)


def check_wiring(model: ModelSpec) -> None:
    """A graph's wiring is sound: one list per layer, each reading earlier nodes, merge
    layers reading several and the others one, every layer on a path to the output."""
    if not model.inbound:
        return
    if len(model.inbound) != len(model.layers):
        raise SpecError(
            f"the graph wires {len(model.inbound)} layers, the model has {len(model.layers)}",
            where=model.source,
        )
    for i, (layer, reads) in enumerate(zip(model.layers, model.inbound, strict=True)):
        if not reads or any(not 0 <= j <= i for j in reads):
            raise SpecError(f"layer {layer.name!r} reads a node after it", where=model.source)
        merging = layer.kind == LayerKind.MERGE
        if not merging and len(reads) != 1:
            raise SpecError(
                f"{layer.name} ({layer.keras_class}) is called on {len(reads)} tensors; "
                "only merge layers (Add, Concatenate, ...) take several",
                where=model.source,
            )
        if isinstance(layer, Subtract) and len(reads) != 2:
            line = f", line {layer.line}" if layer.line else ""
            raise SpecError(
                f"Subtract takes exactly 2 tensors, got {len(reads)}",
                where=f"{model.source}: {layer.name} (Subtract{line})",
            )
    users = consumers(model)
    unused = [model.layers[j - 1].name for j in range(1, len(model.layers)) if not users[j]]
    if unused:
        raise SpecError(
            f"layer {unused[0]!r} does not lead to the output (the last layer)", where=model.source
        )


def in_keras_order(model: ModelSpec) -> ModelSpec:
    """The same graph with its layers in Keras's order (after layers were removed or
    added, depths change); a chain is returned as it is."""
    if not model.inbound:
        return model
    count = len(model.layers)
    order = keras_order(count, lambda node: model.inbound[node - 1] if node else ())
    order = [node for node in order if node]  # the input (node 0) stays node 0
    new = {0: 0, **{old: i + 1 for i, old in enumerate(order)}}
    layers = tuple(model.layers[old - 1] for old in order)
    inbound = tuple(tuple(new[j] for j in model.inbound[old - 1]) for old in order)
    return replace(model, layers=layers, inbound=inbound)


def without(model: ModelSpec, drop: set[int]) -> ModelSpec:
    """The model without the layers `drop` (each reads one node): their readers read
    what they read, as if the layer were the identity."""
    node = [0]  # old node -> new node
    layers: list[Layer] = []
    inbound: list[tuple[int, ...]] = []
    for i, layer in enumerate(model.layers):
        reads = tuple(node[j] for j in sources(model, i))
        if i in drop:
            node.append(reads[0])
            continue
        layers.append(layer)
        inbound.append(reads)
        node.append(len(layers))
    wiring = tuple(inbound) if model.inbound else ()
    return in_keras_order(replace(model, layers=tuple(layers), inbound=wiring))


def inserted(model: ModelSpec, before: int, layer: Layer) -> ModelSpec:
    """`layer` put on the input of layer `before` (which reads one node)."""
    if not model.inbound:
        layers = (*model.layers[:before], layer, *model.layers[before:])
        return replace(model, layers=layers)
    shift = [j if j <= before else j + 1 for j in range(len(model.layers) + 1)]
    inbound = [tuple(shift[j] for j in reads) for reads in model.inbound]
    inbound.insert(before, inbound[before])  # the new layer reads what `before` read
    inbound[before + 1] = (before + 1,)  # and `before` reads the new layer
    layers = (*model.layers[:before], layer, *model.layers[before:])
    return in_keras_order(replace(model, layers=layers, inbound=tuple(inbound)))


def levels(model: ModelSpec) -> list[int]:
    """Each layer's step from the input along its longest path (the input is 0): layers of
    one level sit side by side when a page lays the graph out (a shortcut's projection
    beside the block's first convolution)."""
    level = [0]
    for i in range(len(model.layers)):
        level.append(1 + max(level[j] for j in sources(model, i)))
    return level[1:]
