"""Real trainings on subsets of the shared MNIST and Fashion-MNIST, through the CLI and the
run-directory API: accuracy reached, repeatability, interruption and resumption, NaN stops,
evaluation, and predict on real test images saved as PNG.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from convscope.core.augment import parse_augment
from convscope.core.errors import Diverged
from convscope.core.rundir import RunDir
from convscope.core.settings import Settings
from convscope.runtime import data, runs
from convscope.runtime.runs import load_tensors
from convscope.runtime.train import Silent, StopFlag

from ..helpers import Cli


def test_short_chollet_training_reaches_95_percent(
    chollet_run: tuple[Path, dict[str, object]],
) -> None:
    run_dir, result = chollet_run
    assert set(result) == {"run_dir", "test_accuracy", "test_loss", "epochs", "seconds"}
    assert float(str(result["test_accuracy"])) >= 0.95  # on all 10,000 test images
    assert result["epochs"] == 1
    names = {p.name for p in run_dir.iterdir()}
    assert {
        "model.py",
        "settings.json",
        "weights.safetensors",
        "checkpoint.safetensors",
        "history.json",
        "history.csv",
        "metrics.json",
    } <= names
    settings = json.loads((run_dir / "settings.json").read_text())
    assert settings["hyperparameters"] == {
        "learning_rate": 0.001,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-7,
        "centered": False,
    }
    assert settings["versions"]["torch"] == torch.__version__
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history) == 1 and history[0]["val_accuracy"] == pytest.approx(
        result["test_accuracy"], abs=1e-6
    )
    assert (run_dir / "history.csv").read_text().splitlines()[
        0
    ] == "epoch,loss,accuracy,val_loss,val_accuracy,seconds"


@pytest.mark.slow
def test_fashion_short_training_reaches_75_percent(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli(
        *shlex.split(
            "train tf-course --train-images 12000 --epochs 1 --seed 1 --quiet --json --runs-dir"
        ),
        str(tmp_path),
    )
    assert code == 0, err
    assert json.loads(out)["test_accuracy"] >= 0.75  # 1 epoch on 12,000 images; 5 on all: 90%


@pytest.mark.slow
def test_evaluate_matches_training_and_adds_up(
    cli: Cli, chollet_run: tuple[Path, dict[str, object]]
) -> None:
    run_dir, result = chollet_run
    code, out, err = cli("evaluate", str(run_dir), "--json")
    assert code == 0, err
    report = json.loads(out)
    # train's score is its last validation (the test set, the same weights): a fresh
    # evaluation from the saved weights gives the same numbers
    assert report["accuracy"] == pytest.approx(result["test_accuracy"], abs=1e-6)
    assert report["loss"] == pytest.approx(result["test_loss"], rel=1e-5)
    matrix = np.array(report["confusion"])
    assert matrix.sum() == 10000 and matrix.shape == (10, 10)
    assert np.trace(matrix) / 10000 == pytest.approx(report["accuracy"])
    assert [c["count"] for c in report["classes"]] == list(matrix.sum(1))
    assert report["classes"][1]["count"] == 1135  # MNIST's test set holds 1,135 ones
    worst = report["most_confused"][0]
    assert worst["count"] == max(matrix[t, p] for t in range(10) for p in range(10) if t != p)
    code, text, _ = cli("evaluate", str(run_dir))
    assert "Confusion matrix" in text and f"{report['accuracy']:.2%}" in text


@pytest.fixture(scope="module")
def test_images() -> data.Dataset:
    return data.load("mnist")


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4])
def test_predict_gives_a_real_test_digits_label(
    cli: Cli,
    chollet_run: tuple[Path, dict[str, object]],
    test_images: data.Dataset,
    tmp_path: Path,
    index: int,
) -> None:
    """The first five test digits (7, 2, 1, 0, 4), saved as PNG as a user would have them."""
    png = tmp_path / f"digit{index}.png"
    Image.fromarray(test_images.test_images[index]).save(png)
    code, out, err = cli("predict", str(chollet_run[0]), str(png), "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["predicted"] == int(test_images.test_labels[index])
    assert answer["preparation"][0].startswith("already 28x28")
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_predict_prepares_a_large_dark_on_white_colour_image(
    cli: Cli, chollet_run: tuple[Path, dict[str, object]], test_images: data.Dataset, tmp_path: Path
) -> None:
    """A 7 drawn dark on white, 5x larger, in RGB with a margin: inverted, cropped, scaled, centred."""
    digit = 255 - test_images.test_images[0]  # the 7, dark ink on white
    big = Image.fromarray(digit).resize((140, 140), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (300, 220), "white")
    canvas.paste(big.convert("RGB"), (120, 30))
    png = tmp_path / "drawn7.png"
    canvas.save(png)
    code, out, err = cli("predict", str(chollet_run[0]), str(png))
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"{png}: 7 ")
    for step in ("grayscale", "inverted", "cropped", "scaled to", "centre of mass"):
        assert step in out


# A small model with Dropout and BatchNormalization: resuming must restore the dropout
# random generator and BN's moving statistics too (chollet has neither).
DROPOUT_BN = """
import keras
from keras import layers
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(8, 3, activation="relu"),
    layers.BatchNormalization(),
    layers.MaxPooling2D(2),
    layers.Dropout(0.3),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
