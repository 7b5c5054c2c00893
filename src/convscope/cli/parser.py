"""The command line's grammar, as data: each command's help and its arguments.

No behaviour here: `cli.__init__` parses with this and hands the namespace to the
command's function. Values are checked by the public API (core.settings), once.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import presets, training
from ..core.errors import ConvscopeError
from ..core.settings import DEVICES, PRECISIONS, Options


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() stays in control."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("convscope").strip()  # main() says "convscope: "
        where = f"{command}: " if command else ""
        raise ConvscopeError(f"{where}{message}", hint=f"see: {self.prog} --help")


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


@dataclass(frozen=True)
class Arg:
    """One add_argument call: its names and keywords."""

    names: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*names: str, **options: Any) -> Arg:
    return Arg(names, options)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str
    args: Sequence[Arg] = ()
    exclusive: Sequence[Arg] = ()  # at most one of these
    defaults: dict[str, Any] = field(default_factory=dict)


JSON = arg("--json", action="store_true", help="print one JSON object")
DATA_DIR = arg("--data-dir", help="where the data set's IDX files are")
MODEL = f"a preset ({', '.join(presets.PRESETS)}), a Keras .py file"

PICK = arg(
    "--model", dest="pick", metavar="NAME",
    help="which model, in a file that builds several: its variable, the function that builds "
    "it, or its name=",
)  # fmt: skip
CLASSES = arg(
    "--classes", type=positive_int, metavar="N",
    help="the number of classes, for a final Dense whose units the file works out at run "
    "time (e.g. len(set(labels)))",
)  # fmt: skip

TRAINING_OPTIONS = (
    arg("--dataset", choices=training.DATASETS, help="the data set"),
    arg("--data", dest="dataset", metavar="FOLDER|NPZ",
        help="your own images: a folder with one subfolder per class (read as "
        "image_dataset_from_directory reads it), or an .npz of x_train, y_train, x_test, "
        "y_test"),
    arg("--image-size", metavar="H,W",
        help="a folder's photos resized to this (bilinear; default: the model's input)"),
    arg("--color-mode", choices=tuple(training.COLOR_MODES),
        help="a folder's photos read as grayscale, rgb or rgba (default: the model's channels)"),
    arg("--skip-bad-images", action="store_true", default=None,
        help="train without the folder's files that are not readable images (the run "
        "lists them)"),
    arg("--epochs", type=positive_int, help="epochs (with --resume: the new total)"),
    arg("--optimizer", help=f"one of {', '.join(training.OPTIMIZERS)}"),
    arg("--lr", type=positive_float, help="learning rate"),
    arg("--batch-size", type=positive_int, help="samples per batch"),
    arg("--validation-split", type=float,
        help="validate on this last fraction of the training set (Keras's validation_split); "
        "otherwise on the test set, as the tutorials do"),
    arg("--train-images", type=positive_int, metavar="N",
        help="train on the first N training images only (like x_train[:N]), for quick runs"),
    arg("--augment", metavar="shift=N,rotate=DEG",
        help="random whole-pixel shifts (up to N px) and rotations (up to DEG degrees) of "
        "each training image, each epoch; e.g. shift=2,rotate=10"),
    arg("--device", default="auto", choices=DEVICES),
    arg("--precision", default="fp32", choices=PRECISIONS,
        help="bf16: mixed precision (autocast), faster on CPUs with AMX or AVX512-BF16; "
        "elsewhere it falls back to fp32 with a warning; auto: bf16 where it is native"),
    DATA_DIR,
    arg("--input-shape", help="override the model's input shape"),
)  # fmt: skip

KERAS_DATASET = arg(
    "--dataset", choices=training.DATASETS,
    help="for a Keras model file: the data set it learnt (the file does not say)",
)  # fmt: skip
MODEL_FILE = "a run directory, or a Keras model file (.keras, .h5) with --dataset"

LOOK_OPTIONS = (
    arg("target", help="a run directory, a Keras model file (.keras, .h5), or a preset / "
        "Keras .py file (untrained)"),
    KERAS_DATASET,
    arg("--image",
        help="a test-set index (e.g. 7) or a PNG/JPEG of your own (default: test image 0)"),
    arg("--position", metavar="LAYER:ROW,COL",
        help="the position whose window to draw for that layer (default: each centre)"),
    arg("--output", help="where to write (a folder for show, a file for report)"),
    DATA_DIR,
    arg("--seed", type=int, default=0, help="initial weights of an untrained model"),
    JSON,
)  # fmt: skip

COMMANDS = (
    Command(
        "explain", "every layer's shape and parameters, with worked formulas",
        "Explain a Keras Sequential model (a preset, a .py file, or - for stdin) the way "
        "Keras's model.summary() counts it, with each number's formula, receptive field, "
        "multiply-adds and memory. The file is read, never run.",
        (arg("model", help=f"{MODEL}, or -"),
         arg("--input-shape", type=str, help="override the input shape, e.g. 28,28,1"),
         PICK, CLASSES,
         arg("--source", action="store_true", help="print the preset's Keras source")),
        (JSON, arg("--markdown", action="store_true", help="print Markdown")),
    ),
    Command("presets", "list the built-in models", "The built-in models and their settings.",
            (JSON,)),
    Command(
        "train", "train a model on MNIST or Fashion-MNIST with Keras semantics",
        "Train a preset or your own Keras file with PyTorch. Settings come from the preset or "
        "from the file's compile() and fit() calls; options override them.",
        (arg("model", nargs="?", help=f"{MODEL} (not with --resume)"),
         *TRAINING_OPTIONS, PICK, CLASSES,
         arg("--seed", type=int, help="random seed; a CPU run with a seed repeats exactly"),
         arg("--resume", metavar="RUN", help="continue a stopped run from its checkpoint"),
         arg("--runs-dir", default="runs", help="where run directories go (default: runs)"),
         arg("--quiet", action="store_true", help="no progress, only the result"),
         JSON),
    ),
    Command(
        "evaluate", "test loss and accuracy of a run, per class, with its confusion matrix",
        "Evaluate a training run's latest weights on its data set's test images.",
        (arg("run", help=MODEL_FILE), KERAS_DATASET, JSON, DATA_DIR),
    ),
    Command(
        "predict", "class probabilities for your own images",
        "Classify images with a trained run. Any size, colour or not: each is prepared the way "
        "the data set's images were (and the output says how). One file gives its class "
        "probabilities; several, or a folder (walked as image_dataset_from_directory walks "
        "it), give a table, checked against the folders named after a class.",
        (arg("run", help=MODEL_FILE),
         arg("image", nargs="+", help="PNG, JPEG, BMP or GIF files, or folders of them"),
         arg("--skip-bad-images", action="store_true",
             help="predict the other files when some cannot be read as images (listed)"),
         KERAS_DATASET, JSON),
    ),
    Command(
        "show", "figures of a run or model: filters, feature maps, receptive fields, results",
        "Draw PNG figures from a run's real weights and activations into RUN/figures/ (or, for "
        "an untrained preset or file, into --output).",
        (*LOOK_OPTIONS,
         arg("--attribution", action="store_true",
             help="also attribution.png: the image's map by every method (which pixels the "
             "prediction used)"),
         arg("--target", dest="target_class", type=int, metavar="CLASS",
             help="with --attribution: the class the maps follow (default: the predicted one)"),
         arg("--layer", help="with --attribution: Grad-CAM's conv layer (default: the last)"),
         arg("--method", metavar="NAME[,NAME...]",
             help="with --attribution: only these methods (saliency, gradient_x_input, "
             "smoothgrad, integrated_gradients, gradcam, occlusion; default: all)")),
    ),
    Command(
        "report", "one self-contained HTML page: explain table, answers, every figure",
        "Write one HTML file that works offline (images inline, no scripts): the explain "
        "table with formulas, answers to the common questions with this model's numbers, and "
        "every figure. A run gives RUN/report.html; a preset or file (untrained) gives "
        "<name>-report.html.",
        (*LOOK_OPTIONS,
         arg("--pooling", metavar="EXPERIMENT",
             help="a pooling experiment's folder whose results the report includes (default: "
             "the experiment the run belongs to, else experiments/pooling-<model>-<dataset>-*)")),
    ),
    Command(
        "export", "write a run back out as a .keras file, ONNX, or a page anyone can open",
        "Write the model with its trained weights as a .keras file that Keras 3 loads with "
        "keras.models.load_model, as ONNX (needs the onnx extra), or as a folder with the live "
        "page, the explain table and the report that opens in any browser, from file:// or a "
        "static host (--format site). Written atomically; replaced only with --force.",
        (arg("run", help=MODEL_FILE),
         arg("--format", choices=("keras", "onnx", "site"),
             help="default: from the output's suffix (none: site)"),
         arg("-o", "--output", required=True,
             help="the file or folder to write, e.g. chollet.keras or my-convnet/"),
         arg("--force", action="store_true", help="replace an existing file"),
         KERAS_DATASET, JSON),
    ),
    Command(
        "serve", "the live page: draw a digit and watch every layer of your model respond",
        "Serve an interactive page on this machine (127.0.0.1) for a run, a Keras model file "
        "or an untrained preset: draw or upload a digit, see the 28x28 the network sees, every "
        "layer's maps, each position's window and arithmetic. Ctrl-C stops it.",
        (arg("target", help="a run directory, a Keras model file (with --dataset), or a preset"),
         KERAS_DATASET,
         arg("--port", type=positive_int, default=8765, help="default 8765"),
         arg("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)"),
         arg("--allow-remote", action="store_true", help="allow a --host beyond this machine"),
         arg("--open", action="store_true", help="open the page in a browser"),
         arg("--seed", type=int, default=0, help="initial weights of an untrained model")),
    ),
    Command(
        "compare", "several runs side by side: settings, parameters, time, accuracy, curves",
        "Compare training runs: the settings that differ, parameters, training time and test "
        "results in a table, and their curves overlaid in compare.png.",
        (arg("runs", nargs="+", help="run directories"),
         arg("--output", default="compare", help="folder for compare.png/.json/.md"), JSON),
    ),
)  # fmt: skip

RAY = arg(
    "--ray", nargs="?", const=True, default=False, metavar="ADDRESS",
    help="run the trials as Ray tasks: on RAY_ADDRESS's cluster or a local one, or on ADDRESS "
    "(e.g. ray://host:10001); the nodes need no shared disk: plan, data and run folders "
    "travel through Ray; needs pip "
    "install convscope[ray]",
)  # fmt: skip
CPUS_PER_TRIAL = arg(
    "--cpus-per-trial", type=positive_float,
    help="with --ray: CPUs each trial asks for (default: all of one node's)",
)  # fmt: skip

# sweep's training options: --device and --precision given only when typed, so that a
# sweep over precision is not "also fixed" by the default
SWEEP_TRAINING = tuple(
    Arg(a.names, {**a.options, "default": None}) if a.names[0] in ("--device", "--precision")
    else a
    for a in TRAINING_OPTIONS
)  # fmt: skip

SWEEP = Command(
    "sweep", "many runs compared: a grid or random draws of settings, times seeds",
    "Train the model once per trial: every combination of the --grid values (with each "
    "--random draw) for each seed, one run directory per trial in the sweep's folder, with "
    "the table (results.md/.csv/.json) and sweep.png. Settings: lr, batch_size, epochs, "
    "optimizer, dataset, train_images, augment, validation_split, precision, and the "
    "network's pooling, width (Conv2D filters x) and dropout. Trials run one at a time "
    "here, or as Ray tasks with --ray.",
    (arg("model", nargs="?", help=f"{MODEL}"),
     arg("--grid", action="append", metavar="SETTING=V1,V2,...",
         help="values to try, crossed with the other grids (repeat it); ';' between values "
         "that hold commas: augment=none;shift=2,rotate=10"),
     arg("--random", action="append", metavar="SETTING=DIST(...)",
         help="a distribution to draw from: uniform(a,b), loguniform(a,b), randint(a,b) "
         "(a <= n < b) or choice(x,y,...) (repeat it)"),
     arg("--trials", type=positive_int, help="random draws, each with every grid point"),
     arg("--seeds", type=positive_int, help="seeds 1..N for every configuration (default 1)"),
     arg("--seed", type=int, help="one seed instead"),
     arg("--sample-seed", type=int, default=0, help="the random draws' seed (default 0)"),
     arg("--config", metavar="TOML", help="the sweep in a file: model, [grid], [random], ..."),
     arg("--resume", metavar="SWEEP", help="finish an interrupted sweep (its folder)"),
     arg("--output", help="the sweep's folder (default: sweeps/<time>-<model>)"),
     RAY, CPUS_PER_TRIAL,
     arg("--early-stop", choices=("asha",),
         help="stop the trials behind the others after 1, 3, 9, ... epochs, keeping the top "
         "third at each (ASHA, as Ray Tune and Keras Tuner's Hyperband do)"),
     arg("--tensorboard", action="store_true",
         help="each finished trial's curves and settings for tensorboard --logdir SWEEP "
         "(needs the tensorboard extra)"),
     *SWEEP_TRAINING, PICK, CLASSES,
     arg("--quiet", action="store_true", help="no progress bars, only trial lines"),
     JSON),
)  # fmt: skip

EXPERIMENTS = (
    Command(
        "pooling", "the same network with max, average, stride-2 conv or no pooling",
        "Train the model with its pooling as max pooling, average pooling, stride-2 "
        "convolutions in place of pooling, and no pooling (all else equal), on the same data "
        "and seeds; compare parameters, activations, receptive field, time and test accuracy. "
        "Repeat the command to continue a stopped experiment.",
        (arg("--model", required=True, help="a preset or a Keras .py file with pooling"),
         arg("--seeds", type=positive_int, default=3, help="seeds per variant (default 3)"),
         *TRAINING_OPTIONS,
         arg("--output", help="the experiment's folder (default: "
             "experiments/pooling-<model>-<dataset>-e<N>...)"),
         RAY, CPUS_PER_TRIAL,
         arg("--quiet", action="store_true", help="no progress bars, only run lines"),
         JSON),
    ),
    Command(
        "probe", "what each layer still knows about the label: linear probes",
        "Train a logistic regression on the frozen output of every layer (and on the input "
        "pixels) of a trained run, and score it on the test set. Results in "
        "RUN/experiments/probe.json and probe.png.",
        (arg("run", help=MODEL_FILE), KERAS_DATASET,
         arg("--train-images", type=positive_int, metavar="N", help="probe on the first N only"),
         arg("--epochs", type=positive_int, default=5, help="probe epochs (default 5)"),
         DATA_DIR, JSON),
    ),
    Command(
        "attribution", "attribution maps checked: the sanity check and the deletion measurement",
        "For each attribution method (saliency, gradient x input, SmoothGrad, integrated "
        "gradients, Grad-CAM, occlusion): how much its maps change when the weights are "
        "randomised layer by layer from the top (Adebayo et al. 2018), and how fast the "
        "accuracy falls when the pixels it ranks highest are removed, against a random "
        "ranking. Results in RUN/experiments/attribution.json, .png and .md.",
        (arg("run", help=MODEL_FILE), KERAS_DATASET,
         arg("--images", type=positive_int, default=100,
             help="test images for the sanity check (default 100)"),
         arg("--deletion-images", type=positive_int, default=1000,
             help="test images for the deletion measurement (default 1,000)"),
         DATA_DIR, JSON),
    ),
    Command(
        "occlusion", "which pixels the prediction relies on: a sliding grey patch",
        "Cover a test image (or your own) with a grey patch at every position and map how the "
        "probability of the predicted class drops. Results in "
        "RUN/experiments/occlusion-<image>.json and .png.",
        (arg("run", help=MODEL_FILE), KERAS_DATASET,
         arg("--image", default="0", help="a test-set index or a PNG/JPEG (default 0)"),
         arg("--patch", type=positive_int, default=5, help="patch side in px (default 5)"),
         arg("--stride", type=positive_int, default=1, help="patch step in px (default 1)"),
         arg("--fill", type=int, default=128,
             help="the patch's pixel value: 128 grey (default); 0 is the background, which only "
             "erases ink (grey on a black background can also look like a stroke)"),
         DATA_DIR, JSON),
    ),
)  # fmt: skip


def training_options(args: argparse.Namespace) -> dict[str, Any]:
    """The training options a command was given, by the API's keyword names."""
    return {k: getattr(args, k) for k in Options.__dataclass_fields__ if hasattr(args, k)}


def add_command(commands: Any, command: Command) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(
        command.name, help=command.help, description=command.description
    )
    for a in command.args:
        sub.add_argument(*a.names, **a.options)
    if command.exclusive:
        group = sub.add_mutually_exclusive_group()
        for a in command.exclusive:
            group.add_argument(*a.names, **a.options)
    sub.set_defaults(**command.defaults)
    return sub


def build_parser(version: str) -> argparse.ArgumentParser:
    parser = Parser(
        prog="convscope",
        description="Understand and train small Keras-style convolutional networks.",
    )
    parser.add_argument("--version", action="version", version=f"convscope {version}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in (*COMMANDS, SWEEP):
        add_command(commands, command)
    experiment = commands.add_parser(
        "experiment",
        help="controlled experiments: pooling variants, per-layer probes, occlusion",
        description="Experiments that answer the classic questions with measurements.",
    )
    kinds = experiment.add_subparsers(dest="experiment", required=True, parser_class=Parser)
    for kind in EXPERIMENTS:
        add_command(kinds, kind)
    return parser
