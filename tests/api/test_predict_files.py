"""Many image files through a model at once (`convscope predict RUN photos/`): what is
found in folders, and the clear refusals; on the untrained chollet preset (its weights
are seeded, so every call gives the same numbers) and generated PNGs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import convscope as cs
from convscope.core.errors import DataError
from convscope.runtime import data


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """digits/<label>/<i>.png: ten MNIST test digits at 56 x 56, dark on white."""
    root = tmp_path_factory.mktemp("predict") / "digits"
    dataset = data.load("mnist")
    for i in range(10):
        folder = root / str(dataset.test_labels[i])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - dataset.test_images[i]).resize((56, 56)).save(folder / f"{i}.png")
    return root


def test_files_and_folders_give_the_same_numbers(digits: Path) -> None:
    model = cs.load("chollet")
    found = model.predict_images(digits)
    assert list(found.files) == sorted(found.files, key=lambda f: (Path(f).parent.name, f))
    files = [Path(f) for f in found.files]
    np.testing.assert_array_equal(model.predict(files), found.outputs)  # Keras's predict
    one = [model.predict_image(f).probabilities for f in files[:3]]
    np.testing.assert_allclose(found.probabilities[:3], np.array(one), atol=1e-6)
    assert found.probabilities.shape == (10, 10) and found.skipped == ()


def bad_files(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"holiday{i:02}.jpg").write_text("not a picture")
    return folder


def pipe(path: Path) -> Path:
    """A named pipe where a photo should be: opening it would wait for a writer."""
    os.mkfifo(path)
    return path


CASES = [  # (what the user gives, the message's words)
    ("missing", lambda root: [root / "nowhere"], "nowhere: no such image file or folder"),
    ("empty folder", lambda root: [bad_files(root / "empty", 0)], "the folder holds no images"),
    ("a pipe", lambda root: [pipe(root / "photo.jpg")], "photo.jpg: not a file or a folder"),
    ("twelve bad files", lambda root: [bad_files(root / "bad", 12)],
     "12 of 22 files cannot be read as images: "),
]  # fmt: skip


@pytest.mark.parametrize(("given", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_one_message(
    tmp_path: Path, digits: Path, given: object, words: str
) -> None:
    paths = given(tmp_path)  # type: ignore[operator]
    with pytest.raises(DataError) as refused:
        cs.load("chollet").predict_images([digits, *paths])
    assert words in str(refused.value) and len(str(refused.value).splitlines()) <= 2


def test_bad_files_are_named_counted_and_skipped_when_asked(tmp_path: Path, digits: Path) -> None:
    bad = bad_files(tmp_path / "bad", 12)
    model = cs.load("chollet")
    with pytest.raises(DataError) as refused:
        model.predict_images([digits, bad])
    message = str(refused.value)
    assert message.startswith("12 of 22 files cannot be read as images: ")
    assert "holiday00.jpg, " in message and "holiday04.jpg and 7 more (the first: not " in message
    assert "holiday05.jpg" not in message and "..." not in message
    assert "--skip-bad-images" in message and len(message.splitlines()) == 2
    found = model.predict_images([digits, bad], skip_bad_images=True)
    assert len(found.files) == 10 and len(found.skipped) == 12
    assert "Skipped 12 files that cannot be read as an image:" in str(found)
    with pytest.raises(DataError, match="none is left to predict"):
        model.predict_images(bad, skip_bad_images=True)


def test_an_untrained_photo_preset_names_its_outputs_by_number(tmp_path: Path) -> None:
    """chollet-cats-dogs before training has no folder to name its classes: 0 and 1."""
    folder = tmp_path / "new"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (200 + 50 * i, 150), (40 * i, 200, 90)).save(folder / f"{i}.jpg")
    found = cs.load("chollet-cats-dogs").predict_images(folder)
    assert found.class_names == ("0", "1") and found.outputs.shape == (3, 1)
    np.testing.assert_allclose(found.probabilities.sum(1), 1, atol=1e-6)
    assert "resized from 300x150 to 180x180" in " ".join(found.steps[2])


def test_a_pipe_given_as_one_photo_is_refused_not_waited_on(tmp_path: Path) -> None:
    with pytest.raises(cs.ConvscopeError, match=r"photo\.png: not an image file \(a pipe"):
        cs.load("chollet").predict_image(pipe(tmp_path / "photo.png"))  # MNIST's preparation
