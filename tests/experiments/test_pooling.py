"""`convscope experiment pooling` on a small real subset: four variants, stopped and resumed."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from convscope.core import arith
from convscope.core.augment import parse_augment
from convscope.core.experiments import PoolingResults
from convscope.core.explain.rules import explain
from convscope.core.presets import get, model
from convscope.core.rundir import PoolingDir, RunDir, default_pooling_dir
from convscope.core.settings import Settings
from convscope.core.source.read import read_model
from convscope.core.sweep.plan import PlannedTrial
from convscope.core.variants import POOLING_VARIANTS
from convscope.runtime.sweep import pooling
from convscope.runtime.train import Silent, StopFlag

from ..helpers import Cli, Page, png_size, run_cli

pytestmark = pytest.mark.slow  # real trainings and reports: the full suite runs them

SMALL = ["--epochs", "1", "--seeds", "2", "--train-images", "1500", "--quiet"]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two seeds of four variants, stopped in the third run, then finished by the CLI."""
    folder = tmp_path_factory.mktemp("pooling") / "chollet"
    chollet = model("chollet")
    assert chollet.training is not None
    settings = Settings(
        model="chollet",
        source="chollet",
        input_shape=(28, 28, 1),
        training=replace(chollet.training, epochs=1),
        seed=0,
        validation_split=None,
        device="cpu",
        precision="fp32",
        train_images=1500,
    )
    exp = pooling.open_experiment(PoolingDir(folder), settings, chollet, get("chollet").source, 2)
    stop = StopFlag()
    seen: list[tuple[int, str, object]] = []

    def on_run(index: int, total: int, planned: PlannedTrial, run: object) -> Silent:
        seen.append((index, planned.key, run))
        if index == 3:
            stop.request()  # as Ctrl-C would: the run stops after its first batch
        return Silent()

    partial = pooling.run_all(exp, stop, on_run)
    first_weights = RunDir(folder / "runs" / "max-seed1").weights.stat().st_mtime_ns
    stopped = folder / "runs" / "strided-seed1"
    left = sorted(p.name for p in stopped.iterdir())
    # the CLI, as a user repeats the command: it finishes what is left
    result = run_cli(
        "experiment", "pooling", "--model", "chollet", "--output", str(folder), "--json", *SMALL
    )
    return {
        "folder": folder,
        "partial": partial,
        "seen": seen,
        "first_weights": first_weights,
        "stopped_run_files": left,
        "result": result,
    }


def test_stopping_keeps_finished_runs_and_a_checkpoint(experiment: dict[str, object]) -> None:
    partial = experiment["partial"]
    assert isinstance(partial, PoolingResults) and not partial.complete
    done = {v.key: len(v.runs) for v in partial.variants}
    assert done == {"max": 1, "average": 1, "strided": 0, "none": 0}
    # the stopped run: its checkpoint, no finished epoch, no test score
    stopped = RunDir(Path("."))
    names = [stopped.checkpoint.name, stopped.model_py.name, stopped.settings_json.name]
    assert experiment["stopped_run_files"] == names


def test_repeating_the_command_resumes_without_redoing(experiment: dict[str, object]) -> None:
    code, out, err = experiment["result"]  # type: ignore[misc]
    assert code == 0, err
    assert "[1/8] max pooling, seed 1: done" in err
    assert "[2/8] average pooling, seed 1: done" in err
    assert "[3/8] stride-2 convolution, seed 1: resuming from epoch 1" in err
    assert "[4/8] no pooling, seed 1: training" in err
    folder = Path(str(experiment["folder"]))
    weights = RunDir(folder / "runs" / "max-seed1").weights
    assert weights.stat().st_mtime_ns == experiment["first_weights"]  # not trained again
    results = json.loads(out)
    assert results["complete"] and results["folder"] == str(folder)


def test_results_are_sane_and_match_the_arithmetic(experiment: dict[str, object]) -> None:
    folder = Path(str(experiment["folder"]))
    results = PoolingResults.from_dict(json.loads((folder / "pooling.json").read_text()))
    assert results.complete and results.seeds == (1, 2)
    by_key = {v.key: v for v in results.variants}
    for v in results.variants:
        assert v.accuracy is not None and v.accuracy.low > 0.5, v.key  # 1,500 images, 1 epoch
        assert v.seconds is not None and v.seconds.low > 0
        assert [r.seed for r in v.runs] == [1, 2]
    # removing pooling multiplies Dense's parameters as the arithmetic predicts
    assert by_key["none"].last_map == "22x22x64" and by_key["max"].last_map == "3x3x64"
    dense_gain = arith.dense_params(22 * 22 * 64, 64) - arith.dense_params(3 * 3 * 64, 64)
    assert by_key["none"].params - by_key["max"].params == dense_gain
    assert by_key["max"].receptive_field == "18x18" and by_key["none"].receptive_field == "7x7"
    # same seed, same data order: max and average differ only in the pooling op
    assert by_key["max"].params == by_key["average"].params == 93_322


@pytest.mark.parametrize("variant", POOLING_VARIANTS, ids=lambda v: v.key)
def test_each_run_keeps_its_variant_as_keras_source(
    experiment: dict[str, object], variant: object
) -> None:
    key = variant.key  # type: ignore[attr-defined]
    run_dir = Path(str(experiment["folder"])) / "runs" / f"{key}-seed2"
    spec = read_model((run_dir / "model.py").read_text(), "model.py").spec
    expected = variant.build(model("chollet"))  # type: ignore[attr-defined]
    assert explain(spec).total_params == explain(expected).total_params
    settings = json.loads((run_dir / "settings.json").read_text())
    assert settings["seed"] == 2 and settings["train_images"] == 1500


