"""The interpreter that walks Keras source statement by statement, to find Sequential models.

It runs the statements convscope needs (imports, assignments, `if` on values it can
work out, `for` over literal lists and ranges, function definitions) and models the
calls that build a model: layer constructors, `Sequential([...])`, `model.add`,
`compile` and `fit`, and the file's own functions. Expressions are the `Evaluator`'s.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Any

from ..applications import SOURCES as APPLICATIONS
from ..applications import weights_file, weights_url
from ..keras import names as keras_names
from ..keras.bind import LayerCall
from ..keras.merging import FUNCTIONS
from ..spec import Pretrained
from . import data as source_data
from .functional import FunctionalCalls
from .values import (
    _BUILTINS,
    MAX_DEPTH,
    Function,
    Functional,
    KerasClass,
    KerasObject,
    Method,
    Misspelt,
    Module,
    Sequential,
    Tensor,
    Unknown,
    _Break,
    _Continue,
    _is_plain,
    _Return,
    _size_ok,
    bind_arguments,
)


def flat(values: Any) -> list[Any]:
    """Arguments with lists and tuples opened: add([x, y]) holds two tensors."""
    found = []
    for value in values:
        found += flat(value) if isinstance(value, (list, tuple)) else [value]
    return found


class Interpreter(FunctionalCalls):
    """Walks a module's statements, modelling just enough Python to find Sequential models."""

    def __init__(
        self, filename: str, *, classes: int | None = None, shape: tuple[int, ...] | None = None
    ) -> None:
        super().__init__(filename, classes=classes, shape=shape)
        self.star_keras = False  # `from keras.layers import *` seen
        self.functions_called: set[str] = set()
        self.depth = 0
        self.applications: dict[str, Function] = {}  # keras.applications functions, once read

    # ---- statements ----

    def run_block(self, body: list[ast.stmt], scopes: tuple[dict[str, Any], ...]) -> None:
        for statement in body:
            self.run(statement, scopes)

    def run(self, node: ast.stmt, scopes: tuple[dict[str, Any], ...]) -> None:
        self.tick(node)
        local = scopes[-1]
        match node:
            case ast.Import(names=names):
                for alias in names:
                    if alias.asname:
                        local[alias.asname] = Module(alias.name)
                    else:
                        top = alias.name.split(".")[0]
                        local[top] = Module(top)
            case ast.ImportFrom(module=module, names=names):
                base = Module(module or "")
                for alias in names:
                    if alias.name == "*":
                        self.star_keras = self.star_keras or base.is_keras
                    else:
                        local[alias.asname or alias.name] = self.attribute(base, alias.name)
            case ast.Assign(targets=targets, value=value):
                result = self.eval(value, scopes)
                for target in targets:
                    self.assign(target, result, scopes)
            case ast.AnnAssign(target=target, value=value) if value is not None:
                self.assign(target, self.eval(value, scopes), scopes)
            case ast.AugAssign(target=ast.Name() as target, op=op, value=value):
                current = self.eval(target, scopes)
                self.assign(target, self.binop(op, current, self.eval(value, scopes)), scopes)
            case ast.Expr(value=value):
                self.eval(value, scopes)
            case ast.If(test=test, body=body, orelse=orelse):
                self.run_if(node, test, body, orelse, scopes)
            case ast.For(target=target, iter=iterable, body=body, orelse=orelse):
                self.run_for(node, target, iterable, body, orelse, scopes)
            case ast.While(body=body):
                self.unfollowed(node, body, "a while loop is not followed: how often it runs is "
                                "only known when the file runs")  # fmt: skip
            case ast.With(body=body) | ast.AsyncWith(body=body):
                self.run_block(body, scopes)
            case (
                ast.Try(body=body, orelse=orelse, finalbody=finalbody)
                | ast.TryStar(body=body, orelse=orelse, finalbody=finalbody)
            ):
                self.run_block([*body, *orelse, *finalbody], scopes)
            case ast.FunctionDef() | ast.AsyncFunctionDef():
                defaults = tuple(self.eval(d, scopes) for d in node.args.defaults)
                kw_defaults = {
                    arg.arg: self.eval(d, scopes)
                    for arg, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
                    if d is not None
                }
                local[node.name] = Function(node, scopes, defaults, kw_defaults)
            case ast.ClassDef(name=name, bases=bases):
                self.note_subclass(node, bases, scopes)
                local[name] = Unknown(f"class {name}")
            case ast.Return(value=value):
                raise _Return(None if value is None else self.eval(value, scopes))
            case ast.Break():
                raise _Break
            case ast.Continue():
                raise _Continue
            case _:
                pass  # while, del, global, raise, assert, pass: nothing a model depends on

    def run_if(
        self,
        node: ast.If,
        test: ast.expr,
        body: list[ast.stmt],
        orelse: list[ast.stmt],
        scopes: tuple[dict[str, Any], ...],
    ) -> None:
        condition = self.truth(self.eval(test, scopes))
        if condition is None:
            self.notes.append(
                f"line {node.lineno}: `if {ast.unparse(test)}` depends on values only known "
                "when the file runs; convscope followed its first branch"
            )
            condition = True
        self.run_block(body if condition else orelse, scopes)

    def run_for(
        self,
        node: ast.For,
        target: ast.expr,
        iterable: ast.expr,
        body: list[ast.stmt],
        orelse: list[ast.stmt],
        scopes: tuple[dict[str, Any], ...],
    ) -> None:
        items = self.eval(iterable, scopes)
        if not isinstance(items, (list, tuple, str)):
            why = items.reason if isinstance(items, Unknown) else "its items are not known"
            self.unfollowed(node, body, f"the loop is not followed: {why}")
            return  # a loop over data (batches, epochs of a custom loop): no model in it
        for item in items:
            self.assign(target, item, scopes)
            try:
                self.run_block(body, scopes)
            except _Break:
                return
            except _Continue:
                continue
        self.run_block(orelse, scopes)

    def unfollowed(self, node: ast.stmt, body: list[ast.stmt], why: str) -> None:
        """A loop convscope does not follow: fine unless it builds the model."""
        builds = any(
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and (n.func.attr == "add" or keras_names.is_keras_layer(n.func.attr))
            for statement in body
            for n in ast.walk(statement)
        )
        if builds:
            raise self.error(node, f"this loop adds layers to the model, but {why}",
                             "write the layers out, or loop over a short literal list")  # fmt: skip

    # ---- calls ----

    def call(self, node: ast.Call, scopes: tuple[dict[str, Any], ...]) -> Any:
        callee = self.eval(node.func, scopes)
        args = tuple(self.eval_elements(node.args, scopes))
        kwargs: dict[str, Any] = {}
        unknown_star: str | None = None
        for keyword in node.keywords:
            value = self.eval(keyword.value, scopes)
            if keyword.arg is None:
                if isinstance(value, dict):
                    if not all(isinstance(k, str) for k in value):
                        raise self.error(node, "keyword arguments (**) must have names as keys")
                    kwargs.update(value)
                else:  # **cfg only known at run time: harmless for fit(), not for a layer
                    unknown_star = ast.unparse(keyword.value)
                continue
            kwargs[keyword.arg] = value
        match callee:
            case KerasClass(name="Sequential"):
                return self.new_sequential(node, args, kwargs)
            case KerasClass(name="Model"):
                return self.functional_model(node, args, kwargs)
            case KerasClass(name=name):
                if unknown_star is not None:
                    raise self.error(
                        node,
                        f"{name}(**{unknown_star}): its settings are only known when the file "
                        "runs, and they would change the layer",
                        "write the arguments out, or set the dict to literal values earlier",
                    )
                return self.layer_call(node, name, args, kwargs)
            case Misspelt(name=name):
                suggestion = keras_names.suggest(name)
                hint = f"did you mean {suggestion}?" if suggestion else ""
                raise self.error(node, f"unknown layer `{name}`: Keras has no such layer", hint)
            case LayerCall() | Sequential() if (x := self.tensors_in(args)) is not None:
                return self.apply(node, callee, x)
            case LayerCall():
                # layer(a, b), layer([x, y]): a graph, not a chain
                self.functional.append(Functional(node.lineno, f"{callee.cls}(...)(x)"))
                return Unknown("a functional-API tensor")
            case Method():
                return self.call_method(node, callee, args, kwargs)
            case Function():
                return self.call_function(callee, args, kwargs)
            case Module() if callee.leaf in APPLICATIONS and ".applications." in f".{callee.path}.":
                return self.application(node, callee.leaf, args, kwargs)
            case Module() if callee.leaf in FUNCTIONS and any(map(self.as_tensor, flat(args))):
                return self.merge_function(node, callee, args, kwargs)
            case Module() if any(isinstance(a, Tensor) for a in flat(args)):
                # layers.add([x, shortcut]), concatenate: tensors merged, a graph
                self.functional.append(Functional(node.lineno, f"{callee.leaf}(...) of tensors"))
                return Unknown("a functional-API tensor")
            case Module():
                return self.call_module(node, callee, args, kwargs)
            case source_data.DataMethod():
                found = source_data.method(callee, args, kwargs)
                return Unknown(f"`{ast.unparse(node)}`") if found is None else found
            case _ if (
                callee is len and len(args) == 1 and isinstance(args[0], source_data.DataArray)
            ):
                return args[0].shape[0]
            case _ if callable(callee) and (
                not isinstance(callee, type) or callee in _BUILTINS.values()  # int(), tuple()
            ):
                if all(_is_plain(a) for a in args) and all(_is_plain(v) for v in kwargs.values()):
                    try:
                        return _size_ok(callee(*args, **kwargs))
                    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                        pass  # what Python itself would refuse: not known here
                return Unknown(f"`{ast.unparse(node)}`")
            case _:
                return Unknown(f"`{ast.unparse(node)}` is only known at run time")

    def application(
        self, node: ast.Call, leaf: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """keras.applications.VGG16(...) and the like: their Keras source (core.applications)
        run with the file's arguments, its layers placed on the calling line."""
        if leaf not in self.applications:
            scope: dict[str, Any] = {}
            self.run_block(ast.parse(APPLICATIONS[leaf]).body, (scope,))
            self.applications[leaf] = scope[leaf]
        model = self.call_function(self.applications[leaf], args, kwargs)
        if not isinstance(model, Sequential):
            return Unknown(f"{leaf}(...) with arguments only known at run time")
        model.calls = [replace(call, line=node.lineno) for call in model.calls]
        model.line, model.function = node.lineno, leaf
        file = weights_file(leaf, args, kwargs)
        if file is not None:
            named = tuple(str(c.kwargs["name"]) for c in model.calls if "name" in c.kwargs)
            model.pretrained.append(Pretrained(file, weights_url(leaf, file), named))
            self.notes.append(
                f"line {node.lineno}: {leaf}(weights='imagenet'): explained from the "
                f"architecture alone; training starts from {file} in Keras's cache "
                "(~/.keras/models/)"
            )
        return model

    def call_function(
        self, function: Function, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if self.depth >= MAX_DEPTH:
            return Unknown("a call nested too deeply to follow")
        local = bind_arguments(function, args, kwargs)
        self.functions_called.add(function.node.name)
        self.depth += 1
        self.function_names.append(function.node.name)
        try:
            self.run_block(function.node.body, (*function.scopes, local))
        except _Return as returned:
            return returned.value
        finally:
            self.depth -= 1
            self.function_names.pop()
        return None

    def call_module(
        self, node: ast.Call, callee: Module, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if callee.leaf == "image_data_format":
            return "channels_last"  # Keras's default; convscope models are channels_last
        if callee.leaf == "image_dim_ordering":
            return "tf"  # Keras 1's name for the same: 'tf' is channels last
        dataset = source_data.dataset_of(callee.path)
        if dataset is not None:
            train, _ = source_data.load_data(dataset)
            self.notes.append(
                f"line {node.lineno}: {dataset}.load_data() is read as Keras documents it "
                f"(images {train[0].shape}, {train[1].classes} classes), not run"
            )
            return source_data.load_data(dataset)
        found = source_data.module_call(callee.leaf, args, kwargs)
        if callee.leaf == "image_dataset_from_directory":
            found = source_data.image_folder(args, kwargs)
        if found is not None:
            return found
        if callee.is_keras:
            return KerasObject(callee.path, args, kwargs)
        return Unknown(f"`{callee.path}(...)` is only known at run time")

    def note_subclass(
        self, node: ast.ClassDef, bases: list[ast.expr], scopes: tuple[dict[str, Any], ...]
    ) -> None:
        for base in bases:
            value = self.eval(base, scopes)
            if isinstance(value, KerasClass) and value.name in ("Model", "Sequential", "Layer"):
                self.functional.append(Functional(node.lineno, f"class {node.name}({value.name})"))
            elif isinstance(value, Module) and value.leaf in ("Model", "Layer"):
                self.functional.append(Functional(node.lineno, f"class {node.name}({value.leaf})"))

    def call_uncalled_functions(self) -> None:
        """A file that only defines `build_model()`: walk its functions with unknown arguments.

        Parameters without defaults become Unknown; an error inside (a misspelt layer) is
        the user's to see, so it is not swallowed.
        """
        for value in list(self.globals.values()):
            if isinstance(value, Function) and value.node.name not in self.functions_called:
                self.call_function(value, (), {})
