"""The sweep folder: the one module that knows its layout.

    sweeps/<time>-<model>/
      sweep.json            the plan: the request, each trial's settings and model source, an id
      runs/<trial>/         an ordinary run directory per trial (03-lr0.001-batch_size64-seed1)
      attempts/<trial>.json where each trial ran and how many times it started (retries)
      rungs.json            early stopping's record: each rung's values by trial
      results.json / .csv / .md   the table, rewritten after each trial
      sweep.png             accuracy per value of each setting, validation curves, time

A Ray node keeps its own working folder (`NodeDir`), not shared with the driver's:

    $CONVSCOPE_NODE_DIR (else <cache>/convscope/node)/
      sweeps/<sweep id>/attempt-<host>-<pid>-*/  one attempt at one trial: a sweep folder
                            as above of its own (two attempts never share files), gone
                            once sent back, or at the next attempt here if its process died
      data/<sha256>/        a data set shipped from the driver, checked; `.complete` once whole

Writes are atomic (core.files). Standard library only.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
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

    # ---- attempts: where each trial ran ----
    def attempts(self, key: str) -> dict[str, Any]:
        found = _json(self.attempts_json(key))
        return found if isinstance(found, dict) else {"attempts": 0, "runs": []}

    def record_attempt(self, key: str, pid: int, host: str | None = None,
                       node: str | None = None) -> int:  # fmt: skip
        """A trial starts (again): its host (and Ray node) and process; returns which
        attempt this is. A failure recorded before is cleared: the trial is being tried
        again."""
        seen = self.attempts(key)
        started = {"host": host or socket.gethostname(), "pid": pid,
                   "at": time.strftime("%H:%M:%S")} | ({"node": node} if node else {})  # fmt: skip
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

    def rungs(self) -> dict[str, dict[str, float]]:
        found = _json(self.rungs_json)
        return found if isinstance(found, dict) else {}

    def record_rung(self, epoch: int, key: str, value: float) -> list[float]:
        """A trial's value at a rung; every value the rung holds now (one process writes)."""
        rungs = self.rungs()
        rung = {**rungs.get(str(epoch), {}), key: value}
        self.write_rungs({**rungs, str(epoch): rung})
        return list(rung.values())

    def write_rungs(self, rungs: dict[str, dict[str, float]]) -> None:
        write_json(self.rungs_json, rungs)

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


@dataclass(frozen=True)
class NodeDir:
    """A Ray node's own working folder (see the module's docstring)."""

    path: Path

    @classmethod
    def here(cls) -> NodeDir:
        given = os.environ.get("CONVSCOPE_NODE_DIR")
        if given:
            return cls(Path(given))
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return cls(Path(cache) / "convscope" / "node")

    def attempt(self, sweep_id: str) -> SweepDir:
        """A new, empty folder for one attempt at a trial of the sweep, named after this
        host and process. Folders of attempts whose process died on this host (killed before
        it could remove its folder) are removed first."""
        self.remove_dead_attempts()
        parent = self.path / SWEEPS_ROOT / safe_stem(sweep_id)
        parent.mkdir(parents=True, exist_ok=True)
        prefix = f"attempt-{socket.gethostname()}-{os.getpid()}-"
        return SweepDir(Path(tempfile.mkdtemp(prefix=prefix, dir=parent)))

    def remove_dead_attempts(self) -> list[Path]:
        """Remove the attempt folders of every sweep here whose process, on this host, is
        gone; the folders removed. Another host's folders (a shared home) are left alone."""
        removed = []
        for folder in (self.path / SWEEPS_ROOT).glob("*/attempt-*"):
            host, pid = attempt_owner(folder.name)
            if host == socket.gethostname() and pid is not None and not process_alive(pid):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        return removed

    def data(self, sha256: str) -> Path:
        return self.path / "data" / sha256

    def data_complete(self, sha256: str) -> Path:
        """Written last, once the data set is whole and checked."""
        return self.data(sha256) / ".complete"


def attempt_owner(name: str) -> tuple[str, int | None]:
    """(host, process id) from an attempt folder's name, attempt-<host>-<pid>-<random>
    (mkdtemp's random part has no '-'); ('', None) for a name not in that form."""
    head, _, _ = name.rpartition("-")
    host, _, pid = head.partition("attempt-")[2].rpartition("-")
    return (host, int(pid)) if host and pid.isdigit() else ("", None)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists here (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


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
