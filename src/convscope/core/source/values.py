"""The values convscope's reading of Keras source works with, and the limits it keeps to.

`core.source.read` never runs a file: what its interpreter knows about a name is one of
these. Plain Python values (numbers, strings, tuples, lists, dicts) stand for
themselves; a `Module` is a dotted path such as `tf.keras.layers`, a `KerasClass` a
Keras class convscope knows, a `Sequential` the model being built, and `Unknown`
anything only known at run time. Also here: the exceptions that carry `return`,
`break` and `continue` out of a block, and the few builtins the file may call.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..keras.bind import LayerCall
from ..spec import Pretrained

# Names a pasted snippet uses without importing them, as the book or course did.
IMPLICIT_MODULES = {
    "keras": "keras",
    "tf": "tensorflow",
    "layers": "keras.layers",
    "models": "keras.models",
    "K": "keras.backend",
}
# The evaluator's budget: what reading a model without running it may cost. A Keras model
# file builds a few dozen layers from small numbers; far past these, the file is doing
# something else, and saying so beats hanging or eating memory.
MAX_STEPS = 200_000  # statements and expressions evaluated; a guard against runaway loops
MAX_SECONDS = 10.0  # wall time of one reading, checked every few thousand steps
MAX_DEPTH = 30  # nested calls of the file's own functions
MAX_ITEMS = 100_000  # elements in a list or tuple built by arithmetic (more: unknown)
MAX_CELLS = 1_000_000  # numbers in one value, nested lists counted as often as they appear
MAX_INT_BITS = 256  # bits of one integer: 10**77, far beyond any shape or count
MAX_TEXT = 1_000_000  # characters of one string
MAX_PATH = 300  # characters of a dotted path such as tf.keras.layers.Conv2D
MAX_LAYERS = 10_000  # layers of one model


class Exceeded(Exception):
    """A value past the budget; the evaluator turns it into an error naming the line."""


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
    name: str | None = None  # name=
    auto: str | None = None  # the name Keras gives it without name=: sequential, sequential_1
    compile_args: dict[str, Any] | None = None
    fit_args: dict[str, Any] | None = None
    built_shape: tuple[int, ...] | None = None  # model.build((None, 28, 28, 1))
    built_note: str | None = None  # said when built_shape is the one used (from fit's data)
    function: str | None = None  # the function that builds it (build_generator)
    names: list[str] = field(default_factory=list)  # the variables it was assigned to
    part: bool = False  # called on a tensor inside another model (data_augmentation)
    inbound: tuple[tuple[int, ...], ...] = ()  # a functional graph's wiring (core.graph)
    pretrained: list[Pretrained] = field(default_factory=list)  # weights="imagenet" bases

    @property
    def called(self) -> list[str]:
        """The names --model may pick it by: its variables (the last bound first, which is
        the caller's: `generator = build_generator()`), its function, its name=."""
        found = [*reversed(self.names), self.function, self.name]
        return list(dict.fromkeys(n for n in found if n))


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


@dataclass(frozen=True, eq=False)
class Tensor:
    """A functional-API tensor: the layer call that made it and the tensors that call read
    (none for an Input). Compared by identity, as Keras's tensors are."""

    call: LayerCall
    parents: tuple[Tensor, ...] = ()


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


def cells(value: Any, limit: int = MAX_CELLS) -> int:
    """How many numbers a value holds, counting shared sub-lists each time they appear;
    stops counting past `limit`, so it costs at most that much however large the value."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return count


def within_budget(value: Any) -> Any:
    """The value, if it is one a model file could sensibly build; else Exceeded."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise Exceeded(
                f"a number of {value.bit_length():,} bits is far too large for a shape or a "
                f"count (the limit is {MAX_INT_BITS} bits)"
            )
    elif isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise Exceeded(f"a string of {len(value):,} characters is too large to follow")
    elif isinstance(value, (list, tuple, dict)) and cells(value) > MAX_CELLS:
        raise Exceeded(
            f"a value of more than {MAX_CELLS:,} items is too large to follow without "
            "running the file"
        )
    return value


def check_arithmetic(op: ast.operator, left: Any, right: Any) -> None:
    """Exceeded for arithmetic whose result would be past the budget, before it is computed:
    big powers, products and shifts of integers, and sequences repeated too often."""
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))
    if ints:
        bits = 0
        if isinstance(op, ast.Pow) and right > 0:
            bits = left.bit_length() * right
        elif isinstance(op, ast.Mult):
            bits = left.bit_length() + right.bit_length()
        elif isinstance(op, ast.LShift):
            bits = left.bit_length() + right
        if bits > 4 * MAX_INT_BITS:
            raise Exceeded(
                f"a number of about {bits:,} bits is far too large for a shape or a count "
                f"(the limit is {MAX_INT_BITS} bits)"
            )
    if isinstance(op, ast.Mult) and not ints:
        seq, count = (left, right) if isinstance(right, int) else (right, left)
        sized = isinstance(seq, (str, list, tuple)) and isinstance(count, int)
        if sized and len(seq) * count > MAX_TEXT:
            raise Exceeded(f"repeating {len(seq):,} items {count:,} times is too large")


