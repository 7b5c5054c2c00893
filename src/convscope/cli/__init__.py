"""The command line: parse argv, call the public API, print what it returns, exit.

`main(argv) -> int` never raises for user mistakes: a ConvscopeError prints its one or
two lines to stderr and returns ExitCode.USAGE (2). Each command lives in a small module
(explaining, training, looking, experimenting), imported only when it runs, so that
`convscope explain` loads no torch.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from .. import __version__
from ..core.errors import ConvscopeError, Diverged
from .codes import ExitCode, Streams
from .parser import build_parser

__all__ = ["ExitCode", "entry", "main"]

# command -> (module, function)
COMMANDS = {
    "explain": ("explaining", "explain"),
    "presets": ("explaining", "presets"),
    "train": ("training", "train"),
    "evaluate": ("looking", "evaluate"),
    "predict": ("looking", "predict"),
    "show": ("looking", "show"),
    "report": ("looking", "report"),
    "export": ("looking", "export"),
    "serve": ("looking", "serve"),
    "experiment": ("experimenting", "experiment"),
    "compare": ("experimenting", "compare"),
    "sweep": ("experimenting", "sweep"),
}


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    err = stderr or sys.stderr
    out = stdout or sys.stdout
    if out is None or err is None:  # started with stdout or stderr closed (>&-)
        if err is not None:
            err.write("convscope: standard output is closed: nothing could be printed\n")
        return ExitCode.FAILURE
    io = Streams(stdin or sys.stdin, out, err)
    try:
        code = dispatch(argv, io)
        out.flush()  # a full disk shows here, not at exit
        return code
    except BrokenPipeError:  # `convscope explain ... | head`: the reader has all it wanted
        silence(out)
        return ExitCode.OK
    except OSError as error:  # stdout on a full disk, for one: the environment, not the input
        silence(out)
        err.write(f"convscope: cannot write the output: {error.strerror or error}\n")
        return ExitCode.FAILURE


def dispatch(argv: Sequence[str] | None, io: Streams) -> int:
    """Parse, run the command, turn what went wrong into a message and an exit code."""
    try:
        args = build_parser(__version__).parse_args(argv)
        module, function = COMMANDS[args.command]
        command = getattr(importlib.import_module(f".{module}", __name__), function)
        code: int = command(args, io)
        return code
    except Diverged as error:  # training's loss became NaN; the last good epoch is kept
        io.err.write(f"convscope: {error}\n")
        return ExitCode.DIVERGED
    except ConvscopeError as error:
        io.err.write(f"convscope: {error}\n")
        return ExitCode.USAGE
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)
    except KeyboardInterrupt as stopped:
        outcome = getattr(stopped, "outcome", None)
        if outcome is not None:  # an experiment's finished part
            io.write(outcome.text())
        io.err.write(f"convscope: {stopped or 'interrupted'}\n")
        return ExitCode.INTERRUPTED


def silence(out: TextIO) -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit stays quiet."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # tests' StringIO
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())


def entry() -> None:
    sys.exit(main())
