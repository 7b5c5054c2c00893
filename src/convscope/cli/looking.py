"""Looking inside a model: `evaluate`, `predict`, `show`, `report`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..api.model import Model, load
from ..core.keras.archive import is_keras_file
from ..core.rundir import RunDir
from .codes import ExitCode, Streams


def trained(args: argparse.Namespace) -> Model:
    """The trained model a command takes: a run directory, or a Keras file with --dataset."""
    if is_keras_file(args.run):
        return load(args.run, dataset=args.dataset)
    return load(RunDir(Path(args.run)).check().path, dataset=args.dataset)


def evaluate(args: argparse.Namespace, io: Streams) -> ExitCode:
    return io.result(trained(args).evaluate(data_dir=args.data_dir), args.json)


def predict(args: argparse.Namespace, io: Streams) -> ExitCode:
    model = trained(args)
    if len(args.image) == 1 and not Path(args.image[0]).is_dir():  # one photo: its bars
        return io.result(model.predict_image(args.image[0]), args.json)
    found = model.predict_images(args.image, skip_bad_images=args.skip_bad_images, stream=io.err)
    return io.result(found, args.json)


def show(args: argparse.Namespace, io: Streams) -> ExitCode:
    model = load(args.target, dataset=args.dataset, seed=args.seed)
    figures = model.show(
        args.output, image=args.image, position=args.position, data_dir=args.data_dir,
        attribution=args.attribution, target=args.target_class, layer=args.layer,
        methods=args.method.split(",") if args.method else None,
    )  # fmt: skip
    return io.result(figures, args.json)


def report(args: argparse.Namespace, io: Streams) -> ExitCode:
    model = load(args.target, dataset=args.dataset, seed=args.seed)
    written = model.report(
        args.output,
        image=args.image,
        position=args.position,
        pooling=args.pooling,
        data_dir=args.data_dir,
    )
    return io.result(written, args.json)


def export(args: argparse.Namespace, io: Streams) -> ExitCode:
    found = trained(args).export(args.output, format=args.format, force=args.force)
    return io.result(found, args.json)


def serve(args: argparse.Namespace, io: Streams) -> ExitCode:
    from ..api.server import serve as run_server

    model = load(args.target, dataset=args.dataset, seed=args.seed)
    run_server(model, host=args.host, port=args.port, allow_remote=args.allow_remote,
               open_browser=args.open, out=io.out, err=io.err)  # fmt: skip
    return ExitCode.OK
