"""The command line: parse argv, call one function, render, return an exit code.

`main(argv) -> int` never raises for user mistakes: a ConvscopeError prints its one or
two lines to stderr and returns ExitCode.USAGE (2).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from enum import IntEnum
from typing import TextIO

from . import __version__
from .core import presets
from .core.errors import ConvscopeError
from .core.explain import explain
from .core.load import load_model, parse_shape
from .present import render


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a bug or an environment problem, not the user's input
    USAGE = 2  # the user's input is wrong; the message says how
    INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() stays in control."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConvscopeError(f"{self.prog}: {message}", hint=f"see: {self.prog} --help")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="convscope", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--version", action="version", version=f"convscope {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ex = commands.add_parser(
        "explain",
        help="every layer's shape and parameters, with worked formulas",
        description="Explain a Keras Sequential model (a preset, a .py file, or - for stdin) "
        "the way Keras's model.summary() counts it, with each number's formula, receptive "
        "field, multiply-adds and memory. The file is read, never run.",
    )
    ex.add_argument("model", help=f"a preset ({', '.join(presets.PRESETS)}), a .py file, or -")
    fmt = ex.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON object")
    fmt.add_argument("--markdown", action="store_true", help="print Markdown")
    ex.add_argument("--input-shape", type=str, help="override the input shape, e.g. 28,28,1")
    ex.add_argument("--source", action="store_true", help="print the preset's Keras source")

    commands.add_parser("presets", help="list the built-in models")
    return parser


def cmd_explain(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> ExitCode:
    if args.source:
        out.write(presets.get(args.model).source)
        return ExitCode.OK
    shape = parse_shape(args.input_shape) if args.input_shape else None
    spec = load_model(args.model, input_shape=shape, read_stdin=stdin.read)
    explanation = explain(spec)
    if args.json:
        out.write(render.to_json(explanation))
    elif args.markdown:
        out.write(render.to_markdown(explanation))
    else:
        out.write(render.to_text(explanation))
    return ExitCode.OK


def cmd_presets(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> ExitCode:
    for preset in presets.PRESETS.values():
        t = preset.training
        out.write(
            f"{preset.name:18} {preset.title}\n{'':18} {t.dataset}, {t.optimizer}, batch "
            f"{t.batch_size}, {t.epochs} epochs\n"
        )
    return ExitCode.OK


COMMANDS = {"explain": cmd_explain, "presets": cmd_presets}


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args, stdin, stdout)
    except ConvscopeError as error:
        stderr.write(f"convscope: {error}\n")
        return ExitCode.USAGE
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)
    except KeyboardInterrupt:
        stderr.write("convscope: interrupted\n")
        return ExitCode.INTERRUPTED


def entry() -> None:
    sys.exit(main())
