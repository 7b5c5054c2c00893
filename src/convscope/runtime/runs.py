"""Training runs: start one in a new run directory, resume it, load its weights, score it.

The directory's layout and its plain files (settings, history, metrics) belong to
`core.rundir`; this module adds what needs torch: the weights and the checkpoint
(safetensors: no pickle to load), the data on the device, the trainer.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes

from .. import __version__
from ..core import spec as s
from ..core.errors import ConvscopeError
from ..core.files import atomic_write
from ..core.rundir import RunDir, new_run_dir
from ..core.settings import Settings
from ..core.training import data_kind
from . import data
from .arrays import save_npz
from .heads import check_output, is_binary, loss_fn
from .keras.pretrained import load_pretrained
from .metrics import TestReport, test_report
from .nn.model import KerasModel
from .precision import resolve_precision
from .sources import load_for, numbered_to
from .splits import Split, to_split, validation_split
from .threads import choose_threads
from .train import Evaluation, Observer, Position, StopFlag, Trainer, evaluate, resolve_device


def versions() -> dict[str, str]:
    return {
        "convscope": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "threads": str(torch.get_num_threads()),
    }


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


@dataclass
class DataSplits:
    dataset: data.Dataset
    train: Split
    validation: Split
    test: Split
    validation_name: str  # "the test set" or "the last 10% of the training set"


def prepare_data(
    spec: s.ModelSpec,
    settings: Settings,
    device: torch.device,
    stream: Any = None,
    run_dir: Path | None = None,
    given: data.Dataset | None = None,
) -> DataSplits:
    """The run's data on the device: `given` (arrays in memory), else as settings say."""
    dataset = given or load_for(settings, run_dir, stream=stream)
    x, y = dataset.train_images, dataset.train_labels
    if settings.train_images:  # cut before it is made float
        x, y = x[: settings.train_images], y[: settings.train_images]
    train = to_split(x, y, spec, device, dataset.scale)
    test = to_split(dataset.test_images, dataset.test_labels, spec, device, dataset.scale)
    if dataset.validation is not None and dataset.validation[0] is dataset.test_images:
        validation = test  # a folder split in two: its validation part is also tested
    elif dataset.validation is not None:  # a folder's own validation/ images
        validation = to_split(*dataset.validation, spec, device, dataset.scale)
    elif settings.validation_split:
        train, validation = validation_split(train, settings.validation_split)
    else:
        validation = test
    named = dataset.validation_name or validation_name(settings)
    return DataSplits(dataset, train, validation, test, named)


def validation_name(settings: Settings) -> str:
    """What the run validates on, as the progress line, curves and report name it."""
    if data_kind(settings.training.dataset) == "folder":
        return "the folder's validation images"
    if settings.validation_split:
        return f"the last {settings.validation_split:.0%} of the training images"
    return "the test set"


@dataclass
class Run:
    """A run directory with its live trainer: made by `start` or `resume`."""

    files: RunDir
    settings: Settings
    trainer: Trainer
    data: DataSplits
    resumed_from: Position | None = None

    @property
    def dir(self) -> Path:
        return self.files.path

    def save_epoch(self) -> None:
        """After each finished epoch: weights, checkpoint, history."""
        self.save_checkpoint()
        save_tensors(
            self.files.weights,
            self.trainer.model.state_dict(),
            {"epoch": self.trainer.position.epoch},
        )
        self.files.write_history(self.trainer.position.history)

    def save_checkpoint(self) -> None:
        try:
            save_tensors(
                self.files.checkpoint,
                self.trainer.state_tensors(),
                {"position": self.trainer.position.as_dict()},
            )
        except ConvscopeError as error:  # a full disk: the last checkpoint is still there
            raise ConvscopeError(
                error.message,
                hint=f"free some space, then continue from the last saved checkpoint: "
                f"convscope train --resume {self.dir}",
            ) from None

    def fit(
        self, observer: Observer, stop: StopFlag, after_epoch: Callable[[], None] | None = None
    ) -> bool:
        """Train to the end (True) or until stopped, then checkpointed (False);
        `after_epoch` runs once each epoch's files are written."""

        def on_epoch() -> None:
            self.save_epoch()
            if after_epoch is not None:
                after_epoch()

        done = self.trainer.fit(observer, stop, on_epoch=on_epoch)
        if not done:
            self.save_checkpoint()
        return done

    def test(self) -> Evaluation:
        """The test set in inference mode: the last epoch's validation when that was it."""
        if self.trainer.validated is not None and self.trainer.validation is self.data.test:
            return self.trainer.validated
        loss = loss_fn(self.trainer.model, self.settings.training)
        return evaluate(self.trainer.model, self.data.test, loss)

    def score(self) -> TestReport:
        """The test set's results after training, also written to metrics.json."""
        return write_test_report(self.files, self.data.dataset, self.test())


