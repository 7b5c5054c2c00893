"""A training run's settings: what the model's source says, then what the user overrides.

`Options` is what `convscope train` takes as flags and `convscope.train()` as keyword
arguments, checked once here; `plan_training` merges them over the preset's settings or
the file's compile()/fit() calls into the `Settings` a run directory keeps
(settings.json, owned by `core.rundir`).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from . import presets, training
from . import spec as s
from .augment import NO_AUGMENT, Augment, parse_augment
from .errors import ConvscopeError
from .load import Reading, load_with_source, parse_shape
from .source.read import read_model

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16", "auto")  # auto: bf16 where the hardware has it natively


@dataclass(frozen=True)
class Settings:
    """What settings.json holds; enough to rebuild the run on any machine."""

    model: str
    source: str  # the preset name or the file the user gave
    input_shape: tuple[int, ...]
    training: s.TrainingSpec
    seed: int
    validation_split: float | None
    device: str
    precision: str  # "fp32" or "bf16" (autocast): what the run trained in, auto resolved
    data_dir: str | None = None
    train_images: int | None = None  # only the first N training images (quick experiments)
    augment: Augment = NO_AUGMENT
    pick: str | None = None  # --model NAME: which of the file's models
    classes: int | None = None  # --classes N: a Dense the file sizes at run time
    image_size: tuple[int, int] | None = None  # a folder's photos resized to; None: the model's
    color_mode: str | None = None  # grayscale / rgb / rgba; None: the model's channels
    skip_bad_images: bool = False  # train without a folder's unreadable files

    @property
    def reading(self) -> Reading:
        """How to read the run's model.py again: the same model, the same sizes."""
        return Reading(self.input_shape, self.pick, self.classes)

    def read_model(self, text: str, filename: str) -> s.ModelSpec:
        """The model a run's Keras source builds, read as the run reads it (its input
        shape, --model, --classes), named and trained as these settings say."""
        r = self.reading
        found = read_model(
            text, filename, input_shape=r.input_shape, classes=r.classes, pick=r.pick
        )
        return replace(found.spec, name=self.model, training=self.training)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hyperparameters"] = training.hyperparameters(self.training)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Settings:
        t = d["training"]
        spec = s.TrainingSpec(
            **{
                **t,
                "optimizer_args": tuple((k, v) for k, v in t.get("optimizer_args", ())),
                "schedule": schedule_from_json(t.get("schedule")),
            }
        )
        return cls(
            model=d["model"],
            source=d["source"],
            input_shape=tuple(d["input_shape"]),
            training=spec,
            seed=int(d["seed"]),
            validation_split=d.get("validation_split"),
            device=d["device"],
            precision=d["precision"],
            data_dir=d.get("data_dir"),
            train_images=d.get("train_images"),
            augment=Augment(**d.get("augment", {})),
            pick=d.get("pick"),
            classes=d.get("classes"),
            image_size=tuple(d["image_size"]) if d.get("image_size") else None,
            color_mode=d.get("color_mode"),
            skip_bad_images=bool(d.get("skip_bad_images", False)),
        )


def schedule_from_json(value: Any) -> s.Schedule | None:
    """settings.json's {"name", "args": [[key, value], ...]} -> a Schedule (lists -> tuples)."""
    if value is None:
        return None
    args = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in value["args"])
    return s.Schedule(value["name"], args)


def model_name(target: str) -> str:
    """What runs and reports call a model: the preset's name, else the file's stem."""
    return target if target in presets.PRESETS else Path(target).stem


def random_seed() -> int:
    return random.SystemRandom().randrange(2**31)


# ---- the user's overrides, checked once ----


def positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConvscopeError(f"{name} must be a positive integer, got {value!r}")
    return value


