"""`convscope experiment pooling|probe|occlusion|attribution`, `compare` and `sweep`.

The API modules are imported inside each command: compare reads JSON and model.py only
and must not pay for torch, which the experiments need."""

from __future__ import annotations

import argparse

from .codes import ExitCode, Streams
from .parser import training_options


def experiment(args: argparse.Namespace, io: Streams) -> ExitCode:
    kinds = {"pooling": pooling, "probe": probe, "occlusion": occlusion, "attribution": attribution}
    return kinds[args.experiment](args, io)


def pooling(args: argparse.Namespace, io: Streams) -> ExitCode:
    from ..api.experiments import pooling as run_pooling

    found = run_pooling(
        args.model,
        seeds=args.seeds,
        output=args.output,
        ray=args.ray,
        cpus_per_trial=args.cpus_per_trial,
        quiet=args.quiet,
        stream=io.err,
        **training_options(args),
    )
    return io.result(found, args.json)


def probe(args: argparse.Namespace, io: Streams) -> ExitCode:
    from .looking import trained

    model = trained(args)
    found = model.probe(
        epochs=args.epochs, train_images=args.train_images, data_dir=args.data_dir, stream=io.err
    )
    return io.result(found, args.json)


def occlusion(args: argparse.Namespace, io: Streams) -> ExitCode:
    from .looking import trained

    model = trained(args)
    found = model.occlusion(
        args.image, patch=args.patch, stride=args.stride, fill=args.fill, data_dir=args.data_dir
    )
    return io.result(found, args.json)


def attribution(args: argparse.Namespace, io: Streams) -> ExitCode:
    from .looking import trained

    model = trained(args)
    found = model.attribution(
        images=args.images, deletion_images=args.deletion_images, data_dir=args.data_dir,
        stream=io.err,
    )  # fmt: skip
    return io.result(found, args.json)


def compare(args: argparse.Namespace, io: Streams) -> ExitCode:
    from ..api.comparing import compare as compare_runs

    return io.result(compare_runs(args.runs, output=args.output), args.json)


def sweep(args: argparse.Namespace, io: Streams) -> ExitCode:
    from ..api.sweeping import sweep as run_sweep

    found = run_sweep(
        args.model,
        grid=args.grid,
        random=args.random,
        trials=args.trials,
        seeds=args.seeds,
        seed=args.seed,
        sample_seed=args.sample_seed,
        config=args.config,
        resume=args.resume,
        output=args.output,
        ray=args.ray,
        cpus_per_trial=args.cpus_per_trial,
        tensorboard=args.tensorboard,
        early_stop=args.early_stop,
        quiet=args.quiet,
        stream=io.err,
        **{k: v for k, v in training_options(args).items() if k != "seed"},
    )
    return io.result(found, args.json)
