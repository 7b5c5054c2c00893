"""Training settings as Keras 3 states them: optimiser defaults, losses, and what a user's
compile() and fit() calls say. Pure data and checks; the runtime does the arithmetic.

Defaults are Keras 3's (keras/src/optimizers/*.py, keras 3.15): note epsilon 1e-7
everywhere (torch uses 1e-8) and RMSprop's rho 0.9 (torch's alpha is 0.99).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import ConvscopeError
from .schedules import describe, initial_rate, read_schedule
from .source.read import SourceModel
from .source.values import KerasObject, Module
from .spec import Schedule, TrainingSpec

Hyper = float | bool

# Keras 3 constructor defaults, learning_rate first. Only what the update rules use.
OPTIMIZERS: dict[str, dict[str, Hyper]] = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "rmsprop": {
        "learning_rate": 0.001,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-7,
        "centered": False,
    },
    "adam": {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "amsgrad": False,
    },
    "adamw": {
        "learning_rate": 0.001,
        "weight_decay": 0.004,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "amsgrad": False,
    },
    "nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
}

# Keras class names -> our names: keras.optimizers.RMSprop -> rmsprop.
OPTIMIZER_CLASSES = {
    "SGD": "sgd",
    "RMSprop": "rmsprop",
    "Adam": "adam",
    "AdamW": "adamw",
    "Nadam": "nadam",
    "Adadelta": "adadelta",
    "Adagrad": "adagrad",
}

LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy")
LOSS_CLASSES = {
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
}
GREY = ("mnist", "fashion-mnist")  # 28 x 28 x 1
COLOUR = ("cifar10", "cifar100")  # 32 x 32 x 3
DATASETS = (*GREY, *COLOUR)
COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}  # image_dataset_from_directory's, channels


def data_kind(dataset: str) -> str:
    """ "named" (a data set convscope fetches), "arrays" (an .npz) or "folder" (photos)."""
    if dataset in DATASETS:
        return "named"
    return "arrays" if dataset.endswith(".npz") else "folder"


def data_label(dataset: str) -> str:
    """A data set as a folder name may hold it: 'mnist', or the folder's or file's stem."""
    return dataset if dataset in DATASETS else Path(dataset).stem


def data_path(dataset: str, where: str = "dataset") -> str:
    """A data set's name as it is, or the user's folder / .npz as an absolute path."""
    if dataset in DATASETS:
        return dataset
    path = Path(dataset).expanduser()
    if (path.suffix == ".npz" and path.is_file()) or path.is_dir():
        return str(path.resolve())
    what = "no such file" if path.suffix == ".npz" else "not a folder"
    raise ConvscopeError(
        f"{where} must be one of {', '.join(DATASETS)}, a folder with one subfolder of images "
        f"per class, or an .npz of x_train, y_train, x_test, y_test; got {dataset!r} ({what})"
    )


ADADELTA_WARNING = (
    "Adadelta() without a learning rate trains at Keras 3's default 0.001, which stalls "
    "near 84% on MNIST; the original mnist_cnn.py was written for 1.0 (keras-team/keras#13815). "
    "Pass --lr 1.0 to train as it was meant."
)


def training_warnings(spec: TrainingSpec) -> list[str]:
    """What a Keras user would not expect from these settings, one line each."""
    if spec.optimizer == "adadelta" and hyperparameters(spec)["learning_rate"] == 0.001:
        return [ADADELTA_WARNING]
    return []


def optimizer_name(value: str, where: str) -> str:
    """'Adam', 'adam' or 'RMSprop' -> the key in OPTIMIZERS, or a clear error."""
    name = OPTIMIZER_CLASSES.get(value, value.lower())
    if name not in OPTIMIZERS:
        raise ConvscopeError(
            f"unknown optimizer {value!r}",
            where=where,
            hint=f"convscope trains with: {', '.join(OPTIMIZERS)}",
        )
    return name


def loss_name(value: str, where: str) -> str:
    name = LOSS_CLASSES.get(value, value)
    if name not in LOSSES:
        raise ConvscopeError(
            f"convscope trains classifiers with {' or '.join(LOSSES)}; got loss {value!r}",
            where=where,
        )
    return name


def schedule_in(given: dict[str, Any], where: str) -> Schedule | None:
    """A learning_rate=keras.optimizers.schedules.X(...) argument, read; None for a number."""
    value = given.get("learning_rate", given.get("lr"))
    if not isinstance(value, KerasObject):
        return None
    return read_schedule(_suffix(value.path), value.args, value.kwargs, where)


def optimizer_args(name: str, given: dict[str, Any], where: str) -> tuple[tuple[str, Hyper], ...]:
    """Check constructor arguments against the optimiser's Keras 3 signature (a schedule
    as the learning rate is read by schedule_in)."""
    known = OPTIMIZERS[name]
    args: list[tuple[str, Hyper]] = []
    for key, value in given.items():
        key = "learning_rate" if key == "lr" else key  # Keras 2's spelling, still in tutorials
        if key == "learning_rate" and isinstance(value, KerasObject):
            continue
        if key not in known:
            raise ConvscopeError(
                f"{name} takes no argument {key!r}",
                where=where,
                hint=f"its arguments: {', '.join(known)}",
            )
        if not isinstance(value, (int, float)):
            raise ConvscopeError(
                f"{name}({key}=...) must be a number known when the file is read, got {value!r}",
                where=where,
            )
        args.append((key, bool(value) if isinstance(known[key], bool) else float(value)))
    return tuple(args)


@dataclass(frozen=True)
class SourceTraining:
    """What the file's compile() and fit() say, as overrides; None: not in the file."""

    optimizer: str | None = None
    optimizer_args: tuple[tuple[str, Hyper], ...] = ()
    schedule: Schedule | None = None
    loss: str | None = None
    from_logits: bool = False
    label_smoothing: float = 0.0
    batch_size: int | None = None
    epochs: int | None = None
    dataset: str | None = None