def positive_float(value: Any, name: str) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not (ok and math.isfinite(value) and value > 0):
        raise ConvscopeError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def one_of(value: str, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise ConvscopeError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Options:
    """Training settings the user gives; None keeps the model's own.

    The names are train's options (`--batch-size` is batch_size). Values are checked
    when the object is made, so a bad one fails before any data is read.
    """

    dataset: str | None = None
    epochs: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    batch_size: int | None = None
    validation_split: float | None = None
    train_images: int | None = None
    augment: Augment = field(default=NO_AUGMENT)
    seed: int | None = None
    device: str = "auto"
    precision: str = "fp32"
    data_dir: str | None = None
    input_shape: tuple[int, ...] | None = None
    pick: str | None = None
    classes: int | None = None
    image_size: tuple[int, int] | None = None
    color_mode: str | None = None
    skip_bad_images: bool = False

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "train_images", "classes"):
            if getattr(self, name) is not None:
                positive_int(getattr(self, name), name)
        if self.lr is not None:
            positive_float(self.lr, "lr")
        if self.dataset is not None:
            object.__setattr__(self, "dataset", training.data_path(self.dataset))
        if self.color_mode is not None:
            one_of(self.color_mode, tuple(training.COLOR_MODES), "color_mode")
        if self.image_size is not None:
            size = self.image_size
            if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
                raise ConvscopeError(f"image_size must be (height, width), got {size!r}")
        one_of(self.device, DEVICES, "device")
        one_of(self.precision, PRECISIONS, "precision")
        split = self.validation_split
        if split is not None and not (isinstance(split, int | float) and 0 < split < 1):
            raise ConvscopeError(f"validation_split must be between 0 and 1, got {split!r}")
        seed = self.seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConvscopeError(f"seed must be an integer, got {self.seed!r}")

    @classmethod
    def given(cls, **values: Any) -> Options:
        """From keyword arguments as a user types them: augment and input_shape may be text
        ("shift=2,rotate=10", "28,28,1"), None means "not given"."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConvscopeError(
                f"unknown training option {unknown[0]!r}",
                hint=f"the options are: {', '.join(sorted(known))}",
            )
        values = {k: v for k, v in values.items() if v is not None}
        augment = values.get("augment")
        if isinstance(augment, str):
            values["augment"] = parse_augment(augment, "augment")
        size = values.get("image_size")
        if isinstance(size, str):
            values["image_size"] = parse_shape(size, "--image-size")
        elif size is not None:
            values["image_size"] = tuple(size)
        shape = values.get("input_shape")
        if isinstance(shape, str):
            values["input_shape"] = parse_shape(shape)
        elif shape is not None:
            values["input_shape"] = tuple(shape)
        return cls(**values)


@dataclass(frozen=True)
class Plan:
    """What a training run starts from: its settings, its model, the source it keeps."""

    settings: Settings
    spec: s.ModelSpec
    source_text: str
    notes: tuple[str, ...]  # said before training: defaults taken, settings to reconsider

    def with_dataset(self, dataset: str) -> Plan:
        """The same plan on other data (cs.train's arrays, kept in the run directory)."""
        training = replace(self.settings.training, dataset=dataset)
        return replace(
            self,
            settings=replace(self.settings, training=training),
            spec=replace(self.spec, training=training),
        )


def plan_training(target: str, options: Options) -> Plan:
    """The preset's or file's settings, then the options over them."""
    if target == "-":
        raise ConvscopeError(
            "train keeps the model's source in its run directory: give a file, not -",
            hint="save the code to a .py file first",
        )
    reading = Reading(options.input_shape, options.pick, options.classes)
    source, text = load_with_source(target, reading=reading)
    spec = source.spec
    notes: list[str] = []
    if spec.training is None:  # a user's file: its compile()/fit(), else Keras's defaults
        found = training.read_compile_fit(source, text)
        spec = replace(spec, training=training.from_source(found))
        if not source.compile_args:
            notes.append(
                f"note: {spec.source} has no model.compile(); training with "
                f"{training.DEFAULT_TRAINING.optimizer} and sparse categorical crossentropy "
                "unless --optimizer says otherwise"
            )
    t = spec.training
    assert t is not None
    if options.optimizer:
        name = training.optimizer_name(options.optimizer, "--optimizer")
        t = replace(t, optimizer=name, optimizer_args=(), learning_rate=None, schedule=None)
    t = replace(
        t,
        dataset=options.dataset or t.dataset,
        epochs=options.epochs or t.epochs,
        batch_size=options.batch_size or t.batch_size,
        learning_rate=options.lr or t.learning_rate,
        schedule=None if options.lr else t.schedule,  # --lr: a constant rate
    )
    if t.dataset not in training.DATASETS and not options.dataset:
        raise ConvscopeError(
            f"{spec.source} learns from a folder of photos ({t.dataset}): say which",
            hint="pass --data PATH: one subfolder of images per class (or train/, "
            "validation/ and test/ folders holding them, as Chollet's cats_vs_dogs_small)",
        )
    notes += [f"warning: {w}" for w in training.training_warnings(t)]
    settings = Settings(
        model=model_name(target),
        source=target,
        input_shape=spec.input_shape,
        training=t,
        seed=random_seed() if options.seed is None else options.seed,
        validation_split=options.validation_split,
        device=options.device,
        precision=options.precision,
        data_dir=options.data_dir,
        train_images=options.train_images,
        augment=options.augment,
        pick=options.pick,
        classes=options.classes,
        image_size=options.image_size,
        color_mode=options.color_mode,
        skip_bad_images=options.skip_bad_images,
    )
    return Plan(settings, replace(spec, training=t), text, tuple(notes))
