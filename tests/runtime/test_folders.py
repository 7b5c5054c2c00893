"""A folder of the user's photos, read by image_dataset_from_directory's rules: Keras 3's
own index_directory and get_training_or_validation_split (they run without TensorFlow)
are the oracle for which files train and which validate; Keras's bilinear resize for the
pixels. The photos are generated here: coloured shapes, one subfolder per class."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import convscope as cs
from convscope.core.errors import DataError
from convscope.runtime import folders, imagecache

from ..helpers import Cli, shapes_folder, shapes_model


def keras_files(folder: Path, split: float, seed: int) -> tuple[list[str], list[str]]:
    """(training, validation) files, relative to the folder, as Keras 3 picks them."""
    from keras.src.utils import dataset_utils, image_dataset_utils

    paths, labels, _ = dataset_utils.index_directory(
        str(folder), "inferred", formats=image_dataset_utils.ALLOWLIST_FORMATS,
        shuffle=True, seed=seed, verbose=False,
    )  # fmt: skip
    picked = [
        dataset_utils.get_training_or_validation_split(paths, labels, split, subset)[0]
        for subset in ("training", "validation")
    ]
    return tuple([os.path.relpath(p, folder) for p in files] for files in picked)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shapes, plus what index_directory has rules for: a nested folder, an upper-case
    extension, a file that is not an image by name, a hidden folder that is no class."""
    root = shapes_folder(tmp_path_factory.mktemp("awkward") / "photos", 23, classes=3)
    (root / "circle" / "more").mkdir()
    Image.new("RGB", (30, 30), (200, 0, 0)).save(root / "circle" / "more" / "deep.PNG")
    (root / "square" / "notes.txt").write_text("not an image, by its name")
    (root / ".hidden").mkdir()
    Image.new("RGB", (30, 30)).save(root / ".hidden" / "x.png")
    return root


@pytest.mark.parametrize("split", [0.2, 0.35])
@pytest.mark.parametrize("seed", [0, 42, 1337])
def test_the_split_is_keras_own_for_a_seed(awkward: Path, seed: int, split: float) -> None:
    indexed = folders.index_folder(awkward, str(awkward))
    train, held = folders.keras_split(len(indexed.files), split, seed)
    ours = [[indexed.files[i] for i in part] for part in (train, held)]
    assert tuple(ours) == keras_files(awkward, split, seed)
    assert indexed.class_names == ("circle", "square", "triangle")
    assert "circle/more/deep.PNG" in indexed.files and len(indexed.files) == 70


def test_photos_are_resized_as_keras_resizes_them(tmp_path: Path) -> None:
    """Keras: PIL decodes, keras.ops.image.resize (bilinear, half-pixel, no antialias)
    resizes to floats; the cache keeps them rounded, within half a grey level."""
    import keras

    rng = np.random.default_rng(3)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (75, 50, 3), dtype=np.uint8)).save(path)
    for size, channels in (((32, 32), 3), ((20, 64), 3), ((40, 30), 1)):
        ours = imagecache.decode(path, size, channels)
        mode = "rgb" if channels == 3 else "grayscale"
        pil = np.asarray(keras.utils.load_img(path, color_mode=mode), dtype=np.float32)
        pil = pil.reshape(75, 50, channels)
        theirs = np.asarray(keras.ops.image.resize(pil, size, interpolation="bilinear"))
        assert ours.shape == (*size, channels)
        assert np.abs(ours.astype(np.float32) - theirs).max() <= 0.5 + 1e-3


