"""Turn what the user typed (a preset name, a file path, or '-') into a ModelSpec."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from . import presets
from .errors import ConvscopeError
from .keras.archive import read_archive_config
from .keras.config import read_config
from .keras.write import to_source
from .source.read import SourceModel, read_model
from .spec import ModelSpec

MAX_SOURCE = 1_000_000  # bytes of Keras source: a model file is a few KB; a 5 MB file of
# statements makes Python's own parser use gigabytes
MAX_DIMENSION = 1_000_000  # pixels or channels along one axis of an input


def parse_shape(text: str, what: str = "--input-shape") -> tuple[int, ...]:
    """`28,28,1`, `28x28x1` or `(28, 28, 1)` -> (28, 28, 1)."""
    if len(text) > 100 or not re.fullmatch(r"\s*\(?\s*\d+(\s*[,x]\s*\d+)*\s*,?\s*\)?\s*", text):
        raise ConvscopeError(
            f"{what} must be positive integers such as 28,28,1, got {shorten(text)!r}"
        )
    shape = tuple(int(n) for n in re.findall(r"\d+", text))
    if any(n < 1 for n in shape):
        raise ConvscopeError(f"{what} must be positive integers, got {text!r}")
    if any(n > MAX_DIMENSION for n in shape):
        raise ConvscopeError(f"{what}: each size must be at most {MAX_DIMENSION:,}, got {text!r}")
    return shape


def shorten(text: str, most: int = 80) -> str:
    """What an echo of the user's input shows of it: the start and the end of a long one."""
    return text if len(text) <= most else f"{text[: most // 2]}...{text[-most // 4 :]}"


def decode(data: bytes, name: str) -> str:
    """Source bytes -> text: UTF-8 (a byte-order mark allowed), within MAX_SOURCE."""
    if len(data) > MAX_SOURCE:
        raise ConvscopeError(
            f"{name} is larger than {MAX_SOURCE:,} bytes: not a Keras model file",
            hint="a model's source is a few kilobytes; give that file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConvscopeError(
            f"{name} is not UTF-8 text (byte {error.start}); give a Keras .py file"
        ) from None


def read_source(target: str, read_stdin: Callable[[], str | bytes]) -> tuple[str, str]:
    """(text, display name) of a Keras source file, or of standard input for '-'.

    Only regular files are read (not /dev/zero, a FIFO or a socket), at most MAX_SOURCE
    bytes of them, so reading is bounded in time and memory.
    """
    if target == "-":
        given = read_stdin()
        if isinstance(given, str):
            given = given.encode("utf-8", "surrogateescape")
        return decode(given, "standard input"), "<stdin>"
    if not target.strip():
        raise ConvscopeError("give a preset name, a Keras .py file or - (the name is empty)")
    path = Path(target)
    shown = shorten(target)
    try:
        if path.is_dir():
            raise ConvscopeError(f"{shown} is a directory; give a Keras .py file or a preset name")
        if not path.is_file():
            raise ConvscopeError(
                f"{shown} is not a regular file (a device, a FIFO or a socket): give a Keras "
                ".py file"
            )
        with path.open("rb") as f:
            data = f.read(MAX_SOURCE + 1)
    except OSError as error:
        raise ConvscopeError(f"cannot read {shown}: {error.strerror}") from None
    text = decode(data, shown)
    if path.suffix.lower() == ".ipynb":
        text = notebook_code(text, shown)
    return without_magics(text), target


def notebook_code(text: str, name: str) -> str:
    """A notebook's code cells, in order, as one source (line numbers count through them)."""
    try:
        cells = json.loads(text)["cells"]
        sources = [
            "".join(c["source"]) if isinstance(c["source"], list) else str(c["source"])
            for c in cells
            if isinstance(c, dict) and c.get("cell_type") == "code"
        ]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ConvscopeError(f"{name} is not a readable Jupyter notebook ({error})") from None
    return "\n".join(sources) + "\n"


