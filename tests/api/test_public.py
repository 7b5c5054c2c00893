"""The Python API as a notebook user calls it: light to import, same answers as the CLI,
clear errors, readable objects. No training here (see test_same_as_cli for that)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import convscope as cs
from convscope.core import presets

from ..helpers import Cli, Page, fresh_python

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


def test_import_and_explain_load_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "import convscope as cs\n"
        "heavy = ('torch', 'numpy', 'matplotlib', 'jinja2', 'keras', 'PIL')\n"
        "before = [m for m in heavy if m in sys.modules]\n"
        "ex = cs.explain('chollet')\n"
        "html = ex._repr_html_()\n"
        "after = [m for m in heavy if m in sys.modules]\n"
        "print(before, after, ex.total_params)\n"
    )
    assert fresh_python(code) == "[] [] 93322"


@pytest.mark.parametrize("preset", list(presets.PRESETS))
def test_explain_is_the_cli_json_text_and_markdown(cli: Cli, preset: str) -> None:
    ex = cs.explain(preset)
    assert ex.to_dict() == json.loads(cli("explain", preset, "--json").out)
    assert str(ex) == cli("explain", preset).out
    assert ex.to_markdown() == cli("explain", preset, "--markdown").out


def test_explain_a_file_code_and_another_input_shape(cli: Cli) -> None:
    path = FIXTURES / "keras_mnist_cnn.py"
    assert cs.explain(path).to_dict() == json.loads(cli("explain", str(path), "--json").out)
    code = path.read_text()
    from_code = cs.explain(code=code)
    assert from_code.total_params == 1_199_882 and from_code.source == "<code>"
    wide = cs.explain("chollet", input_shape=(32, 32, 3))
    assert wide.to_dict() == json.loads(
        cli("explain", "chollet", "--input-shape", "32,32,3", "--json").out
    )


def test_explain_renders_as_html_with_formulas_folded_per_row() -> None:
    ex = cs.explain("keras-mnist-cnn")
    html = ex._repr_html_()
    page = Page(html)
    assert len(page.all("details")) == len(ex.rows)  # one fold per layer
    for text in ("320", "18,496", "1,179,776", "(3*3*1 + 1) * 32 = 320", "28 - 3 + 1 = 26"):
        assert text in page.words, text
    assert not page.all("script") and not page.all("style")  # JupyterLab strips them
    assert "Notes" in page.words and "98.3%" in page.words
    assert repr(ex).startswith("<Explanation of keras-mnist-cnn ('sequential'): 8 layers")


def test_presets_are_the_cli_json(cli: Cli) -> None:
    found = cs.presets()
    assert found.to_dict() == json.loads(cli("presets", "--json").out)
    assert str(found) == cli("presets").out
    assert list(found) == list(presets.PRESETS)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cs.explain("nope"), "no preset or file named 'nope'"),
        (lambda: cs.explain("chollet", input_shape="12,12,1"), "does not fit a 1x1 input"),
        (lambda: cs.train("chollet", epochs=0), "epochs must be a positive integer, got 0"),
        (lambda: cs.train("chollet", lr=-1.0), "lr must be a positive number, got -1.0"),
        (lambda: cs.train("chollet", dataset="cifar"), "dataset must be one of mnist"),
        (lambda: cs.train("chollet", augment="spin=3"), "'spin=3' is not a setting"),
        (lambda: cs.train("chollet", validation_split=2.0), "validation_split must be between"),
        (lambda: cs.load("runs/none-such"), "no preset or file named"),
        (lambda: cs.compare(["a"]), "compare needs at least two runs, got 1"),
        (
            lambda: cs.load_data("cifar"),
            "name must be one of mnist, fashion-mnist, cifar10, cifar100",
        ),
    ],
    ids=[
        "unknown",
        "too-small",
        "epochs",
        "lr",
        "dataset",
        "augment",
        "split",
        "run",
        "compare",
        "data",
    ],
)
def test_mistakes_raise_convscope_error_a_value_error(call: Any, message: str) -> None:
    with pytest.raises(cs.ConvscopeError, match=message.replace("(", r"\(")) as caught:
        call()
    assert isinstance(caught.value, ValueError)
    assert len(str(caught.value).splitlines()) <= 2


def test_errors_read_as_the_cli_prints_them(cli: Cli) -> None:
    with pytest.raises(cs.ConvscopeError) as caught:
        cs.explain("chollet", input_shape="12,12,1")
    r = cli("explain", "chollet", "--input-shape", "12,12,1")
    assert r.code == 2 and r.err == f"convscope: {caught.value}\n"


def test_train_takes_the_cli_options_as_keywords() -> None:
    from convscope.core.settings import Options

    keywords = set(inspect.signature(cs.train).parameters) - {"model"}
    assert set(Options.__dataclass_fields__) <= keywords
    for name in ("explain", "train", "load", "load_data", "pooling", "compare", "resume"):
        assert inspect.getdoc(getattr(cs, name)), name
    assert "run directory" in (inspect.getdoc(cs.load) or "")


# ---- an untrained model: predictions and activations need no data ----


@pytest.fixture(scope="module")
def untrained() -> Any:
    return cs.load("chollet", seed=4)


def test_predict_takes_images_as_keras_does(untrained: Any) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    as_uint8 = untrained.predict(images)
    assert as_uint8.shape == (5, 10)
    np.testing.assert_allclose(as_uint8.sum(1), 1.0, rtol=1e-5)  # a softmax output
    np.testing.assert_allclose(untrained.predict(images / 255.0), as_uint8, atol=1e-6)
    np.testing.assert_allclose(untrained.predict(images[..., None]), as_uint8, atol=1e-6)
    np.testing.assert_allclose(untrained.predict(images[2]), as_uint8[2:3], atol=1e-6)
    # the oracle: the torch module itself on the Keras-layout input
    module = untrained.subject.model
    with torch.no_grad():
        direct = module(torch.tensor(images[..., None] / 255.0, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(as_uint8, direct, atol=1e-6)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (
            np.zeros((2, 28)),
            r"shape \(N, 28, 28\) or \(N, 28, 28, 1\), or one \(28, 28\) image; got \(2, 28\)",
        ),
        (np.full((1, 28, 28), 3.0), "float images must be scaled to 0-1"),
        (np.full((1, 28, 28), np.nan), "NaN"),
        (np.full((1, 28, 28), 300), "integer images must be 0-255"),
        (np.array([["a"] * 28] * 28), "must be numbers"),
        (np.zeros((1, 32, 32)), r"got \(1, 32, 32\)"),
        (np.zeros((0, 28, 28)), r"got \(0, 28, 28\)"),
    ],
    ids=["rank", "float-range", "nan", "int-range", "strings", "size", "empty"],
)
def test_predict_refuses_what_it_cannot_read(untrained: Any, images: Any, message: str) -> None:
    with pytest.raises(cs.ConvscopeError, match=message):
        untrained.predict(images)


def test_layer_outputs_name_every_layer_with_its_shape(untrained: Any) -> None:
    image = np.zeros((28, 28), dtype=np.uint8)
    image[8:20, 12:16] = 255
    outputs = untrained.layer_outputs(image)
    rows = untrained.explain().rows
    assert list(outputs) == [r.name for r in rows]
    assert [v.shape for v in outputs.values()] == [r.output_shape for r in rows]
    np.testing.assert_allclose(outputs[rows[-1].name], untrained.predict(image)[0], atol=1e-6)


def test_an_untrained_model_reads_as_such(untrained: Any) -> None:
    assert not untrained.trained and untrained.path is None
    assert repr(untrained) == "<Model: chollet (untrained; mnist)>"
    assert "93322" in untrained._repr_html_()


def test_predict_takes_an_array_shaped_like_a_flat_models_input(tmp_path: Path) -> None:
    """A Dense model whose input is (784,) takes (N, 784), as Keras's predict does: the
    same probabilities as for the (N, 28, 28) images it flattens, and torch's own."""
    source = tmp_path / "mlp.py"
    source.write_text(
        "from keras import layers, Sequential\n"
        "model = Sequential([layers.Dense(32, activation='relu', input_shape=(784,)),\n"
        "                    layers.Dense(10, activation='softmax')])\n"
    )
    model = cs.load(source, seed=2)
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    flat = images.reshape(5, 784)
    found = model.predict(flat)
    assert found.shape == (5, 10)
    np.testing.assert_array_equal(found, model.predict(images))
    np.testing.assert_array_equal(model.predict(flat / 255.0), found)
    with torch.no_grad():
        direct = model.subject.model.eval()(torch.from_numpy(flat / np.float32(255)))
    np.testing.assert_allclose(found, direct.numpy(), atol=1e-6)
    with pytest.raises(cs.ConvscopeError, match=r"or \(N, 784\) as the model takes"):
        model.predict(flat[:, :700])
