"""Occlusion sensitivity: slide a grey patch over an image and watch the prediction.

Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks" (2014), section
4.2: where covering the image makes the probability of the predicted class drop, the
network relies on those pixels. Every patch position is one image in one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...core.errors import ConvscopeError
from ..inspect import ChosenImage, choose_image
from ..nn.model import KerasModel
from ..subject import Subject
from .methods import occluded, per_pixel

GREY = 128  # mid-grey in the data set's 0..255 pixels, the default patch
# On MNIST's black background a grey patch is also half-strength ink: where it lands
# on the empty background it can add a stroke. fill=0 (the background) only erases.


@dataclass(frozen=True)
class Occlusion:
    image: ChosenImage
    target: int  # the class followed: the prediction on the whole image
    class_names: tuple[str, ...]
    probability: float  # of the target on the whole image
    patch: int
    stride: int
    fill: int  # the patch's pixel value, 0..255
    at_positions: np.ndarray  # (rows, cols) target probability with the patch at each position
    predicted_at: np.ndarray  # (rows, cols) the predicted class with the patch there
    drop: np.ndarray  # (H, W) mean probability drop over the patches that cover each pixel

    def as_dict(self) -> dict[str, Any]:
        return {
            "image": self.image.title,
            "label": self.image.label,
            "target": self.target,
            "target_name": self.class_names[self.target],
            "probability": self.probability,
            "patch": self.patch,
            "stride": self.stride,
            "fill": self.fill,
            "flips": int((self.predicted_at != self.target).sum()),
            "positions": int(self.at_positions.size),
            "largest_drop": float(self.probability - self.at_positions.min()),
            "at_positions": np.round(self.at_positions, 5).tolist(),
            "drop": np.round(self.drop, 5).tolist(),
        }


@torch.no_grad()
def occlude(
    model: KerasModel,
    image: ChosenImage,
    class_names: tuple[str, ...],
    patch: int,
    stride: int,
    fill: int = GREY,
    scale: bool = True,
) -> Occlusion:
    height, width = image.pixels.shape[:2]
    if not 1 <= patch <= min(height, width):
        raise ConvscopeError(f"--patch must be from 1 to {min(height, width)} pixels, got {patch}")
    if not 0 <= fill <= 255:
        raise ConvscopeError(f"--fill must be a pixel value from 0 to 255, got {fill}")
    model.eval()
    rows, cols, probabilities = occluded(model, image.pixels, patch, stride, fill, scale)
    target = int(probabilities[0].argmax())
    at = probabilities[1:, target].reshape(len(rows), len(cols))  # (rows, cols)
    predicted = probabilities[1:].argmax(-1).reshape(len(rows), len(cols))
    drop = per_pixel(probabilities[0, target] - at.ravel(), rows, cols, patch, (height, width))
    return Occlusion(
        image=image,
        target=target,
        class_names=class_names,
        probability=float(probabilities[0, target]),
        patch=patch,
        stride=stride,
        fill=fill,
        at_positions=at,
        predicted_at=predicted,
        drop=drop,
    )


def occlude_subject(
    subject: Subject,
    choice: str,
    patch: int,
    stride: int,
    fill: int = GREY,
    data_dir: str | None = None,
    stream: Any = None,
) -> Occlusion:
    """Occlusion map of a test image (`7`) or a user's PNG/JPEG for a model."""
    subject.check_images()  # patches of an image: (H, W, C), or MNIST's flattened
    dataset = None
    if choice.isdigit():  # a test image: the data set is needed; a file is not
        dataset = subject.load_data(data_dir, stream=stream)
    image = choose_image(choice, subject.photo_preparation(), dataset, subject.spec.input_shape)
    return occlude(subject.model, image, subject.class_names, patch, stride, fill, subject.scale)
