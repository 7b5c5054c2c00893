"""Hostile or broken model files: each refused with one clear message and exit code 2,
and nothing in them ever runs. The base file is a real .keras that convscope's own
exporter wrote (Keras 3 loads it, tests/keras/test_keras_files.py); each case damages it."""

from __future__ import annotations

import io
import itertools
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

import convscope as cs

from ..helpers import Cli

Damage = Callable[[Path, Path], Path]  # (good .keras, folder) -> a bad file


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("good") / "chollet.keras"
    cs.load("chollet", seed=1).export(path)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def rezip(folder: Path, name: str, parts: dict[str, bytes]) -> Path:
    out = folder / name
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in parts.items():
            archive.writestr(member, data)
    return out


def with_config(edit: Callable[[dict], None], name: str) -> Damage:  # type: ignore[type-arg]
    def damage(good: Path, folder: Path) -> Path:
        parts = members(good)
        config = json.loads(parts["config.json"])
        edit(config)
        parts["config.json"] = json.dumps(config).encode()
        return rezip(folder, name, parts)

    return damage


def layer(config: dict, index: int) -> dict:  # type: ignore[type-arg]
    return config["config"]["layers"][index]  # type: ignore[no-any-return]


def foreign_module(config: dict) -> None:  # type: ignore[type-arg]
    layer(config, 1)["module"] = "evil.layers"


def registered(config: dict) -> None:  # type: ignore[type-arg]
    layer(config, 1)["registered_name"] = "Evil>Conv2D"  # a keras module, a custom object


def function_activation(config: dict) -> None:  # type: ignore[type-arg]
    layer(config, 1)["config"]["activation"] = {
        "module": "builtins", "class_name": "function", "config": "os.system", "registered_name": "function",
    }  # fmt: skip


def functional(config: dict) -> list[dict]:  # type: ignore[type-arg]
    """The saved Sequential rewritten as the functional chain it is; its layers."""
    config["class_name"] = "Functional"
    layers = config["config"]["layers"]
    for entry in layers:
        entry["name"] = entry["config"]["name"]
    layers[0]["inbound_nodes"] = []
    for before, entry in itertools.pairwise(layers):
        entry["inbound_nodes"] = [[[before["name"], 0, 0, {}]]]
    config["config"]["input_layers"] = [[layers[0]["name"], 0, 0]]
    config["config"]["output_layers"] = [[layers[-1]["name"], 0, 0]]
    return layers  # type: ignore[no-any-return]


def merging(config: dict) -> None:  # type: ignore[type-arg]
    layers = functional(config)  # a chain whose last layer (a Dense) also takes the input
    layers[-1]["inbound_nodes"] = [[[layers[-2]["name"], 0, 0, {}], ["input_layer", 0, 0, {}]]]


def cycle(config: dict) -> None:  # type: ignore[type-arg]
    layers = functional(config)  # the first conv reads the last conv's output
    layers[1]["inbound_nodes"] = [[[layers[3]["name"], 0, 0, {}]]]


def two_outputs(config: dict) -> None:  # type: ignore[type-arg]
    layers = functional(config)
    config["config"]["output_layers"] = [[layers[-1]["name"], 0, 0], [layers[-2]["name"], 0, 0]]


def shared(config: dict) -> None:  # type: ignore[type-arg]
    layers = functional(config)  # one layer called on two tensors: two inbound nodes
    layers[2]["inbound_nodes"] = layers[2]["inbound_nodes"] * 2


def subclassed(config: dict) -> None:  # type: ignore[type-arg]
    config["class_name"] = "MyModel"


def padded_config(size: int, name: str) -> Damage:
    def damage(good: Path, folder: Path) -> Path:
        parts = members(good)
        parts["config.json"] = parts["config.json"] + b" " * size  # spaces: compress 1000x
        return rezip(folder, name, parts)

    return damage


def huge_declared(good: Path, folder: Path) -> Path:
    """A small file whose central directory declares a 4 GB config.json."""
    raw = bytearray(good.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + name_len] == b"config.json":
            struct.pack_into("<I", raw, at + 24, 0xFFFFFF00)  # uncompressed size
        at = raw.find(b"PK\x01\x02", at + 4)
    out = folder / "declared.keras"
    out.write_bytes(bytes(raw))
    return out


def truncated(good: Path, folder: Path) -> Path:
    out = folder / "cut.keras"
    out.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return out


def rewrite_weights(edit: Callable[[h5py.File], None], name: str) -> Damage:
    def damage(good: Path, folder: Path) -> Path:
        parts = members(good)
        buffer = io.BytesIO(parts["model.weights.h5"])
        with h5py.File(buffer, "a") as f:
            edit(f)
        parts["model.weights.h5"] = buffer.getvalue()
        return rezip(folder, name, parts)

    return damage


def wrong_shape(f: h5py.File) -> None:
    del f["layers/conv2d/vars/0"]
    f["layers/conv2d/vars"].create_dataset("0", data=np.zeros((5, 5, 1, 32), "float32"))


def missing_layer(f: h5py.File) -> None:
    del f["layers/dense"]


def integer_weights(f: h5py.File) -> None:
    del f["layers/dense/vars/1"]
    f["layers/dense/vars"].create_dataset("1", data=np.zeros(64, "int64"))


def legacy_with_link(kind: str) -> Damage:
    def damage(good: Path, folder: Path) -> Path:
        out = folder / f"{kind}.h5"
        config = members(good)["config.json"].decode()
        with h5py.File(out, "w") as f:
            f.attrs["model_config"] = config
            weights = f.create_group("model_weights")
            weights.attrs["layer_names"] = [b"conv2d"]
            if kind == "external":
                weights["conv2d"] = h5py.ExternalLink("/etc/secrets.h5", "/data")
            else:
                weights["conv2d"] = h5py.SoftLink("/elsewhere")
        return out

    return damage


