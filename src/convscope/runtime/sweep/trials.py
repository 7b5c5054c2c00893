"""One planned run of an experiment or a sweep: started, resumed or already done.

The pooling experiment and sweeps plan runs into folders of their own; the same rule
opens each: a finished run is kept, a run with a checkpoint resumes from it (or is only
scored, when it trained every epoch but stopped before its test), and a folder left
before its first checkpoint is started again from nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from ...core.rundir import RunDir
from .. import runs


def open_planned(
    run: RunDir, epochs: int, start: Callable[[], runs.Run], stream: Any = None
) -> runs.Run | None:
    """The run to train: resumed from its checkpoint, or started; None when it is done."""
    if run.finished(epochs):
        return None
    if run.checkpoint.exists():
        if run.trained_epochs() >= epochs:  # trained, stopped before its test score
            runs.evaluate_run(run.path, stream=stream)
            return None
        return runs.resume(run.path, stream=stream)
    if run.path.exists():
        shutil.rmtree(run.path)  # stopped before its first checkpoint: nothing to keep
    return start()
