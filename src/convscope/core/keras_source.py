"""Read a Keras Sequential model from Python source, without importing or running it.

Users paste code from books, courses and blogs: a bare `keras.Sequential([...])`
snippet, or a whole training script with data loading, compile() and fit(). This module
parses it with `ast` and walks the statements with a tiny abstract interpreter that
knows only what it needs: constants and simple arithmetic, tuples and lists, imports of
keras / tf.keras (star imports too), layer constructor calls, `Sequential([...])` and
`model.add(...)`, `if` on values it can work out (`K.image_data_format()` is
'channels_last'), `for` over literal lists and ranges, and functions the file defines
and calls. Anything else becomes an `Unknown` value that only matters if a layer
argument depends on it. Nothing in the file is ever executed.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import keras_api
from .errors import SourceError
from .keras_api import LayerCall
from .spec import ACTIVATIONS, ModelSpec

# Names a pasted snippet uses without importing them, as the book or course did.
IMPLICIT_MODULES = {
    "keras": "keras",
    "tf": "tensorflow",
    "layers": "keras.layers",
    "models": "keras.models",
    "K": "keras.backend",
}
MAX_STEPS = 200_000  # statements and expressions evaluated; a guard against runaway loops
MAX_DEPTH = 30  # nested calls of the file's own functions
MAX_ITEMS = 100_000  # elements in a list or tuple built by arithmetic


@dataclass(frozen=True)
class Unknown:
    """A value only known at run time; `reason` says why, for the error that may follow."""

    reason: str


@dataclass(frozen=True)
class Module:
    """A module or attribute path such as `tensorflow.keras.layers` or `tf.nn.relu`."""

    path: str

    @property
    def is_keras(self) -> bool:
        return "keras" in self.path.split(".")

    @property
    def leaf(self) -> str:
        return self.path.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class KerasClass:
    """A Keras class convscope knows: a layer, Input, Sequential or Model."""

    name: str


@dataclass(frozen=True)
class Misspelt:
    """A name in a Keras layers module that Keras does not have (`MaxPooling2d`)."""

    name: str


@dataclass
class Sequential:
    """A `Sequential` model as the file builds it; mutable because `model.add` mutates it."""

    calls: list[LayerCall]
    line: int
    name: str | None = None
    compile_args: dict[str, Any] | None = None
    fit_args: dict[str, Any] | None = None


@dataclass(frozen=True)
class Method:
    """`obj.name` on a Sequential (add, compile, fit) or a list (append, extend, insert)."""

    obj: Any
    name: str


@dataclass(frozen=True)
class KerasObject:
    """The result of calling some other Keras API, e.g. `keras.optimizers.Adadelta(1.0)`."""

    path: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class Function:
    """A function the file defines; called, its body is walked with the arguments bound."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    scopes: tuple[dict[str, Any], ...]  # the scopes it was defined in, innermost last
    defaults: tuple[Any, ...]
    kw_defaults: dict[str, Any]


@dataclass
class Functional:
    """Evidence that the file uses the functional API or subclassing: not supported."""

    line: int
    what: str


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_PLAIN = (int, float, str, bool, type(None))


