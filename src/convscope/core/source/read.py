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

The pieces: the values it works with are in `values`, expressions are evaluated
by `expressions`, statements and calls are walked by `interpreter`; this
module parses the file, runs the interpreter and picks the model.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import SourceError
from ..keras import bind as keras_api
from ..spec import ModelSpec
from .interpreter import Interpreter
from .values import KerasObject as KerasObject
from .values import Module as Module
from .values import Sequential, _Break, _Continue, _Return


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
    except (RecursionError, MemoryError):  # 100,000 nested operators, and the like
        raise SourceError(
            "the file is nested too deeply for Python's parser (thousands of nested "
            "operators or brackets)",
            where=filename,
        ) from None
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
    text: str,
    filename: str,
    *,
    input_shape: tuple[int, ...] | None = None,
    classes: int | None = None,
    pick: str | None = None,
) -> SourceModel:
    """Find the Sequential model a Keras source file builds, without running the file.

    The model chosen is `pick` (a variable, the function that builds it, or its name=),
    else the last one the file compiles or fits, else the last one it builds. `classes`
    sizes a Dense whose units the file only knows at run time. Raises SourceError /
    SpecError for anything convscope cannot read.
    """
    tree = parse(text, filename)
    interpreter = Interpreter(filename, classes=classes, shape=input_shape)
    try:
        interpreter.run_block(tree.body, (interpreter.globals,))
        if not any(m.calls for m in interpreter.models):
            interpreter.call_uncalled_functions()
    except (_Return, _Break, _Continue):
        pass  # `return` or `break` at module level (ast.parse allows them): stop there
    except (RecursionError, MemoryError):
        raise SourceError(
            "the file is nested too deeply to follow (thousands of nested expressions)",
            where=filename,
        ) from None
    candidates = [m for m in interpreter.models if m.calls and not m.part]
    candidates = candidates or [m for m in interpreter.models if m.calls]
    if not candidates:
        raise _no_model_error(interpreter, filename)
    chosen = choose(candidates, pick, filename)
    notes = list(interpreter.notes)
    if len(candidates) > 1 and pick is None:
        notes.append(
            f"the file builds {len(candidates)} models ({listing(candidates)}); "
            f"this is the one on line {chosen.line}; pick another with --model NAME"
        )
    spec = keras_api.sequential(
        chosen.calls,
        source=filename,
        name=chosen.name or chosen.auto,
        input_shape=input_shape,
        notes=tuple(notes),
        built_shape=chosen.built_shape,
        built_note=chosen.built_note,
        inbound=chosen.inbound,
    )
    names = {layer.name for layer in spec.layers}
    found = [*chosen.pretrained, *interpreter.pretrained]
    pretrained = tuple(p for p in dict.fromkeys(found) if set(p.layers) <= names)
    spec = replace(spec, pretrained=pretrained) if pretrained else spec
    return SourceModel(spec, chosen.compile_args or {}, chosen.fit_args or {})


def listing(models: list[Sequential]) -> str:
    """`generator (build_generator, line 5), discriminator (line 20)`."""
    parts = []
    for m in models:
        called = m.called
        function = [m.function] if m.function and m.function != called[0] else []
        parts.append(
            f"{called[0]} ({', '.join([*function, f'line {m.line}'])})"
            if called
            else f"one on line {m.line}"
        )
    return ", ".join(parts)


def choose(models: list[Sequential], pick: str | None, filename: str) -> Sequential:
    """The model asked for by name, else the last one compiled or fitted, else the last."""
    if pick is None:
        trained = [m for m in models if m.compile_args is not None or m.fit_args is not None]
        return (trained or models)[-1]
    found = [m for m in models if pick in m.called]
    if len(found) != 1:
        which = f"{len(found)} models are called" if found else "no model is called"
        raise SourceError(
            f"{which} {pick!r}; the file builds {listing(models)}",
            where=filename,
            hint="--model takes a variable name, the function that builds the model, or its name=",
        )
    return found[0]


def _no_model_error(interpreter: Interpreter, filename: str) -> SourceError:
    supported = (
        "convscope reads Sequential models (keras.Sequential([...]), model.add(...)) and "
        "functional ones (keras.Model(inputs, outputs) over layers called on tensors)"
    )
    if interpreter.functional:
        first = interpreter.functional[0]
        how = (
            f"by subclassing ({first.what}), whose call() is Python code convscope never runs"
            if first.what.startswith("class ")
            else f"with the functional API in a way convscope cannot follow ({first.what})"
        )
        return SourceError(
            f"the model is built {how}",
            where=f"{filename}, line {first.line}",
            hint=supported,
        )
    return SourceError("no Keras model found", where=filename, hint=supported)
