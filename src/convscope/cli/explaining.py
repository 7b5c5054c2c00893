"""`convscope explain` and `convscope presets`: no torch, no numpy."""

from __future__ import annotations

import argparse

from ..api.explaining import explain as explain_model
from ..api.explaining import presets as preset_list
from ..core import presets as preset_table
from ..core.load import MAX_SOURCE, decode
from .codes import ExitCode, Streams


def explain(args: argparse.Namespace, io: Streams) -> ExitCode:
    if args.source:
        io.out.write(preset_table.get(args.model).source)
        return ExitCode.OK
    if args.model == "-":
        code = decode(io.read_input(MAX_SOURCE + 1), "standard input")
        found = explain_model("<stdin>", input_shape=args.input_shape, code=code)
    else:
        found = explain_model(args.model, input_shape=args.input_shape)
    if args.markdown:
        io.out.write(found.to_markdown())
        return ExitCode.OK
    return io.result(found, args.json)


def presets(args: argparse.Namespace, io: Streams) -> ExitCode:
    return io.result(preset_list(), args.json)
