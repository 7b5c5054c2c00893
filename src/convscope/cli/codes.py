"""Exit codes and the three streams every command is given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TextIO

from ..core.errors import ConvscopeError


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a bug or an environment problem, not the user's input
    USAGE = 2  # the user's input is wrong; the message says how
    DIVERGED = 3  # training's loss became NaN/inf; the last good checkpoint is kept
    INTERRUPTED = 130  # Ctrl-C; a training run saved its checkpoint first


# The box-drawing and other characters of the tables, for a terminal that cannot show
# them (PYTHONIOENCODING=ascii, a cp1252 redirect on Windows).
ASCII = str.maketrans(
    {
        "┏": "+",
        "┓": "+",
        "┗": "+",
        "┛": "+",
        "┡": "+",
        "┩": "+",
        "└": "+",
        "┘": "+",
        "┌": "+",
        "┐": "+",
        "├": "+",
        "┤": "+",
        "┼": "+",
        "┬": "+",
        "┴": "+",
        "┳": "+",
        "┻": "+",
        "╇": "+",
        "━": "=",
        "─": "-",
        "┃": "|",
        "│": "|",
        "╸": "-",
        "█": "#",
        "→": ">",
        "×": "x",
        "±": "+-",
    }
)


@dataclass(frozen=True)
class Streams:
    stdin: TextIO | None
    out: TextIO
    err: TextIO

    def write(self, text: str) -> None:
        """Write to stdout; where its encoding cannot show a character, a plain one."""
        try:
            self.out.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self.out, "encoding", None) or "ascii"
            plain = text.translate(ASCII).encode(encoding, "replace").decode(encoding)
            self.out.write(plain)

    def read_input(self, most: int) -> bytes:
        """At most `most` bytes of standard input (bytes, so any encoding gets a message)."""
        if self.stdin is None:
            raise ConvscopeError("there is no standard input to read (it is closed)")
        buffer = getattr(self.stdin, "buffer", None)
        if buffer is not None:
            data: bytes = buffer.read(most)
            return data
        return self.stdin.read(most).encode("utf-8", "surrogateescape")

    def result(self, shown: Any, as_json: bool) -> ExitCode:
        """Print an API result: its --json object, or its text."""
        self.write(shown.to_json() if as_json else shown.text())
        return ExitCode.OK
