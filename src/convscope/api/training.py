"""`convscope.train` and `convscope.resume`: a training run, as the CLI's `train` does it.

    run = cs.train("chollet", epochs=1, seed=1, train_images=2000)
    run.test_accuracy, run.history, run.path

Progress is a notebook bar in Jupyter, Keras's bar on a terminal, nothing with
quiet=True. The first Ctrl-C (or Jupyter's interrupt) stops after the batch and keeps a
checkpoint: `Stopped` is raised, and `cs.resume(path)` goes on from there.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from ..core.errors import ConvscopeError, Diverged
from ..core.rundir import ARRAYS, HISTORY_FIELDS, RUNS_ROOT, RunDir, training_seconds
from ..core.settings import Options, Settings, plan_training
from ..present import html
from ..present.progress import KerasProgress, NotebookProgress, duration, in_notebook
from ..present.results import run_header
from ..runtime import runs
from ..runtime.train import Observer, Silent, StopFlag
from .results import TestResults, plural
from .shown import Shown

__all__ = ["Diverged", "Run", "Stopped", "resume", "train"]


class Stopped(KeyboardInterrupt):
    """Training was interrupted; the run kept its checkpoint and can be resumed."""

    def __init__(self, run_dir: Path, message: str, outcome: Any = None) -> None:
        super().__init__(message)
        self.run_dir = run_dir
        self.message = message
        self.outcome = outcome  # what was finished, for an experiment: its partial results

    def __str__(self) -> str:
        return self.message


@contextlib.contextmanager
def first_interrupt_stops(stop: StopFlag, err: TextIO) -> Iterator[None]:
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


def default_stream() -> TextIO:
    """Where progress and notes go: stderr on a terminal; stdout in Jupyter, which shows
    stderr in red, as if something had gone wrong."""
    return sys.stdout if in_notebook() else sys.stderr


def observer(quiet: bool, stream: TextIO) -> Observer:
    if quiet:
        return Silent()
    return NotebookProgress() if in_notebook() else KerasProgress(stream)


def trial_lines(quiet: bool, err: TextIO) -> Callable[[int, int, Any, Any], Observer]:
    """For a sweep's or an experiment's trials: a line as each one opens, "[3/8] <title>:
    training" (or done, or resuming from epoch N), then its progress."""

    def opened(number: int, total: int, planned: Any, run: Any) -> Observer:
        state = "done" if run is None else "training"
        if run is not None and run.resumed_from is not None:
            state = f"resuming from epoch {run.resumed_from.epoch + 1}"
        err.write(f"[{number}/{total}] {planned.trial.title}: {state}\n")
        return observer(quiet, err)

    return opened


class Run(Shown):
    """A finished training run: its directory, test results and per-epoch history."""

    def __init__(self, path: Path, settings: Settings, results: TestResults) -> None:
        self.path = path
        self.settings = settings
        self.results = results
        self.history: list[dict[str, float]] = RunDir(path).history()

    @property
    def test_accuracy(self) -> float:
        return self.results.accuracy

    @property
    def test_loss(self) -> float:
        return self.results.loss

    @property
    def epochs(self) -> int:
        return len(self.history)

    @property
    def seconds(self) -> float:
        """Training time, the sum over its epochs."""
        return training_seconds(self.history)

    def data(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.path),
            "test_accuracy": self.test_accuracy,
            "test_loss": self.test_loss,
            "epochs": self.epochs,
            "seconds": round(self.seconds, 3),
        }

    def text(self) -> str:
        r = self.results
        return (
            f"Test accuracy: {r.accuracy:.2%} (loss {r.loss:.4f}) on {r.count:,} "
            f"{r.report.dataset} test images, after {plural(self.epochs, 'epoch')} "
            f"({duration(self.seconds)} of training).\nRun saved in {self.path}; details: "
            f"convscope evaluate {self.path}\n"
        )

    def html(self) -> str:
        head = HISTORY_FIELDS
        rows = [
            tuple(str(int(h["epoch"])) if k == "epoch" else f"{h.get(k, 0.0):.4f}" for k in head)
            for h in self.history
        ]
        return html.facts_html(
            f"Run {self.path.name}",
            [
                ("test accuracy", f"{self.test_accuracy:.2%} (loss {self.test_loss:.4f})"),
                ("epochs", f"{self.epochs}, {duration(self.seconds)} of training"),
                ("directory", str(self.path)),
            ],
        ) + html.table(head, rows, set(head[1:]))

    def summary(self) -> str:
        return f"{self.path.name}: {self.test_accuracy:.2%} after {plural(self.epochs, 'epoch')}"


def fit(run: runs.Run, *, quiet: bool, stream: TextIO) -> Run:
    """Train a started or resumed run to its end, then score it on the test set."""
    if not quiet:
        stream.write(run_header(run))
    stop = StopFlag()
    with first_interrupt_stops(stop, stream):
        try:
            done = run.fit(observer(quiet, stream), stop)
        except Diverged as error:
            raise Diverged(
                error.message,
                hint=f"resume the last good epoch with another rate: edit "
                f"{run.files.settings_json} or start again with --lr",
            ) from None
    if not done:
        pos = run.trainer.position
        raise Stopped(
            run.dir,
            f"stopped in epoch {pos.epoch + 1} after batch {pos.step} of {run.trainer.steps}; "
            f"checkpoint saved\n  continue with: convscope train --resume {run.dir}",
        )
    report = run.score()
    return Run(run.dir, run.settings, TestResults(report, str(run.dir), run.trainer.position.epoch))


