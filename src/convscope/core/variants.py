"""Variants of a model for controlled comparisons: the same network with one thing changed.

Standard library only: a variant is a new ModelSpec, explained by the same arithmetic.
"""

from __future__ import annotations

from dataclasses import replace

from . import spec as s


def pooling_layers(model: s.ModelSpec) -> tuple[s.Pooling2D, ...]:
    return tuple(layer for layer in model.layers if isinstance(layer, s.Pooling2D))


def without_pooling(model: s.ModelSpec) -> s.ModelSpec:
    """The model with its MaxPooling2D and AveragePooling2D layers removed, all else equal."""
    layers = tuple(layer for layer in model.layers if not isinstance(layer, s.Pooling2D))
    return replace(model, name=f"{model.name} without pooling", layers=layers)
