"""The command line: parse argv, call one function, render, return an exit code.

`main(argv) -> int` never raises for user mistakes: a ConvscopeError prints its one or
two lines to stderr and returns ExitCode.USAGE (2).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from enum import IntEnum
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .core import presets, training
from .core.augment import parse_augment
from .core.errors import ConvscopeError
from .core.explain import explain
from .core.load import load_model, load_with_source, parse_shape
from .present import render
from .present import results as render_results
from .present.progress import duration


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a bug or an environment problem, not the user's input
    USAGE = 2  # the user's input is wrong; the message says how
    DIVERGED = 3  # training's loss became NaN/inf; the last good checkpoint is kept
    INTERRUPTED = 130  # Ctrl-C; a training run saved its checkpoint first


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
    add_train_parser(commands)
    ev = commands.add_parser(
        "evaluate",
        help="test loss and accuracy of a run, per class, with its confusion matrix",
        description="Evaluate a training run's latest weights on its data set's test images.",
    )
    ev.add_argument("run", help="a run directory, e.g. runs/<time>-<model>")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--data-dir", help="where the data set's IDX files are")
    pr = commands.add_parser(
        "predict",
        help="class probabilities for your own image",
        description="Classify an image with a trained run. Any size, colour or not: it is "
        "prepared the way the data set's images were (and the output says how).",
    )
    pr.add_argument("run", help="a run directory")
    pr.add_argument("image", help="a PNG or JPEG file")
    pr.add_argument("--json", action="store_true", help="print one JSON object")
    add_inspect_parsers(commands)
    add_experiment_parsers(commands)
    cp = commands.add_parser(
        "compare",
        help="several runs side by side: settings, parameters, time, accuracy, curves",
        description="Compare training runs: the settings that differ, parameters, training "
        "time and test results in a table, and their curves overlaid in compare.png.",
    )
    cp.add_argument("runs", nargs="+", help="run directories")
    cp.add_argument("--output", default="compare", help="folder for compare.png/.json/.md")
    cp.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def add_experiment_parsers(commands: Any) -> None:
    ex = commands.add_parser(
        "experiment",
        help="controlled experiments: pooling variants, per-layer probes, occlusion",
        description="Experiments that answer the classic questions with measurements.",
    )
    kinds = ex.add_subparsers(dest="experiment", required=True, parser_class=_Parser)
    po = kinds.add_parser(
        "pooling",
        help="the same network with max, average, stride-2 conv or no pooling",
        description="Train the model with its pooling as max pooling, average pooling, "
        "stride-2 convolutions in place of pooling, and no pooling (all else equal), on the "
        "same data and seeds; compare parameters, activations, receptive field, time and "
        "test accuracy. Repeat the command to continue a stopped experiment.",
    )
    po.add_argument("--model", required=True, help="a preset or a Keras .py file with pooling")
    po.add_argument("--seeds", type=positive_int, default=3, help="seeds per variant (default 3)")
    po.set_defaults(seed=0)  # the shared settings' seed; each run has its own: 1, 2, ...
    add_training_options(po)
    po.add_argument(
        "--output",
        help="the experiment's folder (default: experiments/pooling-<model>-<dataset>-e<N>...)",
    )
    po.add_argument("--quiet", action="store_true", help="no progress bars, only run lines")
    po.add_argument("--json", action="store_true", help="print the results as one JSON object")
    pb = kinds.add_parser(
        "probe",
        help="what each layer still knows about the label: linear probes",
        description="Train a logistic regression on the frozen output of every layer (and "
        "on the input pixels) of a trained run, and score it on the test set. Results in "
        "RUN/experiments/probe.json and probe.png.",
    )
    pb.add_argument("run", help="a trained run directory")
    pb.add_argument(
        "--train-images", type=positive_int, metavar="N", help="probe on the first N only"
    )
    pb.add_argument("--epochs", type=positive_int, default=5, help="probe epochs (default 5)")
    pb.add_argument("--data-dir", help="where the data set's IDX files are")
    pb.add_argument("--json", action="store_true", help="print the results as one JSON object")
    oc = kinds.add_parser(
        "occlusion",
        help="which pixels the prediction relies on: a sliding grey patch",
        description="Cover a test image (or your own) with a grey patch at every position "
        "and map how the probability of the predicted class drops. Results in "
        "RUN/experiments/occlusion-<image>.json and .png.",
    )
    oc.add_argument("run", help="a trained run directory")
    oc.add_argument("--image", default="0", help="a test-set index or a PNG/JPEG (default 0)")
    oc.add_argument("--patch", type=positive_int, default=5, help="patch side in px (default 5)")
    oc.add_argument("--stride", type=positive_int, default=1, help="patch step in px (default 1)")
    oc.add_argument(
        "--fill",
        type=int,
        default=128,
        help="the patch's pixel value: 128 grey (default); 0 is the background, which only "
        "erases ink (grey on a black background can also look like a stroke)",
    )
    oc.add_argument("--data-dir", help="where the data set's IDX files are")
    oc.add_argument("--json", action="store_true", help="print the results as one JSON object")


def add_inspect_parsers(commands: Any) -> None:
    sh = commands.add_parser(
        "show",
        help="figures of a run or model: filters, feature maps, receptive fields, results",
        description="Draw PNG figures from a run's real weights and activations into "
        "RUN/figures/ (or, for an untrained preset or file, into --output).",
    )
    rp = commands.add_parser(
        "report",
        help="one self-contained HTML page: explain table, answers, every figure",
        description="Write one HTML file that works offline (images inline, no scripts): "
        "the explain table with formulas, answers to the common questions with this model's "
        "numbers, and every figure. A run gives RUN/report.html; a preset or file (untrained) "
        "gives <name>-report.html.",
    )
    for p in (sh, rp):
        p.add_argument("target", help="a run directory, or a preset / Keras file (untrained)")
        p.add_argument(
            "--image",
            help="a test-set index (e.g. 7) or a PNG/JPEG of your own (default: test image 0)",
        )
        p.add_argument(
            "--position",
            metavar="LAYER:ROW,COL",
            help="the position whose window to draw for that layer (default: each centre)",
        )
        p.add_argument("--output", help="where to write (a folder for show, a file for report)")
        p.add_argument("--data-dir", help="where the data set's IDX files are")
        p.add_argument("--seed", type=int, default=0, help="initial weights of an untrained model")
    rp.add_argument(
        "--pooling",
        metavar="EXPERIMENT",
        help="a pooling experiment's folder whose results the report includes (default: the "
        "experiment the run belongs to, else experiments/pooling-<model>-<dataset>-*)",
    )


def add_train_parser(commands: Any) -> None:
    tr = commands.add_parser(
        "train",
        help="train a model on MNIST or Fashion-MNIST with Keras semantics",
        description="Train a preset or your own Keras file with PyTorch. Settings come from "
        "the preset or from the file's compile() and fit() calls; options override them.",
    )
    tr.add_argument("model", nargs="?", help="a preset or a Keras .py file (not with --resume)")
    add_training_options(tr)
    tr.add_argument("--seed", type=int, help="random seed; a CPU run with a seed repeats exactly")
    tr.add_argument("--resume", metavar="RUN", help="continue a stopped run from its checkpoint")
    tr.add_argument("--runs-dir", default="runs", help="where run directories go (default: runs)")
    tr.add_argument("--quiet", action="store_true", help="no progress, only the result")
    tr.add_argument("--json", action="store_true", help="print one JSON object at the end")


def add_training_options(tr: argparse.ArgumentParser) -> None:
    """What train and the training experiments share: settings that override the model's."""
    tr.add_argument("--dataset", choices=training.DATASETS, help="the data set")
    tr.add_argument("--epochs", type=positive_int, help="epochs (with --resume: the new total)")
    tr.add_argument("--optimizer", help=f"one of {', '.join(training.OPTIMIZERS)}")
    tr.add_argument("--lr", type=positive_float, help="learning rate")
    tr.add_argument("--batch-size", type=positive_int, help="samples per batch")
    tr.add_argument(
        "--validation-split",
        type=float,
        help="validate on this last fraction of the training set (Keras's validation_split); "
        "otherwise on the test set, as the tutorials do",
    )
    tr.add_argument(
        "--train-images",
        type=positive_int,
        metavar="N",
        help="train on the first N training images only (like x_train[:N]), for quick runs",
    )
    tr.add_argument(
        "--augment",
        metavar="shift=N,rotate=DEG",
        help="random whole-pixel shifts (up to N px) and rotations (up to DEG degrees) of "
        "each training image, each epoch; e.g. shift=2,rotate=10",
    )
    tr.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    tr.add_argument(
        "--precision",
        default="fp32",
        choices=("fp32", "bf16"),
        help="bf16: mixed precision (autocast), faster on CPUs with AMX or AVX512-BF16",
    )
    tr.add_argument("--data-dir", help="where the data set's IDX files are")
    tr.add_argument("--input-shape", help="override the model's input shape")


