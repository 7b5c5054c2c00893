"""Test-set results beyond one accuracy: per class, the confusion matrix, the worst pairs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ClassResult:
    label: int
    name: str
    count: int  # test images of this class
    correct: int
    predicted: int  # images predicted as this class
    accuracy: float  # recall: correct / count
    precision: float  # correct / predicted


@dataclass(frozen=True)
class Confusion:
    true: int
    predicted: int
    count: int


@dataclass(frozen=True)
class TestReport:
    dataset: str
    loss: float
    accuracy: float
    count: int
    classes: tuple[ClassResult, ...]
    confusion: tuple[tuple[int, ...], ...]  # [true][predicted]
    most_confused: tuple[Confusion, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts: row = true label, column = prediction."""
    flat = labels.astype(np.int64) * classes + predictions.astype(np.int64)
    return np.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def test_report(
    dataset: str,
    class_names: tuple[str, ...],
    labels: np.ndarray,
    predictions: np.ndarray,
    loss: float,
    top: int = 5,
) -> TestReport:
    k = len(class_names)
    matrix = confusion_matrix(labels, predictions, k)
    counts, predicted, correct = matrix.sum(1), matrix.sum(0), np.diag(matrix)
    classes = tuple(
        ClassResult(
            label=i,
            name=class_names[i],
            count=int(counts[i]),
            correct=int(correct[i]),
            predicted=int(predicted[i]),
            accuracy=float(correct[i] / counts[i]) if counts[i] else 0.0,
            precision=float(correct[i] / predicted[i]) if predicted[i] else 0.0,
        )
        for i in range(k)
    )
    off = [(int(matrix[t, p]), t, p) for t in range(k) for p in range(k) if t != p and matrix[t, p]]
    off.sort(key=lambda c: (-c[0], c[1], c[2]))
    return TestReport(
        dataset=dataset,
        loss=loss,
        accuracy=float(correct.sum() / max(len(labels), 1)),
        count=len(labels),
        classes=classes,
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        most_confused=tuple(Confusion(t, p, n) for n, t, p in off[:top]),
    )