# printf-style fields (`%05d`, `%.3f`, `%(name)s`) and format specs (`{i:02d}`): the widths
# and precisions that size a result before it is made.
PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?[a-zA-Z%]")
FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[bcdeEfFgGnosxX%]?")


def _field(width: str, precision: str) -> int:
    """Characters a field's width and precision may ask for (digit strings not converted
    when they are long: int() of 5,000 digits is itself refused)."""
    return sum(int(n) if len(n) < 8 else MAX_TEXT + 1 for n in (width, precision) if n)


def text_size(value: Any) -> int:
    """At most how many characters str() or repr() of a budgeted value make."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if isinstance(value, float):
        return 330  # 1e308 written out
    return 80 * cells(value)


def check_printf(template: str, args: Any) -> bool:
    """Exceeded when `template % args` would be past MAX_TEXT, before it is made; False when
    a width comes from the arguments (`%*d`), which is not followed."""
    fields = PRINTF_FIELD.findall(template)
    if any("*" in (width, precision) for width, precision in fields):
        return False
    values = args if isinstance(args, tuple) else (args,)  # a dict is not followed (unknown)
    size = len(template) + sum(_field(w, p) for w, p in fields) + sum(map(text_size, values))
    if size > MAX_TEXT:
        raise Exceeded(f"formatting with % would make a string of over {MAX_TEXT:,} characters")
    return True


def formatted(value: Any, spec: str) -> Any:
    """format(value, spec), as an f-string's {value:spec}, sized before it is made."""
    found = FORMAT_SPEC.fullmatch(spec)
    if found is None:
        return Unknown(f"the format {spec!r}")
    size = _field(*found.groups("")) + text_size(value)
    if size > MAX_TEXT:
        raise Exceeded(
            f"formatting with {spec!r} would make a string of over {MAX_TEXT:,} characters"
        )
    try:
        return format(value, spec)
    except (ValueError, TypeError):
        return Unknown(f"the format {spec!r}")


def _size_ok(value: Any) -> Any:
    if isinstance(value, (tuple, list, str)) and len(value) > MAX_ITEMS:
        return Unknown("a sequence too long to follow")
    return value


def _builtin_range(*args: Any) -> Any:
    if not all(isinstance(a, int) for a in args) or not 1 <= len(args) <= 3:
        return Unknown("range() over values only known at run time")
    result = range(*args)
    try:
        return list(result) if len(result) <= MAX_ITEMS else Unknown("a range too long to follow")
    except OverflowError:  # more items than a Python int of the machine's size counts
        return Unknown("a range too long to follow")


def _builtin_round(number: Any, ndigits: Any = None) -> Any:
    if isinstance(ndigits, int) and abs(ndigits) > 400:  # 10**(10**10) would never finish
        raise Exceeded(f"round() to {ndigits:,} digits is far too large to compute")
    return round(number) if ndigits is None else round(number, ndigits)


def _builtin_sum(items: Any, start: Any = 0) -> Any:
    if isinstance(start, (list, tuple)):  # sum(lists, []): concatenation, sized first
        total = sum(len(i) for i in items if isinstance(i, (list, tuple)))
        if total > MAX_ITEMS:
            raise Exceeded(f"sum() would build a list of {total:,} items: too large to follow")
    return sum(items, start)


_BUILTINS: dict[str, Callable[..., Any]] = {
    "range": _builtin_range,
    "len": len,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "abs": abs,
    "round": _builtin_round,
    "min": min,
    "max": max,
    "sum": _builtin_sum,
    "tuple": tuple,
    "list": list,
    "enumerate": lambda xs, start=0: list(enumerate(xs, start)),
    "zip": lambda *xs: list(zip(*xs, strict=False)),
    "print": lambda *args, **kwargs: None,
}


def describe(value: Any) -> str:
    """A value as a message names it: what it is to the user, not convscope's type names."""
    if isinstance(value, Unknown):
        return value.reason
    if isinstance(value, KerasClass):
        return f"the class {value.name} itself: call it, as in {value.name}(...)"
    if isinstance(value, Module):
        return f"the module or function {value.path}"
    if isinstance(value, Function):
        return f"the function {value.node.name}, not called"
    if isinstance(value, Sequential):
        return "a Sequential model"
    if isinstance(value, KerasObject):
        leaf = value.path.rsplit(".", 1)[-1]
        if ".applications." in f".{value.path}.":
            return (
                f"{leaf} from keras.applications, which convscope does not read: it reads "
                "VGG16, VGG19, ResNet50 and MobileNetV2"
            )
        return f"the result of {value.path}(...)"
    shown = repr(value)
    return f"the value {shown[:60] + '...' if len(shown) > 60 else shown}"


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
