"""`convscope train`: a new run, or `--resume RUN` to continue one."""

from __future__ import annotations

import argparse

from ..api import training
from ..core import presets
from ..core.errors import ConvscopeError
from .codes import ExitCode, Streams
from .parser import training_options

# the options that resuming a run cannot change, as train spells them
FIXED_ON_RESUME = (
    "model", "dataset", "optimizer", "lr", "batch_size", "seed", "validation_split",
    "input_shape", "train_images", "augment", "pick", "classes", "image_size", "color_mode",
    "skip_bad_images",
)  # fmt: skip
FLAGS = {
    "model": "a model",
    "pick": "--model",
    "dataset": "--dataset/--data",
}  # where the dest is not the flag's name


def train(args: argparse.Namespace, io: Streams) -> ExitCode:
    if args.resume:
        fixed = [
            FLAGS.get(k, f"--{k.replace('_', '-')}") for k in FIXED_ON_RESUME if getattr(args, k)
        ]
        if fixed:
            raise ConvscopeError(
                f"--resume continues a run with its own settings; {', '.join(fixed)} cannot "
                "change them",
                hint="only --epochs (the new total) may be given with --resume",
            )
        run = training.resume(args.resume, epochs=args.epochs, quiet=args.quiet, stream=io.err)
        return io.result(run, args.json)
    if not args.model:
        raise ConvscopeError(
            "train needs a model: a preset, a Keras .py file, or -",
            hint=f"presets: {', '.join(presets.PRESETS)}",
        )
    options = training_options(args)
    run = training.train(
        args.model, **options, runs_dir=args.runs_dir, quiet=args.quiet, stream=io.err
    )
    return io.result(run, args.json)
