"""Models saved by real Keras 3 (torch backend), read by convscope without importing keras:
every parity model as .keras and as legacy .h5, a model trained in Keras, and the way
back (export to .keras and ONNX)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import convscope as cs
from convscope.core.source.read import read_model
from convscope.runtime import data

from ..helpers import Cli
from ..parity.cases import CASES
from ..parity.graph_cases import GRAPH_CASES
from ..parity.keras_oracle import keras, keras_model
from ..parity.test_graph_parity import ours as graph_summary
from ..parity.test_graph_parity import run_in_keras
from ..parity.test_graph_parity import summary as keras_summary

pytestmark = pytest.mark.slow  # Keras builds, saves and predicts every model


def saved(case: str, folder: Path) -> tuple[Any, dict[str, Path]]:
    """The case built in Keras with random weights (BN statistics too), saved both ways."""
    spec = read_model(CASES[case], f"{case}.py").spec
    model = keras_model(spec)
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            layer.set_weights(
                [rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.get_weights()]
            )
    paths = {"keras": folder / f"{case}.keras", "h5": folder / f"{case}.h5"}
    model.save(paths["keras"])
    model.save(paths["h5"])
    return model, paths


def outputs(model: Any, batch: np.ndarray) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(model.predict(batch, verbose=0)))


@pytest.mark.parametrize("case", CASES)
def test_every_parity_model_as_keras_and_h5(case: str, tmp_path: Path) -> None:
    reference, paths = saved(case, tmp_path)
    batch = (
        np.random.default_rng(0).uniform(0, 1, (4, *reference.input_shape[1:])).astype("float32")
    )
    expected = outputs(reference, batch)
    layers = [layer for layer in reference.layers if type(layer).__name__ != "InputLayer"]
    for kind, path in paths.items():
        ex = cs.explain(path)
        assert ex.total_params == reference.count_params(), kind
        assert [r.name for r in ex.rows] == [layer.name for layer in layers], kind
        for row, layer in zip(ex.rows, layers, strict=True):
            assert row.output_shape == tuple(layer.output.shape[1:]), (kind, row.name)
            assert row.params == layer.count_params(), (kind, row.name)
        model = cs.load(path, dataset="mnist").subject.model
        with torch.no_grad():
            ours = model(torch.from_numpy(batch)).numpy()
        np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5, err_msg=kind)


@pytest.mark.parametrize("case", GRAPH_CASES)
def test_a_branching_model_saved_by_keras(case: str, tmp_path: Path) -> None:
    """A graph saved by Keras as .keras and .h5: the same summary ("Connected to" too) and
    the same predictions (1e-5) from convscope, without keras."""
    reference = run_in_keras(GRAPH_CASES[case])
    rng = np.random.default_rng(2)
    for layer in reference.layers:
        if type(layer).__name__ == "BatchNormalization":
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32")
                               for w in layer.get_weights()])  # fmt: skip
    batch = rng.uniform(0, 1, (4, *reference.input_shape[1:])).astype("float32")
    expected = outputs(reference, batch)
    for kind in ("keras", "h5"):
        path = tmp_path / f"{case}.{kind}"
        reference.save(path)
        ex = cs.explain(path)
        assert graph_summary(ex) == keras_summary(reference), kind
        model = cs.load(path, dataset="mnist").subject.model
        with torch.no_grad():
            ours = model(torch.from_numpy(batch)).numpy()
        np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5, err_msg=kind)
    live = cs.load(reference, dataset="mnist").subject.model  # the keras.Model object itself
    with torch.no_grad():
        ours = live(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5, err_msg="live object")


def test_a_graph_exported_is_loaded_by_keras(tmp_path: Path) -> None:
    """convscope's .keras of a residual network: Keras loads it (safe mode) and predicts
    what convscope predicts."""
    model = cs.load("residual-mnist", seed=3)
    model.export(tmp_path / "r.keras")
    loaded = keras.models.load_model(tmp_path / "r.keras")
    assert [type(layer).__name__ for layer in loaded.layers].count("Add") == 3
    batch = np.random.default_rng(0).uniform(0, 1, (5, 28, 28, 1)).astype("float32")
    with torch.no_grad():
        ours = model.subject.model(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(ours, outputs(loaded, batch), rtol=1e-4, atol=1e-5)


def test_a_functional_chain_reads_as_sequential(tmp_path: Path) -> None:
    L = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = L.Conv2D(8, 3, activation="relu")(inputs)
    x = L.MaxPooling2D()(x)
    x = L.Flatten()(x)
    model = keras.Model(inputs, L.Dense(10, activation="softmax")(x))
    model.save(tmp_path / "f.keras")
    images = data.load("mnist").test_images[:100]
    ours = cs.load(tmp_path / "f.keras", dataset="mnist").predict(images)
    np.testing.assert_allclose(ours, outputs(model, images[..., None] / 255.0), atol=1e-5)
    assert cs.explain(tmp_path / "f.keras").total_params == model.count_params()


@pytest.fixture(scope="module")
def keras_trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """Chollet's convnet trained one epoch by Keras itself, on 6,000 MNIST images."""
    from convscope.core.presets import model as preset

    folder = tmp_path_factory.mktemp("keras-trained")
    model = keras_model(preset("chollet"))
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    mnist = data.load("mnist")
    x = mnist.train_images[:6000, ..., None].astype("float32") / 255
    model.fit(x, mnist.train_labels[:6000], batch_size=64, epochs=1, verbose=0)
    model.save(folder / "chollet.keras")
    model.save(folder / "chollet.h5")
    return model, folder


