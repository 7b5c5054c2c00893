"""Turn what the user typed (a preset name, a file path, or '-') into a ModelSpec."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from . import presets
from .errors import ConvscopeError
from .keras_archive import read_archive_config
from .keras_config import read_config
from .keras_source import SourceModel, read_model
from .keras_write import to_source
from .spec import ModelSpec


def parse_shape(text: str) -> tuple[int, ...]:
    """`28,28,1`, `28x28x1` or `(28, 28, 1)` -> (28, 28, 1)."""
    if not re.fullmatch(r"\s*\(?\s*\d+(\s*[,x]\s*\d+)*\s*,?\s*\)?\s*", text):
        raise ConvscopeError(
            f"--input-shape must be positive integers such as 28,28,1, got {text!r}"
        )
    shape = tuple(int(n) for n in re.findall(r"\d+", text))
    if any(n < 1 for n in shape):
        raise ConvscopeError(f"--input-shape must be positive integers, got {text!r}")
    return shape


def read_source(target: str, read_stdin: Callable[[], str]) -> tuple[str, str]:
    """(text, display name) of a Keras source file, or of standard input for '-'."""
    if target == "-":
        return read_stdin(), "<stdin>"
    path = Path(target)
    if path.is_dir():
        raise ConvscopeError(f"{target} is a directory; give a Keras .py file or a preset name")
    try:
        return path.read_text(encoding="utf-8"), target
    except UnicodeDecodeError as error:
        raise ConvscopeError(
            f"{target} is not UTF-8 text (byte {error.start}); give a Keras .py file"
        ) from None
    except OSError as error:
        raise ConvscopeError(f"cannot read {target}: {error.strerror}") from None


def load_source_model(
    target: str,
    *,
    input_shape: tuple[int, ...] | None = None,
    read_stdin: Callable[[], str] = lambda: "",
) -> SourceModel:
    """A preset by name, else a Keras source file (or '-' for stdin), read without running it."""
    return load_with_source(target, input_shape=input_shape, read_stdin=read_stdin)[0]


def load_with_source(
    target: str,
    *,
    input_shape: tuple[int, ...] | None = None,
    read_stdin: Callable[[], str] = lambda: "",
) -> tuple[SourceModel, str]:
    """The model and the Keras source text it was read from (kept with a training run)."""
    if target in presets.PRESETS:
        return SourceModel(presets.model(target, input_shape)), presets.get(target).source
    if Path(target).suffix.lower() == ".keras":  # a saved model's architecture (config.json)
        config, version = read_archive_config(Path(target))
        spec = read_config(config, Path(target).name)
        if input_shape is not None:
            spec = replace(spec, input_shape=input_shape)
        text = to_source(spec, comment=f"Read from {target} (Keras {version or '?'}).")
        return SourceModel(spec), text
    if target != "-" and not Path(target).exists():
        raise ConvscopeError(
            f"no preset or file named {target!r}",
            hint=f"presets: {', '.join(presets.PRESETS)}; or a path to a Keras .py file, or - "
            "for standard input",
        )
    text, name = read_source(target, read_stdin)
    return read_model(text, name, input_shape=input_shape), text


def load_model(
    target: str,
    *,
    input_shape: tuple[int, ...] | None = None,
    read_stdin: Callable[[], str] = lambda: "",
) -> ModelSpec:
    return load_source_model(target, input_shape=input_shape, read_stdin=read_stdin).spec
