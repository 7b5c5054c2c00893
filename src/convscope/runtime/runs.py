"""Run directories: everything one training leaves behind, and how to pick it up again.

    runs/<time>-<model>/
      model.py              the Keras source the model was read from (read, never run)
      settings.json         training settings, seed, device, data, versions, command
      weights.safetensors   the latest weights (after the last finished epoch)
      checkpoint.safetensors  weights + optimiser + random generators + position, for --resume
      history.json / .csv   per-epoch loss, accuracy, validation metrics, seconds
      metrics.json          test-set results: loss, accuracy, per class, confusion matrix
      figures/*.png         written by `convscope show` (present.figures)
      experiments/          probe.json/.png, occlusion-<image>.json/.png (`convscope experiment`)
      report.html           written by `convscope report` (present.report)

Every file is written atomically (temporary file, then rename), so Ctrl-C or a crash
leaves the previous complete version. Weights are safetensors: no pickle to load.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import random
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes

from .. import __version__
from ..core import spec as s
from ..core.augment import NO_AUGMENT, Augment
from ..core.errors import ConvscopeError
from ..core.keras_source import read_model
from ..core.training import hyperparameters
from . import data
from .files import atomic_write, write_json, write_text
from .images import prepare
from .metrics import TestReport, test_report
from .torch_model import KerasModel
from .train import (
    Evaluation,
    Observer,
    Position,
    Split,
    StopFlag,
    Trainer,
    check_output,
    evaluate,
    loss_fn,
    pixels,
    resolve_device,
    to_split,
    validation_split,
)

SETTINGS, MODEL, WEIGHTS, CHECKPOINT = (
    "settings.json",
    "model.py",
    "weights.safetensors",
    "checkpoint.safetensors",
)
EXPERIMENTS = "experiments"  # the run's own experiments: probes, occlusion maps
HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def versions() -> dict[str, str]:
    return {
        "convscope": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "threads": str(torch.get_num_threads()),
    }


def new_run_dir(root: Path, model_name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in model_name)
    for n in range(1, 1000):
        path = root / (f"{stamp}-{safe}" if n == 1 else f"{stamp}-{safe}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise ConvscopeError(f"cannot create a run directory in {root}")


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    # safetensors wants contiguous CPU tensors that share no memory.
    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    atomic_write(path, safetensors_bytes(plain, metadata={"convscope": json.dumps(meta)}))


def load_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get("convscope", "{}"))
            return {k: f.get_tensor(k) for k in f.keys()}, meta  # noqa: SIM118
    except (OSError, ValueError, SafetensorError) as error:  # JSONDecodeError is a ValueError
        raise ConvscopeError(f"{path}: not a readable safetensors file ({error})") from None


def history_csv(history: list[dict[str, float]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, HISTORY_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


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
    precision: str  # "fp32" or "bf16" (autocast)
    data_dir: str | None = None
    train_images: int | None = None  # only the first N training images (quick experiments)
    augment: Augment = NO_AUGMENT

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hyperparameters"] = hyperparameters(self.training)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Settings:
        t = d["training"]
        training = s.TrainingSpec(
            **{
                **t,
                "optimizer_args": tuple((k, v) for k, v in t.get("optimizer_args", ())),
            }
        )
        return cls(
            model=d["model"],
            source=d["source"],
            input_shape=tuple(d["input_shape"]),
            training=training,
            seed=int(d["seed"]),
            validation_split=d.get("validation_split"),
            device=d["device"],
            precision=d["precision"],
            data_dir=d.get("data_dir"),
            train_images=d.get("train_images"),
            augment=Augment(**d.get("augment", {})),
        )


def read_settings(run_dir: Path) -> Settings:
    path = run_dir / SETTINGS
    if not run_dir.is_dir():
        raise ConvscopeError(f"{run_dir} is not a run directory (no such folder)")
    try:
        return Settings.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ConvscopeError(
            f"{run_dir} is not a run directory: it has no {SETTINGS}",
            hint="give a folder that `convscope train` made, e.g. runs/<time>-<model>",
        ) from None
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ConvscopeError(f"{path}: unreadable settings ({error})") from None


def model_spec(run_dir: Path, settings: Settings) -> s.ModelSpec:
    """The run's model, re-read from its saved Keras source."""
    text = (run_dir / MODEL).read_text(encoding="utf-8")
    spec = read_model(text, str(run_dir / MODEL), input_shape=settings.input_shape).spec
    return replace(spec, name=settings.model, training=settings.training)