def write_bad(folder: Path) -> None:
    (folder / "circle" / "broken.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    (folder / "square" / "empty.png").write_bytes(b"")
    os.mkfifo(folder / "square" / "pipe.png")  # reading it would wait for a writer forever


def test_files_that_are_not_images_are_all_named(tmp_path: Path, cli: Cli) -> None:
    photos = shapes_folder(tmp_path / "photos", 6)
    write_bad(photos)
    model = shapes_model(tmp_path / "model.py")
    result = cli("train", str(model), "--data", str(photos), "--epochs", "1",
                 "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert result.code == 2, result.err
    assert "3 of 21 files are not readable images" in result.err
    assert "circle/broken.jpg" in result.err and "square/empty.png" in result.err
    assert "square/pipe.png (a pipe or a device" in result.err
    assert "--skip-bad-images" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "runs").exists()  # nothing written half
    result = cli("train", str(model), "--data", str(photos), "--epochs", "1", "--quiet",
                 "--skip-bad-images", "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert result.code == 0, result.err
    assert "left out 3 files" in result.err
    (run,) = (tmp_path / "runs").iterdir()
    skipped = json.loads((run / "settings.json").read_text())["skipped_images"]
    assert [s.split(" ")[0] for s in skipped] == [
        "circle/broken.jpg", "square/empty.png", "square/pipe.png"
    ]  # fmt: skip
    for photo in ("square/pipe.png", "circle/broken.jpg"):  # and one photo as predict takes it
        one = cli("predict", str(run), str(photos / photo))
        assert one.code == 2 and "not a readable image" in one.err, one.err


@pytest.mark.parametrize(
    "layout, message",
    [
        ({"cats": 3}, "needs one subfolder per class, at least two; found one, cats/"),
        ({}, "found none"),
        ({"cats": 3, "dogs": 0}, "the class folder dogs/ holds no images"),
    ],
    ids=["one-class", "no-class", "empty-class"],
)
def test_folders_a_classifier_cannot_learn_from(
    tmp_path: Path, cli: Cli, layout: dict[str, int], message: str
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name, count in layout.items():
        (photos / name).mkdir()
        for i in range(count):
            Image.new("RGB", (8, 8)).save(photos / name / f"{i}.png")
    result = cli("train", str(shapes_model(tmp_path / "m.py")), "--data", str(photos),
                 "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert result.code == 2 and message in result.err, result.err
    assert len(result.err.strip().splitlines()) <= 2 and not (tmp_path / "runs").exists()


def test_a_model_that_does_not_fit_the_photos_names_both_shapes(tmp_path: Path, cli: Cli) -> None:
    photos = shapes_folder(tmp_path / "photos", 4)
    model = shapes_model(tmp_path / "m.py")
    result = cli("train", str(model), "--data", str(photos), "--image-size", "40,40",
                 "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert result.code == 2, result.err
    assert "(32, 32, 3)" in result.err and "40x40 with 3 channels" in result.err
    assert "--image-size" in result.err


def test_the_cache_is_decoded_once_and_follows_the_files(tmp_path: Path) -> None:
    photos = shapes_folder(tmp_path / "photos", 5)
    indexed = folders.index_folder(photos, "photos")
    first = imagecache.decoded(indexed, (16, 16), 3, skip_bad=False)
    (cached,) = (photos / imagecache.CACHE).glob("*.npy")
    stamp = cached.stat().st_mtime_ns
    again = imagecache.decoded(folders.index_folder(photos, "photos"), (16, 16), 3, False)
    assert cached.stat().st_mtime_ns == stamp and np.array_equal(first.images, again.images)
    Image.new("RGB", (16, 16), (255, 255, 255)).save(photos / "circle" / "circle.0.png")
    changed = imagecache.decoded(folders.index_folder(photos, "photos"), (16, 16), 3, False)
    assert len(list((photos / imagecache.CACHE).glob("*.npy"))) == 2
    row = indexed.files.index("circle/circle.0.png")
    assert (changed.images[row] == 255).all() and not (first.images[row] == 255).all()


def test_a_folder_that_cannot_hold_the_cache_uses_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where .convscope-cache/ cannot be made (here a file holds its name, which stops
    root as well as a read-only folder stops a user), the user's cache folder is used."""
    photos = shapes_folder(tmp_path / "photos", 3)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (photos / imagecache.CACHE).write_text("in the way")
    imagecache.decoded(folders.index_folder(photos, "p"), (8, 8), 1, False)
    assert list((tmp_path / "cache" / "convscope" / "folders").glob("*/*.npy"))


def test_chollet_train_validation_test_folders(tmp_path: Path) -> None:
    for part, seed in (("train", 0), ("validation", 1), ("test", 2)):
        shapes_folder(tmp_path / "cats_vs_dogs_small" / part, 4, classes=2, seed=seed)
    read = folders.read_folder(
        tmp_path / "cats_vs_dogs_small", (16, 16), 3, validation_split=None, seed=0,
        skip_bad=False,
    )  # fmt: skip
    assert read.class_names == ("circle", "square")
    assert [len(part[1]) for part in (read.train, read.validation, read.test)] == [8, 8, 8]
    assert read.validation_name == "validation/"
    (tmp_path / "cats_vs_dogs_small" / "test" / "square").rename(
        tmp_path / "cats_vs_dogs_small" / "test" / "squares"
    )
    with pytest.raises(DataError, match="differ from train/'s"):
        folders.read_folder(tmp_path / "cats_vs_dogs_small", (16, 16), 3,
                            validation_split=None, seed=0, skip_bad=False)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("classes", [3, 2], ids=["softmax-3", "sigmoid-2"])
def test_a_folder_of_shapes_trains_evaluates_and_resumes(
    tmp_path: Path, cli: Cli, classes: int
) -> None:
    photos = shapes_folder(tmp_path / "photos", 200, classes=classes)
    model = shapes_model(tmp_path / "model.py", classes)
    result = cli("train", str(model), "--data", str(photos), "--epochs", "10",
                 "--batch-size", "16", "--seed", "1", "--json", "--quiet",
                 "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert result.code == 0, result.err
    run = json.loads(result.out)
    assert run["test_accuracy"] >= 0.9
    report = cli("evaluate", run["run_dir"])
    assert report.code == 0, report.err
    for name in ("circle", "square", "triangle")[:classes]:
        assert name in report.out
    assert f"{classes * 40} photos" in report.out or f"{classes * 40:,}" in report.out
    # new photos of other sizes, in folders named after their classes, as a user predicts them
    new = shapes_folder(tmp_path / "new", 10, classes=classes, size=60, seed=7)
    found = cli("predict", run["run_dir"], str(new), "--json")
    assert found.code == 0, found.err
    answer = json.loads(found.out)
    assert len(answer["images"]) == 10 * classes and answer["folder_accuracy"] >= 0.9
    assert all(sum(p for _, p in image["top"]) == pytest.approx(1, abs=1e-5)
               for image in answer["images"])  # fmt: skip
    outputs = cs.load(run["run_dir"]).predict(str(new))  # Keras's predict: one sigmoid unit
    assert outputs.shape == (10 * classes, 1 if classes == 2 else classes)
