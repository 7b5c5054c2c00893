"""What several benchmarks share: a trained chollet run to measure on, and the CPU's name."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from convscope.core.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "benchmarks" / ".runs"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
ENV = {**os.environ, "KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "2"}


def trained_run() -> Path:
    """The newest chollet run in benchmarks/.runs; one epoch is trained when there is none."""
    for run in sorted(RUNS.glob("*-chollet"), reverse=True):
        if RunDir(run).weights.exists():
            return run
    cmd = [PYTHON, "-m", "convscope", "train", "chollet", "--epochs", "1", "--seed", "1"]
    subprocess.run([*cmd, "--runs-dir", str(RUNS), "--quiet"], check=True, env=ENV)
    return trained_run()


def trained_chollet() -> Path:
    """The newest 5-epoch fp32 chollet run in benchmarks/.runs (seed 1 trained if none)."""
    found = five_epoch_chollet()
    if found is None:
        cmd = [PYTHON, "-m", "convscope", "train", "chollet", "--seed", "1"]
        subprocess.run([*cmd, "--runs-dir", str(RUNS), "--quiet"], cwd=ROOT, check=True, env=ENV)
        found = five_epoch_chollet()
    if found is None:
        raise RuntimeError(f"no 5-epoch chollet run in {RUNS} after training one")
    return found


def five_epoch_chollet() -> Path | None:
    for run in sorted(RUNS.glob("*-chollet"), reverse=True):
        settings, history = RunDir(run).raw_settings(), RunDir(run).history()
        plain = not any(settings.get("augment", {}).values())  # {"shift": 0, "rotate": 0}
        if settings["precision"] == "fp32" and len(history) == 5 and plain:
            return run
    return None


def cpu() -> str:
    """'AMD EPYC (avx512f, avx512_bf16)': the model name and the features that matter here."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    names = [x.split(":", 1)[1].strip() for x in info.splitlines() if x.startswith("model name")]
    features = [f for f in ("avx512f", "avx512_bf16", "amx_bf16") if f in info.split()]
    return f"{names[0] if names else platform.processor()} ({', '.join(features) or 'no AVX-512'})"
