"""Looking inside a model: `evaluate`, `predict`, `show`, `report`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..api.model import load
from ..core.rundir import RunDir
from .codes import ExitCode, Streams


def run_dir(text: str) -> Path:
    """A run directory the user named, checked (a clear error for anything else)."""
    return RunDir(Path(text)).check().path


def evaluate(args: argparse.Namespace, io: Streams) -> ExitCode:
    return io.result(load(run_dir(args.run)).evaluate(data_dir=args.data_dir), args.json)


def predict(args: argparse.Namespace, io: Streams) -> ExitCode:
    return io.result(load(run_dir(args.run)).predict_image(args.image), args.json)


def show(args: argparse.Namespace, io: Streams) -> ExitCode:
    model = load(args.target, seed=args.seed)
    figures = model.show(
        args.output, image=args.image, position=args.position, data_dir=args.data_dir
    )
    return io.result(figures, args.json)


def report(args: argparse.Namespace, io: Streams) -> ExitCode:
    model = load(args.target, seed=args.seed)
    written = model.report(
        args.output,
        image=args.image,
        position=args.position,
        pooling=args.pooling,
        data_dir=args.data_dir,
    )
    return io.result(written, args.json)
