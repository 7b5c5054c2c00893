"""Variants of a model for controlled comparisons: the same network with one thing changed.

Standard library only: a variant is a new ModelSpec, explained by the same arithmetic and
written back to Keras source (core.keras.write) so that each variant's run keeps its model.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from . import graph as g
from . import spec as s
from .errors import ConvscopeError
from .explain.rules import explain
from .keras.bind import auto_name, to_snake_case


def pooling_layers(model: s.ModelSpec) -> tuple[s.Pooling2D, ...]:
    return tuple(layer for layer in model.layers if isinstance(layer, s.Pooling2D))


def _renamed(model: s.ModelSpec, name: str, layers: list[s.Layer] | None = None) -> s.ModelSpec:
    """The new layer list (else the model's) under Keras's auto-names, as a fresh Keras
    session would name it.

    Keeping the old names would collide (a new conv2d_1 before the old conv2d_1).
    """
    uids: dict[str, int] = {}
    named = tuple(
        replace(layer, name=auto_name(to_snake_case(layer.keras_class), uids), line=None)
        for layer in (model.layers if layers is None else layers)
    )
    return replace(model, name=name, layers=named)


def without_pooling(model: s.ModelSpec) -> s.ModelSpec:
    """The model with its MaxPooling2D and AveragePooling2D layers removed, all else equal."""
    drop = {i for i, layer in enumerate(model.layers) if isinstance(layer, s.Pooling2D)}
    return replace(g.without(model, drop), name=f"{model.name} without pooling")


def with_pool_op(model: s.ModelSpec, op: s.PoolOp) -> s.ModelSpec:
    """Every pooling layer as max (or average) pooling over the same windows."""
    cls = s.MaxPooling2D if op == "max" else s.AveragePooling2D
    layers = [
        cls(pool_size=layer.pool_size, strides=layer.strides, padding=layer.padding)
        if isinstance(layer, s.Pooling2D)
        else layer
        for layer in model.layers
    ]
    return _renamed(model, f"{model.name} with {op} pooling", layers)


def with_strided_convs(model: s.ModelSpec) -> s.ModelSpec:
    """Every pooling layer replaced by a learned downsampling: a ReLU Conv2D with as many
    filters as channels, the pool's window as its kernel and the pool's strides.

    The "all-convolutional" replacement of Springenberg et al. (2015), "Striving for
    Simplicity", section 2: the output shapes stay exactly those of the pooled model,
    so only the way of shrinking changes (and C*C*kh*kw + C weights per layer are added).
    """
    rows = explain(model).rows
    layers: list[s.Layer] = []
    for layer, row in zip(model.layers, rows, strict=True):
        if isinstance(layer, s.Pooling2D):
            channels = row.input_shape[-1]
            layer = s.Conv2D(
                filters=channels,
                kernel_size=layer.pool_size,
                strides=layer.strides,
                padding=layer.padding,
                activation="relu",
            )
        layers.append(layer)
    return _renamed(model, f"{model.name} with strided convolutions", layers)


@dataclass(frozen=True)
class Variant:
    key: str  # stable: directory names, JSON keys
    title: str
    how: str  # one line: what changed
    build: Callable[[s.ModelSpec], s.ModelSpec]


POOLING_VARIANTS = (
    Variant(
        "max",
        "max pooling",
        "every pooling layer is MaxPooling2D",
        lambda m: with_pool_op(m, "max"),
    ),
    Variant(
        "average",
        "average pooling",
        "every pooling layer is AveragePooling2D over the same windows",
        lambda m: with_pool_op(m, "average"),
    ),
    Variant(
        "strided",
        "stride-2 convolution",
        "each pooling layer is replaced by a ReLU Conv2D with the pool's window and strides",
        with_strided_convs,
    ),
    Variant(
        "none",
        "no pooling",
        "the pooling layers are removed; all else equal",
        lambda m: _renamed(without_pooling(m), f"{m.name} without pooling"),
    ),
)


def with_width(model: s.ModelSpec, factor: float) -> s.ModelSpec:
    """Every Conv2D with round(filters * factor) filters (at least one), all else equal:
    the "how many filters" question, asked of the whole network at once."""
    layers = [
        replace(layer, filters=max(1, round(layer.filters * factor)))
        if isinstance(layer, s.Conv2D)
        else layer
        for layer in model.layers
    ]
    return replace(model, name=f"{model.name} at width {factor:g}", layers=tuple(layers))


def with_dropout(model: s.ModelSpec, rate: float) -> s.ModelSpec:
    """Every Dropout layer at this rate; a model without one gets Dropout(rate) before its
    last Dense (the classifier), where Chollet's book adds it (section 8.2.5). Rate 0 on
    such a model changes nothing."""
    where = "dropout"
    if any(isinstance(layer, s.Dropout) for layer in model.layers):
        layers = [replace(layer, rate=rate) if isinstance(layer, s.Dropout) else layer
                  for layer in model.layers]  # fmt: skip
        return replace(model, name=f"{model.name} with dropout {rate:g}", layers=tuple(layers))
    if rate == 0:
        return model
    last = max((i for i, layer in enumerate(model.layers) if isinstance(layer, s.Dense)),
               default=None)  # fmt: skip
    if last is None:
        raise ConvscopeError(
            f"{where}: {model.name} has no Dropout layer to set and no Dense layer to put one "
            "before"
        )
    added = g.inserted(model, last, s.Dropout(rate=rate))
    return _renamed(added, f"{model.name} with dropout {rate:g}")
