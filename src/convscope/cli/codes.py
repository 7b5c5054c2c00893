"""Exit codes and the three streams every command is given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TextIO


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a bug or an environment problem, not the user's input
    USAGE = 2  # the user's input is wrong; the message says how
    DIVERGED = 3  # training's loss became NaN/inf; the last good checkpoint is kept
    INTERRUPTED = 130  # Ctrl-C; a training run saved its checkpoint first


@dataclass(frozen=True)
class Streams:
    stdin: TextIO
    out: TextIO
    err: TextIO

    def result(self, shown: Any, as_json: bool) -> ExitCode:
        """Print an API result: its --json object, or its text."""
        self.out.write(shown.to_json() if as_json else shown.text())
        return ExitCode.OK
