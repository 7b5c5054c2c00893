"""A sweep's trials in TensorBoard's format (`sweep --tensorboard`), so that
`tensorboard --logdir SWEEP` shows every trial's curves and, in its HParams tab, the
settings each trial swept against its results.

Each finished run gets RUN/tensorboard/train and RUN/tensorboard/validation with the tags
Keras's TensorBoard callback writes per epoch (epoch_loss, epoch_accuracy), and the hparams
summary Ray Tune writes for a trial: the swept settings and the seed, with the test
accuracy and loss and the last validation accuracy as its metrics. Written with
torch.utils.tensorboard (the optional `tensorboard` extra), from history.json once the
trial has finished: a trial trained on another node is written where its run folder is.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ...core.errors import missing_extra
from ...core.rundir import RunDir
from ...core.sweep.results import SweepResults, TrialResult

SPLITS = {"train": ("loss", "accuracy"), "validation": ("val_loss", "val_accuracy")}


def writer_class() -> Any:
    """torch's SummaryWriter, or one line naming the extra that brings it."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise missing_extra("sweep --tensorboard", "tensorboard", "tensorboard") from None
    return SummaryWriter


def hparams(trial: TrialResult) -> dict[str, Any]:
    """The swept settings as TensorBoard takes them (numbers, text or flags) and the seed."""
    found = {k: v if isinstance(v, (int, float, str, bool)) else str(v)
             for k, v in trial.settings.items()}  # fmt: skip
    return {**found, "seed": trial.seed}


def write_trial(trial: TrialResult) -> bool:
    """The trial's curves and settings; False when there is nothing (yet) to write."""
    if trial.state != "done":
        return False
    run = RunDir(Path(trial.run_dir))
    if run.tensorboard.exists():
        return False  # a finished trial's curves do not change
    writer_type = writer_class()
    history = run.history()
    building = run.tensorboard.with_name(".tensorboard-partial")
    shutil.rmtree(building, ignore_errors=True)
    for split, (loss, accuracy) in SPLITS.items():
        with writer_type(str(building / split)) as writer:
            for epoch, logs in enumerate(history):
                if loss in logs:
                    writer.add_scalar("epoch_loss", logs[loss], epoch)
                if accuracy in logs:
                    writer.add_scalar("epoch_accuracy", logs[accuracy], epoch)
    metrics = {"test_accuracy": trial.test_accuracy or 0.0, "test_loss": trial.test_loss or 0.0}
    if trial.val_accuracy:
        metrics["val_accuracy"] = trial.val_accuracy[-1]
    with writer_type(str(building)) as writer:
        writer.add_hparams(hparams(trial), metrics, run_name=".")
    building.rename(run.tensorboard)  # whole or not at all: a killed sweep writes it again
    return True


def write_sweep(results: SweepResults) -> int:
    """Every finished trial not yet written; how many were."""
    return sum(write_trial(t) for t in results.trials)