def _suffix(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def read_compile_fit(model: SourceModel, text: str = "") -> SourceTraining:
    """Map the importer's raw compile()/fit() arguments onto training settings."""
    where = model.spec.source
    compile_args, fit_args = model.compile_args, model.fit_args
    optimizer: str | None = None
    args: tuple[tuple[str, Hyper], ...] = ()
    schedule: Schedule | None = None
    raw = compile_args.get("optimizer")
    if isinstance(raw, str):
        optimizer = optimizer_name(raw, where)
    elif isinstance(raw, KerasObject):
        optimizer = optimizer_name(_suffix(raw.path), where)
        positional = dict(zip(OPTIMIZERS[optimizer], raw.args, strict=False))
        given = {**positional, **raw.kwargs}
        args = optimizer_args(optimizer, given, where)
        schedule = schedule_in(given, where)
    raw_loss = compile_args.get("loss")
    loss = None
    if isinstance(raw_loss, str):
        loss = loss_name(raw_loss, where)
    elif isinstance(raw_loss, (KerasObject, Module)):
        loss = loss_name(_suffix(raw_loss.path), where)
    from_logits = isinstance(raw_loss, KerasObject) and raw_loss.kwargs.get("from_logits") is True
    return SourceTraining(
        optimizer=optimizer,
        optimizer_args=args,
        schedule=schedule,
        loss=loss,
        from_logits=from_logits,
        label_smoothing=label_smoothing(raw_loss, loss, where),
        batch_size=_positive_int(fit_args.get("batch_size"), "batch_size", where),
        epochs=_positive_int(fit_args.get("epochs"), "epochs", where),
        dataset=dataset_in(text),
    )


def label_smoothing(raw_loss: Any, loss: str | None, where: str) -> float:
    """CategoricalCrossentropy(label_smoothing=s): targets (1 - s) * one_hot + s / classes.
    Keras 3's SparseCategoricalCrossentropy has no such argument, so it is refused there."""
    if not isinstance(raw_loss, KerasObject) or "label_smoothing" not in raw_loss.kwargs:
        return 0.0
    value = raw_loss.kwargs["label_smoothing"]
    if loss != "categorical_crossentropy":
        raise ConvscopeError(
            f"{_suffix(raw_loss.path)} takes no argument 'label_smoothing'",
            where=where,
            hint="Keras 3 smooths labels in CategoricalCrossentropy (one-hot labels) only",
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConvscopeError(
            f"label_smoothing must be a number in [0, 1), got {value!r}", where=where
        )
    return float(value)


def _positive_int(value: Any, what: str, where: str) -> int | None:
    if value is None or not isinstance(value, int) or isinstance(value, bool):
        return None  # not in the file, or only known at run time: the caller's default
    if value < 1:
        raise ConvscopeError(
            f"fit({what}=...) must be a positive integer, got {value}", where=where
        )
    return value


FOLDER_NEEDED = "your photos"  # a file that reads a folder: which one, --data says


def dataset_in(text: str) -> str | None:
    """The keras.datasets set the file loads ('mnist', 'cifar10', ...), FOLDER_NEEDED when
    it reads image_dataset_from_directory, else None."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    for module, dataset in (("fashion_mnist", "fashion-mnist"), ("mnist", "mnist"),
                            ("cifar100", "cifar100"), ("cifar10", "cifar10")):  # fmt: skip
        if module in names:
            return dataset
    if "image_dataset_from_directory" in names:
        return FOLDER_NEEDED
    return None


# A file without compile()/fit(): Keras's fit() defaults (batch 32) and a common choice.
DEFAULT_TRAINING = TrainingSpec("mnist", "adam", "sparse_categorical_crossentropy", 32, 5)


def from_source(found: SourceTraining) -> TrainingSpec:
    """A user's file's settings, with DEFAULT_TRAINING where the file says nothing."""
    spec = DEFAULT_TRAINING
    return replace(
        spec,
        dataset=found.dataset or spec.dataset,
        optimizer=found.optimizer or spec.optimizer,
        optimizer_args=found.optimizer_args,
        schedule=found.schedule,
        loss=found.loss or spec.loss,
        from_logits=found.from_logits,
        label_smoothing=found.label_smoothing,
        batch_size=found.batch_size or spec.batch_size,
        epochs=found.epochs or spec.epochs,
    )


def hyperparameters(spec: TrainingSpec) -> dict[str, Hyper]:
    """The optimiser's full Keras 3 arguments: defaults, then the file's, then --lr."""
    values = {**OPTIMIZERS[spec.optimizer], **dict(spec.optimizer_args)}
    if spec.learning_rate is not None:
        values["learning_rate"] = spec.learning_rate
    elif spec.schedule is not None:  # the first step's rate; the optimiser follows the schedule
        values["learning_rate"] = initial_rate(spec.schedule)
    return values


def rate_and_loss_notes(spec: TrainingSpec) -> str:
    """What a run header adds to the optimiser's arguments: a schedule, label smoothing."""
    notes = []
    if spec.schedule is not None and spec.learning_rate is None:
        notes.append(f"learning rate from {describe(spec.schedule)}")
    if spec.label_smoothing:
        notes.append(f"label smoothing {spec.label_smoothing:g}")
    return "".join(f"; {n}" for n in notes)