def test_table_markdown_and_figure(experiment: dict[str, object]) -> None:
    folder = Path(str(experiment["folder"]))
    md = (folder / "pooling.md").read_text()
    assert "| no pooling | 2,038,922 |" in md and "| max pooling | 93,322 |" in md
    assert "No pooling vs max pooling:" in md and "21.8x the parameters" in md
    assert png_size((folder / "pooling.png").read_bytes())[0] == 1000


def test_a_run_report_shows_what_its_experiment_found(
    experiment: dict[str, object], tmp_path: Path
) -> None:
    run_dir = Path(str(experiment["folder"])) / "runs" / "max-seed1"
    out = tmp_path / "report.html"
    code, _, err = run_cli("report", str(run_dir), "--output", str(out))
    assert code == 0, err
    page = Page(out.read_text())
    assert "Measured on mnist (1 epoch, 2 seeds per variant)" in page.words
    assert "Experiments on this model" in page.words
    assert any(a.get("id") == "pooling-experiment" for a in page.all("figure"))


def test_other_settings_in_the_same_folder_are_refused(
    experiment: dict[str, object], cli: Cli
) -> None:
    folder = str(experiment["folder"])
    code, _, err = cli(
        "experiment", "pooling", "--model", "chollet", "--output", folder,
        "--epochs", "2", "--seeds", "2", "--train-images", "1500",
    )  # fmt: skip
    assert code == 2 and "holds a pooling experiment with other settings (training differ)" in err
    assert len(err.strip().splitlines()) == 2


def test_a_model_without_pooling_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "flat.py"
    path.write_text(
        "from keras import layers, models\n"
        "model = models.Sequential([layers.Conv2D(4, 3, input_shape=(28, 28, 1)),\n"
        "    layers.Flatten(), layers.Dense(10, activation='softmax')])\n"
    )
    code, _, err = cli("experiment", "pooling", "--model", str(path), "--output", str(tmp_path))
    assert code == 2 and "has no MaxPooling2D or AveragePooling2D layer" in err
    assert sorted(os.listdir(tmp_path)) == ["flat.py"]  # nothing written


def test_augmented_experiment_trains_every_variant_augmented(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli(
        "experiment", "pooling", "--model", "chollet", "--augment", "shift=2,rotate=10",
        "--epochs", "1", "--seeds", "1", "--train-images", "600", "--output", str(tmp_path),
        "--quiet", "--json",
    )  # fmt: skip
    assert code == 0, err
    results = json.loads(out)
    assert results["augment"] == "shift=2,rotate=10"
    for key in ("max", "average", "strided", "none"):
        settings = json.loads((tmp_path / "runs" / f"{key}-seed1" / "settings.json").read_text())
        assert settings["augment"] == {"shift": 2, "rotate": 10.0}
    assert "augmented (shift=2,rotate=10)" in (tmp_path / "pooling.md").read_text()


def test_default_folder_names_what_differs() -> None:
    base = Settings(
        model="chollet",
        source="chollet",
        input_shape=(28, 28, 1),
        training=model("chollet").training,  # type: ignore[arg-type]
        seed=0,
        validation_split=None,
        device="cpu",
        precision="fp32",
        train_images=2000,
        augment=parse_augment("shift=2,rotate=10"),
    )
    folder = default_pooling_dir(base).path
    assert folder == Path("experiments/pooling-chollet-mnist-e5-shift2-rotate10-n2000")


def test_any_run_of_the_model_finds_the_default_experiment_folder(
    experiment: dict[str, object],
    chollet_run: tuple[Path, dict[str, object]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`experiment pooling` writes to experiments/pooling-<model>-<dataset>-*; a later
    `report` of any run of that model, from the same folder, shows what it found."""
    import shutil

    shutil.copytree(
        Path(str(experiment["folder"])), tmp_path / "experiments" / "pooling-chollet-mnist-e1"
    )
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli("report", str(chollet_run[0]), "--output", "r.html")
    assert code == 0, err
    words = Page((tmp_path / "r.html").read_text()).words
    assert "Measured on mnist (1 epoch, 2 seeds per variant)" in words
    assert "results in experiments/pooling-chollet-mnist-e1" in words


def test_a_sweep_over_the_variants_gives_the_experiments_numbers(
    experiment: dict[str, object], tmp_path: Path
) -> None:
    """`convscope sweep --grid pooling=...` trains what the experiment trains: the same
    networks, data and seeds give the same accuracies, seed for seed."""
    code, out, err = run_cli(
        "sweep", "chollet", "--grid", "pooling=max,average,strided,none", *SMALL,
        "--output", str(tmp_path / "sweep"), "--json",
    )  # fmt: skip
    assert code == 0, err
    swept = {(t["settings"]["pooling"], t["seed"]): t["test_accuracy"]
             for t in json.loads(out)["trials"]}  # fmt: skip
    folder = Path(str(experiment["folder"]))
    results = PoolingResults.from_dict(json.loads((folder / "pooling.json").read_text()))
    measured = {(v.key, r.seed): r.accuracy for v in results.variants for r in v.runs}
    assert swept == measured
