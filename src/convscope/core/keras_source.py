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

The pieces: the values it works with are in `source_values`, expressions are evaluated
by `source_expressions`, statements and calls are walked by `source_interpreter`; this
module parses the file, runs the interpreter and picks the model.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from . import keras_api
from .errors import SourceError
from .source_interpreter import Interpreter
from .source_values import KerasObject as KerasObject
from .source_values import Module as Module
from .source_values import _Break, _Continue, _Return
from .spec import ModelSpec


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
    except (RecursionError, MemoryError):
        raise SourceError(
            "the file is nested too deeply to follow (thousands of nested expressions)",
            where=filename,
        ) from None
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
        chosen.calls,
        source=filename,
        name=chosen.name,
        input_shape=input_shape,
        notes=tuple(notes),
        built_shape=chosen.built_shape,
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
