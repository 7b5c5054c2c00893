"""The user's own arrays: an .npz of x_train, y_train, x_test, y_test, or arrays in
memory given to cs.train as to Keras's fit(). The real data is scikit-learn's handwritten
digits (1,797 scans of 8x8 pixels, values 0 to 16, shipped with scikit-learn)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import convscope as cs
from convscope.core.errors import ConvscopeError

from ..helpers import Cli

DIGITS_MODEL = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    layers.Rescaling(1.0 / 16),
    layers.Conv2D(32, 3, activation="relu", padding="same"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test): the first 1,500 scans train, the rest test."""
    from sklearn.datasets import load_digits

    found = load_digits()
    x, y = found.images.astype(np.float32), found.target
    return x[:1500], y[:1500], x[1500:], y[1500:]


def write_npz(path: Path, **arrays: object) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


@pytest.mark.slow
def test_scikit_learn_digits_train_from_an_npz(
    tmp_path: Path, cli: Cli, digits: tuple[np.ndarray, ...]
) -> None:
    x_train, y_train, x_test, y_test = digits
    npz = write_npz(tmp_path / "digits.npz", x_train=x_train, y_train=y_train[:, None],
                    x_test=x_test, y_test=y_test[:, None])  # fmt: skip
    (tmp_path / "digits.py").write_text(DIGITS_MODEL)
    result = cli("train", str(tmp_path / "digits.py"), "--data", str(npz), "--epochs", "30",
                 "--seed", "1", "--quiet", "--json", "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert result.code == 0, result.err
    run = json.loads(result.out)
    assert run["test_accuracy"] >= 0.9
    evaluated = cli("evaluate", run["run_dir"], "--json")
    assert evaluated.code == 0, evaluated.err
    assert json.loads(evaluated.out)["count"] == 297


@pytest.mark.slow
def test_arrays_in_memory_train_as_fit_takes_them(
    tmp_path: Path, digits: tuple[np.ndarray, ...]
) -> None:
    x_train, y_train, x_test, y_test = digits
    (tmp_path / "digits.py").write_text(DIGITS_MODEL)
    one_hot = np.eye(10, dtype=np.float32)[y_train]  # as to_categorical gives them
    run = cs.train(
        tmp_path / "digits.py", x_train[..., None], one_hot,
        validation_data=(x_test[..., None], y_test),
        epochs=30, seed=1, quiet=True, runs_dir=tmp_path / "runs",
        class_names=[f"digit {d}" for d in range(10)],
    )  # fmt: skip
    assert run.test_accuracy >= 0.9
    kept = np.load(run.path / "arrays.npz", allow_pickle=False)
    assert np.array_equal(kept["y_train"], y_train) and kept["x_test"].shape == (297, 8, 8, 1)
    settings = json.loads((run.path / "settings.json").read_text())
    assert settings["training"]["dataset"] == "arrays.npz"
    model = cs.load(run.path)
    assert model.evaluate().accuracy == pytest.approx(run.test_accuracy)
    assert model.subject.class_names[3] == "digit 3"
    again = cs.resume(run, epochs=31, quiet=True)  # the arrays are read from the run
    assert again.epochs == 31


BAD = {
    "lengths-differ": ({"y_train": np.zeros(5)}, "x_train has 10 images but y_train 5 labels"),
    "label-out-of-range": (
        {"y_test": np.full(4, 12), "class_names": np.array(["a", "b", "c"])},
        "label 12 is out of range: the 3 classes are numbered 0 to 2",
    ),
    "negative-label": ({"y_train": np.full(10, -1)}, "label -1 is out of range"),
    "fractional-labels": ({"y_train": np.full(10, 0.5)}, "y_train holds fractions"),
    "pickled-objects": (
        {"x_train": np.array([object()] * 10, dtype=object)},
        "holds Python objects, which are not read",
    ),
    "missing-test": ({"x_test": None, "y_test": None}, "no x_test, y_test in it"),
    "image-sizes-differ": ({"x_test": np.zeros((4, 9, 9))}, "x_train's images are (8, 8)"),
    "one-class": (
        {"y_train": np.zeros(10, int), "y_test": np.zeros(4, int)},
        "a classifier needs two classes or more",
    ),
}


@pytest.mark.parametrize("change, message", BAD.values(), ids=BAD.keys())
def test_an_npz_that_cannot_be_trained_on(
    tmp_path: Path, cli: Cli, change: dict[str, object], message: str
) -> None:
    rng = np.random.default_rng(0)
    arrays: dict[str, object] = {
        "x_train": rng.random((10, 8, 8)), "y_train": np.arange(10) % 3,
        "x_test": rng.random((4, 8, 8)), "y_test": np.arange(4) % 3,
    }  # fmt: skip
    arrays.update(change)
    npz = write_npz(tmp_path / "bad.npz", **{k: v for k, v in arrays.items() if v is not None})
    (tmp_path / "digits.py").write_text(DIGITS_MODEL)
    result = cli("train", str(tmp_path / "digits.py"), "--data", str(npz),
                 "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert result.code == 2, result.err
    assert message in result.err and str(npz) in result.err
    assert "Traceback" not in result.err and not (tmp_path / "runs").exists()


def test_not_an_npz_at_all(tmp_path: Path, cli: Cli) -> None:
    npz = tmp_path / "photo.npz"
    npz.write_bytes(b"\x89PNG not a zip")
    (tmp_path / "digits.py").write_text(DIGITS_MODEL)
    result = cli("train", str(tmp_path / "digits.py"), "--data", str(npz))
    assert result.code == 2 and "not a readable .npz file" in result.err, result.err


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, y: cs.train("chollet", x, None), "give both x and y"),
        (lambda x, y: cs.train("chollet", x, y), re.escape("give validation_data=(x_test")),
        (lambda x, y: cs.train("chollet", x, y, dataset="mnist"), "not both"),
        (lambda x, y: cs.train("chollet", x, y[:5], validation_split=0.2), "labels"),
    ],
    ids=["no-labels", "no-test-images", "arrays-and-dataset", "lengths-differ"],
)
def test_arrays_in_memory_mistakes(call: object, message: str) -> None:
    x, y = np.zeros((10, 28, 28), np.uint8), np.arange(10)
    with pytest.raises(ConvscopeError, match=message):
        call(x, y)  # type: ignore[operator]