def test_a_model_trained_in_keras(keras_trained: tuple[Any, Path], cli: Cli) -> None:
    model, folder = keras_trained
    mnist = data.load("mnist")
    images = mnist.test_images[:100]
    expected = outputs(model, images[..., None].astype("float32") / 255)
    for name in ("chollet.keras", "chollet.h5"):
        path = folder / name
        loaded = cs.load(path, dataset="mnist")
        np.testing.assert_allclose(loaded.predict(images), expected, atol=1e-5, err_msg=name)
        r = cli("evaluate", str(path), "--dataset", "mnist", "--json")
        assert r.code == 0, r.err
        result = json.loads(r.out)
        x = mnist.test_images[..., None].astype("float32") / 255
        _, keras_accuracy = model.evaluate(x, mnist.test_labels, verbose=0)
        assert result["accuracy"] == pytest.approx(keras_accuracy, abs=1e-4)
        assert result["epochs"] is None and result["run_dir"] == str(path)


def test_the_cli_on_a_keras_file(keras_trained: tuple[Any, Path], cli: Cli, tmp_path: Path) -> None:
    path = str(keras_trained[1] / "chollet.keras")
    r = cli("explain", path)
    assert r.code == 0 and "93,322" in r.out and "(3*3*1 + 1) * 32 = 320" in r.out
    r = cli("show", path, "--dataset", "mnist", "--image", "7", "--output", str(tmp_path / "f"))
    assert r.code == 0, r.err
    assert len(list((tmp_path / "f").glob("*.png"))) == 8  # no training curves: no history
    r = cli("report", path, "--dataset", "mnist", "--output", str(tmp_path / "r.html"), "--json")
    assert r.code == 0, r.err
    page = (tmp_path / "r.html").read_text()
    assert "trained in Keras" in page and "Confusion matrix" in page
    r = cli("experiment", "probe", path, "--dataset", "mnist", "--train-images", "500",
            "--epochs", "1", "--json")  # fmt: skip
    assert r.code == 0, r.err
    assert json.loads(r.out)["model"] == "chollet"
    r = cli("evaluate", path)
    assert r.code == 2 and "does not say which data set" in r.err
    r = cli("predict", path, str(tmp_path / "f" / "filters.png"))  # a grey model: MNIST's or
    assert r.code == 2 and "mnist, fashion-mnist, cifar10 or cifar100" in r.err  # Fashion's?


def test_round_trip_through_keras(
    chollet_run: tuple[Path, dict[str, object]], tmp_path: Path, cli: Cli
) -> None:
    run = chollet_run[0]
    r = cli("export", str(run), "--format", "keras", "-o", str(tmp_path / "c.keras"))
    assert r.code == 0, r.err
    images = data.load("mnist").test_images[:100]
    ours = cs.load(run).predict(images)
    loaded = keras.models.load_model(tmp_path / "c.keras")  # safe_mode, as by default
    np.testing.assert_allclose(outputs(loaded, images[..., None] / 255.0), ours, atol=1e-5)
    back = cs.load(tmp_path / "c.keras", dataset="mnist")
    np.testing.assert_allclose(back.predict(images), ours, atol=1e-6)
    r = cli("export", str(run), "-o", str(tmp_path / "c.keras"))
    assert r.code == 2 and "exists" in r.err and "--force" in r.err


def test_onnx_export_matches(chollet_run: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    import onnxruntime

    model = cs.load(chollet_run[0])
    written = model.export(tmp_path / "c.onnx")
    assert written.format == "onnx" and written.size > 100_000
    assert "input (N, 28, 28, 1) floats 0-1 (pixels / 255)" in str(written)
    images = data.load("mnist").test_images[:100]
    session = onnxruntime.InferenceSession(str(tmp_path / "c.onnx"))
    got = session.run(None, {"images": (images[..., None] / 255.0).astype("float32")})[0]
    np.testing.assert_allclose(got, model.predict(images), atol=1e-5)


def test_onnx_export_of_a_graph_matches(tmp_path: Path) -> None:
    import onnxruntime

    model = cs.load("resnet20-cifar", seed=4)
    model.export(tmp_path / "r.onnx")
    images = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    session = onnxruntime.InferenceSession(str(tmp_path / "r.onnx"))
    got = session.run(None, {"images": (images / 255.0).astype("float32")})[0]
    np.testing.assert_allclose(got, model.predict(images), atol=1e-5)


def test_a_live_keras_model_and_predict_from_h5(
    keras_trained: tuple[Any, Path], cli: Cli, tmp_path: Path
) -> None:
    model, folder = keras_trained
    images = data.load("mnist").test_images[:100]
    live = cs.load(model, dataset="mnist")  # the object in the user's notebook
    np.testing.assert_allclose(
        live.predict(images), outputs(model, images[..., None] / 255.0), atol=1e-5
    )
    from PIL import Image

    Image.fromarray(255 - images[0]).save(tmp_path / "seven.png")  # dark ink on white
    r = cli(
        "predict",
        str(folder / "chollet.h5"),
        str(tmp_path / "seven.png"),
        "--dataset",
        "mnist",
        "--json",
    )
    assert r.code == 0, r.err
    assert json.loads(r.out)["class_name"] == "7"
    r = cli("export", str(folder / "chollet.h5"), "-o", str(tmp_path / "again.keras"), "--json")
    assert r.code == 0, r.err
    again = cs.load(folder / "chollet.h5", dataset="mnist").export(
        tmp_path / "again.keras", force=True
    )
    assert again.to_dict() == json.loads(r.out)