@dataclass
class DataSplits:
    dataset: data.Dataset
    train: Split
    validation: Split
    test: Split
    validation_name: str  # "the test set" or "the last 10% of the training set"


def prepare_data(
    spec: s.ModelSpec, settings: Settings, device: torch.device, stream: Any = None
) -> DataSplits:
    dataset = data.load(settings.training.dataset, settings.data_dir, stream=stream)
    train = to_split(dataset.train_images, dataset.train_labels, spec, device)
    test = to_split(dataset.test_images, dataset.test_labels, spec, device)
    if settings.train_images:
        n = settings.train_images
        train = Split(train.x[:n], train.y[:n])
    if settings.validation_split:
        train, validation = validation_split(train, settings.validation_split)
    else:
        validation = test
    return DataSplits(dataset, train, validation, test, validation_name(settings))


def validation_name(settings: Settings) -> str:
    """What the run validates on, as the progress line, curves and report name it."""
    if settings.validation_split:
        return f"the last {settings.validation_split:.0%} of the training images"
    return "the test set"


@dataclass
class Run:
    """A run directory with its live trainer: made by `start` or `resume`."""

    dir: Path
    settings: Settings
    trainer: Trainer
    data: DataSplits
    resumed_from: Position | None = None

    def save_epoch(self) -> None:
        """After each finished epoch: weights, checkpoint, history."""
        self.save_checkpoint()
        save_tensors(
            self.dir / WEIGHTS,
            self.trainer.model.state_dict(),
            {"epoch": self.trainer.position.epoch},
        )
        history = self.trainer.position.history
        write_json(self.dir / "history.json", history)
        write_text(self.dir / "history.csv", history_csv(history))

    def save_checkpoint(self) -> None:
        save_tensors(
            self.dir / CHECKPOINT,
            self.trainer.state_tensors(),
            {"position": self.trainer.position.as_dict()},
        )

    def fit(self, observer: Observer, stop: StopFlag) -> bool:
        """Train to the end (True) or until stopped, then checkpointed (False)."""
        done = self.trainer.fit(observer, stop, on_epoch=self.save_epoch)
        if not done:
            self.save_checkpoint()
        return done

    def test(self) -> Evaluation:
        loss = loss_fn(self.trainer.model, self.settings.training)
        return evaluate(self.trainer.model, self.data.test, loss)


def random_seed() -> int:
    return random.SystemRandom().randrange(2**31)


def start(
    spec: s.ModelSpec,
    source_text: str,
    settings: Settings,
    runs_root: Path,
    *,
    stream: Any = None,
    run_dir: Path | None = None,
) -> Run:
    """A new run: check the model against the data, then write its directory.

    The directory is runs_root/<time>-<model>, or `run_dir` as given (an experiment's).
    """
    settings = replace(settings, device=resolve_device(settings.device).type)
    trainer, splits = build(spec, settings, stream)
    if run_dir is None:
        run_dir = new_run_dir(runs_root, settings.model)
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
    write_text(run_dir / MODEL, source_text)
    write_json(
        run_dir / SETTINGS,
        {**settings.as_dict(), "versions": versions(), "command": sys.argv[1:]},
    )
    return Run(run_dir, settings, trainer, splits)


def build(spec: s.ModelSpec, settings: Settings, stream: Any) -> tuple[Trainer, DataSplits]:
    """The data on the device and a trainer whose model fits it (or a clear error)."""
    splits = prepare_data(spec, settings, resolve_device(settings.device), stream)
    trainer = Trainer.create(
        spec,
        settings.training,
        splits.train,
        splits.validation,
        seed=settings.seed,
        bf16=settings.precision == "bf16",
        augment=settings.augment,
    )
    check_output(trainer.model, len(splits.dataset.info.class_names))
    return trainer, splits


