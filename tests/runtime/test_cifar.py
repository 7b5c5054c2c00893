"""CIFAR-10 and CIFAR-100 as keras.datasets gives them, from files made here in the real
formats: the official binary archive (tar.gz of label byte(s) + three 32x32 planes per
record), served on 127.0.0.1 and checked by SHA-256, and Keras's own cache of Python 2
pickles, read by an unpickler that builds numpy arrays and nothing else. Keras 3 is the
oracle: its own load_data() reads the same cache."""

from __future__ import annotations

import dataclasses
import io
import json
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

import convscope as cs
from convscope.core.errors import ConvscopeError
from convscope.runtime import cifar
from convscope.runtime.keras.datasets import read_pickle

from ..helpers import Cli, Server

pytestmark = pytest.mark.slow  # 60,000 images in two formats, and Keras as the oracle


def images_and_labels(count: int, classes: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Images told apart by their planes (R by index, G by label, B by position's row)."""
    index = np.arange(offset, offset + count)
    labels = ((index * 7) % classes).astype(np.uint8)
    x = np.empty((count, 32, 32, 3), np.uint8)
    x[..., 0] = (index % 251)[:, None, None]
    x[..., 1] = (labels * (255 // classes))[:, None, None]  # the class, for a model to learn
    x[..., 2] = np.arange(32, dtype=np.uint8)[None, :, None] * 8
    return x, labels


def binary_records(info: cifar.CifarInfo, x: np.ndarray, y: np.ndarray) -> bytes:
    table = np.empty((len(x), info.record), np.uint8)
    table[:, : info.label_bytes] = y[:, None] // 5 if info.label_bytes == 2 else y[:, None]
    table[:, info.label_bytes - 1] = y  # the fine label last (CIFAR-100: coarse first)
    table[:, info.label_bytes :] = x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # R, G, B planes
    return table.tobytes()


def batches(info: cifar.CifarInfo) -> list[tuple[np.ndarray, np.ndarray]]:
    classes, found, start = len(info.class_names), [], 0
    for _, count in info.batches:
        found.append(images_and_labels(count, classes, start))
        start += count
    return found


def archive(info: cifar.CifarInfo, path: Path) -> Path:
    """The official archive's layout: one folder holding its batch files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for member, (x, y) in zip((*info.train, *info.test), batches(info), strict=True):
            raw = binary_records(info, x, y)
            entry = tarfile.TarInfo(f"{info.folder}/{member}")
            entry.size = len(raw)
            tar.addfile(entry, io.BytesIO(raw))
    return path


def py2_string(data: bytes) -> bytes:
    """A Python 2 str as cPickle wrote it (SHORT_BINSTRING / BINSTRING)."""
    if len(data) < 256:
        return b"U" + bytes([len(data)]) + data
    return b"T" + struct.pack("<i", len(data)) + data


def py2_int(n: int) -> bytes:
    return b"K" + bytes([n]) if 0 <= n < 256 else b"J" + struct.pack("<i", n)


def py2_array(a: np.ndarray) -> bytes:
    """numpy's ndarray.__reduce__ as Python 2 numpy pickled a uint8 array (protocol 2)."""
    dtype = (b"cnumpy\ndtype\n" + py2_string(b"u1") + py2_int(0) + py2_int(1) + b"\x87R"
             + b"(" + py2_int(3) + py2_string(b"|") + b"NNN" + py2_int(-1) + py2_int(-1)
             + py2_int(0) + b"tb")  # fmt: skip
    shape = b"(" + b"".join(py2_int(d) for d in a.shape) + b"t"
    return (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + py2_int(0)
            + b"\x85" + py2_string(b"b") + b"\x87R" + b"(" + py2_int(1) + shape + dtype
            + b"\x89" + py2_string(a.tobytes()) + b"tb")  # fmt: skip


def py2_batch(entries: dict[bytes, object]) -> bytes:
    """A CIFAR batch as cPickle.dump(dict, protocol 2) wrote it under Python 2."""
    out = b"\x80\x02}("
    for key, value in entries.items():
        out += py2_string(key)
        if isinstance(value, np.ndarray):
            out += py2_array(value)
        elif isinstance(value, bytes):
            out += py2_string(value)
        else:
            assert isinstance(value, list)
            out += b"](" + b"".join(py2_int(int(v)) for v in value) + b"e"
    return out + b"u."


def keras_cache(info: cifar.CifarInfo, home: Path, keras3: bool = True) -> Path:
    """Keras's cache as keras.datasets leaves it (Keras 3: <name>-target/<name>/)."""
    name, train, test, key = info.keras
    folder = home / "datasets" / (f"{name}-target/{name}" if keras3 else name)
    folder.mkdir(parents=True)
    for member, (x, y) in zip((*train, *test), batches(info), strict=True):
        planes = x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # (N, 3072): R, G, B planes
        entries = {b"batch_label": member.encode(), key: [int(v) for v in y], b"data": planes}
        (folder / member).write_bytes(py2_batch(entries))
    return folder


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Both sets' archives, made once: their paths and SHA-256."""
    import hashlib

    folder = tmp_path_factory.mktemp("made")
    found = {}
    for name, info in cifar.CIFAR.items():
        path = archive(info, folder / name / info.archive)
        found[name] = (path, hashlib.sha256(path.read_bytes()).hexdigest())
    return found


@pytest.fixture
def generated(
    made: dict[str, tuple[Path, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, cifar.CifarInfo]:
    """The made archives' SHA-256 in place of the official ones; empty data folders."""
    infos = {}
    for name, info in cifar.CIFAR.items():
        infos[name] = dataclasses.replace(info, sha256=made[name][1])
        monkeypatch.setitem(cifar.CIFAR, name, infos[name])
    monkeypatch.setenv("CONVSCOPE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return infos


def expected(info: cifar.CifarInfo) -> tuple[np.ndarray, ...]:
    found = batches(info)
    train = found[: len(info.train)]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, *found[-1]


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_the_archive_downloads_once_checked_and_reads_as_keras_gives_it(
    name: str,
    generated: dict[str, cifar.CifarInfo],
    made: dict[str, tuple[Path, str]],
    server: Server,
    tmp_path: Path,
) -> None:
    info = generated[name]
    server.routes[f"/data/{info.archive}"] = (made[name][0].read_bytes(), None)
    nowhere = server.url.replace("/data/", "/nowhere/")  # a 404 first: the next mirror is tried
    loaded = cifar.load(name, mirrors=[nowhere, server.url])
    for got, want in zip(
        (loaded.train_images, loaded.train_labels, loaded.test_images, loaded.test_labels),
        expected(info),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)
    assert loaded.source == tmp_path / "cache" / "convscope" / name / info.archive
    server.routes.clear()  # now from the cache: nothing fetched
    (x_train, y_train), (x_test, y_test) = cs.load_data(name)
    assert x_train.shape == (50000, 32, 32, 3) and y_train.shape == (50000, 1)
    assert x_test.shape == (10000, 32, 32, 3) and y_test.shape == (10000, 1)
    assert x_train.dtype == y_train.dtype == np.uint8


def test_an_archive_that_is_not_the_official_one_is_refused(
    generated: dict[str, cifar.CifarInfo],
    made: dict[str, tuple[Path, str]],
    server: Server,
    tmp_path: Path,
) -> None:
    info = generated["cifar10"]
    tampered = bytearray(made["cifar10"][0].read_bytes())
    tampered[-100] ^= 1
    server.routes[f"/data/{info.archive}"] = (bytes(tampered), None)
    with pytest.raises(ConvscopeError, match="the SHA-256 is not the official one"):
        cifar.load("cifar10", mirrors=[server.url])
    assert not (tmp_path / "cache" / "convscope" / "cifar10").exists()  # nothing written


def test_keras_cache_is_read_as_keras_reads_it(
    generated: dict[str, cifar.CifarInfo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keras.src.datasets import cifar10 as keras_cifar10

    folder = keras_cache(generated["cifar10"], tmp_path / "keras")
    monkeypatch.setattr(keras_cifar10, "get_file", lambda **_: str(folder.parent))
    (kx, ky), (kx_test, ky_test) = keras_cifar10.load_data()  # Keras's own reading
    (x, y), (x_test, y_test) = cs.load_data("cifar10")
    for ours, theirs in ((x, kx), (y, ky), (x_test, kx_test), (y_test, ky_test)):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


def test_keras_2s_cache_layout_is_read_too(
    generated: dict[str, cifar.CifarInfo], tmp_path: Path
) -> None:
    keras_cache(generated["cifar100"], tmp_path / "keras", keras3=False)
    loaded = cifar.load("cifar100", allow_download=False)
    assert loaded.source.name == "cifar-100-python"
    for got, want in zip(
        (loaded.train_images, loaded.train_labels, loaded.test_images, loaded.test_labels),
        expected(generated["cifar100"]),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)


def test_a_hostile_pickle_in_keras_cache_is_refused_and_never_runs(
    generated: dict[str, cifar.CifarInfo], tmp_path: Path
) -> None:
    folder = keras_cache(generated["cifar10"], tmp_path / "keras")
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return os.system, (f"touch {marker}",)

    (folder / "data_batch_3").write_bytes(pickle.dumps({"data": Exploit()}, protocol=2))
    with pytest.raises(ConvscopeError) as error:
        cs.load_data("cifar10")
    assert "data_batch_3: refused: not a pickle of numpy arrays" in str(error.value)
    assert "system, which is not a numpy array" in str(error.value)
    assert not marker.exists()
    with pytest.raises(ConvscopeError, match="refused"):
        read_pickle(folder / "data_batch_3")
    assert not marker.exists()


def test_a_model_trains_and_is_evaluated_on_cifar10(
    generated: dict[str, cifar.CifarInfo],
    made: dict[str, tuple[Path, str]],
    tmp_path: Path,
    cli: Cli,
) -> None:
    """Colour images end to end: train (the archive found in $CONVSCOPE_DATA), evaluate
    with the classes' names. The generated images' classes are learnable (a plane's value)."""
    import shutil

    folder = tmp_path / "empty" / "cifar10"
    folder.mkdir(parents=True)
    shutil.copy(made["cifar10"][0], folder / generated["cifar10"].archive)
    source = tmp_path / "small_cifar.py"
    source.write_text(
        "from keras import layers, Sequential\n"
        "model = Sequential([layers.Input((32, 32, 3)), layers.Conv2D(8, 3, activation='relu'),\n"
        "    layers.MaxPooling2D(4), layers.Flatten(), layers.Dense(10, activation='softmax')])\n"
        "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
    )
    code, out, err = cli("train", str(source), "--dataset", "cifar10", "--epochs", "4",
                         "--train-images", "6000", "--seed", "1", "--quiet", "--json",
                         "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["test_accuracy"] >= 0.9
    code, out, err = cli("evaluate", result["run_dir"])
    assert code == 0, err
    assert "airplane" in out and "truck" in out
    x_test, y_test = expected(generated["cifar10"])[2:]
    found = cs.load(result["run_dir"]).predict(x_test[:500])  # as the model takes them
    assert found.shape == (500, 10) and np.mean(found.argmax(1) == y_test[:500]) >= 0.9
    np.testing.assert_allclose(
        cs.load(result["run_dir"]).predict(x_test[:500] / 255.0), found, atol=1e-6
    )
    code, _, err = cli("train", "chollet", "--dataset", "cifar10", "--train-images", "100")
    assert (
        code == 2
        and "the model takes inputs of shape (28, 28, 1), but these images are 32x32 with 3 channels"
        in err
    )


@pytest.mark.parametrize(
    "argv, made_here",
    [
        (["show"], "figures/filters.png"),
        (["report"], "report.html"),
        (["experiment", "attribution", "--images", "4", "--deletion-images", "40"],
         "experiments/attribution.png"),
        (["experiment", "occlusion", "--image", "3", "--stride", "4"],
         "experiments/occlusion-3.png"),
        (["show", "--attribution"], "figures/attribution.png"),
    ],
    ids=["show", "report", "attribution", "occlusion", "show-attribution"],
)  # fmt: skip
def test_looking_inside_a_colour_model(
    generated: dict[str, cifar.CifarInfo],
    made: dict[str, tuple[Path, str]],
    tmp_path: Path,
    cli: Cli,
    argv: list[str],
    made_here: str,
) -> None:
    """Every look inside works on CIFAR's 32 x 32 colour images, as on MNIST's."""
    import shutil

    folder = tmp_path / "empty" / "cifar10"
    folder.mkdir(parents=True)
    shutil.copy(made["cifar10"][0], folder / generated["cifar10"].archive)
    code, out, err = cli("train", "keras-cifar10-cnn", "--epochs", "1", "--train-images", "64",
                         "--quiet", "--json", "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert code == 0, err
    run = json.loads(out)["run_dir"]
    split = 2 if argv[0] == "experiment" else 1  # the command, the run, then its options
    code, out, err = cli(*argv[:split], run, *argv[split:])
    assert code == 0 and "Traceback" not in err, err
    assert (Path(run) / made_here).is_file(), out