def model_name(target: str) -> str:
    """What runs and reports call a model: the preset's name, else the file's stem."""
    return target if target in presets.PRESETS else Path(target).stem


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def cmd_explain(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
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


def cmd_presets(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    for preset in presets.PRESETS.values():
        t = preset.training
        out.write(
            f"{preset.name:18} {preset.title}\n{'':18} {t.dataset}, {t.optimizer}, batch "
            f"{t.batch_size}, {t.epochs} epochs\n"
        )
    return ExitCode.OK


def training_settings(args: argparse.Namespace, stdin: TextIO, err: TextIO) -> tuple[Any, Any, str]:
    """(Settings, ModelSpec, source text): the preset's or file's settings, then the options."""
    from .runtime.runs import Settings, random_seed

    if args.model == "-":
        raise ConvscopeError(
            "train keeps the model's source in its run directory: give a file, not -",
            hint="save the code to a .py file first",
        )
    shape = parse_shape(args.input_shape) if args.input_shape else None
    source, text = load_with_source(args.model, input_shape=shape)
    spec = source.spec
    if spec.training is None:  # a user's file: its compile()/fit(), else Keras's defaults
        spec = replace(spec, training=training.from_source(training.read_compile_fit(source, text)))
        if not source.compile_args:
            err.write(
                f"convscope: note: {spec.source} has no model.compile(); training with "
                f"{training.DEFAULT_TRAINING.optimizer} and sparse categorical crossentropy "
                "unless --optimizer says otherwise\n"
            )
    t = spec.training
    assert t is not None
    if args.optimizer:
        name = training.optimizer_name(args.optimizer, "--optimizer")
        t = replace(t, optimizer=name, optimizer_args=(), learning_rate=None)
    t = replace(
        t,
        dataset=args.dataset or t.dataset,
        epochs=args.epochs or t.epochs,
        batch_size=args.batch_size or t.batch_size,
        learning_rate=args.lr or t.learning_rate,
    )
    settings = Settings(
        model=model_name(args.model),
        source=args.model,
        input_shape=spec.input_shape,
        training=t,
        seed=random_seed() if args.seed is None else args.seed,
        validation_split=args.validation_split,
        device=args.device,
        precision=args.precision,
        data_dir=args.data_dir,
        train_images=args.train_images,
        augment=parse_augment(args.augment or ""),
    )
    return settings, replace(spec, training=t), text


@contextlib.contextmanager
def first_interrupt_stops(stop: Any, err: TextIO) -> Iterator[None]:
    """The first Ctrl-C asks training to stop after the batch; a second one stops at once."""

    def handler(signum: int, frame: object) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.request()
        err.write(
            "\nconvscope: stopping after this batch to save a checkpoint (Ctrl-C again "
            "to quit now)\n"
        )

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl-C as it is
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def cmd_train(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    from .present.progress import KerasProgress
    from .runtime import runs
    from .runtime.train import Diverged, Silent, StopFlag

    if args.resume:
        fixed = [
            f"--{k.replace('_', '-')}" if k != "model" else "a model"
            for k in (
                "model",
                "dataset",
                "optimizer",
                "lr",
                "batch_size",
                "seed",
                "validation_split",
                "input_shape",
                "train_images",
                "augment",
            )
            if getattr(args, k)
        ]
        if fixed:
            raise ConvscopeError(
                f"--resume continues a run with its own settings; {', '.join(fixed)} cannot "
                "change them",
                hint="only --epochs (the new total) may be given with --resume",
            )
        run = runs.resume(Path(args.resume), epochs=args.epochs, stream=err)
    elif not args.model:
        raise ConvscopeError(
            "train needs a model: a preset, a Keras .py file, or -",
            hint=f"presets: {', '.join(presets.PRESETS)}",
        )
    else:
        settings, spec, text = training_settings(args, stdin, err)
        for warning in training.training_warnings(settings.training):
            err.write(f"convscope: warning: {warning}\n")
        run = runs.start(spec, text, settings, Path(args.runs_dir), stream=err)
    if not args.quiet:
        err.write(render_results.run_header(run))
    stop = StopFlag()
    with first_interrupt_stops(stop, err):
        try:
            done = run.fit(Silent() if args.quiet else KerasProgress(err), stop)
        except Diverged as error:
            err.write(
                f"convscope: {error}\n  resume the last good epoch with another rate: "
                f"edit {run.dir}/settings.json or start again with --lr\n"
            )
            return ExitCode.DIVERGED
    pos = run.trainer.position
    if not done:
        err.write(
            f"convscope: stopped in epoch {pos.epoch + 1} after batch {pos.step} of "
            f"{run.trainer.steps}; checkpoint saved\n  continue with: convscope train "
            f"--resume {run.dir}\n"
        )
        return ExitCode.INTERRUPTED
    report = runs.write_test_report(run.dir, run.settings, run.data.dataset, run.test())
    seconds = sum(h["seconds"] for h in pos.history)
    if args.json:
        out.write(
            render_results.to_json(
                {
                    "run_dir": str(run.dir),
                    "test_accuracy": report.accuracy,
                    "test_loss": report.loss,
                    "epochs": pos.epoch,
                    "seconds": round(seconds, 3),
                }
            )
        )
    else:
        out.write(
            f"Test accuracy: {report.accuracy:.2%} (loss {report.loss:.4f}) on "
            f"{report.count:,} {report.dataset} test images, after {plural(pos.epoch, 'epoch')} "
            f"({duration(seconds)} of training).\nRun saved in {run.dir}; details: "
            f"convscope evaluate {run.dir}\n"
        )
    return ExitCode.OK


def cmd_evaluate(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    from .runtime import runs

    report, epochs = runs.evaluate_run(Path(args.run), args.data_dir, stream=err)
    if args.json:
        out.write(
            render_results.to_json({"run_dir": args.run, "epochs": epochs, **report.as_dict()})
        )
    else:
        out.write(
            render_results.report_text(report, f"{args.run} (after {plural(epochs, 'epoch')})")
        )
    return ExitCode.OK


def cmd_predict(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    from .runtime import runs

    p = runs.predict_image(Path(args.run), Path(args.image))
    if args.json:
        out.write(
            render_results.to_json(
                {
                    "image": args.image,
                    "predicted": p.label,
                    "class_name": p.class_names[p.label],
                    "probabilities": dict(zip(p.class_names, p.probabilities, strict=True)),
                    "preparation": p.steps,
                }
            )
        )
    else:
        out.write(
            render_results.prediction_text(p.class_names, p.probabilities, p.steps, args.image)
        )
    return ExitCode.OK


def inspect_view(args: argparse.Namespace, err: TextIO) -> Any:
    """A run directory, else a preset or Keras file with its initial weights."""
    from .present import figures

    target = Path(args.target)
    if target.is_dir():
        return figures.view_run(target, args.image or "0", args.data_dir, stream=err)
    return figures.view_model(
        args.target, model_name(args.target), args.image, args.data_dir, args.seed, stream=err
    )


def default_output(args: argparse.Namespace, view: Any, run_name: str, model_name: str) -> Path:
    if args.output:
        return Path(args.output)
    if view.run is not None:
        return Path(view.run.dir) / run_name
    return Path(model_name.format(name=view.spec.name))


def cmd_show(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    from .present import figures

    view = inspect_view(args, err)
    folder = default_output(args, view, "figures", "{name}-figures")
    paths = figures.write_pictures(folder, figures.pictures(view, args.position))
    out.write(f"{len(paths)} figures in {folder}:\n")
    out.writelines(f"  {p.name}\n" for p in paths)
    for note in view.notes:
        out.write(f"{note}\n")
    return ExitCode.OK


def cmd_report(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    from .present import experiments, figures, report
    from .runtime.files import write_text

    view = inspect_view(args, err)
    found = figures.pictures(view, args.position)
    path = default_output(args, view, "report.html", "{name}-report.html")
    measured = None
    if view.run is not None:
        settings = view.run.settings
        pooling = Path(args.pooling) if args.pooling else None
        measured = experiments.find_measured(
            view.run.dir, settings.model, settings.training.dataset, pooling
        )
    html = report.render_html(view, found, measured)
    write_text(path, html)
    out.write(
        f"Report written to {path} ({len(html.encode()) / 1e6:.1f} MB, {len(found)} figures, "
        "self-contained: open it in any browser, offline)\n"
    )
    return ExitCode.OK


def cmd_experiment(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    return EXPERIMENTS[args.experiment](args, stdin, out, err)


def cmd_pooling(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    from .present import experiments as shown
    from .present.progress import KerasProgress
    from .runtime import pooling
    from .runtime.files import atomic_write, write_text
    from .runtime.train import Diverged, Silent, StopFlag

    settings, spec, text = training_settings(args, stdin, err)
    folder = Path(args.output or pooling.default_folder(Path(pooling.ROOT), settings))
    experiment = pooling.open_experiment(folder, settings, spec, text, args.seeds)
    err.write(f"Pooling experiment in {folder}: {len(experiment.plan())} runs, one at a time\n")

    def on_run(index: int, total: int, planned: pooling.PlannedRun, run: Any) -> Any:
        state = "done" if run is None else "training"
        if run is not None and run.resumed_from is not None:
            state = f"resuming from epoch {run.resumed_from.epoch + 1}"
        err.write(f"[{index}/{total}] {planned.title}: {state}\n")
        return Silent() if args.quiet else KerasProgress(err)

    stop = StopFlag()
    with first_interrupt_stops(stop, err):
        try:
            results = pooling.run_all(experiment, stop, on_run, stream=err)
        except Diverged as error:
            err.write(f"convscope: {error}\n")
            return ExitCode.DIVERGED
    write_text(folder / "pooling.md", shown.pooling_markdown(results))
    if any(v.runs for v in results.variants):
        atomic_write(folder / "pooling.png", shown.pooling_png(results))
    if args.json:
        out.write(render_results.to_json({"folder": str(folder), **results.as_dict()}))
    else:
        out.write(shown.pooling_text(results))
        out.write(f"Saved in {folder}: pooling.json, pooling.md, pooling.png\n")
    if not results.complete:
        done = sum(len(v.runs) for v in results.variants)
        err.write(
            f"convscope: stopped with {done} of {len(experiment.plan())} runs finished; "
            "the stopped run kept its checkpoint\n  continue: repeat the same command\n"
        )
        return ExitCode.INTERRUPTED
    return ExitCode.OK


def cmd_probe(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    from .present import experiments as shown
    from .runtime import probe, runs
    from .runtime.files import atomic_write

    run_dir = Path(args.run)

    def progress(epoch: int, epochs: int) -> None:
        if epoch < epochs:
            err.write(f"probe epoch {epoch + 1}/{epochs}\n")

    results = probe.probe_run(
        run_dir,
        probe.ProbeSettings(epochs=args.epochs),
        args.train_images,
        args.data_dir,
        stream=err,
        progress=progress,
    )
    folder = run_dir / runs.EXPERIMENTS
    atomic_write(folder / "probe.png", shown.probe_png(results))
    if args.json:
        out.write(render_results.to_json(results.as_dict()))
    else:
        out.write(shown.probe_text(results))
        out.write(f"Saved in {folder}: probe.json, probe.png\n")
    return ExitCode.OK


def cmd_occlusion(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    from .present import experiments as shown
    from .runtime import occlusion, runs
    from .runtime.files import atomic_write

    run_dir = Path(args.run)
    occ = occlusion.occlude_run(
        run_dir, args.image, args.patch, args.stride, args.fill, args.data_dir, stream=err
    )
    path = run_dir / runs.EXPERIMENTS / f"occlusion-{occlusion.file_stem(args.image)}.png"
    atomic_write(path, shown.occlusion_png(occ))
    if args.json:
        out.write(render_results.to_json({**occ.as_dict(), "png": str(path)}))
    else:
        out.write(shown.occlusion_text(occ))
        out.write(f"Saved: {path} (and .json)\n")
    return ExitCode.OK


def cmd_compare(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> ExitCode:
    from .present import compare
    from .runtime.files import atomic_write, write_json, write_text

    if len(args.runs) < 2:
        raise ConvscopeError(f"compare needs at least two runs, got {len(args.runs)}")
    summaries = [compare.read_run(Path(r)) for r in args.runs]
    folder = Path(args.output)
    atomic_write(folder / "compare.png", compare.compare_png(summaries))
    write_json(folder / "compare.json", compare.compare_json(summaries))
    write_text(folder / "compare.md", compare.compare_markdown(summaries))
    if args.json:
        out.write(render_results.to_json(compare.compare_json(summaries)))
    else:
        out.write(compare.compare_text(summaries))
        out.write(f"Curves and tables in {folder}: compare.png, compare.md, compare.json\n")
    return ExitCode.OK


EXPERIMENTS = {"pooling": cmd_pooling, "probe": cmd_probe, "occlusion": cmd_occlusion}

COMMANDS = {
    "explain": cmd_explain,
    "presets": cmd_presets,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "show": cmd_show,
    "report": cmd_report,
    "experiment": cmd_experiment,
    "compare": cmd_compare,
}


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
        return COMMANDS[args.command](args, stdin, stdout, stderr)
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
