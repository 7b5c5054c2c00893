"""The command line, in-process: output, JSON schema, exit codes, clean errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "seeds"


def test_explain_preset_prints_keras_summary_and_formulas(cli: Any) -> None:
    r = cli("explain", "keras-mnist-cnn")
    assert r.code == 0 and r.err == ""
    assert "Total params: 1,199,882 (4.58 MB)" in r.out
    assert "Trainable params: 1,199,882 (4.58 MB)" in r.out
    assert "Non-trainable params: 0 (0.00 B)" in r.out
    assert "dense (Dense)" in r.out and "(None, 26, 26, 32)" in r.out
    assert "(9216 + 1) * 128 = 1,179,776" in r.out


def test_json_is_one_object_with_the_documented_fields(cli: Any) -> None:
    r = cli("explain", "chollet", "--json")
    assert r.code == 0 and r.err == ""
    doc = json.loads(r.out)
    assert {
        "model",
        "input_shape",
        "layers",
        "total_params",
        "trainable_params",
        "non_trainable_params",
        "notes",
    } <= set(doc)
    assert doc["total_params"] == 93_322 and doc["non_trainable_params"] == 0
    first = doc["layers"][0]
    assert {
        "name",
        "type",
        "output_shape",
        "params",
        "trainable",
        "non_trainable",
        "receptive_field",
        "macs",
        "shape_formula",
        "params_formula",
    } <= set(first)
    assert first["output_shape"] == [None, 26, 26, 32]
    last_conv = doc["layers"][4]
    assert last_conv["name"] == "conv2d_2"
    assert last_conv["receptive_field"]["size"] == [18, 18]
    assert last_conv["receptive_field"]["jump"] == [4, 4]
    assert doc["layers"][5]["receptive_field"] is None  # flatten: no spatial position left


def test_markdown(cli: Any) -> None:
    r = cli("explain", "tf-course", "--markdown")
    assert r.code == 0
    assert "| conv2d (Conv2D) | `(None, 26, 26, 32)` | 320 |" in r.out


def test_stdin(cli: Any) -> None:
    source = (FIXTURES / "keras_mnist_cnn.py").read_text()
    r = cli("explain", "-", "--json", stdin=source)
    assert r.code == 0
    assert json.loads(r.out)["total_params"] == 1_199_882
    assert json.loads(r.out)["source"] == "<stdin>"


def test_file_path(cli: Any) -> None:
    r = cli("explain", str(FIXTURES / "coursera_fashion_fixed.py"))
    assert r.code == 0
    assert "(None, 5, 5, 64)" in r.out and "(None, 1600)" in r.out


def test_input_shape_override(cli: Any) -> None:
    r = cli("explain", "chollet", "--input-shape", "32,32,3", "--json")
    doc = json.loads(r.out)
    assert doc["input_shape"] == [None, 32, 32, 3]
    assert doc["layers"][0]["params"] == (3 * 3 * 3 + 1) * 32


ERRORS = {
    "syntax-error-paste": (
        ("explain", str(FIXTURES / "coursera_fashion_paste.py")),
        "line 5: syntax error: a comma is missing between the items on lines 5 and 6",
    ),
    "unknown-target": (("explain", "not-a-model"), "no preset or file named 'not-a-model'"),
    "directory": (("explain", str(FIXTURES)), "is a directory"),
    "bad-input-shape": (("explain", "chollet", "--input-shape", "28,x"), "--input-shape must be"),
    "too-small-input": (
        ("explain", "chollet", "--input-shape", "12,12,1"),
        "chollet: conv2d_2 (Conv2D, line 9): a 3x3 kernel does not fit a 1x1 input",
    ),
    "unknown-option": (("explain", "chollet", "--jsn"), "unrecognized arguments: --jsn"),
    "missing-model": (
        ("explain",),
        "convscope: explain: the following arguments are required: model",
    ),
    "json-and-markdown": (("explain", "chollet", "--json", "--markdown"), "not allowed with"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_exit_2_with_a_short_message_and_nothing_on_stdout(cli: Any, case: str) -> None:
    argv, expected = ERRORS[case]
    r = cli(*argv)
    assert r.code == 2
    assert r.out == ""
    assert expected in r.err
    assert 1 <= len(r.err.strip().splitlines()) <= 2
    assert "Traceback" not in r.err


def test_json_errors_go_to_stderr_only(cli: Any) -> None:
    r = cli(
        "explain",
        "-",
        "--json",
        stdin="import keras\nm = keras.Sequential([keras.layers.Dense(2)])\n",
    )
    assert r.code == 2 and r.out == "" and "no input shape" in r.err


def test_presets_lists_all(cli: Any) -> None:
    r = cli("presets")
    assert r.code == 0
    for name in ("chollet", "keras-mnist-cnn", "tf-course", "coursera-fashion"):
        assert name in r.out


def test_source_prints_preset_code(cli: Any) -> None:
    r = cli("explain", "chollet", "--source")
    assert r.code == 0 and "model.add(layers.Conv2D(32, (3, 3)" in r.out
