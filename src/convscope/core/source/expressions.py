"""Expressions in Keras source, evaluated to the values of `values` without running them.

`Evaluator` is the half of the interpreter that works out what an expression is:
names through the scopes, Keras modules and classes by attribute, arithmetic and
comparisons on plain values, containers, subscripts and simple list comprehensions.
What a call does is the interpreter's business (`interpreter.Interpreter`).
"""

from __future__ import annotations

import ast
import operator
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import SourceError
from ..keras import names as keras_names
from . import data as source_data
from .values import (
    _BUILTINS,
    _PLAIN,
    IMPLICIT_MODULES,
    MAX_ITEMS,
    MAX_PATH,
    MAX_SECONDS,
    MAX_STEPS,
    MAX_TEXT,
    Exceeded,
    KerasClass,
    Method,
    Misspelt,
    Module,
    Sequential,
    Unknown,
    _is_plain,
    _size_ok,
    check_arithmetic,
    check_printf,
    formatted,
    within_budget,
)

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


class Evaluator:
    """Evaluates expressions and binds names; the Interpreter adds statements and calls."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.globals: dict[str, Any] = {"__name__": "__main__"}
        self.steps = 0
        self.started = time.monotonic()

    # ---- errors ----

    def error(self, node: ast.AST | None, message: str, hint: str = "") -> SourceError:
        line = getattr(node, "lineno", None)
        where = f"{self.filename}, line {line}" if line else self.filename
        return SourceError(message, where=where, hint=hint)

    def tick(self, node: ast.AST) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise self.error(node, "the file does too much work to follow without running it")
        if self.steps % 4096 == 0 and time.monotonic() - self.started > MAX_SECONDS:
            raise self.error(
                node,
                f"the file does too much work to follow without running it (over "
                f"{MAX_SECONDS:g} s)",
            )

    # ---- assignment (statements and comprehensions both bind names) ----

    def assign(self, target: ast.expr, value: Any, scopes: tuple[dict[str, Any], ...]) -> None:
        match target:
            case ast.Name(id=name):
                scopes[-1][name] = value
                if isinstance(value, Sequential) and name not in value.names:
                    value.names.append(name)  # what --model NAME picks it by
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                values: list[Any]
                if isinstance(value, (tuple, list)) and len(value) == len(elts):
                    values = list(value)
                else:
                    values = [Unknown(f"unpacked from `{ast.unparse(target)}`")] * len(elts)
                for element, item in zip(elts, values, strict=True):
                    self.assign(element, item, scopes)
            case ast.Attribute(value=base, attr="trainable"):
                self.set_trainable(self.eval(base, scopes), value)
            case _:
                pass  # attributes and subscripts (x_train[...] = ...) hold no model

    def set_trainable(self, model: Any, value: Any) -> None:
        """`base.trainable = False`: every layer of that model frozen (Keras sets each
        layer's flag), before it is called on a tensor or compiled."""
        if isinstance(model, Sequential) and isinstance(value, bool):
            model.calls = [
                call
                if keras_names.canonical(call.cls) in keras_names.INPUT_CLASSES
                else replace(call, kwargs={**call.kwargs, "trainable": value})
                for call in model.calls
            ]

    # ---- expressions ----

    def eval(self, node: ast.expr, scopes: tuple[dict[str, Any], ...]) -> Any:
        """The value of an expression, checked against the budget where values are made."""
        self.tick(node)
        try:
            value = self.evaluate(node, scopes)
            if isinstance(node, (ast.Name, ast.Subscript)):
                return value  # already checked where it was made (a slice is smaller)
            return within_budget(value)
        except Exceeded as error:  # the innermost expression past the budget names the line
            raise self.error(node, str(error)) from None

    def evaluate(self, node: ast.expr, scopes: tuple[dict[str, Any], ...]) -> Any:
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
            case ast.JoinedStr(values=parts):
                return self.fstring(node, parts, scopes)
            case _:
                return Unknown(f"`{ast.unparse(node)}`")

    def fstring(
        self, node: ast.JoinedStr, parts: list[ast.expr], scopes: tuple[dict[str, Any], ...]
    ) -> Any:
        """f'conv_{i}' and f'block{i:02d}' with known values: the string Python would make
        (names in loops), each piece sized before it is made."""
        text, size = [], 0
        for part in parts:
            piece: Any = Unknown(f"`{ast.unparse(node)}`")
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                piece = part.value
            elif isinstance(part, ast.FormattedValue):
                value = self.eval(part.value, scopes)
                spec = "" if part.format_spec is None else self.eval(part.format_spec, scopes)
                if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                    value = repr(value) if part.conversion == ord("r") else value
                    piece = formatted(value, spec) if isinstance(spec, str) else piece
            if not isinstance(piece, str):
                return Unknown(f"`{ast.unparse(node)}`")
            size += len(piece)
            if size > MAX_TEXT:
                raise Exceeded(f"an f-string of more than {MAX_TEXT:,} characters is too large")
            text.append(piece)
        return "".join(text)

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
                if attr == "Input" or (in_layers and keras_names.is_keras_layer(attr)):
                    return KerasClass(attr)
                # A layers-module name Keras lacks: a misspelling, unless the user meant
                # something of their own (an undefined bare name with no close match).
                if in_layers and attr[:1].isupper() and (not bare or keras_names.suggest(attr)):
                    return Misspelt(attr)
            if bare:
                return Unknown(f"the name `{attr}` is not defined in the file")
            if len(base.path) > MAX_PATH:
                raise Exceeded(f"an attribute path of more than {MAX_PATH} characters is too long")
            return Module(f"{base.path}.{attr}" if base.path else attr)
        if isinstance(base, (Sequential, list)):
            return Method(base, attr)
        if isinstance(base, (source_data.DataArray, source_data.ImageFolder)):
            found = source_data.attribute(base, attr)
            return Unknown(f"`.{attr}` of {base.what}") if found is None else found
        return Unknown(f"`.{attr}` of a value only known at run time")

    def binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        data = [v for v in (left, right) if isinstance(v, source_data.DataArray)]
        numbers = [v for v in (left, right) if isinstance(v, (int, float))]
        if len(data) == 1 and len(numbers) == 1:
            return data[0]  # x_train / 255.0: the same shape
        if len(data) == 2:  # (x_train - mean) / std: numpy's broadcasting
            found = source_data.broadcast(left, right)
            return (
                Unknown("arithmetic on arrays of shapes that do not fit")
                if found is None
                else found
            )
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
        check_arithmetic(op, left, right)  # sized before it is computed
        if isinstance(op, ast.Mod) and isinstance(left, str) and not check_printf(left, right):
            return Unknown("%-formatting with a width from its arguments")
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
        if isinstance(base, source_data.DataArray):
            if isinstance(index, tuple):  # x[..., np.newaxis] is x[..., None]
                index = tuple(
                    None if isinstance(i, Module) and i.leaf == "newaxis" else i for i in index
                )
            found = source_data.subscript(base, index)
            return Unknown(f"`{ast.unparse(node)}`") if found is None else found
        if isinstance(base, (list, tuple, str, dict)) and isinstance(index, (int, str, slice)):
            try:
                return base[index]  # type: ignore[index]
            except (IndexError, KeyError, TypeError, ValueError):  # [::0] is a ValueError
                return Unknown(f"`{ast.unparse(node)}`")
        return Unknown(f"`{ast.unparse(node)}`")

    def call(self, node: ast.Call, scopes: tuple[dict[str, Any], ...]) -> Any:
        """What a call gives: layers, Sequential, the file's functions (see Interpreter)."""
        raise NotImplementedError
