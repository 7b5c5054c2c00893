"""The Keras part of the importer's interpreter: layer constructor calls, Sequential models
and their methods (add, pop, build, compile, fit), and what to say when a layer argument
is only known at run time. Generic Python (values, expressions, statements) lives in
expressions and interpreter; the budget in values.
"""

from __future__ import annotations

import ast
from typing import Any

from ..errors import SpecError
from ..keras import layers as keras_layers
from ..keras import legacy as keras1
from ..keras import names as keras_names
from ..keras.bind import NO_SHAPE_EFFECT, LayerCall, auto_name, to_snake_case
from ..keras.names import INPUT_CLASSES
from ..spec import ACTIVATIONS
from . import data as source_data
from .expressions import Evaluator
from .values import (
    MAX_LAYERS,
    Exceeded,
    Functional,
    Method,
    Module,
    Sequential,
    Unknown,
    _is_plain,
    describe,
    within_budget,
)


class KerasCalls(Evaluator):
    """What the file's Keras calls build: layers, the models they go into, and notes."""

    def __init__(
        self, filename: str, *, classes: int | None = None, shape: tuple[int, ...] | None = None
    ) -> None:
        super().__init__(filename)
        self.classes = classes  # --classes: the units of a Dense the file sizes at run time
        self.given_shape = shape  # --input-shape: the file's own input shape is not needed
        self.function_names: list[str] = []  # the functions being walked, innermost last
        self.models: list[Sequential] = []
        self.functional: list[Functional] = []  # evidence of graphs that are not chains
        self.notes: list[str] = []
        # Keras's name counters (keras/src/utils/naming.py uniquify): one per session, so a
        # file's second model continues them (leaky_re_lu_3, dense_1, sequential_1)
        self.uids: dict[str, int] = {}

    def layer_call(
        self, node: ast.Call, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> LayerCall:
        canonical = keras_names.canonical(name)
        if canonical not in keras_layers.SIGNATURES and canonical not in keras_names.INPUT_CLASSES:
            raise self.error(
                node,
                f"`{name}` is a Keras layer that convscope does not support yet",
                "supported: " + ", ".join(keras_layers.SUPPORTED),
            )
        if canonical == "Dense":
            args, kwargs = self.given_classes(node, args, kwargs)
        if self.given_shape:  # --input-shape replaces these: they need not be known
            kwargs = {k: v for k, v in kwargs.items() if k not in INPUT_SHAPE_ARGS}
            if canonical in keras_names.INPUT_CLASSES:
                return LayerCall(name, (), {"shape": self.given_shape}, node.lineno)
        try:
            args, kwargs, note = keras1.modernise(name, args, kwargs)
        except SpecError as error:
            raise self.error(node, f"{name}: {error.message}") from None
        if note:
            self.notes.append(f"line {node.lineno}: {note}")
        args = tuple(self.argument(node, name, a) for a in args)
        kwargs = {
            k: None if k in NO_SHAPE_EFFECT else self.argument(node, name, v, k)
            for k, v in kwargs.items()
        }  # regularizers, initializers, constraints: any value, they change no number here
        named = kwargs.get("name") is not None  # only unnamed layers take a number
        prefix = "input_layer" if canonical in INPUT_CLASSES else to_snake_case(canonical)
        auto = None if named else auto_name(prefix, self.uids)
        return LayerCall(name, args, kwargs, node.lineno, auto)

    def given_classes(
        self, node: ast.Call, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Dense(units) the file only knows at run time, with --classes given: that number."""
        units = args[0] if args else kwargs.get("units")
        if self.classes is None or not isinstance(units, Unknown):
            return args, kwargs
        self.notes.append(
            f"line {node.lineno}: Dense units taken from --classes {self.classes} (the file "
            f"works them out at run time: {describe(units)})"
        )
        if args:
            return (self.classes, *args[1:]), kwargs
        return args, {**kwargs, "units": self.classes}

    def argument(self, node: ast.Call, layer: str, value: Any, key: str | None = None) -> Any:
        """A layer argument as a plain value: activations given as functions become names."""
        if isinstance(value, Module) and value.leaf in ACTIVATIONS:
            return value.leaf  # activation=tf.nn.relu, keras.activations.softmax
        if isinstance(value, LayerCall):
            raise self.error(
                node,
                f"{layer}: {'`' + key + '`' if key else 'an argument'} is a layer object "
                f"({value.cls}(...)), which convscope does not read there",
                f"add it as its own layer after {layer}, e.g. model.add({value.cls}(...))",
            )
        if isinstance(value, Unknown) or not _is_plain(value):
            what = f"`{key}`" if key else "an argument"
            reason = describe(value)
            raise self.error(
                node,
                f"{layer}: {what} cannot be worked out without running the file ({reason})",
                _unknown_hint(layer, key),
            )
        return value

    def new_sequential(
        self, node: ast.Call, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Sequential:
        items = kwargs.get("layers", args[0] if args else None)
        name = kwargs.get("name", args[2] if len(args) > 2 else None)
        model = Sequential([], node.lineno, name if isinstance(name, str) else None)
        model.auto = None if model.name else auto_name("sequential", self.uids)
        model.function = self.function_names[-1] if self.function_names else None
        if items is not None:
            if not isinstance(items, (list, tuple)):
                raise self.error(node, "Sequential() takes a list of layers, got something else")
            for position, item in enumerate(items, 1):
                self.add_layer(node, model, item, f"item {position} of Sequential([...])")
        self.rebuilt(model)
        self.models.append(model)
        return model

    def rebuilt(self, model: Sequential) -> None:
        """Keras 3 builds a Sequential that knows its input each time it changes (made,
        add, pop) and one that does not when it is first called; each build makes a
        Functional inside it, which takes the next "functional" name of the session."""
        if knows_input(model):
            auto_name("functional", self.uids)

    def add_layer(self, node: ast.AST, model: Sequential, item: Any, what: str) -> None:
        if item is model:
            raise self.error(node, "model.add(model) adds the model to itself")
        if isinstance(item, LayerCall):
            model.calls.append(item)
        elif isinstance(item, Sequential) and item.inbound:
            raise self.error(
                node,
                f"{what} is a functional graph ({item.name or item.auto}), which a Sequential "
                "cannot hold as a chain of layers",
                "build the model with the functional API: inputs = keras.Input(...); "
                "x = base(inputs); ...; model = keras.Model(inputs, outputs)",
            )
        elif isinstance(item, Sequential):
            model.calls.extend(item.calls)  # a nested Sequential adds its layers in order
        else:
            raise self.error(
                node, f"{what} is not a Keras layer convscope can read ({describe(item)})"
            )
        if len(model.calls) > MAX_LAYERS:
            raise self.error(node, f"the model has more than {MAX_LAYERS:,} layers")

    def call_method(
        self, node: ast.Call, method: Method, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        obj, name = method.obj, method.name
        if isinstance(obj, list):
            if name == "append" and len(args) == 1:
                obj.append(args[0])
            elif name == "extend" and len(args) == 1 and isinstance(args[0], (list, tuple)):
                obj.extend(args[0])
            elif name == "insert" and len(args) == 2 and isinstance(args[0], int):
                obj.insert(args[0], args[1])
            try:
                within_budget(obj)
            except Exceeded as error:
                raise self.error(node, str(error)) from None
            return None
        assert isinstance(obj, Sequential)
        if name == "add" and args:
            self.add_layer(node, obj, args[0], "the argument of model.add()")
            self.rebuilt(obj)
        elif name == "pop" and obj.calls:
            obj.calls.pop()
            self.rebuilt(obj)
        elif name == "build" and args and isinstance(args[0], (tuple, list)) and len(args[0]) > 1:
            dims = tuple(args[0])[1:]  # (None, 28, 28, 1): the batch axis first
            if all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
                obj.built_shape = dims
        elif name == "compile":
            params = ("optimizer", "loss", "loss_weights", "metrics")
            obj.compile_args = {**dict(zip(params, args, strict=False)), **kwargs}
        elif name == "fit":
            fit_params = ("x", "y", "batch_size", "epochs", "verbose")
            obj.fit_args = {**dict(zip(fit_params, args, strict=False)), **kwargs}
            self.shape_from_fit(node, obj, obj.fit_args.get("x"))
        return Unknown(f"the result of model.{name}()")

    def shape_from_fit(self, node: ast.Call, model: Sequential, x: Any) -> None:
        """Keras builds a model without an input shape on the first batch fit() gives it:
        the data's shape, where the file loads a data set convscope knows."""
        if isinstance(x, source_data.DataArray) and len(x.shape) > 1:
            shape = x.shape[1:]
        elif isinstance(x, source_data.ImageFolder):
            shape = x.image_shape
        else:
            return
        if model.built_shape is None:
            model.built_shape = shape
            model.built_note = (
                f"line {node.lineno}: the input shape {shape} is the shape of the data "
                f"model.fit() is given ({x.what}), as Keras builds the model on its first batch"
            )


def knows_input(model: Sequential) -> bool:
    """Keras 3 can build it: an Input first, or a first layer given input_shape= (an
    Input is put before it), and at least one layer after the Input."""
    if not model.calls:
        return False
    first = model.calls[0]
    if keras_names.canonical(first.cls) in INPUT_CLASSES:
        return len(model.calls) > 1
    return any(key in first.kwargs for key in INPUT_SHAPE_ARGS)


INPUT_SHAPE_ARGS = frozenset({"input_shape", "input_dim", "batch_input_shape"})


def _unknown_hint(layer: str, key: str | None) -> str:
    """What to do about an argument known only at run time: the option that supplies it."""
    if key in INPUT_SHAPE_ARGS or (key in ("shape", "batch_shape", None) and "Input" in layer):
        return "pass the input shape with --input-shape, e.g. --input-shape 28,28,1"
    if keras_names.canonical(layer) == "Dense" and key in ("units", None):
        return "if this is the number of classes, pass it with --classes, e.g. --classes 10"
    return "use a number or a name set to a constant earlier in the file"