def huge_number(good: Path, folder: Path) -> Path:
    """A filter count of 5,000 digits, written as JSON text (Python will not print it)."""
    parts = members(good)
    text = parts["config.json"].decode()
    assert '"filters": 32' in text
    parts["config.json"] = text.replace('"filters": 32', '"filters": ' + "9" * 5000, 1).encode()
    return rezip(folder, "n.keras", parts)


def weights_only(good: Path, folder: Path) -> Path:
    out = folder / "weights.h5"
    with h5py.File(out, "w") as f:
        f.create_group("conv2d")
    return out


CASES: dict[str, tuple[Damage, str]] = {
    "non-keras-module": (with_config(foreign_module, "m.keras"), "names the module 'evil.layers'"),
    "registered-object": (with_config(registered, "r.keras"), "is a registered custom object"),
    "function-in-config": (with_config(function_activation, "f.keras"), "holds a Python function"),
    "dense-on-two-tensors": (
        with_config(merging, "g.keras"),
        "dense_1 (Dense) is called on 2 tensors; only merge layers",
    ),
    "cycle": (with_config(cycle, "c.keras"), "the graph has a cycle"),
    "two-outputs": (
        with_config(two_outputs, "o.keras"),
        "the model has 2 outputs: convscope reads models with one input and one output",
    ),
    "shared-layer": (with_config(shared, "s.keras"), "is called 2 times (its weights shared)"),
    "subclassed-model": (with_config(subclassed, "s.keras"), "a subclassed model whose call()"),
    "zip-bomb": (padded_config(10_000_000, "bomb.keras"), "refused as a zip bomb"),
    "config-of-300-mb": (padded_config(300_000_000, "big.keras"), "config.json declares 300,"),
    "huge-declared-size": (huge_declared, "declares 4,294,967,040 bytes; the limit is"),
    "truncated-zip": (truncated, "truncated or damaged"),
    "wrong-shape": (
        rewrite_weights(wrong_shape, "w.keras"),
        "conv2d (Conv2D): the weights do not fit: the file has [(5, 5, 1, 32), (32,)], the layer needs [(3, 3, 1, 32), (32,)]",
    ),
    "missing-layer": (rewrite_weights(missing_layer, "l.keras"), "nothing for layer 'dense'"),
    "integer-weights": (
        rewrite_weights(integer_weights, "i.keras"),
        "holds int64, not floating-point",
    ),
    "external-link": (legacy_with_link("external"), "is an external link: refused"),
    "soft-link": (legacy_with_link("soft"), "is a soft link: refused"),
    "weights-only": (weights_only, "it holds weights only"),
    "number-of-5000-digits": (huge_number, "config.json is not readable JSON (Exceeds the limit"),
}


@pytest.mark.parametrize("case", CASES)
def test_refused_with_one_clear_message(case: str, good: Path, tmp_path: Path, cli: Cli) -> None:
    damage, message = CASES[case]
    bad = damage(good, tmp_path)
    r = cli("evaluate", str(bad), "--dataset", "mnist")
    assert r.code == 2, r.err
    assert message in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) <= 2
    assert r.err.startswith(f"convscope: {bad}") or str(bad.name) in r.err


def test_the_good_file_itself_is_read(good: Path, cli: Cli) -> None:
    r = cli("explain", str(good), "--json")
    assert r.code == 0 and json.loads(r.out)["total_params"] == 93_322


def test_a_model_that_is_not_28x28x1_gets_explain_and_a_clear_no(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "rgb.keras"
    cs.load("chollet").export(path)
    parts = members(path)
    config = json.loads(parts["config.json"])
    layer(config, 0)["config"]["batch_shape"] = [None, 32, 32, 3]
    parts["config.json"] = json.dumps(config).encode()
    rezip(tmp_path, "rgb3.keras", parts)
    r = cli("explain", str(tmp_path / "rgb3.keras"))
    assert r.code == 0 and "(None, 30, 30, 32)" in r.out
    r = cli("evaluate", str(tmp_path / "rgb3.keras"), "--dataset", "mnist")
    assert r.code == 2  # the conv kernel no longer fits 3 channels: said, not crashed
    assert "Traceback" not in r.err


@pytest.mark.slow
def test_lambda_and_custom_layers_never_run(tmp_path: Path, cli: Cli) -> None:
    from ..parity.keras_oracle import keras

    marker = tmp_path / "ran"

    def side_effect(x: object) -> object:
        marker.write_text("the Lambda ran")
        return x

    L = keras.layers
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), L.Lambda(side_effect), L.Flatten(), L.Dense(10)]
    )
    model.save(tmp_path / "lambda.keras")

    @keras.saving.register_keras_serializable(package="Evil")
    class Evil(L.Layer):  # type: ignore[misc]
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
            marker.write_text("the custom layer ran")

        def call(self, x: object) -> object:
            return x

    custom = keras.Sequential([keras.Input((28, 28, 1)), Evil(), L.Flatten(), L.Dense(10)])
    custom.save(tmp_path / "custom.keras")
    marker.unlink()
    for name, message in (("lambda.keras", "Lambda: a Lambda layer holds Python code"),
                          ("custom.keras", "custom code is never imported")):  # fmt: skip
        for command in (["explain"], ["evaluate", "--dataset", "mnist"]):
            r = cli(command[0], str(tmp_path / name), *command[1:])
            assert r.code == 2 and message in r.err, (name, r.err)
    assert not marker.exists()  # nothing in either file ran
