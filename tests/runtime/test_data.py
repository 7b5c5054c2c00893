"""IDX reading and validation, data-set lookup, and downloads from a server on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

from convscope.core.errors import DataError
from convscope.runtime import data
from convscope.runtime.data import DatasetInfo, IdxFile
from convscope.runtime.keras.datasets import keras_datasets

from ..helpers import Server


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


IMAGES = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "gz"])
def test_reads_what_it_is_given(tmp_path: Path, compressed: bool) -> None:
    content = idx_bytes(IMAGES)
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(content) if compressed else content)
    assert np.array_equal(data.read_idx(path), IMAGES)


BROKEN = {
    "too-short": (b"\x00\x00", "too short for an IDX header"),
    "bad-magic": (b"\x12\x34\x08\x03" + b"\x00" * 12, "bad IDX magic number 0x12340803"),
    "wrong-type": (
        b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00" * 4,
        "bad IDX magic number 0x00000d01",
    ),
    "header-cut": (
        b"\x00\x00\x08\x03" + struct.pack(">I", 2),
        "the header needs 16 bytes, the file has 8",
    ),
    "truncated": (
        idx_bytes(IMAGES)[:-5],
        "truncated: the header says (2, 3, 4) (40 bytes), the file has 35",
    ),
    "extra-bytes": (
        idx_bytes(IMAGES) + b"\x00\x00",
        "2 bytes more than the header's (2, 3, 4) allows",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_files_say_exactly_what_is_wrong(tmp_path: Path, case: str) -> None:
    content, expected = BROKEN[case]
    path = tmp_path / case
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        data.read_idx(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_broken_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(IMAGES))[:-10])
    with pytest.raises(DataError, match="not a valid gzip file"):
        data.read_idx(path)


def test_known_file_checksum_and_shape(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(IMAGES)))
    good = IdxFile("x", (2, 3, 4), hashlib.sha256(idx_bytes(IMAGES)).hexdigest())
    assert data.read_idx(path, good).shape == (2, 3, 4)
    with pytest.raises(DataError, match="SHA-256 of the content is"):
        data.read_idx(path, IdxFile("x", (2, 3, 4), "0" * 64))
    with pytest.raises(DataError, match=r"shape \(2, 3, 4\), expected \(60000, 28, 28\)"):
        data.read_idx(path, IdxFile("x", (60000, 28, 28), good.sha256))


def test_real_mnist_loads_and_validates() -> None:
    mnist = data.load("mnist", allow_download=False)
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.test_images.shape == (
        10000,
        28,
        28,
    )
    assert mnist.train_labels.max() == 9 and np.bincount(mnist.test_labels).min() > 800
    fashion = data.load("fashion-mnist", allow_download=False)
    assert fashion.info.class_names[9] == "Ankle boot"
    assert not np.array_equal(fashion.test_images[:10], mnist.test_images[:10])


def test_data_dir_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVSCOPE_DATA", str(tmp_path / "elsewhere"))
    places = data.candidate_dirs("mnist", tmp_path / "mine")
    assert places[:3] == [
        tmp_path / "mine" / "mnist",
        tmp_path / "mine",
        tmp_path / "elsewhere" / "mnist",
    ]
    assert places[-2:] == [Path("/usr/share/datasets/mnist"), keras_datasets() / "mnist"]


def test_nothing_found_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONVSCOPE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataError) as caught:
        data.load("mnist", tmp_path / "nowhere", allow_download=False)
    message = str(caught.value)
    assert str(tmp_path / "nowhere") in message and str(tmp_path / "empty" / "mnist") in message
    assert "train-images-idx3-ubyte.gz" in message and len(message.splitlines()) == 2


def test_unknown_dataset() -> None:
    with pytest.raises(
        DataError, match="unknown data set 'cifar'; data sets: mnist, fashion-mnist"
    ):
        data.load("cifar")


# ---- downloads from a local server ----


def tiny_dataset() -> tuple[DatasetInfo, dict[str, bytes]]:
    """A four-file data set small enough to serve in every test, with its checksums."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 255, (6, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, (6,)),
        "t10k-images-idx3-ubyte": rng.integers(0, 255, (3, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, (3,)),
    }
    contents = {stem: idx_bytes(a) for stem, a in arrays.items()}
    files = [
        IdxFile(stem, arrays[stem].shape, hashlib.sha256(c).hexdigest())
        for stem, c in contents.items()
    ]
    info = DatasetInfo("tiny", "tiny", tuple("0123456789"), *files, mirrors=())
    return info, contents


def serve(server: Server, contents: dict[str, bytes]) -> None:
    for stem, content in contents.items():
        server.routes[f"/data/{stem}.gz"] = (gzip.compress(content), None)


