"""`convscope sweep` on a 2,000-image subset: here, resumed, and as Ray tasks.

CPU runs with a seed repeat exactly (with the same threads: OMP_NUM_THREADS, which
scripts/test sets and the Ray workers inherit), so the same trials give the same
accuracies however they ran: one at a time here, stopped and resumed, or as Ray tasks on
a local Ray instance with one worker killed mid-trial.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import convscope as cs
from convscope.core.sweep.folder import SweepDir
from convscope.core.sweep.plan import planned_trials, request, sweep_record
from convscope.runtime.sweep.local import run_here
from convscope.runtime.train import Silent, StopFlag

from ..helpers import png_size, run_cli

pytestmark = pytest.mark.slow  # real trainings and a Ray instance

GRID = ["--grid", "lr=3e-4,1e-3", "--grid", "batch_size=32,64"]
SMALL = ["--train-images", "2000", "--epochs", "1", "--quiet"]


def accuracies(folder: Path) -> dict[str, float]:
    table = json.loads((folder / "results.json").read_text())
    return {t["run_dir"].rsplit("/", 1)[-1]: t["test_accuracy"] for t in table["trials"]}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("sweeps") / "lr-batch"
    result = run_cli("sweep", "chollet", *GRID, *SMALL, "--output", str(folder), "--json")
    return {"folder": folder, "result": result}


def test_a_local_sweep_trains_every_trial_as_a_run(local: dict[str, Any]) -> None:
    code, out, err = local["result"]
    assert code == 0, err
    assert "[4/4] lr=0.001, batch_size=64, seed 1: training" in err
    found = json.loads(out)
    assert found["sweep_dir"] == str(local["folder"]) and found["complete"]
    trials = found["trials"]
    assert [(t["settings"], t["seed"]) for t in trials] == [
        ({"lr": 0.0003, "batch_size": 32}, 1),
        ({"lr": 0.0003, "batch_size": 64}, 1),
        ({"lr": 0.001, "batch_size": 32}, 1),
        ({"lr": 0.001, "batch_size": 64}, 1),
    ]
    for t in trials:
        assert 0.3 < t["test_accuracy"] < 1 and t["seconds"] > 0, t
        settings = json.loads((Path(t["run_dir"]) / "settings.json").read_text())
        assert settings["training"]["learning_rate"] == t["settings"]["lr"]
        assert settings["training"]["batch_size"] == t["settings"]["batch_size"]
        assert settings["seed"] == 1 and settings["train_images"] == 2000
        # an ordinary run directory: evaluate reads it and agrees with the table
        code, out, _ = run_cli("evaluate", t["run_dir"], "--json")
        assert code == 0 and json.loads(out)["accuracy"] == t["test_accuracy"]
    assert any("is best on average" in line for line in found["findings"])


def test_tensorboard_reads_every_trial_with_its_settings(local: dict[str, Any]) -> None:
    """`--tensorboard` on the finished sweep (resumed: nothing to train) writes each trial's
    curves and settings; TensorBoard's own reader finds them under the sweep's folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
    from tensorboard.plugins.hparams import plugin_data_pb2

    folder = local["folder"]
    result = run_cli("sweep", "--resume", str(folder), "--tensorboard", "--quiet")
    assert result.code == 0, result.err
    runs = EventMultiplexer().AddRunsFromDirectory(str(folder)).Reload().Runs()
    train_runs = sorted(r for r in runs if r.endswith("tensorboard/train"))
    assert len(train_runs) == 4 and len([r for r in runs if r.endswith("validation")]) == 4
    for run in sorted((folder / "runs").iterdir()):
        history = json.loads((run / "history.json").read_text())
        curves = EventAccumulator(str(run / "tensorboard" / "train")).Reload()
        assert [e.value for e in curves.Scalars("epoch_loss")] == pytest.approx(
            [h["loss"] for h in history], rel=1e-6
        )
        root = EventAccumulator(str(run / "tensorboard")).Reload()
        content = root.PluginTagToContent("hparams")["_hparams_/session_start_info"]
        settings = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
        assert set(settings.hparams) == {"lr", "batch_size", "seed"}


def test_early_stopping_stops_the_worst_and_resumes_without_them(tmp_path: Path) -> None:
    """ASHA over 6 random rates for 3 epochs: every trial is judged after epoch 1, the
    ones below the rung's cutoff stop there (scored, final); --resume trains nothing again."""
    folder = tmp_path / "asha"
    argv = ["sweep", "chollet", "--random", "lr=loguniform(1e-5,1e-2)", "--trials", "6",
            "--epochs", "3", "--train-images", "1000", "--early-stop", "asha", "--quiet"]  # fmt: skip
    result = run_cli(*argv, "--output", str(folder), "--json")
    assert result.code == 0, result.err
    rung, stopped, done = judged_at_the_first_rung(folder, 6)
    for t in stopped:
        history = json.loads((Path(t["run_dir"]) / "history.json").read_text())
        assert len(history) == 1 and t["test_accuracy"] is not None
    best_at_rung = max(rung, key=rung.get)
    assert any(t["key"] == best_at_rung for t in done)  # the best at the rung went on
    again = run_cli("sweep", "--resume", str(folder), "--quiet")
    assert again.code == 0 and "0 to train" in again.err


