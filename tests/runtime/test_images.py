"""A user's image prepared as MNIST's and Fashion-MNIST's images were made."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

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
