"""Data augmentation settings: random small shifts and rotations, parsed once at the edge.

`--augment shift=2,rotate=10` means: each training image, each time it is seen, moves by
a whole number of pixels in [-2, 2] along each axis and turns by an angle in [-10, 10]
degrees, the uncovered border filled with background (0). Like Keras 2's
ImageDataGenerator(width_shift_range=2, height_shift_range=2, rotation_range=10,
fill_mode="constant", cval=0): an integer shift range draws whole pixels. Test images are
never augmented. The runtime (runtime/augment.py) does the resampling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ConvscopeError

LIMITS = {"shift": 8.0, "rotate": 180.0}  # larger values leave little of a 28x28 digit


@dataclass(frozen=True)
class Augment:
    shift: int = 0  # pixels, each axis: a whole number in [-shift, shift]
    rotate: float = 0.0  # degrees: uniform in [-rotate, rotate]

    def __bool__(self) -> bool:
        return bool(self.shift or self.rotate)

    def __str__(self) -> str:
        parts = []
        if self.shift:
            parts.append(f"shift={self.shift}")
        if self.rotate:
            parts.append(f"rotate={self.rotate:g}")
        return ",".join(parts) or "none"

    def describe(self) -> str:
        parts = []
        if self.shift:
            parts.append(f"shifts of up to {self.shift} px")
        if self.rotate:
            parts.append(f"rotations of up to {self.rotate:g} degrees")
        return " and ".join(parts) or "no augmentation"


NO_AUGMENT = Augment()


def parse_augment(text: str, option: str = "--augment") -> Augment:
    """`shift=2,rotate=10` -> Augment(2, 10.0); `none` -> Augment()."""
    if text.strip() in ("", "none", "0"):
        return NO_AUGMENT
    values: dict[str, float] = {}
    for part in text.split(","):
        key, eq, raw = part.strip().partition("=")
        if key not in LIMITS or not eq:
            raise ConvscopeError(
                f"{option}: {part.strip()!r} is not a setting; expected shift=N and/or "
                "rotate=DEGREES, e.g. shift=2,rotate=10"
            )
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and 0 <= value <= LIMITS[key]):
            raise ConvscopeError(
                f"{option}: {key} must be a number from 0 to {LIMITS[key]:g}, got {raw!r}"
            )
        if key == "shift" and value != int(value):
            raise ConvscopeError(f"{option}: shift is a whole number of pixels, got {raw!r}")
        values[key] = value
    return Augment(shift=int(values.get("shift", 0)), rotate=values.get("rotate", 0.0))
