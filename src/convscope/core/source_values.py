"""The values convscope's reading of Keras source works with, and the limits it keeps to.

`keras_source` never runs a file: what its interpreter knows about a name is one of
these. Plain Python values (numbers, strings, tuples, lists, dicts) stand for
themselves; a `Module` is a dotted path such as `tf.keras.layers`, a `KerasClass` a
Keras class convscope knows, a `Sequential` the model being built, and `Unknown`
anything only known at run time. Also here: the exceptions that carry `return`,
`break` and `continue` out of a block, and the few builtins the file may call.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .keras_api import LayerCall

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