def judged_at_the_first_rung(
    folder: Path, trials: int
) -> tuple[dict[str, float], list[dict[str, Any]], list[dict[str, Any]]]:
    """An ASHA sweep's first rung and its trials stopped there and finished: every trial
    reached the rung, some stopped, some went on."""
    table = json.loads((folder / "results.json").read_text())["trials"]
    rung = json.loads((folder / "rungs.json").read_text())["1"]
    assert len(rung) == trials  # every trial reached the first rung
    stopped = [t for t in table if t["state"] == "stopped early (epoch 1)"]
    done = [t for t in table if t["state"] == "done"]
    assert stopped and done and len(stopped) + len(done) == trials
    return rung, stopped, done


def test_the_folder_holds_the_plan_the_table_and_the_figure(local: dict[str, Any]) -> None:
    folder = SweepDir(local["folder"])
    assert len(planned_trials(folder.plan(), "")) == 4
    _, path_csv, path_md = folder.table_files
    lines = path_csv.read_text().splitlines()
    assert lines[0].startswith("index,lr,batch_size,seed,test_accuracy") and len(lines) == 5
    md = path_md.read_text()
    assert "| 4 | 0.001 | 64 | 1 |" in md and "batch_size:" in md
    assert png_size(folder.png.read_bytes())[0] == 1000
    code, out, _ = run_cli("compare", *(str(p) for p in sorted(folder.runs_root.iterdir())),
                           "--output", str(local["folder"] / "compare"))  # fmt: skip
    assert code == 0 and "batch_size" in out


def test_an_interrupted_sweep_resumes_to_the_same_results(
    local: dict[str, Any], tmp_path: Path
) -> None:
    """Stopped in its third trial as Ctrl-C stops it (after a batch), then `--resume`."""
    folder = tmp_path / "stopped"
    sweep = SweepDir(folder)
    options = {"train_images": 2000, "epochs": 1}
    plan = sweep_record(request("chollet", grid=GRID[1::2], options=options))
    sweep.write_plan(plan)  # the plan as `convscope sweep` writes it, trained here to stop it
    stop = StopFlag()

    def on_trial(number: int, total: int, planned: object, run: object) -> Silent:
        if number == 3:
            stop.request()  # the third trial stops after its first batch
        return Silent()

    run_here(sweep, sweep.plan(), stop, on_trial, after_each=lambda: None)
    third = sweep.run(planned_trials(plan, "")[2].key)
    assert third.checkpoint.exists() and not third.metrics_json.exists()
    assert not sweep.run(planned_trials(plan, "")[3].key).path.exists()
    code, out, err = run_cli("sweep", "--resume", str(folder), "--quiet", "--json")
    assert code == 0, err
    assert "[1/4] lr=0.0003, batch_size=32, seed 1: done" in err
    assert "[3/4] lr=0.001, batch_size=32, seed 1: resuming from epoch 1" in err
    assert json.loads(out)["complete"]
    assert accuracies(folder) == accuracies(local["folder"])  # bit for bit


# ---- Ray ----


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    """A local Ray instance with this machine's 2 CPUs, started by the test."""
    import ray  # a dev dependency (scripts/setup --dev): missing, the test fails, never skips

    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 << 20,
             log_to_driver=False, logging_level="ERROR")  # fmt: skip
    yield ray
    ray.shutdown()


def test_on_ray_the_same_trials_give_the_same_accuracies(
    local: dict[str, Any], ray_instance: Any, tmp_path: Path
) -> None:
    found = cs.sweep("chollet", grid=GRID[1::2], train_images=2000, epochs=1, quiet=True,
                     output=tmp_path / "ray", ray=True)  # fmt: skip
    assert found.complete and found.results.engine == "ray"
    assert len(list((tmp_path / "ray" / "runs").iterdir())) == 4
    assert accuracies(tmp_path / "ray") == accuracies(local["folder"])
    assert [row["seed"] for row in found.table] == [1, 1, 1, 1]


def kill_once_trained_an_epoch(folder: SweepDir, key: str, killed: list[int]) -> None:
    """Kill the worker training `key` once its first epoch's checkpoint is written."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        attempts = folder.attempts(key)
        if attempts["attempts"] == 1 and folder.run(key).trained_epochs() >= 1:
            pid = int(attempts["runs"][0]["pid"])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.02)


def test_a_killed_worker_is_retried_from_its_checkpoint(ray_instance: Any, tmp_path: Path) -> None:
    options = {"train_images": 4000, "epochs": 3, "quiet": True}
    here = cs.sweep("chollet", grid={"lr": [1e-3, 3e-4]}, output=tmp_path / "here", **options)
    folder = SweepDir(tmp_path / "ray")
    first = here.results.trials[0].key
    killed: list[int] = []
    watcher = threading.Thread(target=kill_once_trained_an_epoch, args=(folder, first, killed))
    watcher.start()
    found = cs.sweep("chollet", grid={"lr": [1e-3, 3e-4]}, output=folder.path, ray=True,
                     **options)  # fmt: skip
    watcher.join()
    assert killed, "the watcher never saw the first epoch"
    attempts = folder.attempts(first)
    assert attempts["attempts"] == 2 and attempts["runs"][1]["pid"] != killed[0]
    assert found.complete and found.results.trials[0].attempts == 2
    assert accuracies(folder.path) == accuracies(tmp_path / "here")  # resumed exactly
    assert "done (2 attempts)" in found.text()