def _is_plain(value: Any) -> bool:
    """A value built only of constants, tuples and lists: safe to compute with."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (tuple, list)):
        return all(_is_plain(v) for v in value)
    return False


def _size_ok(value: Any) -> Any:
    if isinstance(value, (tuple, list, str)) and len(value) > MAX_ITEMS:
        return Unknown("a sequence too long to follow")
    return value


def _builtin_range(*args: Any) -> Any:
    if not all(isinstance(a, int) for a in args) or not 1 <= len(args) <= 3:
        return Unknown("range() over values only known at run time")
    result = range(*args)
    return list(result) if len(result) <= MAX_ITEMS else Unknown("a range too long to follow")


_BUILTINS: dict[str, Callable[..., Any]] = {
    "range": _builtin_range,
    "len": len,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sum": sum,
    "tuple": tuple,
    "list": list,
    "enumerate": lambda xs, start=0: list(enumerate(xs, start)),
    "zip": lambda *xs: list(zip(*xs, strict=False)),
    "print": lambda *args, **kwargs: None,
}


class Interpreter:
    """Walks a module's statements, modelling just enough Python to find Sequential models."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.globals: dict[str, Any] = {"__name__": "__main__"}
        self.star_keras = False  # `from keras.layers import *` seen
        self.models: list[Sequential] = []
        self.functional: list[Functional] = []
        self.notes: list[str] = []
        self.functions_called: set[str] = set()
        self.steps = 0
        self.depth = 0

    # ---- errors ----

    def error(self, node: ast.AST | None, message: str, hint: str = "") -> SourceError:
        line = getattr(node, "lineno", None)
        where = f"{self.filename}, line {line}" if line else self.filename
        return SourceError(message, where=where, hint=hint)

    def tick(self, node: ast.AST) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise self.error(node, "the file does too much work to follow without running it")

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

    def assign(self, target: ast.expr, value: Any, scopes: tuple[dict[str, Any], ...]) -> None:
        match target:
            case ast.Name(id=name):
                scopes[-1][name] = value
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                values: list[Any]
                if isinstance(value, (tuple, list)) and len(value) == len(elts):
                    values = list(value)
                else:
                    values = [Unknown(f"unpacked from `{ast.unparse(target)}`")] * len(elts)
                for element, item in zip(elts, values, strict=True):
                    self.assign(element, item, scopes)
            case _:
                pass  # attributes and subscripts (x_train[...] = ...) hold no model

    # ---- expressions ----

    def eval(self, node: ast.expr, scopes: tuple[dict[str, Any], ...]) -> Any:
        self.tick(node)
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name(id=name):
                return self.lookup(name, scopes)
            case ast.Attribute(value=base, attr=attr):
                return self.attribute(self.eval(base, scopes), attr)
            case ast.Tuple(elts=elts):
                return tuple(self.eval_elements(elts, scopes))
            case ast.List(elts=elts):
                return self.eval_elements(elts, scopes)
            case ast.Dict(keys=keys, values=values):
                pairs = [
                    (self.eval(k, scopes) if k else None, self.eval(v, scopes))
                    for k, v in zip(keys, values, strict=True)
                ]
                if all(isinstance(k, _PLAIN) for k, _ in pairs):
                    return dict(pairs)
                return Unknown("a dict with computed keys")
            case ast.BinOp(left=left, op=op, right=right):
                return self.binop(op, self.eval(left, scopes), self.eval(right, scopes))
            case ast.UnaryOp(op=op, operand=operand):
                value = self.eval(operand, scopes)
                if isinstance(op, ast.Not):
                    truth = self.truth(value)
                    return Unknown(f"`{ast.unparse(node)}`") if truth is None else not truth
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return -value if isinstance(op, ast.USub) else value
                return Unknown(f"`{ast.unparse(node)}`")
            case ast.BoolOp(op=op, values=operands):
                return self.boolop(node, op, operands, scopes)
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                return self.compare(node, left, ops, comparators, scopes)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                truth = self.truth(self.eval(test, scopes))
                if truth is None:
                    return Unknown(f"`{ast.unparse(node)}`")
                return self.eval(body if truth else orelse, scopes)
            case ast.Subscript(value=base, slice=index):
                return self.subscript(node, self.eval(base, scopes), self.eval(index, scopes))
            case ast.Slice(lower=lower, upper=upper, step=step):
                parts = [None if p is None else self.eval(p, scopes) for p in (lower, upper, step)]
                if all(p is None or isinstance(p, int) for p in parts):
                    return slice(*parts)
                return Unknown(f"`{ast.unparse(node)}`")
            case ast.Call():
                return self.call(node, scopes)
            case ast.ListComp(elt=elt, generators=[ast.comprehension(target=t, iter=it, ifs=[])]):
                items = self.eval(it, scopes)
                if not isinstance(items, (list, tuple)):
                    return Unknown(f"`{ast.unparse(node)}`")
                inner: tuple[dict[str, Any]] = ({},)
                result = []
                for item in items:
                    self.assign(t, item, (*scopes, *inner))
                    result.append(self.eval(elt, (*scopes, *inner)))
                return result
            case ast.Starred():
                return Unknown("a starred expression")
            case _:
                return Unknown(f"`{ast.unparse(node)}`")

    def eval_elements(self, elts: list[ast.expr], scopes: tuple[dict[str, Any], ...]) -> list[Any]:
        result: list[Any] = []
        for element in elts:
            if isinstance(element, ast.Starred):
                inner = self.eval(element.value, scopes)
                if isinstance(inner, (list, tuple)):
                    result.extend(inner)
                    continue
            result.append(self.eval(element, scopes))
        return result

    def lookup(self, name: str, scopes: tuple[dict[str, Any], ...]) -> Any:
        for scope in reversed(scopes):
            if name in scope:
                return scope[name]
        if name in self.globals:
            return self.globals[name]
        if name in IMPLICIT_MODULES:
            return Module(IMPLICIT_MODULES[name])
        if name in _BUILTINS:
            return _BUILTINS[name]
        # A bare `Conv2D` with no import: a snippet written after `from keras.layers import *`.
        return self.attribute(Module("keras.layers"), name, bare=True)

    def attribute(self, base: Any, attr: str, *, bare: bool = False) -> Any:
        """`base.attr`, resolving Keras classes inside keras / tf.keras modules."""
        if isinstance(base, Module):
            in_layers = base.path.split(".")[-1] == "layers" or ".layers." in base.path
            if base.is_keras or bare:
                if attr in ("Sequential", "Model") and (bare or not in_layers):
                    return KerasClass(attr)
                if attr == "Input" or (in_layers and keras_api.is_keras_layer(attr)):
                    return KerasClass(attr)
                # A layers-module name Keras lacks: a misspelling, unless the user meant
                # something of their own (an undefined bare name with no close match).
                if in_layers and attr[:1].isupper() and (not bare or keras_api.suggest(attr)):
                    return Misspelt(attr)
            if bare:
                return Unknown(f"the name `{attr}` is not defined in the file")
            return Module(f"{base.path}.{attr}" if base.path else attr)
        if isinstance(base, (Sequential, list)):
            return Method(base, attr)
        return Unknown(f"`.{attr}` of a value only known at run time")

    def binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        if (
            isinstance(op, ast.Add)
            and type(left) is type(right)
            and isinstance(left, (list, tuple))
        ):
            return _size_ok(left + right)  # layer lists: `stack += [layers.Dense(10)]`
        if not (_is_plain(left) and _is_plain(right)) or type(op) not in _BINOPS:
            return Unknown("arithmetic on values only known at run time")
        if isinstance(op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > 64:
            return Unknown("a very large power")
        if isinstance(op, ast.Mult) and any(
            isinstance(v, (str, list, tuple)) for v in (left, right)
        ):
            count = right if isinstance(right, int) else left
            if isinstance(count, int) and count > MAX_ITEMS:
                return Unknown("a sequence too long to follow")
        try:
            return _size_ok(_BINOPS[type(op)](left, right))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return Unknown("arithmetic Python itself would refuse")

    def truth(self, value: Any) -> bool | None:
        if isinstance(value, Unknown):
            return None
        if _is_plain(value) or isinstance(value, dict):
            return bool(value)
        return True  # modules, models, layers: objects are truthy

    def boolop(
        self,
        node: ast.BoolOp,
        op: ast.boolop,
        operands: list[ast.expr],
        scopes: tuple[dict[str, Any], ...],
    ) -> Any:
        value: Any = None
        for operand in operands:
            value = self.eval(operand, scopes)
            truth = self.truth(value)
            if truth is None:
                return Unknown(f"`{ast.unparse(node)}`")
            if truth == isinstance(op, ast.Or):
                return value
        return value

    def compare(
        self,
        node: ast.Compare,
        left: ast.expr,
        ops: list[ast.cmpop],
        comparators: list[ast.expr],
        scopes: tuple[dict[str, Any], ...],
    ) -> Any:
        current = self.eval(left, scopes)
        for op, right_node in zip(ops, comparators, strict=True):
            right = self.eval(right_node, scopes)
            if not (_is_plain(current) and (_is_plain(right) or isinstance(right, dict))):
                return Unknown(f"`{ast.unparse(node)}`")
            try:
                if not _COMPARE[type(op)](current, right):
                    return False
            except TypeError:
                return Unknown(f"`{ast.unparse(node)}`")
            current = right
        return True

    def subscript(self, node: ast.Subscript, base: Any, index: Any) -> Any:
        if isinstance(base, (list, tuple, str, dict)) and isinstance(index, (int, str, slice)):
            try:
                return base[index]  # type: ignore[index]
            except (IndexError, KeyError, TypeError):
                return Unknown(f"`{ast.unparse(node)}`")
        return Unknown(f"`{ast.unparse(node)}`")

    # ---- calls ----

    def call(self, node: ast.Call, scopes: tuple[dict[str, Any], ...]) -> Any:
        callee = self.eval(node.func, scopes)
        args = tuple(self.eval_elements(node.args, scopes))
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            value = self.eval(keyword.value, scopes)
            if keyword.arg is None:
                if isinstance(value, dict):
                    kwargs.update(value)
                continue
            kwargs[keyword.arg] = value
        match callee:
            case KerasClass(name="Sequential"):
                return self.new_sequential(node, args, kwargs)
            case KerasClass(name="Model"):
                self.functional.append(Functional(node.lineno, "keras.Model(inputs, outputs)"))
                return Unknown("a functional keras.Model")
            case KerasClass(name=name):
                return self.layer_call(node, name, args, kwargs)
            case Misspelt(name=name):
                suggestion = keras_api.suggest(name)
                hint = f"did you mean {suggestion}?" if suggestion else ""
                raise self.error(node, f"unknown layer `{name}`: Keras has no such layer", hint)
            case LayerCall():
                # layer(x): calling a layer on a tensor is the functional API.
                self.functional.append(Functional(node.lineno, f"{callee.cls}(...)(x)"))
                return Unknown("a functional-API tensor")
            case Method():
                return self.call_method(node, callee, args, kwargs)
            case Function():
                return self.call_function(callee, args, kwargs)
            case Module():
                return self.call_module(callee, args, kwargs)
            case _ if callable(callee) and not isinstance(callee, type):
                if all(_is_plain(a) for a in args) and all(_is_plain(v) for v in kwargs.values()):
                    try:
                        return _size_ok(callee(*args, **kwargs))
                    except (TypeError, ValueError, ZeroDivisionError):
                        pass
                return Unknown(f"`{ast.unparse(node)}`")
            case _:
                return Unknown(f"`{ast.unparse(node)}` is only known at run time")

    def layer_call(
        self, node: ast.Call, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> LayerCall:
        canonical = keras_api.canonical(name)
        if canonical not in keras_api.SIGNATURES and canonical not in keras_api.INPUT_CLASSES:
            raise self.error(
                node,
                f"`{name}` is a Keras layer that convscope does not support yet",
                "supported: " + ", ".join(keras_api.SUPPORTED),
            )
        args = tuple(self.argument(node, name, a) for a in args)
        kwargs = {k: self.argument(node, name, v, k) for k, v in kwargs.items()}
        return LayerCall(name, args, kwargs, node.lineno)

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
            reason = value.reason if isinstance(value, Unknown) else f"{type(value).__name__}"
            raise self.error(
                node,
                f"{layer}: {what} cannot be worked out without running the file ({reason})",
                "use a number or a name set to a constant earlier in the file",
            )
        return value

    def new_sequential(
        self, node: ast.Call, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Sequential:
        items = kwargs.get("layers", args[0] if args else None)
        name = kwargs.get("name", args[2] if len(args) > 2 else None)
        model = Sequential([], node.lineno, name if isinstance(name, str) else None)
        if items is not None:
            if not isinstance(items, (list, tuple)):
                raise self.error(node, "Sequential() takes a list of layers, got something else")
            for position, item in enumerate(items, 1):
                self.add_layer(node, model, item, f"item {position} of Sequential([...])")
        self.models.append(model)
        return model

    def add_layer(self, node: ast.AST, model: Sequential, item: Any, what: str) -> None:
        if isinstance(item, LayerCall):
            model.calls.append(item)
        elif isinstance(item, Sequential):
            model.calls.extend(item.calls)  # a nested Sequential adds its layers in order
        else:
            received = item.reason if isinstance(item, Unknown) else type(item).__name__
            raise self.error(node, f"{what} is not a Keras layer convscope can read ({received})")

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
            return None
        assert isinstance(obj, Sequential)
        if name == "add" and args:
            self.add_layer(node, obj, args[0], "the argument of model.add()")
        elif name == "pop" and obj.calls:
            obj.calls.pop()
        elif name == "compile":
            params = ("optimizer", "loss", "loss_weights", "metrics")
            obj.compile_args = {**dict(zip(params, args, strict=False)), **kwargs}
        elif name == "fit":
            fit_params = ("x", "y", "batch_size", "epochs", "verbose")
            obj.fit_args = {**dict(zip(fit_params, args, strict=False)), **kwargs}
        return Unknown(f"the result of model.{name}()")

    def call_function(
        self, function: Function, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if self.depth >= MAX_DEPTH:
            return Unknown("a call nested too deeply to follow")
        local = bind_arguments(function, args, kwargs)
        self.functions_called.add(function.node.name)
        self.depth += 1
        try:
            self.run_block(function.node.body, (*function.scopes, local))
        except _Return as returned:
            return returned.value
        finally:
            self.depth -= 1
        return None

    def call_module(self, callee: Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if callee.leaf == "image_data_format":
            return "channels_last"  # Keras's default; convscope models are channels_last
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


def bind_arguments(
    function: Function, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Bind a call's arguments to the function's parameters, as Python would (simply)."""
    spec = function.node.args
    positional = [a.arg for a in (*spec.posonlyargs, *spec.args)]
    local: dict[str, Any] = {}
    first_default = len(positional) - len(function.defaults)
    for index, param in enumerate(positional):
        if index < len(args):
            local[param] = args[index]
        elif param in kwargs:
            local[param] = kwargs[param]
        elif index >= first_default:
            local[param] = function.defaults[index - first_default]
        else:
            local[param] = Unknown(f"argument `{param}`")
    for arg in spec.kwonlyargs:
        local[arg.arg] = kwargs.get(arg.arg, function.kw_defaults.get(arg.arg))
    if spec.vararg:
        local[spec.vararg.arg] = tuple(args[len(positional) :])
    if spec.kwarg:
        local[spec.kwarg.arg] = {k: v for k, v in kwargs.items() if k not in local}
    return local


@dataclass(frozen=True)
class SourceModel:
    """What the importer found: the model, and what compile() and fit() said about training."""

    spec: ModelSpec
    compile_args: dict[str, Any] = field(default_factory=dict)
    fit_args: dict[str, Any] = field(default_factory=dict)


def parse(text: str, filename: str) -> ast.Module:
    """Parse Python source; a syntax error names the line and, for a missing comma, both lines."""
    try:
        return ast.parse(text, filename)
    except SyntaxError as error:
        line = error.lineno or 0
        message = error.msg
        if "forgot a comma" in message and error.end_lineno and error.end_lineno > line:
            message = (
                f"syntax error: a comma is missing between the items on lines {line} and "
                f"{error.end_lineno} (Python: {error.msg})"
            )
        else:
            message = f"syntax error: {message}"
        code = (error.text or "").strip()
        raise SourceError(
            message,
            where=f"{filename}, line {line}",
            hint=f"{line} | {code}" if code else "",
        ) from None


def read_model(
    text: str, filename: str, *, input_shape: tuple[int, ...] | None = None
) -> SourceModel:
    """Find the Sequential model a Keras source file builds, without running the file.

    The model chosen is the last one the file compiles or fits, or else the last one
    it builds. Raises SourceError / SpecError for anything convscope cannot read.
    """
    tree = parse(text, filename)
    interpreter = Interpreter(filename)
    try:
        interpreter.run_block(tree.body, (interpreter.globals,))
        if not any(m.calls for m in interpreter.models):
            interpreter.call_uncalled_functions()
    except (_Return, _Break, _Continue):
        pass  # `return` or `break` at module level (ast.parse allows them): stop there
    except RecursionError:
        raise SourceError("the file nests too deeply to follow", where=filename) from None
    candidates = [m for m in interpreter.models if m.calls]
    if not candidates:
        raise _no_model_error(interpreter, filename)
    trained = [m for m in candidates if m.compile_args is not None or m.fit_args is not None]
    chosen = (trained or candidates)[-1]
    notes = list(interpreter.notes)
    if len(candidates) > 1:
        notes.append(
            f"the file builds {len(candidates)} Sequential models; this is the one on line "
            f"{chosen.line}"
        )
    spec = keras_api.sequential(
        chosen.calls, source=filename, name=chosen.name, input_shape=input_shape, notes=tuple(notes)
    )
    return SourceModel(spec, chosen.compile_args or {}, chosen.fit_args or {})


def _no_model_error(interpreter: Interpreter, filename: str) -> SourceError:
    supported = (
        "convscope reads Sequential models: keras.Sequential([...]) or model = Sequential() "
        "followed by model.add(...)"
    )
    if interpreter.functional:
        first = interpreter.functional[0]
        return SourceError(
            f"the model is built with the functional API or by subclassing ({first.what}), "
            "which convscope does not read",
            where=f"{filename}, line {first.line}",
            hint=supported,
        )
    return SourceError("no Sequential model found", where=filename, hint=supported)
