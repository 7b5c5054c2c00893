"""The functional API as the importer reads it: layers called on tensors, merge layers on
lists of tensors (`layers.Add()([x, y])`, `layers.add([x, y])`), a Sequential called as a
layer, and `keras.Model(inputs, outputs)` over the graph they make, put in Keras's order
(core.graph). A graph that is one chain is read as the Sequential it equals.
"""

from __future__ import annotations

import ast
from itertools import pairwise
from typing import Any

from .. import graph
from ..errors import ConvscopeError, SpecError
from ..explain.merge import merge_step
from ..explain.rules import step
from ..keras import names as keras_names
from ..keras.bind import LayerCall, auto_name, build_layer, input_layer_shape
from ..keras.merging import FUNCTIONS, MERGING
from ..keras.names import INPUT_CLASSES
from ..spec import LayerKind, Pretrained
from .calls import KerasCalls, knows_input
from .values import MAX_LAYERS, Functional, Module, Sequential, Tensor, Unknown

ONE_IN_ONE_OUT = "convscope reads models with one input and one output"


def is_input(value: Any) -> bool:
    return isinstance(value, LayerCall) and keras_names.canonical(value.cls) in INPUT_CLASSES


def single(value: Any) -> Any:
    """inputs=[x] and outputs=[y] name one tensor as inputs=x does."""
    return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value


