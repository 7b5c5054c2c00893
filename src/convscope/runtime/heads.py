"""The model's last layer read as Keras's losses and metrics read it.

Softmax over C classes: crossentropy from the logits (the softmax's input), the class
is the arg-max. One sigmoid unit (`Dense(1, activation="sigmoid")`, two classes):
binary crossentropy from its logit, the class is 1 where the probability passes 0.5
(Keras's binary_accuracy threshold), i.e. where the logit passes 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..core import spec as s
from ..core.errors import ConvscopeError
from .nn.model import KerasModel

KERAS_EPSILON = 1e-7  # keras.config.epsilon(), clips probabilities in the loss
Loss = Callable[[Tensor, Tensor], Tensor]


def is_binary(model: KerasModel) -> bool:
    """One output unit: two classes, the unit's value the second one's probability."""
    return model.shapes[-1] == (1,)


def check_output(model: KerasModel, classes: int, training: s.TrainingSpec) -> None:
    """The last layer fits the data's classes and the loss, or a clear error naming both."""
    out, last = model.shapes[-1], model.spec.layers[-1].name
    binary_loss = training.loss == "binary_crossentropy"
    if binary_loss and out != (1,):
        raise ConvscopeError(
            f"binary_crossentropy needs one output unit (two classes), but the last layer "
            f"({last}) outputs {out}",
            where=model.spec.source,
            hint="end the model with Dense(1, activation='sigmoid'), or use "
            "sparse_categorical_crossentropy",
        )
    if binary_loss and classes != 2:
        raise ConvscopeError(
            f"one sigmoid unit tells two classes apart, but the data has {classes}",
            where=model.spec.source,
            hint=f"end the model with Dense({classes}, activation='softmax') and use "
            "sparse_categorical_crossentropy",
        )
    if not binary_loss and out != (classes,):
        hint = f"end the model with Dense({classes}, activation='softmax')"
        if out == (1,) and classes == 2:
            hint = "compile it with loss='binary_crossentropy', as one sigmoid unit needs"
        raise ConvscopeError(
            f"the last layer ({last}) outputs {out}, but the data set has {classes} "
            f"classes: it must output ({classes},)",
            where=model.spec.source,
            hint=hint,
        )


def loss_fn(model: KerasModel, training: s.TrainingSpec) -> Loss:
    """Crossentropy as Keras computes it; from logits whenever the output is a softmax
    or a sigmoid.

    Categorical and sparse categorical crossentropy give the same value for one-hot
    labels, so both take integer labels here. An output that is neither a softmax nor
    declared as logits is read as probabilities: normalised and clipped to
    [1e-7, 1 - 1e-7] before the log, as keras.backend's categorical_crossentropy does.
    """
    if training.loss == "binary_crossentropy":
        return binary_loss(model, training)
    smoothing = training.label_smoothing
    if model.softmax_output or training.from_logits:
        if smoothing:  # torch's targets are Keras's: (1 - s) * one_hot + s / classes
            return lambda output, labels: F.cross_entropy(output, labels, label_smoothing=smoothing)
        return F.cross_entropy

    def from_probabilities(output: Tensor, labels: Tensor) -> Tensor:
        p = output / output.sum(dim=-1, keepdim=True)
        p = p.clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)
        if smoothing:
            target = F.one_hot(labels, p.shape[-1]) * (1 - smoothing) + smoothing / p.shape[-1]
            return -(target * p.log()).sum(-1).mean()
        return F.nll_loss(p.log(), labels)

    return from_probabilities


def binary_loss(model: KerasModel, training: s.TrainingSpec) -> Loss:
    """Keras's binary_crossentropy on integer labels 0/1 and outputs (N, 1)."""
    if model.sigmoid_output or training.from_logits:
        return lambda output, labels: F.binary_cross_entropy_with_logits(
            output[:, 0], labels.to(output.dtype)
        )

    def from_probability(output: Tensor, labels: Tensor) -> Tensor:
        p = output[:, 0].clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)
        return F.binary_cross_entropy(p, labels.to(p.dtype))

    return from_probability


def head_classes(model: KerasModel, scores: Tensor) -> Tensor:
    """(N,) predicted class from the loss's scores (logits where logits_nchw gives them)."""
    if not is_binary(model):
        return scores.argmax(-1)
    edge = 0.0 if model.sigmoid_output else 0.5
    return (scores[:, 0] > edge).long()


def output_classes(outputs: Any) -> Any:
    """(N,) class per image from what Keras's predict gives (a tensor or an array):
    the arg-max of a softmax, or 1 where one sigmoid unit passes 0.5."""
    return outputs.argmax(-1) if outputs.shape[-1] > 1 else outputs[:, 0] > 0.5


def head_probabilities(model: KerasModel, scores: Tensor) -> Tensor:
    """(N, classes) probabilities; one sigmoid unit gives (1 - p, p) for its two classes."""
    if is_binary(model):
        p = torch.sigmoid(scores[:, 0]) if model.sigmoid_output else scores[:, 0]
        return torch.stack([1 - p, p], dim=-1)
    return torch.softmax(scores, -1) if model.softmax_output else scores
