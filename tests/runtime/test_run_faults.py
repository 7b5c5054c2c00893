"""Damaged run files, a training killed or out of disk while it writes its checkpoint, two
trainings in one runs folder, a runs folder that cannot be written: each gets a clear
message (exit 2, no traceback), and nothing saved before is lost."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import convscope.core.files as files

from ..helpers import run_cli

TINY = ["--train-images", "1000", "--seed", "1", "--quiet"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chollet after one epoch on 1,000 images: copied before any test damages it."""
    root = tmp_path_factory.mktemp("runs")
    result = run_cli("train", "chollet", "--epochs", "1", *TINY, "--runs-dir", str(root))
    assert result.code == 0, result.err
    (path,) = root.iterdir()
    return path


def truncate(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        data = (run / name).read_bytes()
        (run / name).write_bytes(data[: len(data) // 3])

    return damage


def write(name: str, text: str) -> Callable[[Path], None]:
    return lambda run: (run / name).write_text(text)


def edit_settings(change: Callable[[dict[str, object]], None]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        settings = json.loads((run / "settings.json").read_text())
        change(settings)
        (run / "settings.json").write_text(json.dumps(settings))

    return damage


def edit_model(run: Path) -> None:
    source = (run / "model.py").read_text()
    (run / "model.py").write_text(source.replace("Conv2D(64", "Conv2D(48"))


RESUME = ["train", "--resume", "{run}", "--epochs", "2", "--quiet"]
DAMAGE = {
    "truncated-weights": (truncate("weights.safetensors"), ["evaluate", "{run}"],
                          "weights.safetensors: not a readable safetensors file"),
    "truncated-checkpoint": (truncate("checkpoint.safetensors"), RESUME,
                             "checkpoint.safetensors: not a readable safetensors file"),
    "settings-not-json": (write("settings.json", '{"model": '), ["evaluate", "{run}"],
                          "settings.json: not readable JSON"),
    "settings-without-training": (edit_settings(lambda d: d.pop("training")),
                                  ["evaluate", "{run}"], "unreadable settings (no 'training')"),
    "settings-wrong-type": (edit_settings(lambda d: d.update(seed="abc")), RESUME,
                            "unreadable settings (invalid literal for int()"),
    "settings-missing": (lambda r: (r / "settings.json").unlink(), ["report", "{run}"],
                         "is not a run directory: it has no settings.json"),
    "history-not-json": (write("history.json", "[{"), ["report", "{run}"],
                         "history.json: not readable JSON"),
    "model-edited-evaluate": (edit_model, ["evaluate", "{run}"],
                              "the weights do not fit model.py's conv2d_1 (Conv2D, line"),
    "model-edited-resume": (edit_model, RESUME, "checkpoint.safetensors: the weights do not "
                            "fit model.py's conv2d_1 (Conv2D, line"),
}  # fmt: skip


@pytest.mark.slow  # nine commands on a trained run
@pytest.mark.parametrize(("damage", "command", "message"), DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_run_file_is_named_and_nothing_else_changes(
    run: Path,
    tmp_path: Path,
    damage: Callable[[Path], None],
    command: list[str],
    message: str,
) -> None:
    copy = Path(shutil.copytree(run, tmp_path / run.name))
    damage(copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    result = run_cli(*(a.format(run=copy) for a in command))
    assert result.code == 2 and message in result.err, result.err
    assert "Traceback" not in result.err and len(result.err.splitlines()) <= 2
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before


def epoch_of(checkpoint: Path) -> int:
    from convscope.runtime.runs import load_tensors

    return int(load_tensors(checkpoint)[1]["position"]["epoch"])


KILLED_WHILE_WRITING = """
import os, signal, sys
import convscope.core.files as files

real, seen = files.write_synced, []

def dying(path, content):  # epoch 2's checkpoint: half written, then the process is killed
    if path.name.startswith(".checkpoint.safetensors"):
        seen.append(path)
        if len(seen) == 2:
            path.write_bytes(content[: len(content) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
    real(path, content)

files.write_synced = dying
from convscope.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_run_killed_while_writing_its_checkpoint_resumes_from_the_one_before(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    argv = ["train", "chollet", "--epochs", "3", *TINY, "--runs-dir", str(runs)]
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_WRITING, *argv], check=False)
    assert killed.returncode == -9
    (run,) = runs.iterdir()
    assert epoch_of(run / "checkpoint.safetensors") == 1  # the last whole one
    assert list(run.glob(".checkpoint.safetensors.*.tmp"))  # the half one, never read
    resumed = run_cli("train", "--resume", str(run), "--quiet")
    assert resumed.code == 0, resumed.err
    assert epoch_of(run / "checkpoint.safetensors") == 3
    assert not list(run.glob(".*.tmp"))


@pytest.mark.slow
def test_a_full_disk_while_checkpointing_keeps_the_last_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, seen = files.write_synced, []

    def full(path: Path, content: bytes) -> None:
        if path.name.startswith(".checkpoint.safetensors"):
            seen.append(path)
            if len(seen) == 2:
                path.write_bytes(content[:4096])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, content)

    monkeypatch.setattr(files, "write_synced", full)
    runs = tmp_path / "runs"
    result = run_cli("train", "chollet", "--epochs", "2", *TINY, "--runs-dir", str(runs))
    (run,) = runs.iterdir()
    assert result.code == 2
    assert (
        "checkpoint.safetensors: cannot be written (No space left on device); what was "
        "there before is unchanged\n  free some space, then continue from the last saved "
        f"checkpoint: convscope train --resume {run}"
    ) in result.err
    assert epoch_of(run / "checkpoint.safetensors") == 1
    monkeypatch.setattr(files, "write_synced", real)
    assert run_cli("train", "--resume", str(run), "--quiet").code == 0
    assert epoch_of(run / "checkpoint.safetensors") == 2


@pytest.mark.slow
def test_two_trainings_in_one_runs_folder_at_once_each_keep_their_own_run(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    argv = [sys.executable, "-m", "convscope", "train", "chollet", "--epochs", "1", "--quiet"]
    both = [
        subprocess.Popen([*argv, "--train-images", "500", "--seed", str(seed), "--runs-dir",
                          str(runs)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for seed in (1, 2)
    ]  # fmt: skip
    for process in both:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    found = sorted(runs.iterdir())
    assert len(found) == 2
    seeds = {json.loads((r / "settings.json").read_text())["seed"] for r in found}
    assert seeds == {1, 2} and all((r / "weights.safetensors").exists() for r in found)


def test_new_run_directories_never_collide() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from convscope.core.rundir import new_run_dir

    root = Path(os.environ.get("TMPDIR", "/tmp")) / f"convscope-collide-{os.getpid()}"
    try:
        with ThreadPoolExecutor(8) as pool:
            made = list(pool.map(lambda _: new_run_dir(root, "chollet").path, range(16)))
        assert len(set(made)) == 16
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("kind", ["a-file", "read-only"])
def test_a_runs_folder_that_cannot_be_written_is_named(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    if kind == "a-file":
        runs.write_text("not a folder")
        why = "Not a directory"
    else:  # as root, chmod does not stop a write: the refusal a read-only folder gives
        runs.mkdir()

        def refuse(self: Path, *args: object, **kwargs: object) -> None:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

        monkeypatch.setattr(Path, "mkdir", refuse)
        why = "Permission denied"
    result = run_cli("train", "chollet", "--epochs", "1", *TINY, "--runs-dir", str(runs))
    assert result.code == 2
    assert f"cannot create a run directory in {runs} ({why})" in result.err


@pytest.mark.slow
def test_a_report_into_a_folder_that_cannot_be_written_is_named(run: Path) -> None:
    result = run_cli("report", str(run), "--output", "/proc/no/report.html")
    assert result.code == 2 and "/proc/no/report.html: cannot be written" in result.err


def test_the_cli_module_runs(tmp_path: Path) -> None:
    code = textwrap.dedent("import runpy; runpy.run_module('convscope', run_name='__main__')")
    result = subprocess.run(
        [sys.executable, "-c", code, "explain", "chollet", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and json.loads(result.stdout)["total_params"] == 93_322


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        ("train-images-idx3-ubyte.gz", lambda b: b[: len(b) // 2], "not a valid gzip file"),
        ("t10k-labels-idx1-ubyte.gz", lambda b: b"garbage", "bad IDX magic number"),
    ],
    ids=["truncated-gzip", "not-idx"],
)
def test_a_damaged_data_file_is_named_before_any_run_is_made(
    name: str, damage: Callable[[bytes], bytes], message: str, tmp_path: Path
) -> None:
    source = Path(os.environ["CONVSCOPE_DATA"]) / "mnist"
    data = tmp_path / "data" / "mnist"
    data.mkdir(parents=True)
    for file in source.iterdir():
        (data / file.name).write_bytes(file.read_bytes())
    (data / name).write_bytes(damage((data / name).read_bytes()))
    runs = tmp_path / "runs"
    result = run_cli("train", "chollet", *TINY, "--data-dir", str(tmp_path / "data"),
                     "--runs-dir", str(runs))  # fmt: skip
    assert result.code == 2 and f"{data / name}: {message}" in result.err
    assert not runs.exists()
