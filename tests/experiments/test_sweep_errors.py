"""`convscope sweep` refuses a malformed request with exit 2 before anything trains:
no folder is made, no data read. (The grammar's every rule: tests/core/test_sweep_plan.py.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ..helpers import run_cli

# (the command's arguments after `sweep`, a part of the message)
CASES = {
    "unknown-setting": (["chollet", "--grid", "filters=8,16"], "'filters' is not a setting"),
    "empty-list": (["chollet", "--grid", "lr="], "lr needs at least one value"),
    "bad-distribution": (
        ["chollet", "--random", "lr=normal(1e-3,1e-4)", "--trials", "3"],
        "expected SETTING=DISTRIBUTION(...)",
    ),
    "trials-without-random": (["chollet", "--grid", "lr=1e-3,1e-4", "--trials", "3"], "--trials"),
    "swept-and-fixed": (["chollet", "--grid", "lr=1e-3,1e-4", "--lr", "0.1"], "both swept"),
    "no-model": (["--grid", "lr=1e-3,1e-4"], "sweep needs a model"),
    "model-and-config": (["chollet", "--config", "sweep.toml"], "not both"),
    "missing-config": (["--config", "nowhere.toml"], "nowhere.toml: no such file"),
    "not-a-sweep-folder": (["--resume", "."], "is not a sweep folder"),
    "model-after-ray": (["--ray", "chollet", "--grid", "lr=1e-3,1e-4"], "is not a Ray address"),
    "resume-with-settings": (["--resume", ".", "--epochs", "3"], "epochs cannot be given"),
    "unknown-model": (["my_modle.py", "--grid", "lr=1e-3,1e-4"], "my_modle.py"),
    "dropout-with-nowhere-to-go": (
        ["all_conv.py", "--grid", "dropout=0.25,0.5"],
        "has no Dropout layer to set and no Dense layer to put one before",
    ),
}

ALL_CONV = (
    "from keras import layers, Sequential, Input\n"
    "model = Sequential([Input((28, 28, 1)), layers.Conv2D(10, 28, activation='softmax'), "
    "layers.Flatten()])\n"
)


@pytest.mark.parametrize(("argv", "message"), CASES.values(), ids=CASES.keys())
def test_a_malformed_sweep_exits_2_before_training(
    argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "all_conv.py").write_text(ALL_CONV)
    code, out, err = run_cli("sweep", *argv)
    assert code == 2, err
    assert err.startswith("convscope: ") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2 and out == ""
    assert not (tmp_path / "sweeps").exists()


def test_a_malformed_config_file_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "sweep.toml"
    config.write_text('model = "chollet"\nepochs = 1\n[grid]\nlr = []\n')
    code, _, err = run_cli("sweep", "--config", str(config))
    assert code == 2 and f"{config}: grid: lr needs at least one value" in err


def test_without_ray_installed_ray_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: import fails
    code, _, err = run_cli("sweep", "chollet", "--grid", "lr=1e-3,1e-4", "--ray")
    assert code == 2 and "--ray needs Ray (on every node), the optional extra" in err
    assert "pip install 'convscope[ray]'" in err and not (tmp_path / "sweeps").exists()