def start(
    spec: s.ModelSpec,
    source_text: str,
    settings: Settings,
    runs_root: Path,
    *,
    stream: Any = None,
    run_dir: Path | None = None,
    given: data.Dataset | None = None,
) -> Run:
    """A new run: check the model against the data, then write its directory.

    The directory is runs_root/<time>-<model>, or `run_dir` as given (an experiment's).
    `given`: arrays in memory (cs.train(model, x, y)), kept in the directory (RunDir.arrays).
    """
    device = resolve_device(settings.device)
    precision, note = resolve_precision(settings.precision, device)
    busy = choose_threads() if device.type == "cpu" else None
    for said in (note, busy):
        if said and stream is not None:
            stream.write(f"convscope: {said}\n")
    settings = replace(settings, device=device.type, precision=precision)
    trainer, splits = build(spec, settings, stream, given=given)
    for file in load_pretrained(trainer.model):  # keras.applications' weights="imagenet"
        if stream is not None:
            stream.write(f"Starting from {file} (Keras's cache)\n")
    if run_dir is None:
        run = new_run_dir(runs_root, settings.model)
    else:
        run = RunDir(run_dir)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConvscopeError(f"cannot create {run_dir} ({error.strerror or error})") from None
    extra = {"versions": versions(), "command": sys.argv[1:]}
    skipped = splits.dataset.skipped
    if skipped:  # --skip-bad-images: which files, and why
        extra["skipped_images"] = list(skipped)
        if stream is not None:
            more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
            stream.write(
                f"convscope: left out {len(skipped)} files that are not readable images "
                f"(--skip-bad-images; settings.json lists them): {skipped[0]}{more}\n"
            )
    run.write_start(source_text, settings, extra)
    if given is not None:
        x_train, y_train, x_test, y_test = (given.train_images, given.train_labels,
                                            given.test_images, given.test_labels)  # fmt: skip
        save_npz(run.arrays, (x_train, y_train, x_test, y_test), given.info.class_names)
    return Run(run, settings, trainer, splits)


def build(
    spec: s.ModelSpec,
    settings: Settings,
    stream: Any,
    run_dir: Path | None = None,
    given: data.Dataset | None = None,
) -> tuple[Trainer, DataSplits]:
    """The data on the device and a trainer whose model fits it (or a clear error)."""
    device = resolve_device(settings.device)
    splits = prepare_data(spec, settings, device, stream, run_dir, given)
    trainer = Trainer.create(
        spec,
        settings.training,
        splits.train,
        splits.validation,
        seed=settings.seed,
        bf16=settings.precision == "bf16",
        augment=settings.augment,
    )
    out = trainer.model.shapes[-1]
    splits.dataset = numbered_to(splits.dataset, 2 if is_binary(trainer.model) else out[-1])
    check_output(trainer.model, len(splits.dataset.info.class_names), settings.training)
    return trainer, splits


def resume(run_dir: Path, *, epochs: int | None = None, stream: Any = None) -> Run:
    """Rebuild a run from its directory and its checkpoint, to continue where it stopped."""
    run = RunDir(run_dir)
    settings = run.settings()
    if epochs is not None:
        settings = replace(settings, training=replace(settings.training, epochs=epochs))
    if not run.checkpoint.exists():
        raise ConvscopeError(
            f"{run_dir} has no {run.checkpoint.name} to resume from",
            hint="it stopped before its first checkpoint; start it again with convscope train",
        )
    run.remove_temporaries()
    tensors, meta = load_tensors(run.checkpoint)
    try:
        position = Position(**meta["position"])
    except (KeyError, TypeError) as error:
        raise ConvscopeError(
            f"{run.checkpoint}: the checkpoint does not say where training stopped ({error})",
            hint=f"{run.weights.name} still holds the last finished epoch's weights",
        ) from None
    if position.epoch >= settings.training.epochs and position.step == 0:
        raise ConvscopeError(
            f"{run_dir} has already trained {position.epoch} of {settings.training.epochs} epochs",
            hint=f"to train further, pass --epochs {position.epoch + 5} (the new total)",
        )
    model = settings.read_model(run.source(), str(run.model_py))
    trainer, splits = build(model, settings, stream, run.path)
    check_fit(trainer.model, tensors, run.checkpoint, prefix="model.")
    trainer.load_state_tensors(tensors, position)
    if epochs is not None:
        run.update_settings(settings)
    return Run(run, settings, trainer, splits, resumed_from=position)


