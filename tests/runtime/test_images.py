"""A user's image prepared as MNIST's and Fashion-MNIST's images were made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from convscope.core.errors import ConvscopeError
from convscope.runtime.images import centre_of_mass, prepare


def drawn_bar(tmp_path: Path, mode: str = "RGB") -> Path:
    """A dark 30x90 stroke, off-centre on a white 200x300 page."""
    page = np.full((300, 200), 255, np.uint8)
    page[40:130, 20:50] = 0
    path = tmp_path / "stroke.png"
    Image.fromarray(page).convert(mode).save(path)
    return path


def test_mnist_preparation_fits_20x20_and_centres_the_mass(tmp_path: Path) -> None:
    image, steps = prepare(drawn_bar(tmp_path), "mnist")
    assert image.shape == (28, 28) and image.dtype == np.uint8
    rows, cols = np.nonzero(image > 30)
    assert rows.max() - rows.min() + 1 == 20  # the longer side scaled to 20
    assert 6 <= cols.max() - cols.min() + 1 <= 8  # 30:90 kept: about 7 wide
    assert centre_of_mass(image.astype(float)) == pytest.approx((14, 14), abs=0.75)
    assert image[0, 0] == 0  # light on black, as MNIST
    assert [s.split()[0] for s in steps] == [
        "converted",
        "inverted:",
        "cropped",
        "scaled",
        "placed",
    ]


def test_fashion_preparation_fills_28(tmp_path: Path) -> None:
    image, steps = prepare(drawn_bar(tmp_path, "L"), "fashion-mnist")
    rows, _ = np.nonzero(image > 30)
    assert rows.max() - rows.min() + 1 == 28
    assert "centred in 28x28" in steps and not any("converted" in s for s in steps)


def test_transparent_drawing_gets_a_white_background(tmp_path: Path) -> None:
    rgba = np.zeros((100, 100, 4), np.uint8)  # fully transparent
    rgba[20:80, 45:55] = (0, 0, 0, 255)  # an opaque black stroke
    path = tmp_path / "ink.png"
    Image.fromarray(rgba, "RGBA").save(path)
    image, steps = prepare(path, "mnist")
    assert steps[0] == "transparent areas filled with white" and image.max() > 200
    assert image[0, 0] == 0


def bar16(path: Path) -> None:
    a = np.zeros((28, 28), np.uint16)
    a[5:23, 12:16] = 60_000  # a 16-bit "1": 60,000 of 65,535
    Image.fromarray(a).save(path)


def animated(path: Path) -> None:
    frames = [Image.new("L", (28, 28), 0) for _ in range(3)]
    for i, frame in enumerate(frames):  # different frames, or the GIF writer merges them
        frame.paste(255 - 40 * i, (12 + i, 5, 16 + i, 23))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)


def cmyk(path: Path) -> None:
    image = Image.new("CMYK", (60, 80), (0, 0, 0, 0))
    ImageDraw.Draw(image).line((30, 10, 30, 70), fill=(0, 0, 0, 255), width=8)
    image.save(path)


ODD_IMAGES = {
    "16-bit.png": (bar16, "I;16 values (16-bit) scaled to 0-255"),
    "animated.gif": (animated, "the first of its 3 frames used (an animated image)"),
    "cmyk.jpg": (cmyk, "converted from CMYK to grayscale"),
}


@pytest.mark.parametrize(("name", "make", "step"), [(k, *v) for k, v in ODD_IMAGES.items()])
def test_odd_but_real_images_are_read_and_say_how(
    name: str, make: Callable[[Path], None], step: str, tmp_path: Path
) -> None:
    make(tmp_path / name)
    image, steps = prepare(tmp_path / name, "mnist")
    assert any(step in s for s in steps), steps
    assert image.shape == (28, 28) and image.max() > 200  # the stroke survived, at full ink


REFUSED_IMAGES = {
    "zero-bytes.png": (lambda p: p.write_bytes(b""), "not an image that Pillow can read"),
    "text.png": (lambda p: p.write_text("hello"), "not an image that Pillow can read"),
    "all-black.png": (lambda p: Image.new("L", (28, 28), 0).save(p), "the image is blank"),
    "all-white.png": (lambda p: Image.new("L", (28, 28), 255).save(p), "the image is blank"),
    "all-black-photo.jpg": (lambda p: Image.new("RGB", (640, 480)).save(p), "the image is blank"),
    "bomb.png": (lambda p: Image.new("1", (20_000, 20_000)).save(p),
                 "possible decompression bomb"),
    "big.png": (lambda p: Image.new("1", (8_000, 6_000)).save(p), "more than this reads"),
}  # fmt: skip


@pytest.mark.parametrize(("name", "make", "message"), [(k, *v) for k, v in REFUSED_IMAGES.items()])
def test_images_that_cannot_be_used_are_refused_clearly(
    name: str, make: Callable[[Path], None], message: str, tmp_path: Path
) -> None:
    make(tmp_path / name)
    with pytest.raises(ConvscopeError, match=message) as caught:
        prepare(tmp_path / name, "mnist")
    assert str(caught.value).startswith(str(tmp_path / name))
