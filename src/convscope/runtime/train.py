"""Training and evaluation with Keras's fit() semantics, fast on a CPU.

What Keras users expect, kept: shuffling every epoch, `validation_split` taking the
last fraction of the training set, running means of loss and accuracy per epoch,
Dropout/BatchNormalization in training mode only while fitting. What makes it fast:
the whole data set is one float tensor on the device (no DataLoader, no per-sample
Python), batches are gathered by index, the model runs in channels_last, and the loss
comes from logits (the final softmax is left out of the graph).

A run can stop after any batch (Ctrl-C) and continue bit for bit: the checkpoint holds
the weights, the optimiser state, both random generators, the epoch's order and the
position in it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor

from ..core import spec as s
from ..core.augment import NO_AUGMENT, Augment
from ..core.errors import ConvscopeError, Diverged
from ..core.training import hyperparameters
from .allocator import MMAP_THRESHOLD, keep_freed_memory
from .augment import augment_batch
from .heads import head_classes, head_probabilities, loss_fn
from .nn.model import KerasModel
from .optim import KerasOptimizer, make_optimizer
from .splits import Split

EVAL_BATCH = 1000  # inference batch: larger than training's, the results are the same
EVAL_BYTES = MMAP_THRESHOLD * 3 // 4  # but no layer's output for one batch past this


def eval_batch(model: KerasModel) -> int:
    """Images per inference batch: EVAL_BATCH at most, fewer where one layer's output
    would pass EVAL_BYTES (chollet: 581; a 178 x 178 x 32 map is 4 MB an image: 12).

    Below malloc's mmap threshold (with keep_freed_memory) each batch's maps reuse the
    last batch's memory instead of page-faulting fresh mmap()s in: measured here,
    inference at 1,000 chollet images a batch (87 MB maps) took 1.4-1.9x as long as at
    500, and chollet-cats-dogs at 66 photos (260 MB) 2x as long as at 16."""
    largest = max(math.prod(shape) for shape in model.shapes) * 4  # bytes per image
    return max(1, min(EVAL_BATCH, EVAL_BYTES // largest))


class Observer(Protocol):
    """What a progress display is told; every method is optional work for it."""

    def epoch_begin(self, epoch: int, epochs: int, steps: int) -> None: ...
    def batch_end(self, step: int, logs: dict[str, float]) -> None: ...
    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None: ...


class Silent:
    def epoch_begin(self, epoch: int, epochs: int, steps: int) -> None:
        pass

    def batch_end(self, step: int, logs: dict[str, float]) -> None:
        pass

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        pass


def resolve_device(choice: str) -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cuda' without a GPU is the user's error."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConvscopeError(
            "--device cuda: this PyTorch sees no CUDA GPU",
            hint=f"torch {torch.__version__}; use --device cpu or auto",
        )
    if choice not in ("cpu", "cuda"):
        raise ConvscopeError(f"--device must be auto, cpu or cuda, got {choice!r}")
    return torch.device(choice)


@dataclass(frozen=True)
class Evaluation:
    loss: float
    accuracy: float
    predictions: Tensor  # (N,) predicted class per image, on the CPU
    probabilities: Tensor  # (N, classes) on the CPU


@torch.no_grad()
def evaluate(
    model: KerasModel,
    data: Split,
    loss: Callable[[Tensor, Tensor], Tensor],
    *,
    autocast: bool = False,
) -> Evaluation:
    """Inference mode (Dropout off, BN moving statistics), loss and accuracy over all of it."""
    keep_freed_memory()  # see eval_batch
    model.eval()
    total, outputs = 0.0, []
    batch = eval_batch(model)
    for start in range(0, len(data), batch):
        x, y = data.x[start : start + batch], data.y[start : start + batch]
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=autocast):
            out = model.logits_nchw(x).float()  # (B, classes), or (B, 1) for one sigmoid
        total += float(loss(out, y)) * len(y)
        outputs.append(out)
    scores = torch.cat(outputs)  # (N, classes)
    probabilities, predictions = head_probabilities(model, scores), head_classes(model, scores)
    accuracy = float((predictions == data.y).float().mean())
    return Evaluation(total / len(data), accuracy, predictions.cpu(), probabilities.cpu())


@dataclass
class Position:
    """Where training stands: finished epochs, and batches done in the current one."""

    epoch: int = 0
    step: int = 0
    loss_sum: float = 0.0  # over the samples seen this epoch
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0  # spent on this epoch so far
    history: list[dict[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class StopFlag:
    """Set from a signal handler; read after each batch."""

    def __init__(self) -> None:
        self.requested = False

    def request(self) -> None:
        self.requested = True


@dataclass
class Trainer:
    """One training run's live objects. `fit` runs it from `position` to `epochs`."""

    model: KerasModel
    optimizer: KerasOptimizer
    training: s.TrainingSpec
    train: Split
    validation: Split
    seed: int
    bf16: bool = False
    augment: Augment = NO_AUGMENT
    position: Position = field(default_factory=Position)
    shuffle: torch.Generator = field(default_factory=torch.Generator)
    augment_rng: torch.Generator = field(default_factory=torch.Generator)
    order: Tensor | None = None  # this epoch's permutation of the training samples
    # the validation set's results for the weights as they are (the end of the last epoch,
    # in fp32): the test score when the test set is the validation set, not computed twice
    validated: Evaluation | None = None

    @classmethod
    def create(
        cls,
        model_spec: s.ModelSpec,
        training: s.TrainingSpec,
        train: Split,
        validation: Split,
        *,
        seed: int,
        bf16: bool = False,
        augment: Augment = NO_AUGMENT,
    ) -> Trainer:
        keep_freed_memory()  # 40% of a CPU step was page faults without it
        torch.manual_seed(seed)  # initial weights and dropout masks
        device = train.x.device
        model = KerasModel(model_spec).to(device)
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        optimizer = make_optimizer(
            training.optimizer, model.parameters(), hyperparameters(training), training.schedule
        )
        shuffle = torch.Generator().manual_seed(seed)
        augment_rng = torch.Generator().manual_seed(seed + 1)  # independent of the order
        return cls(
            model,
            optimizer,
            training,
            train,
            validation,
            seed,
            bf16,
            augment,
            shuffle=shuffle,
            augment_rng=augment_rng,
        )

    @property
    def steps(self) -> int:
        return math.ceil(len(self.train) / self.training.batch_size)

    def fit(self, observer: Observer, stop: StopFlag, *, on_epoch: Callable[[], None]) -> bool:
        """Train to `training.epochs`; False when stopped early (the position says where)."""
        loss = loss_fn(self.model, self.training)
        device_sync = 1 if self.train.x.device.type == "cpu" else 50  # .item() waits on a GPU
        while self.position.epoch < self.training.epochs:
            pos = self.position
            if pos.step == 0 or self.order is None:
                self.order = torch.randperm(len(self.train), generator=self.shuffle)
                pos.loss_sum, pos.correct, pos.seen, pos.seconds = 0.0, 0, 0, 0.0
            observer.epoch_begin(pos.epoch, self.training.epochs, self.steps)
            self.validated = None  # the weights are about to change
            self.model.train()
            started = time.perf_counter() - pos.seconds
            loss_sum = torch.zeros((), device=self.train.x.device, dtype=torch.float64)
            correct = torch.zeros((), device=self.train.x.device, dtype=torch.int64)
            bs = self.training.batch_size
            for step in range(pos.step, self.steps):
                idx = self.order[step * bs : (step + 1) * bs].to(self.train.x.device)
                x, y = self.train.x[idx], self.train.y[idx]  # (B, C, H, W), (B,)
                if self.augment:
                    x = augment_batch(x, self.augment, self.augment_rng)  # (B, C, H, W)
                batch_loss, batch_correct = self.train_step(x, y, loss)
                loss_sum += batch_loss * len(y)
                correct += batch_correct
                pos.seen += len(y)
                pos.step = step + 1
                stopping = stop.requested  # read once: a signal may set it at any moment
                if pos.step % device_sync == 0 or pos.step == self.steps or stopping:
                    pos.loss_sum += float(loss_sum)
                    pos.correct += int(correct)
                    loss_sum.zero_()
                    correct.zero_()
                    if not math.isfinite(pos.loss_sum):
                        raise Diverged(self.divergence_message())
                    pos.seconds = time.perf_counter() - started
                    observer.batch_end(pos.step, self.running_logs())
                if stopping and pos.step < self.steps:
                    return False
            logs = self.running_logs()
            del logs["seconds_left"]
            val = evaluate(self.model, self.validation, loss, autocast=self.bf16)
            self.validated = None if self.bf16 else val
            logs |= {"val_loss": val.loss, "val_accuracy": val.accuracy}
            logs["seconds"] = time.perf_counter() - started
            pos.history.append({"epoch": pos.epoch + 1, **logs})
            observer.epoch_end(pos.epoch, logs)
            pos.epoch, pos.step = pos.epoch + 1, 0
            on_epoch()
            if stop.requested:
                return pos.epoch >= self.training.epochs
        return True

    def train_step(
        self, x: Tensor, y: Tensor, loss: Callable[[Tensor, Tensor], Tensor]
    ) -> tuple[Tensor, Tensor]:
        """One batch forward, backward and update; (mean loss, correct count), unsynced."""
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            logits = self.model.logits_nchw(x)  # (B, classes)
        batch_loss = loss(logits.float(), y)  # the loss in fp32 under bf16 too
        self.optimizer.zero_grad()
        batch_loss.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        return batch_loss.detach(), (head_classes(self.model, logits.detach()) == y).sum()

    def running_logs(self) -> dict[str, float]:
        pos = self.position
        seen = max(pos.seen, 1)
        elapsed = max(pos.seconds, 1e-9)
        return {
            "loss": pos.loss_sum / seen,
            "accuracy": pos.correct / seen,
            "samples_per_second": pos.seen / elapsed,
            "seconds_left": (self.steps - pos.step) * elapsed / max(pos.step, 1)
            if pos.step
            else 0.0,
        }

    def divergence_message(self) -> str:
        pos, lr = self.position, self.optimizer.lr
        return (
            f"the loss became NaN or infinite in epoch {pos.epoch + 1}, batch {pos.step}: "
            f"the learning rate ({lr:g} for {self.training.optimizer}) is most likely too high "
            "for this model; training stopped, and the checkpoint of the last finished epoch "
            "is kept"
        )

    # ---- checkpoint: everything needed to continue exactly ----

    def state_tensors(self) -> dict[str, Tensor]:
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        tensors |= self.optimizer.state_tensors()
        tensors["rng.torch"] = torch.get_rng_state()
        tensors["rng.shuffle"] = self.shuffle.get_state()
        tensors["rng.augment"] = self.augment_rng.get_state()
        if self.order is not None and self.position.step:
            tensors["epoch.order"] = self.order
        if self.train.x.device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state()
        return tensors

    def load_state_tensors(self, tensors: dict[str, Tensor], position: Position) -> None:
        model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
        self.model.load_state_dict(model_state)
        self.optimizer.load_state_tensors(tensors)
        torch.set_rng_state(tensors["rng.torch"])
        self.shuffle.set_state(tensors["rng.shuffle"])
        if "rng.augment" in tensors:  # checkpoints from before augmentation existed
            self.augment_rng.set_state(tensors["rng.augment"])
        if "rng.cuda" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors["rng.cuda"])
        self.order = tensors.get("epoch.order")
        self.position = position
