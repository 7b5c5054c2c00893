"""The command line: parse argv, call the public API, print what it returns, exit.

`main(argv) -> int` never raises for user mistakes: a ConvscopeError prints its one or
two lines to stderr and returns ExitCode.USAGE (2). Each command lives in a small module
(explaining, training, looking, experimenting), imported only when it runs, so that
`convscope explain` loads no torch.
"""

from __future__ import annotations

import importlib
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
}


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    io = Streams(stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr)
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
            io.out.write(outcome.text())
        io.err.write(f"convscope: {stopped or 'interrupted'}\n")
        return ExitCode.INTERRUPTED


def entry() -> None:
    sys.exit(main())
