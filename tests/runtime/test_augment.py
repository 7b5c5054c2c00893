"""Augmentation: the option's parsing, and what the resampling does to real digits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from convscope.core.augment import Augment, parse_augment
from convscope.runtime import data
from convscope.runtime.augment import augment_batch, rotate_batch

from ..helpers import Cli


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("shift=2,rotate=10", Augment(2, 10.0)),
        ("rotate=7.5", Augment(0, 7.5)),
        (" shift=3 ", Augment(3, 0.0)),
        ("none", Augment()),
    ],
    ids=["both", "rotate-only", "spaces", "none"],
)
def test_parse(text: str, expected: Augment) -> None:
    assert parse_augment(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rot=3", "'rot=3' is not a setting"),
        ("shift", "'shift' is not a setting"),
        ("shift=1.5", "shift is a whole number of pixels, got '1.5'"),
        ("shift=-1", "shift must be a number from 0 to 8, got '-1'"),
        ("rotate=nan", "rotate must be a number from 0 to 180, got 'nan'"),
    ],
    ids=["unknown", "no-value", "fraction", "negative", "nan"],
)
def test_cli_refuses_bad_settings(cli: Cli, text: str, message: str) -> None:
    code, _out, err = cli("train", "chollet", "--augment", text)
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    images = data.load("mnist").test_images[:64]
    return torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255  # (64, 1, 28, 28)


def test_whole_pixel_shifts_move_digits_exactly(digits: torch.Tensor) -> None:
    out = augment_batch(digits, Augment(shift=2), torch.Generator().manual_seed(0))
    padded = F.pad(digits, (2, 2, 2, 2))  # (64, 1, 32, 32)
    moved = set()
    for image, result in zip(padded, out, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(image[:, 2 - dy : 30 - dy, 2 - dx : 30 - dx], result)
        ]
        assert matches, "every output is its digit shifted by whole pixels, values unchanged"
        moved.add(matches[0])
    assert len(moved) > 10  # 25 possible shifts: the batch gets many different ones


def test_rotations_turn_but_keep_the_digit(digits: torch.Tensor) -> None:
    out = augment_batch(digits, Augment(rotate=10), torch.Generator().manual_seed(0))
    ink_before, ink_after = digits.sum((1, 2, 3)), out.sum((1, 2, 3))
    # a small turn about the centre keeps the digit inside the frame: ink within 3%
    assert torch.allclose(ink_after, ink_before, rtol=0.03)
    changed = (out - digits).abs().amax((1, 2, 3)) > 0.05
    assert changed.float().mean() > 0.9  # all but angles close to 0 visibly turn
    assert out.min() >= 0 and out.max() <= 1  # bilinear: no new extremes


def test_a_quarter_turn_is_rot90(digits: torch.Tensor) -> None:
    """Geometry check: 90 degrees maps pixel centres onto pixel centres, as torch.rot90 does."""
    turned = rotate_batch(digits, torch.full((64,), 90.0))
    assert torch.allclose(turned, torch.rot90(digits, 1, (2, 3)), atol=1e-5) or torch.allclose(
        turned, torch.rot90(digits, -1, (2, 3)), atol=1e-5
    )


def test_same_generator_state_same_batch_and_flat_inputs(digits: torch.Tensor) -> None:
    aug = Augment(shift=2, rotate=10)
    a = augment_batch(digits, aug, torch.Generator().manual_seed(4))
    b = augment_batch(digits.flatten(1), aug, torch.Generator().manual_seed(4))  # (64, 784)
    assert b.shape == (64, 784) and torch.equal(a.flatten(1), b)
    c = augment_batch(digits, aug, torch.Generator().manual_seed(5))
    assert not torch.equal(a, c)


@pytest.mark.slow
def test_train_records_augmentation_and_learns(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli(
        "train", "chollet", "--augment", "shift=2,rotate=10", "--train-images", "5000",
        "--epochs", "1", "--seed", "2", "--runs-dir", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == 0, err
    assert "augmented with shifts of up to 2 px and rotations of up to 10 degrees" in err
    result = json.loads(out)
    settings = json.loads((Path(result["run_dir"]) / "settings.json").read_text())
    assert settings["augment"] == {"shift": 2, "rotate": 10.0}
    assert result["test_accuracy"] > 0.85
