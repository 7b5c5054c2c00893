"""The sweep folder: the one module that knows its layout.

    sweeps/<time>-<model>/
      sweep.json            the plan: the request, each trial's settings and model source, an id
      runs/<trial>/         an ordinary run directory per trial (03-lr0.001-batch_size64-seed1)
      attempts/<trial>.json where each trial ran and how many times it started (retries)
      results.json / .csv / .md   the table, rewritten after each trial
      sweep.png             accuracy per value of each setting, validation curves, time

The folder must be on storage every machine of a Ray cluster sees: a trial reads
sweep.json first and refuses to train where it cannot (`check_visible`). Writes are
atomic (core.files). Standard library only.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConvscopeError
from ..files import atomic_write, write_json, write_text
from ..rundir import RUNS_ROOT, RunDir, _json, safe_stem

SWEEPS_ROOT = "sweeps"


@dataclass(frozen=True)
class SweepDir:
    path: Path

    @property
    def plan_json(self) -> Path:
        return self.path / "sweep.json"

    @property
    def table_files(self) -> tuple[Path, Path, Path]:
        """(json, csv, md) of the results table."""
        base = self.path / "results"
        return base.with_suffix(".json"), base.with_suffix(".csv"), base.with_suffix(".md")

    @property
    def png(self) -> Path:
        return self.path / "sweep.png"

    @property
    def runs_root(self) -> Path:
        return self.path / RUNS_ROOT

    def run(self, key: str) -> RunDir:
        return RunDir(self.runs_root / key)

    def attempts_json(self, key: str) -> Path:
        return self.path / "attempts" / f"{key}.json"

    # ---- the plan ----
    def plan(self) -> dict[str, Any]:
        found = _json(self.plan_json)
        if not isinstance(found, dict) or found.get("kind") != "sweep":
            raise ConvscopeError(
                f"{self.path} is not a sweep folder (no readable {self.plan_json.name})",
                hint="give a folder that `convscope sweep` made, e.g. sweeps/<time>-<model>",
            )
        return found

    def write_plan(self, plan: dict[str, Any]) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConvscopeError(
                f"cannot create the sweep folder {self.path} ({error.strerror or error})"
            ) from None
        write_json(self.plan_json, {"kind": "sweep", **plan})

    def check_visible(self, sweep_id: str) -> None:
        """On the machine a trial runs on: this folder is the sweep's (shared storage)."""
        host = socket.gethostname()
        try:
            found = _json(self.plan_json)
        except (ConvscopeError, OSError):
            found = None
        if not isinstance(found, dict) or found.get("id") != sweep_id:
            raise ConvscopeError(
                f"{host} cannot see the sweep folder {self.path}: a sweep's folder must be on "
                "storage every node of the cluster sees, at the same path",
                hint="put it on a shared file system (NFS, a mounted bucket) and pass --output",
            )

    # ---- attempts: where each trial ran ----
    def attempts(self, key: str) -> dict[str, Any]:
        found = _json(self.attempts_json(key))
        return found if isinstance(found, dict) else {"attempts": 0, "runs": []}

    def record_attempt(self, key: str, pid: int) -> int:
        """A trial starts (again): its host and process; returns which attempt this is.
        A failure recorded before is cleared: the trial is being tried again."""
        seen = self.attempts(key)
        started = {"host": socket.gethostname(), "pid": pid, "at": time.strftime("%H:%M:%S")}
        seen = {"attempts": int(seen["attempts"]) + 1, "runs": [*seen["runs"], started]}
        write_json(self.attempts_json(key), seen)
        return int(seen["attempts"])

    def record_failure(self, key: str, why: str) -> None:
        """A trial that cannot finish (its own error, or its retries used up)."""
        write_json(self.attempts_json(key), {**self.attempts(key), "error": why})

    # ---- early stopping: each rung's record, and the trials stopped at one ----
    @property
    def rungs_json(self) -> Path:
        return self.path / "rungs.json"

    def record_rung(self, epoch: int, key: str, value: float) -> list[float]:
        """A trial's value at a rung; every value the rung holds now (one process writes)."""
        found = _json(self.rungs_json)
        rungs = found if isinstance(found, dict) else {}
        rung = {**rungs.get(str(epoch), {}), key: value}
        write_json(self.rungs_json, {**rungs, str(epoch): rung})
        return list(rung.values())

    def record_pruned(self, key: str, epoch: int) -> None:
        """A trial stopped early after `epoch` epochs: final, not to be resumed."""
        write_json(self.attempts_json(key), {**self.attempts(key), "pruned": epoch})

    # ---- results ----
    def results(self) -> dict[str, Any] | None:
        found = _json(self.table_files[0])
        return found if isinstance(found, dict) else None

    def write_results(self, data: dict[str, Any], csv_text: str, markdown: str) -> None:
        path_json, path_csv, path_md = self.table_files
        write_json(path_json, data)
        write_text(path_csv, csv_text)
        write_text(path_md, markdown)

    def write_png(self, png: bytes) -> None:
        atomic_write(self.png, png)


def new_sweep_dir(model: str, root: Path = Path(SWEEPS_ROOT)) -> SweepDir:
    """sweeps/<time>-<model> (a -2, ... suffix when the name is taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        path = root / (f"{stamp}-{safe_stem(model)}" + (f"-{n}" if n > 1 else ""))
        if not path.exists():
            return SweepDir(path)
    raise ConvscopeError(f"cannot find a free sweep folder name in {root}")


def is_sweep_dir(path: Path) -> bool:
    try:
        return bool(json.loads(SweepDir(path).plan_json.read_text())["kind"] == "sweep")
    except (OSError, ValueError, KeyError, TypeError):
        return False
