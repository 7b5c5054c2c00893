"""`convscope explain` and `convscope presets`: no torch, no numpy."""

from __future__ import annotations

import argparse
from typing import Any

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
        found = explain_model("<stdin>", code=code, **reading(args))
    else:
        found = explain_model(args.model, **reading(args))
    if args.markdown:
        io.out.write(found.to_markdown())
        return ExitCode.OK
    return io.result(found, args.json)


def reading(args: argparse.Namespace) -> dict[str, Any]:
    return {"input_shape": args.input_shape, "pick": args.pick, "classes": args.classes}


def presets(args: argparse.Namespace, io: Streams) -> ExitCode:
    return io.result(preset_list(), args.json)
