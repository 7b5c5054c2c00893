"""Build the same model in real Keras 3 (torch backend) from a convscope ModelSpec.

The mapping is explicit: each convscope dataclass field goes to the Keras argument of
the same name. Layer names are left to Keras (a fresh session), so names are compared too.
"""

from __future__ import annotations

import os
import re
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras

from convscope.core import graph as g
from convscope.core import spec as s
from convscope.core.keras.bind import to_snake_case

L = keras.layers


def _conv_args(layer: s.ConvBase) -> dict[str, Any]:
    return dict(
        kernel_size=layer.kernel_size.astuple(),
        strides=layer.strides.astuple(),
        padding=layer.padding,
        dilation_rate=layer.dilation_rate.astuple(),
        activation=layer.activation,
        use_bias=layer.use_bias,
    )


def keras_layer(layer: s.Layer) -> Any:
    common: dict[str, Any] = {} if layer.trainable else {"trainable": False}
    auto = re.fullmatch(rf"{to_snake_case(layer.keras_class)}(_\d+)?", layer.name)
    if not auto:  # a name the source gave with name=; Keras's own names are left to Keras
        common["name"] = layer.name
    match layer:
        case s.Conv2D():
            return L.Conv2D(layer.filters, groups=layer.groups, **_conv_args(layer), **common)
        case s.DepthwiseConv2D():
            return L.DepthwiseConv2D(
                depth_multiplier=layer.depth_multiplier, **_conv_args(layer), **common
            )
        case s.SeparableConv2D():
            return L.SeparableConv2D(
                layer.filters,
                depth_multiplier=layer.depth_multiplier,
                **_conv_args(layer),
                **common,
            )
        case s.MaxPooling2D():
            return L.MaxPooling2D(
                layer.pool_size.astuple(), layer.strides.astuple(), layer.padding, **common
            )
        case s.AveragePooling2D():
            return L.AveragePooling2D(
                layer.pool_size.astuple(), layer.strides.astuple(), layer.padding, **common
            )
        case s.GlobalAveragePooling2D():
            return L.GlobalAveragePooling2D(keepdims=layer.keepdims, **common)
        case s.GlobalMaxPooling2D():
            return L.GlobalMaxPooling2D(keepdims=layer.keepdims, **common)
        case s.ZeroPadding2D():
            return L.ZeroPadding2D(((layer.top, layer.bottom), (layer.left, layer.right)), **common)
        case s.Flatten():
            return L.Flatten(**common)
        case s.Dense():
            return L.Dense(
                layer.units, activation=layer.activation, use_bias=layer.use_bias, **common
            )
        case s.Dropout():
            return L.Dropout(layer.rate, **common)
        case s.SpatialDropout2D():
            return L.SpatialDropout2D(layer.rate, **common)
        case s.BatchNormalization():
            return L.BatchNormalization(
                momentum=layer.momentum,
                epsilon=layer.epsilon,
                center=layer.center,
                scale=layer.scale,
                **common,
            )
        case s.Activation():
            return L.Activation(layer.activation, **common)
        case s.ReLU():
            return L.ReLU(layer.max_value, layer.negative_slope, layer.threshold, **common)
        case s.LeakyReLU():
            return L.LeakyReLU(negative_slope=layer.negative_slope, **common)
        case s.Softmax():
            return L.Softmax(**common)
        case s.Rescaling():
            return L.Rescaling(layer.scale, layer.offset, **common)
        case s.ELU():
            return L.ELU(layer.alpha, **common)
        case s.PReLU():
            return L.PReLU(shared_axes=list(layer.shared_axes) or None, **common)
        case s.Reshape():
            return L.Reshape(layer.target_shape, **common)
        case s.UpSampling2D():
            return L.UpSampling2D(layer.size.astuple(), interpolation=layer.interpolation, **common)
        case s.Resizing():
            return L.Resizing(layer.height, layer.width, layer.interpolation, **common)
        case s.CenterCrop():
            return L.CenterCrop(layer.height, layer.width, **common)
        case s.Conv2DTranspose():
            op = layer.output_padding
            return L.Conv2DTranspose(
                layer.filters, output_padding=op and op.astuple(), **_conv_args(layer), **common
            )
        case s.RandomFlip():
            return L.RandomFlip(layer.mode, **common)
        case s.RandomRotation() | s.RandomZoom() | s.RandomTranslation():
            fill = dict(fill_mode=layer.fill_mode, interpolation=layer.interpolation)
            fill["fill_value"] = layer.fill_value
            if isinstance(layer, s.RandomRotation):
                return L.RandomRotation(layer.factor, **fill, **common)
            if isinstance(layer, s.RandomZoom):
                return L.RandomZoom(layer.height_factor, layer.width_factor, **fill, **common)
            return L.RandomTranslation(layer.height_factor, layer.width_factor, **fill, **common)
        case g.Concatenate():
            return L.Concatenate(layer.axis, **common)
        case g.Merge():
            return getattr(L, layer.keras_class)(**common)
    raise TypeError(type(layer).__name__)


def keras_model(model: s.ModelSpec) -> Any:
    """A fresh-session Keras model equal to `model` (names assigned by Keras): a
    Sequential, or a functional model wired as the graph says."""
    keras.backend.clear_session(free_memory=False)  # fresh names; gc.collect took 0.17 s
    if not g.is_graph(model):
        layers = map(keras_layer, model.layers)
        return keras.Sequential([keras.Input(shape=model.input_shape), *layers])
    nodes = [keras.Input(shape=model.input_shape)]
    for i, layer in enumerate(model.layers):
        ins = [nodes[j] for j in g.sources(model, i)]
        merging = layer.kind == s.LayerKind.MERGE
        nodes.append(keras_layer(layer)(ins if merging else ins[0]))
    return keras.Model(nodes[0], nodes[-1])


def weight_count(weights: list[Any]) -> int:
    total = 0
    for w in weights:
        n = 1
        for d in w.shape:
            n *= int(d)
        total += n
    return total