def check_fit(
    model: KerasModel, tensors: dict[str, torch.Tensor], path: Path, prefix: str = ""
) -> None:
    """A clear error naming the layer when saved weights do not fit the run's model.py
    (it was edited after training), before torch's own message about state dict keys."""
    wanted = model.state_dict()
    for key, value in wanted.items():
        saved = tensors.get(prefix + key)
        if saved is not None and saved.shape == value.shape:
            continue
        layer = model.spec.layers[int(key.split(".")[1])]  # keys are layers.<index>.<...>
        line = f", line {layer.line}" if layer.line else ""
        got = "nothing" if saved is None else f"an array of {tuple(saved.shape)}"
        raise ConvscopeError(
            f"{path}: the weights do not fit model.py's {layer.name} ({layer.keras_class}"
            f"{line}): the file holds {got} for it, the layer needs {tuple(value.shape)}",
            hint="model.py was changed after training: put back the version the run was "
            "trained with",
        )
    extra = [k for k in tensors if k.startswith(prefix) and k[len(prefix) :] not in wanted]
    if extra:
        raise ConvscopeError(
            f"{path}: the file holds weights for {len(extra)} arrays model.py has no layer "
            f"for (first: {extra[0]})",
            hint="model.py was changed after training: put back the version the run was "
            "trained with",
        )


def load_trained(run_dir: Path, device: str = "cpu") -> tuple[Settings, KerasModel, int]:
    """The run's model with its latest weights, in inference mode; and the epochs behind them."""
    run = RunDir(run_dir)
    settings = run.settings()
    spec = settings.read_model(run.source(), str(run.model_py))
    model = KerasModel(spec).to(resolve_device(device))
    path = run.weights
    if not path.exists():
        raise ConvscopeError(
            f"{run_dir} has no {path.name} yet: it stopped before finishing its first epoch",
            hint=f"resume it: convscope train --resume {run_dir}",
        )
    tensors, meta = load_tensors(path)
    check_fit(model, tensors, path)
    model.load_state_dict(tensors)
    model.eval()
    return settings, model, int(meta.get("epoch", 0))


def score(dataset: data.Dataset, result: Evaluation) -> TestReport:
    """Per-class results and the confusion matrix of a test-set evaluation."""
    names = numbered_to(dataset, result.probabilities.shape[-1]).info.class_names
    return test_report(
        dataset.info.name,
        names,
        dataset.test_labels,
        result.predictions.numpy(),
        result.loss,
    )


def write_test_report(run: RunDir, dataset: data.Dataset, result: Evaluation) -> TestReport:
    """The test results, also saved as the run's metrics."""
    report = score(dataset, result)
    run.write_metrics(report.as_dict())
    return report


def test_evaluation(
    model: KerasModel, training: s.TrainingSpec, dataset: data.Dataset
) -> Evaluation:
    """Predictions and probabilities for every test image, in inference mode."""
    device = next(model.parameters()).device
    test = to_split(dataset.test_images, dataset.test_labels, model.spec, device, dataset.scale)
    return evaluate(model, test, loss_fn(model, training))


def evaluate_run(
    run_dir: Path, data_dir: str | None = None, stream: Any = None
) -> tuple[TestReport, int]:
    """Test-set results of the run's latest weights, also saved as its metrics."""
    settings, model, epochs = load_trained(run_dir)
    if data_dir:
        settings = replace(settings, data_dir=data_dir)
    dataset = load_for(settings, Path(run_dir), stream=stream)
    result = test_evaluation(model, settings.training, dataset)
    return write_test_report(RunDir(run_dir), dataset, result), epochs