def resume(run_dir: Path, *, epochs: int | None = None, stream: Any = None) -> Run:
    """Rebuild a run from its directory and its checkpoint, to continue where it stopped."""
    settings = read_settings(run_dir)
    if epochs is not None:
        settings = replace(settings, training=replace(settings.training, epochs=epochs))
    if not (run_dir / CHECKPOINT).exists():
        raise ConvscopeError(
            f"{run_dir} has no {CHECKPOINT} to resume from",
            hint="it stopped before its first checkpoint; start it again with convscope train",
        )
    tensors, meta = load_tensors(run_dir / CHECKPOINT)
    position = Position(**meta["position"])
    if position.epoch >= settings.training.epochs and position.step == 0:
        raise ConvscopeError(
            f"{run_dir} has already trained {position.epoch} of {settings.training.epochs} epochs",
            hint=f"to train further, pass --epochs {position.epoch + 5} (the new total)",
        )
    trainer, splits = build(model_spec(run_dir, settings), settings, stream)
    trainer.load_state_tensors(tensors, position)
    if epochs is not None:
        write_json(run_dir / SETTINGS, {**_raw_settings(run_dir), **settings.as_dict()})
    return Run(run_dir, settings, trainer, splits, resumed_from=position)


def _raw_settings(run_dir: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((run_dir / SETTINGS).read_text())
    return result


def load_trained(run_dir: Path, device: str = "cpu") -> tuple[Settings, KerasModel, int]:
    """The run's model with its latest weights, in inference mode; and the epochs behind them."""
    settings = read_settings(run_dir)
    spec = model_spec(run_dir, settings)
    model = KerasModel(spec).to(resolve_device(device))
    path = run_dir / WEIGHTS
    if not path.exists():
        raise ConvscopeError(
            f"{run_dir} has no {WEIGHTS} yet: it stopped before finishing its first epoch",
            hint=f"resume it: convscope train --resume {run_dir}",
        )
    tensors, meta = load_tensors(path)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as error:  # missing, extra or reshaped weights
        first = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
        raise ConvscopeError(
            f"{path}: these weights do not belong to the run's model.py ({first})"
        ) from None
    model.eval()
    return settings, model, int(meta.get("epoch", 0))


def score(settings: Settings, dataset: data.Dataset, result: Evaluation) -> TestReport:
    """Per-class results and the confusion matrix of a test-set evaluation."""
    return test_report(
        settings.training.dataset,
        dataset.info.class_names,
        dataset.test_labels,
        result.predictions.numpy(),
        result.loss,
    )


def write_test_report(
    run_dir: Path, settings: Settings, dataset: data.Dataset, result: Evaluation
) -> TestReport:
    report = score(settings, dataset, result)
    write_json(run_dir / "metrics.json", report.as_dict())
    return report


def test_evaluation(model: KerasModel, settings: Settings, dataset: data.Dataset) -> Evaluation:
    """Predictions and probabilities for every test image, in inference mode."""
    device = next(model.parameters()).device
    test = to_split(dataset.test_images, dataset.test_labels, model.spec, device)
    return evaluate(model, test, loss_fn(model, settings.training))


def evaluate_run(
    run_dir: Path, data_dir: str | None = None, stream: Any = None
) -> tuple[TestReport, int]:
    """Test-set results of the run's latest weights; also written to metrics.json."""
    settings, model, epochs = load_trained(run_dir)
    if data_dir:
        settings = replace(settings, data_dir=data_dir)
    dataset = data.load(settings.training.dataset, settings.data_dir, stream=stream)
    result = test_evaluation(model, settings, dataset)
    return write_test_report(run_dir, settings, dataset, result), epochs


@dataclass(frozen=True)
class Prediction:
    label: int
    class_names: tuple[str, ...]
    probabilities: tuple[float, ...]
    steps: tuple[str, ...]  # how the image was prepared, in order


@torch.no_grad()
def predict_image(run_dir: Path, image: Path) -> Prediction:
    settings, model, _ = load_trained(run_dir)
    dataset = settings.training.dataset
    prepared, steps = prepare(image, dataset)  # (28, 28) uint8
    x = pixels(prepared[None], model.spec, torch.device("cpu"))  # (1, 1, 28, 28)
    if not isinstance(model.spec.layers[0], s.Rescaling):
        steps.append("pixel values divided by 255, as in training")
    logits = model.logits_nchw(x)[0]  # (classes,)
    probabilities = torch.softmax(logits, -1) if model.softmax_output else logits
    names = data.dataset_info(dataset).class_names
    return Prediction(
        label=int(probabilities.argmax()),
        class_names=names,
        probabilities=tuple(float(p) for p in probabilities),
        steps=tuple(steps),
    )