"""


def quick_settings(
    seed: int = 5,
    epochs: int = 2,
    source: str | None = None,
    augment: str = "",
    preset: str = "chollet",
) -> tuple[Settings, object, str]:
    from dataclasses import replace

    from convscope.core import presets
    from convscope.core.source.read import read_model

    chollet = presets.model(preset)
    assert chollet.training is not None
    training = replace(chollet.training, epochs=epochs)
    spec = chollet if source is None else read_model(source, "dropout_bn.py").spec
    settings = Settings(
        model="quick",
        source="chollet",
        input_shape=spec.input_shape,
        training=training,
        seed=seed,
        validation_split=None,
        device="cpu",
        precision="fp32",
        train_images=3000,
        augment=parse_augment(augment),
    )
    return settings, replace(spec, training=training), source or presets.get(preset).source


class StopAt:
    """An observer that asks the run to stop after a given batch of a given epoch (a Ctrl-C)."""

    def __init__(self, stop: StopFlag, epoch: int, step: int) -> None:
        self.stop, self.at, self.epoch = stop, (epoch, step), -1

    def epoch_begin(self, epoch: int, epochs: int, steps: int) -> None:
        self.epoch = epoch

    def batch_end(self, step: int, logs: dict[str, float]) -> None:
        if (self.epoch, step) == self.at:
            self.stop.request()

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        pass


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_tensors(RunDir(run_dir).weights)[0]


def history(run_dir: Path) -> list[dict[str, float]]:
    return [
        {k: v for k, v in h.items() if k not in ("seconds", "samples_per_second")}
        for h in json.loads((run_dir / "history.json").read_text())
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "epoch", "step", "augment", "preset"),
    [
        (None, 0, 17, "", "chollet"),
        (None, 1, 1, "", "chollet"),
        (None, 0, 47, "", "chollet"),
        (DROPOUT_BN, 0, 30, "", "chollet"),
        (None, 0, 20, "shift=2,rotate=10", "chollet"),
        (None, 0, 5, "", "speedrun"),  # a learning-rate schedule and label smoothing
    ],
    ids=[
        "mid-first-epoch",
        "second-epoch",
        "last-batch",
        "dropout-batchnorm",
        "augmented",
        "scheduled",
    ],
)
def test_interrupted_and_resumed_ends_where_uninterrupted_does(
    tmp_path: Path, model: str | None, epoch: int, step: int, augment: str, preset: str
) -> None:
    settings, spec, source = quick_settings(source=model, augment=augment, preset=preset)
    whole = runs.start(spec, source, settings, tmp_path / "a")  # type: ignore[arg-type]
    assert whole.fit(Silent(), StopFlag())

    part = runs.start(spec, source, settings, tmp_path / "b")  # type: ignore[arg-type]
    stop = StopFlag()
    finished = part.fit(StopAt(stop, epoch, step), stop)
    assert finished == (step == part.trainer.steps and epoch == 1)
    resumed = runs.resume(part.dir)
    assert resumed.trainer.position.epoch == epoch + (step == resumed.trainer.steps)
    assert resumed.fit(Silent(), StopFlag())

    a, b = weights(whole.dir), weights(part.dir)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name  # bit for bit, not just close
    assert history(whole.dir) == history(part.dir)


@pytest.mark.slow
def test_same_seed_same_weights_other_seed_other_weights(tmp_path: Path) -> None:
    settings, spec, source = quick_settings(epochs=1)
    first, second = (runs.start(spec, source, settings, tmp_path / n) for n in "ab")  # type: ignore[arg-type]
    for run in (first, second):
        run.fit(Silent(), StopFlag())
    from dataclasses import replace

    other = runs.start(spec, source, replace(settings, seed=6), tmp_path / "c")  # type: ignore[arg-type]
    other.fit(Silent(), StopFlag())
    a, b, c = (weights(r.dir) for r in (first, second, other))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["layers.0.conv.weight"], c["layers.0.conv.weight"])


def test_nan_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    settings, spec, source = quick_settings(epochs=1)
    run = runs.start(spec, source, settings, tmp_path)  # type: ignore[arg-type]
    assert run.fit(Silent(), StopFlag())
    good = (run.dir / "checkpoint.safetensors").read_bytes(), (RunDir(run.dir).weights).read_bytes()
    more = runs.resume(run.dir, epochs=2)
    more.trainer.optimizer.lr = 1e30  # a learning rate no network survives
    with pytest.raises(
        Diverged, match=r"epoch 2, batch \d+: the learning rate \(1e\+30 for rmsprop\)"
    ):
        more.fit(Silent(), StopFlag())
    assert (run.dir / "checkpoint.safetensors").read_bytes() == good[0]
    assert (RunDir(run.dir).weights).read_bytes() == good[1]


def test_cli_nan_exit_code_and_message(cli: Cli, tmp_path: Path) -> None:
    code, _out, err = cli(
        *shlex.split(
            "train chollet --train-images 640 --epochs 1 --optimizer sgd --lr 1e12 --quiet --runs-dir"
        ),
        str(tmp_path),
    )
    assert code == 3
    assert "NaN or infinite" in err and "learning rate (1e+12 for sgd)" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(tmp_path: Path) -> None:
    """A real SIGINT to a real `convscope train` process, then --resume."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "convscope",
        "train",
        "chollet",
        "--epochs",
        "2",
        "--train-images",
        "12000",  # two seconds an epoch here: the signal lands in the first
        "--seed",
        "1",
        "--runs-dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if line.startswith("Epoch 1/2"):
            break
    time.sleep(0.5)  # some batches into the first epoch
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    stderr = "".join(lines) + rest
    assert process.returncode == 130, stderr
    assert "checkpoint saved" in stderr and "--resume" in stderr and "Traceback" not in stderr
    [run_dir] = list(tmp_path.iterdir())
    assert (run_dir / "checkpoint.safetensors").exists() and not (RunDir(run_dir).weights).exists()

    done = subprocess.run(
        [sys.executable, "-m", "convscope", "train", "--resume", str(run_dir), "--quiet", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["epochs"] == 2
    assert len(json.loads((run_dir / "history.json").read_text())) == 2


# (id, arguments, exit code, words the message must hold)
MISTAKES = [
    ("no-model", ["train"], "train needs a model"),
    ("resume-with-new-rate", ["train", "--resume", "runs/x", "--lr", "0.1"], "--lr cannot change"),
    (
        "resume-not-a-run",
        ["train", "--resume", "."],
        "is not a run directory: it has no settings.json",
    ),
    (
        "bad-split",
        ["train", "chollet", "--validation-split", "1.5", "--train-images", "100"],
        "between 0 and 1, got 1.5",
    ),
    ("bad-lr", ["train", "chollet", "--lr", "-1"], "must be a positive number, got '-1'"),
    (
        "unknown-optimizer",
        ["train", "chollet", "--optimizer", "lbfgs"],
        "unknown optimizer 'lbfgs'",
    ),
    (
        "evaluate-not-a-run",
        ["evaluate", "/nonexistent/run"],
        "is not a run directory (no such folder)",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES]
)
def test_mistakes_exit_2_with_one_message(cli: Cli, args: list[str], message: str) -> None:
    code, _out, err = cli(*args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2


def test_model_that_does_not_fit_the_data(cli: Cli, tmp_path: Path) -> None:
    colour = tmp_path / "cifar.py"
    colour.write_text(
        "import keras\nm = keras.Sequential([keras.layers.Conv2D(4, 3, input_shape=(32, 32, 3)),"
        " keras.layers.Flatten(), keras.layers.Dense(10, activation='softmax')])\n"
    )
    code, _, err = cli("train", str(colour), "--runs-dir", str(tmp_path / "runs"))
    assert code == 2 and "takes inputs of shape (32, 32, 3)" in err and str(colour) in err
    five = tmp_path / "five.py"
    five.write_text(
        "import keras\nm = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28, 1)),"
        " keras.layers.Dense(5, activation='softmax')])\n"
    )
    code, _, err = cli("train", str(five), "--runs-dir", str(tmp_path / "runs"))
    assert code == 2 and "outputs (5,), but the data set has 10 classes" in err
    assert not (tmp_path / "runs").exists()  # nothing written for a model that cannot train


def test_predict_mistakes(
    cli: Cli, chollet_run: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    code, _, err = cli("predict", str(chollet_run[0]), str(text))
    assert code == 2 and "not an image that Pillow can read" in err
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    code, _, err = cli("predict", str(chollet_run[0]), str(blank))
    assert code == 2 and "blank" in err


def test_broken_or_foreign_weights_are_named(
    cli: Cli, chollet_run: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(chollet_run[0], run_dir)
    (RunDir(run_dir).weights).write_bytes(b"not safetensors at all")
    code, _, err = cli("evaluate", str(run_dir))
    assert code == 2 and "weights.safetensors: not a readable safetensors file" in err
    shutil.copy(RunDir(chollet_run[0]).weights, RunDir(run_dir).weights)
    (run_dir / "model.py").write_text(DROPOUT_BN)  # another model than the weights'
    code, _, err = cli("evaluate", str(run_dir))
    assert code == 2 and "the weights do not fit model.py's" in err and "Traceback" not in err


def test_cuda_request_without_a_gpu_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli(
        *shlex.split("train chollet --device cuda --train-images 64 --epochs 1 --quiet --runs-dir"),
        str(tmp_path),
    )
    if torch.cuda.is_available():  # a GPU machine: it must train there instead
        assert code == 0, err
    else:
        assert code == 2 and "sees no CUDA GPU" in err