# IPython's line magics that notebooks call without the % (automagic, on by default):
# `pip install keras` is IPython's %pip, and a syntax error to Python. Such a line is a
# magic only when Python cannot read it on its own (`time = 5` is Python's).
AUTOMAGIC = re.compile(
    r"(pip|conda|mamba|cd|env|matplotlib|load_ext|reload_ext|autoreload|pylab|run|timeit"
    r"|time|mkdir|cat|rm|cp|mv|tensorflow_version)\s+(?![=(\[,:+*/%&|^<>!])\S"
)


def is_automagic(line: str) -> bool:
    if not AUTOMAGIC.match(line):
        return False
    try:
        ast.parse(line)
    except SyntaxError:
        return True
    return False


def without_magics(text: str) -> str:
    """IPython's `%matplotlib inline`, `!pip install ...`, bare `pip install ...`
    (automagic) and get_ipython() lines become `pass` (same indentation, same line
    numbers): notebook exports keep them."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        magic = stripped.startswith(("%", "!", "get_ipython()")) or is_automagic(stripped)
        if magic:
            lines[i] = line[: len(line) - len(stripped)] + "pass"
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def exists(target: str) -> bool:
    try:
        return Path(target).exists()
    except OSError:  # a name too long for the file system, for one
        return False


@dataclass(frozen=True)
class Reading:
    """What the user said about reading a model: --input-shape, --model NAME, --classes N."""

    input_shape: tuple[int, ...] | None = None
    pick: str | None = None  # which of the file's models
    classes: int | None = None  # the units of a Dense the file sizes at run time

    def check_source(self, target: str) -> None:
        """--model and --classes are about a Keras source file; elsewhere they are refused."""
        for flag, value in (("--model", self.pick), ("--classes", self.classes)):
            if value is not None:
                raise ConvscopeError(
                    f"{flag} is for a Keras .py or .ipynb file, and {shorten(target)!r} is not one"
                )


def load_source_model(
    target: str,
    *,
    input_shape: tuple[int, ...] | None = None,
    reading: Reading | None = None,
    read_stdin: Callable[[], str | bytes] = lambda: "",
) -> SourceModel:
    """A preset by name, else a Keras source file (or '-' for stdin), read without running it."""
    reading = reading or Reading(input_shape)
    return load_with_source(target, reading=reading, read_stdin=read_stdin)[0]


def load_with_source(
    target: str,
    *,
    input_shape: tuple[int, ...] | None = None,
    reading: Reading | None = None,
    read_stdin: Callable[[], str | bytes] = lambda: "",
) -> tuple[SourceModel, str]:
    """The model and the Keras source text it was read from (kept with a training run)."""
    reading = reading or Reading(input_shape)
    input_shape = reading.input_shape
    if target in presets.PRESETS or Path(target).suffix.lower() == ".keras":
        reading.check_source(target)
    if target in presets.PRESETS:
        return SourceModel(presets.model(target, input_shape)), presets.get(target).source
    if Path(target).suffix.lower() == ".keras":  # a saved model's architecture (config.json)
        config, version = read_archive_config(Path(target))
        spec = read_config(config, Path(target).name)
        if input_shape is not None:
            spec = replace(spec, input_shape=input_shape)
        text = to_source(spec, comment=f"Read from {target} (Keras {version or '?'}).")
        return SourceModel(spec), text
    if target != "-" and target.strip() and not exists(target):
        raise ConvscopeError(
            f"no preset or file named {shorten(target)!r}",
            hint=f"presets: {', '.join(presets.PRESETS)}; or a path to a Keras .py file, or - "
            "for standard input",
        )
    text, name = read_source(target, read_stdin)
    found = read_model(
        text, name, input_shape=input_shape, classes=reading.classes, pick=reading.pick
    )
    return found, text


def load_model(
    target: str,
    *,
    input_shape: tuple[int, ...] | None = None,
    reading: Reading | None = None,
    read_stdin: Callable[[], str | bytes] = lambda: "",
) -> ModelSpec:
    reading = reading or Reading(input_shape)
    return load_source_model(target, reading=reading, read_stdin=read_stdin).spec