def train(
    model: str | os.PathLike[str],
    x: Any = None,
    y: Any = None,
    *,
    validation_data: tuple[Any, Any] | None = None,
    dataset: str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    optimizer: str | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    validation_split: float | None = None,
    train_images: int | None = None,
    augment: str | None = None,
    seed: int | None = None,
    device: str = "auto",
    precision: str = "fp32",
    data_dir: str | None = None,
    input_shape: str | tuple[int, ...] | None = None,
    pick: str | None = None,
    classes: int | None = None,
    image_size: str | tuple[int, int] | None = None,
    color_mode: str | None = None,
    skip_bad_images: bool = False,
    class_names: Sequence[str] | None = None,
    runs_dir: str | os.PathLike[str] = RUNS_ROOT,
    quiet: bool = False,
    stream: TextIO | None = None,
) -> Run:
    """Train a preset or your own Keras file, with Keras's semantics, on a data set by name
    (mnist, fashion-mnist, cifar10, cifar100), a folder of photos or an .npz (dataset=),
    or arrays in memory as Keras's fit() takes them:

        cs.train("my_model.py", x_train, y_train, validation_data=(x_test, y_test))

    Arrays reach the model as they are (no x / 255 added) and are kept in the run
    directory; validation_data is also the test set (else validation_split's part).
    Settings come from the preset or from the file's compile() and fit() calls; each
    keyword overrides one (the names are `convscope train`'s options: batch_size is
    --batch-size). train_images=N trains on the first N training images, for quick runs;
    augment="shift=2,rotate=10" shifts and turns each image a little each epoch. A run
    with a seed repeats exactly on the CPU. The run directory goes under runs_dir.
    """
    err = stream or default_stream()
    given = None
    if x is not None or y is not None:
        if dataset is not None:
            raise ConvscopeError("give arrays (x, y) or dataset=, not both")
        given = in_memory(x, y, validation_data, validation_split, class_names)
        validation_split = None  # taken from the arrays already
    options = Options.given(
        dataset=None if dataset is None else os.fspath(dataset), epochs=epochs,
        optimizer=optimizer, lr=lr, batch_size=batch_size,
        validation_split=validation_split, train_images=train_images, augment=augment,
        seed=seed, device=device, precision=precision, data_dir=data_dir,
        input_shape=input_shape, pick=pick, classes=classes, image_size=image_size,
        color_mode=color_mode, skip_bad_images=skip_bad_images or None,
    )  # fmt: skip
    plan = plan_training(os.fspath(model), options)
    if given is not None:
        plan = plan.with_dataset(ARRAYS)
    for note in plan.notes:
        err.write(f"convscope: {note}\n")
    run = runs.start(
        plan.spec, plan.source_text, plan.settings, Path(runs_dir), stream=err, given=given
    )
    return fit(run, quiet=quiet, stream=err)


def in_memory(
    x: Any,
    y: Any,
    validation_data: tuple[Any, Any] | None,
    validation_split: float | None,
    class_names: Sequence[str] | None,
) -> Any:
    """fit()'s arrays as a data set: validation_data tests the run, else the last
    validation_split of x (Keras's rule: before shuffling)."""
    from ..runtime import arrays, sources

    if x is None or y is None:
        raise ConvscopeError("give both x and y, as Keras's fit(x, y) takes them")
    if validation_data is not None:
        if len(validation_data) != 2:
            raise ConvscopeError("validation_data must be (x_val, y_val)")
        x_val, y_val = validation_data
    elif validation_split:
        Options(validation_split=validation_split)  # checked as train checks it
        cut = math.floor(len(x) * (1 - validation_split))
        x, y, x_val, y_val = x[:cut], y[:cut], x[cut:], y[cut:]
    else:
        raise ConvscopeError(
            "a run is tested on images it did not learn from: give validation_data=(x_test, "
            "y_test), or validation_split=0.2"
        )
    found = {"x_train": x, "y_train": y, "x_test": x_val, "y_test": y_val}
    split, names = arrays.checked(found, "arrays", tuple(class_names or ()) or None)
    return sources.from_arrays(Path(ARRAYS), split, names)


def resume(
    run: str | os.PathLike[str] | Run,
    *,
    epochs: int | None = None,
    quiet: bool = False,
    stream: TextIO | None = None,
) -> Run:
    """Continue a stopped run from its checkpoint; epochs: a new total, to train further."""
    err = stream or default_stream()
    path = run.path if isinstance(run, Run) else Path(os.fspath(run))
    if epochs is not None:
        Options(epochs=epochs)  # checked as train checks it
    return fit(runs.resume(path, epochs=epochs, stream=err), quiet=quiet, stream=err)
