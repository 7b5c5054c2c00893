"""bf16 only where the hardware has it: elsewhere `--precision bf16` falls back to fp32
with a warning (emulated bf16 is many times slower), and `auto` picks by the hardware."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from convscope.runtime import precision

from ..helpers import run_cli

CPU = torch.device("cpu")
ZEN3 = {"avx2", "fma", "sse4_2"}  # an AMD Zen 3: no AVX-512 at all
ZEN5 = {"avx2", "avx512f", "avx512_bf16"}
SAPPHIRE = {"avx512f", "amx_bf16", "amx_tile"}


@pytest.mark.parametrize(
    ("flags", "asked", "chosen", "note"),
    [
        (ZEN3, "fp32", "fp32", None),
        (ZEN3, "bf16", "fp32", "warning: this CPU has no bf16 instructions"),
        (ZEN3, "auto", "fp32", "precision auto: fp32 on this CPU, which has no bf16"),
        (ZEN5, "bf16", "bf16", None),
        (ZEN5, "auto", "bf16", "precision auto: bf16 on this CPU, which has its bf16"),
        (SAPPHIRE, "bf16", "bf16", None),
        (set(), "bf16", "fp32", "warning"),  # no /proc/cpuinfo: assume none
    ],
    ids=["zen3-fp32", "zen3-bf16", "zen3-auto", "zen5-bf16", "zen5-auto", "amx-bf16", "unknown"],
)
def test_precision_follows_the_hardware(
    flags: set[str], asked: str, chosen: str, note: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    found, said = precision.resolve_precision(asked, CPU)
    assert found == chosen
    assert (said is None) if note is None else (said is not None and said.startswith(note))


def test_flags_are_read_from_cpuinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    monkeypatch.setattr(precision, "CPUINFO", info)
    assert precision.native_bf16(CPU)
    monkeypatch.setattr(precision, "CPUINFO", tmp_path / "missing")
    assert precision.cpu_flags() == set()


def test_bf16_on_a_cpu_without_it_trains_in_fp32_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: ZEN3)
    runs = tmp_path / "runs"
    result = run_cli("train", "chollet", "--precision", "bf16", "--epochs", "1",
                     "--train-images", "500", "--quiet", "--runs-dir", str(runs))  # fmt: skip
    assert result.code == 0, result.err
    assert "warning: this CPU has no bf16 instructions" in result.err
    (run,) = runs.iterdir()
    assert json.loads((run / "settings.json").read_text())["precision"] == "fp32"