def test_download_good_files(server: Server, tmp_path: Path) -> None:
    info, contents = tiny_dataset()
    serve(server, contents)
    paths = data.download(info, tmp_path / "cache", [server.url])
    for known in info.files:
        assert data.read_idx(paths[known.stem], known).shape == known.shape
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        f"{s}.gz" for s in contents
    )


def test_download_wrong_checksum_writes_nothing(server: Server, tmp_path: Path) -> None:
    info, contents = tiny_dataset()
    serve(
        server,
        {**contents, "t10k-labels-idx1-ubyte": idx_bytes(np.array([1, 2, 4], dtype=np.uint8))},
    )
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: .*SHA-256 of the content is"):
        data.download(info, tmp_path / "cache", [server.url])
    assert not (tmp_path / "cache" / "t10k-labels-idx1-ubyte.gz").exists()
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.endswith(".tmp")]


def test_download_truncated_transfer(server: Server, tmp_path: Path) -> None:
    info, contents = tiny_dataset()
    serve(server, contents)
    body = server.routes["/data/train-images-idx3-ubyte.gz"][0]
    server.routes["/data/train-images-idx3-ubyte.gz"] = (body[: len(body) // 2], len(body))
    with pytest.raises(DataError) as caught:
        data.download(info, tmp_path / "cache", [server.url])
    assert "train-images-idx3-ubyte.gz" in str(caught.value)
    assert "truncated" in str(caught.value) or "broke off" in str(caught.value)
    assert not (tmp_path / "cache" / "train-images-idx3-ubyte.gz").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_download_server_down(tmp_path: Path) -> None:
    info, _ = tiny_dataset()
    with pytest.raises(DataError, match="cannot connect"):
        data.download(info, tmp_path / "cache", [f"http://127.0.0.1:{free_port()}/data/"])


def test_download_falls_back_to_the_next_mirror(server: Server, tmp_path: Path) -> None:
    info, contents = tiny_dataset()
    serve(server, contents)
    down = f"http://127.0.0.1:{free_port()}/data/"
    paths = data.download(info, tmp_path / "cache", [down, server.url])
    assert len(paths) == 4


def test_load_downloads_real_mnist_into_the_cache(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: nothing local, so load() fetches the real files from 127.0.0.1."""
    shared = Path(os.environ["CONVSCOPE_DATA"]) / "mnist"
    for known in data.DATASETS["mnist"].files:
        server.routes[f"/data/{known.stem}.gz"] = ((shared / f"{known.stem}.gz").read_bytes(), None)
    monkeypatch.setenv("CONVSCOPE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mnist = data.load("mnist", mirrors=[server.url])
    assert mnist.source == tmp_path / "cache" / "convscope" / "mnist"
    assert mnist.test_images.shape == (10000, 28, 28)
    again = data.load("mnist", allow_download=False)  # now found in the cache
    assert np.array_equal(again.test_labels, mnist.test_labels)


# ---- Keras's own cache (~/.keras/datasets) ----


@pytest.mark.slow  # 70 MB of arrays compressed into an npz
def test_keras_mnist_npz_is_used_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keras.datasets.mnist's mnist.npz: read without pickle, each array checked against the
    official IDX file's SHA-256; one changed pixel is refused."""
    real = data.load("mnist")
    monkeypatch.setenv("CONVSCOPE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    npz = tmp_path / "keras" / "datasets" / "mnist.npz"
    npz.parent.mkdir(parents=True)
    arrays = {"x_train": real.train_images, "y_train": real.train_labels,
              "x_test": real.test_images, "y_test": real.test_labels}  # fmt: skip
    np.savez_compressed(npz, **arrays)
    found = data.load("mnist", allow_download=False)
    assert found.source == npz.parent and np.array_equal(found.test_labels, real.test_labels)
    assert np.array_equal(found.train_images, real.train_images)
    changed = real.test_images.copy()
    changed[0, 14, 14] ^= 1
    np.savez_compressed(npz, **{**arrays, "x_test": changed})
    with pytest.raises(DataError, match=r"mnist.npz: x_test: .*SHA-256"):
        data.load("mnist", allow_download=False)


def test_keras_fashion_mnist_folder_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = Path(os.environ["CONVSCOPE_DATA"]) / "fashion-mnist"
    monkeypatch.setenv("CONVSCOPE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    folder = tmp_path / "keras" / "datasets" / "fashion-mnist"  # as keras.datasets leaves it
    folder.mkdir(parents=True)
    for known in data.DATASETS["fashion-mnist"].files:
        (folder / f"{known.stem}.gz").write_bytes((shared / f"{known.stem}.gz").read_bytes())
    found = data.load("fashion-mnist", allow_download=False)
    assert found.source == folder and found.test_images.shape == (10000, 28, 28)
