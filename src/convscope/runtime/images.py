"""The user's own image, prepared the way the data set's images were made.

MNIST (LeCun et al.): a digit's ink was scaled to fit a 20x20 box keeping its aspect
ratio, then placed in 28x28 so that its centre of mass is at the centre; white ink on
black. Fashion-MNIST (Xiao et al. 2017): the product trimmed, its longer side scaled to
28, centred, intensities negated (light object on black). A photo or a drawing on white
paper therefore gets inverted, cropped to its ink, scaled and centred; every step taken
is reported, so the user sees what the network was shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..core.errors import ConvscopeError

SIZE = 28
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; more is refused before it is decoded
INK = 30  # of 255: darker than this (after inversion) counts as background when cropping


NOT_REGULAR = "a pipe or a device, whose reading could wait forever"


def regular(path: Path | BinaryIO) -> bool:
    """An upload, a regular file, or nothing there (its reading says so); not a pipe."""
    return not isinstance(path, Path) or not path.exists() or path.is_file()


def open_gray(path: Path | BinaryIO, steps: list[str], name: str = "") -> np.ndarray:
    """A file or an upload as grayscale floats; its size is checked before it is decoded."""
    name = name or str(path)
    if not regular(path):
        raise ConvscopeError(f"{name}: not an image file ({NOT_REGULAR})")
    try:
        with Image.open(path) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise ConvscopeError(
                    f"{name}: {opened.width}x{opened.height} pixels is more than this reads "
                    f"({MAX_PIXELS:,})"
                )
            frames = getattr(opened, "n_frames", 1)
            if frames > 1:
                steps.append(f"the first of its {frames} frames used (an animated image)")
            opened.load()
            image: Image.Image = opened
            mode = image.mode
            if mode.startswith("I;16") or mode in ("I", "F"):
                return deep_gray(image, steps)
            if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                image = Image.alpha_composite(white, rgba)
                steps.append("transparent areas filled with white")
            if image.mode != "L":
                steps.append(f"converted from {mode} to grayscale (ITU-R 601 luma)")
                image = image.convert("L")
            return np.asarray(image, dtype=np.float64)
    except FileNotFoundError:
        raise ConvscopeError(f"{name}: no such image file") from None
    except Image.DecompressionBombError:  # Pillow's own limit, met before ours on some files
        raise ConvscopeError(
            f"{name}: more pixels than this reads ({MAX_PIXELS:,}); Pillow calls it a "
            "possible decompression bomb"
        ) from None
    except (UnidentifiedImageError, OSError) as error:
        raise ConvscopeError(
            f"{name}: not an image that Pillow can read ({error})",
            hint="give a PNG or JPEG file",
        ) from None


def deep_gray(image: Image.Image, steps: list[str]) -> np.ndarray:
    """16-bit (or 32-bit) grayscale on the 0..255 scale: divided by 257 (65535 / 255)."""
    a = np.asarray(image, dtype=np.float64)
    if image.mode == "F" and a.max() <= 1.0:
        steps.append("floating-point values 0-1 scaled to 0-255")
        return a * 255.0
    steps.append(f"{image.mode} values (16-bit) scaled to 0-255")
    return np.clip(a / 257.0, 0, 255)


def border_median(a: np.ndarray) -> float:
    edge = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    return float(np.median(edge))


def resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    image = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return np.asarray(image.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float64)


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    total = a.sum()
    rows, cols = np.indices(a.shape)
    return float((rows * a).sum() / total), float((cols * a).sum() / total)


def place(patch: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """Paste `patch` into a black 28x28 frame with `centre` (row, col) of the patch at 14, 14."""
    frame = np.zeros((SIZE, SIZE))
    h, w = patch.shape
    top = int(np.clip(round(SIZE / 2 - centre[0]), 0, SIZE - h))
    left = int(np.clip(round(SIZE / 2 - centre[1]), 0, SIZE - w))
    frame[top : top + h, left : left + w] = patch
    return frame


def prepare(path: Path | BinaryIO, dataset: str, name: str = "") -> tuple[np.ndarray, list[str]]:
    """(28, 28) uint8 image as the data set's images are, and the steps that made it."""
    steps: list[str] = []
    name = name or str(path)
    a = open_gray(path, steps, name)
    height, width = a.shape
    if border_median(a) > 127:
        a = 255 - a
        steps.append(
            "inverted: the background is light, and the training images are light on black"
        )
    ink = np.argwhere(a > INK)
    if not len(ink):
        raise ConvscopeError(
            f"{name}: the image is blank (no pixel stands out from the background)"
        )
    if (height, width) == (SIZE, SIZE) and not steps:
        return a.astype(np.uint8), ["already 28x28 grayscale, light on black: used as it is"]
    (r0, c0), (r1, c1) = ink.min(0), ink.max(0) + 1
    a = a[r0:r1, c0:c1]
    box = 20 if dataset == "mnist" else SIZE  # MNIST fits the digit in 20x20; Fashion in 28
    scale = box / max(a.shape)
    h, w = max(1, round(a.shape[0] * scale)), max(1, round(a.shape[1] * scale))
    patch = resize(a, w, h)
    steps.append(f"cropped to the {c1 - c0}x{r1 - r0} pixels around the ink")
    steps.append(f"scaled to {w}x{h} (longer side {box}, aspect ratio kept; Lanczos)")
    if dataset == "mnist" and patch.sum() > 0:
        frame = place(patch, centre_of_mass(patch))
        steps.append("placed in 28x28 with its centre of mass at the centre, as MNIST's digits")
    else:
        frame = place(patch, (h / 2, w / 2))
        steps.append("centred in 28x28")
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8), steps


def as_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) in 0..1: uint8 on 0..255, other arrays stretched from their lowest to
    their highest value, grey repeated in the three channels."""
    a = np.asarray(image, dtype=np.float32)
    a = a[..., None] if a.ndim == 2 else a
    low, high = (0.0, 255.0) if image.dtype == np.uint8 else (float(a.min()), float(a.max()))
    a = np.clip((a - low) / max(high - low, 1e-12), 0.0, 1.0)
    return np.repeat(a, 3, -1) if a.shape[-1] == 1 else a[..., :3]