class FunctionalCalls(KerasCalls):
    """Tensors and the graph they make."""

    def __init__(self, filename: str, **options: Any) -> None:
        super().__init__(filename, **options)
        self.inputs: dict[int, tuple[LayerCall, Tensor]] = {}  # id(Input call) -> its tensor
        self.applied: dict[int, LayerCall] = {}  # layers called once already (no sharing)
        self.replayed: dict[int, LayerCall] = {}  # ... and once again, in a model called
        self.shapes: dict[int, tuple[int, ...] | None] = {}  # id(tensor) -> its shape
        self.pretrained: list[Pretrained] = []  # weights of models called as layers

    def attribute(self, base: Any, attr: str, *, bare: bool = False) -> Any:
        """`x.shape` of a tensor: (None, 32, 32, 16), as Keras's symbolic tensors give it
        (ResNet code asks `if x.shape[-1] != filters` to choose its shortcut)."""
        tensor = None if bare else self.as_tensor(base)
        if tensor is None or attr != "shape":
            return super().attribute(base, attr, bare=bare)
        shape = self.shape_of(tensor)
        if shape is None:
            return Unknown("the shape of a tensor convscope cannot size")
        return (None, *shape)

    def shape_of(self, tensor: Tensor) -> tuple[int, ...] | None:
        """The tensor's shape (no batch axis) by explain's rules; None if it has none."""
        if id(tensor) in self.shapes:
            return self.shapes[id(tensor)]
        call, shape = tensor.call, None
        try:
            if is_input(call):
                shape = input_layer_shape(call.cls, call.args, call.kwargs)
            else:
                ins = [self.shape_of(parent) for parent in tensor.parents]
                layer = build_layer(call.cls, call.args, call.kwargs).layer
                if all(x is not None for x in ins):
                    known = [x for x in ins if x is not None]
                    if layer.kind == LayerKind.MERGE:
                        shape = merge_step(layer, known, self.filename).output_shape
                    else:
                        shape = step(layer, known[0], self.filename).output_shape
        except ConvscopeError:  # SpecError, ShapeError
            shape = None  # said where the model is explained, with the layer's name
        self.shapes[id(tensor)] = shape
        return shape

    def as_tensor(self, value: Any) -> Tensor | None:
        """A tensor, or an Input call (`inputs = keras.Input(...)`) as the tensor it is."""
        if isinstance(value, Tensor):
            return value
        if is_input(value):
            if id(value) not in self.inputs:
                self.inputs[id(value)] = (value, Tensor(value))
            return self.inputs[id(value)][1]
        return None

    def tensors_in(self, args: tuple[Any, ...]) -> Tensor | list[Tensor] | None:
        """What a layer is called on: one tensor, or a list of them (a merge layer's)."""
        if len(args) != 1:
            return None
        (x,) = args
        if isinstance(x, (list, tuple)) and x:
            found = [self.as_tensor(item) for item in x]
            return None if any(t is None for t in found) else [t for t in found if t]
        return self.as_tensor(x)

    def apply(
        self,
        node: ast.Call,
        callee: LayerCall | Sequential,
        x: Tensor | list[Tensor],
        replayed: bool = False,
    ) -> Tensor:
        """layer(x), merge([x, y]), or a model called on x (its layers one by one, each
        `replayed`: they may have built that model before, but only once in this one)."""
        if isinstance(callee, Sequential):
            callee.part = True  # a block of the model it is called in, not a model of its own
            self.pretrained += callee.pretrained  # its weights go with its layers
            if not knows_input(callee):
                auto_name("functional", self.uids)  # Keras builds it on its first call
            if isinstance(x, list):
                raise self.error(node, "a Sequential is called on one tensor, not a list")
            self.notes.append(
                f"line {node.lineno}: {callee.name or callee.auto} (a model called as a layer) "
                f"is shown as its {len(callee.calls) - 1} layers; Keras's summary shows it as "
                "one row with their parameters"
            )
            if not callee.inbound:
                for call in callee.calls:
                    if not is_input(call):
                        x = self.apply(node, call, x, replayed=True)
                return x
            nodes = [x]  # a graph: its layers called again, node by node, on x
            for call, reads in zip(callee.calls[1:], callee.inbound, strict=True):
                ins = [nodes[j] for j in reads]
                merging = keras_names.canonical(call.cls) in MERGING
                nodes.append(self.apply(node, call, ins if merging else ins[0], replayed=True))
            return nodes[-1]
        merging = keras_names.canonical(callee.cls) in MERGING
        if merging != isinstance(x, list):
            raise self.error(
                node,
                f"{callee.cls} is called on a list of tensors"
                if isinstance(x, list)
                else f"{callee.cls} is a merge layer: it is called on a list of tensors",
                "merge layers (Add, Concatenate, ...) take [x, y]; other layers one tensor",
            )
        seen = self.replayed if replayed else self.applied
        if id(callee) in seen:
            raise self.error(
                node,
                f"a {callee.cls} layer is called twice (its weights shared), which convscope "
                "does not read",
                "make a new layer for each use",
            )
        seen[id(callee)] = callee
        if len(self.applied) > MAX_LAYERS:
            raise self.error(node, f"the model has more than {MAX_LAYERS:,} layers")
        return Tensor(callee, tuple(x) if isinstance(x, list) else (x,))

    def merge_function(
        self, node: ast.Call, callee: Module, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Tensor | Unknown:
        """`layers.add([x, y], name=...)` is `layers.Add(name=...)([x, y])`."""
        inputs = kwargs.pop("inputs", args[0] if args else None)
        rest = args[1:]  # concatenate(inputs, axis)
        x = self.tensors_in((inputs,))
        if not isinstance(x, list):
            raise self.error(node, f"{callee.leaf}() takes a list of tensors")
        call = self.layer_call(node, FUNCTIONS[callee.leaf], rest, kwargs)
        return self.apply(node, call, x)

    def functional_model(
        self, node: ast.Call, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Sequential | Unknown:
        """keras.Model(inputs, outputs): the graph from its Input to its output, in Keras's
        order; a chain is read as the Sequential it equals (Keras names it functional,
        functional_1, ...)."""
        ends = (
            kwargs.get("inputs", args[0] if args else None),
            kwargs.get("outputs", args[1] if len(args) > 1 else None),
        )
        for what, value in zip(("inputs", "outputs"), ends, strict=True):
            if isinstance(value, (list, tuple, dict)) and len(value) != 1:
                raise self.error(
                    node,
                    f"keras.Model with {len(value)} {what}: {ONE_IN_ONE_OUT}",
                    "a model with several inputs or outputs (multi-task heads, siamese "
                    "networks) is not supported yet",
                )
        start, end = (self.as_tensor(single(value)) for value in ends)
        if start is None or end is None or not is_input(start.call):
            what = "inputs" if start is None or not is_input(start.call) else "outputs"
            self.functional.append(
                Functional(node.lineno, f"keras.Model whose {what} convscope could not follow")
            )
            return Unknown("a functional keras.Model")
        try:
            order = graph.keras_order(end, lambda t: t.parents)
        except SpecError as error:
            raise self.error(node, error.message) from None
        roots = [t for t in order if not t.parents]
        if roots != [start]:
            raise self.error(
                node,
                f"the output is computed from {len(roots)} inputs: {ONE_IN_ONE_OUT}"
                if start in roots
                else "the output is not computed from the model's inputs",
            )
        name = kwargs.get("name")
        model = Sequential(
            [t.call for t in order], node.lineno, name if isinstance(name, str) else None
        )
        model.auto = None if model.name else auto_name("functional", self.uids)
        model.function = self.function_names[-1] if self.function_names else None
        chain = all(t.parents == (before,) for before, t in pairwise(order))
        if not chain:
            layers = order[1:]
            model.inbound = graph.wire(layers, {t: t.parents for t in layers}, start)
        self.models.append(model)
        return model
