"""The Keras 3 constructors convscope supports: their signatures, and how each builds a layer.

`SIGNATURES` maps a class name to its parameters in Keras's positional order (Keras
3.x `__init__` signatures), the ones it requires, and a builder that applies Keras's
defaults, validates the values as Keras's constructor does and returns the frozen
spec layer. Binding a call's arguments to a signature is `keras_api.build_layer`'s job.
"""

from __future__ import annotations

from typing import Any

from .. import normalise as n
from .. import spec as s
from ..errors import SpecError
from .merging import MERGING
from .signature import Bound, Builder, Signature


def _no_strided_dilation(b: Bound) -> None:
    """Keras refuses strides > 1 together with dilation_rate > 1 (base_conv.py)."""
    strides = n.to_pair(b.get("strides", 1), "strides")
    dilation = n.to_pair(b.get("dilation_rate", 1), "dilation_rate")
    if max(strides.h, strides.w) > 1 and max(dilation.h, dilation.w) > 1:
        raise SpecError(
            f"`strides > 1` cannot be combined with `dilation_rate > 1` (Keras refuses it), "
            f"got strides={b.get('strides')!r} and dilation_rate={b.get('dilation_rate')!r}"
        )


def _window_args(b: Bound) -> dict[str, Any]:
    """The arguments every convolution shares, normalised, with Keras's defaults."""
    _no_strided_dilation(b)
    return dict(
        kernel_size=n.to_pair(b["kernel_size"], "kernel_size"),
        strides=n.to_pair(b.get("strides", 1), "strides"),
        padding=n.to_padding(b.get("padding", "valid")),
        dilation_rate=n.to_pair(b.get("dilation_rate", 1), "dilation_rate"),
        activation=n.to_activation(b.get("activation")),
        use_bias=n.to_bool(b.get("use_bias", True), "use_bias"),
    )


def _depth_multiplier(b: Bound) -> int:
    return n.to_positive_int(b.get("depth_multiplier", 1), "depth_multiplier")


def _conv(b: Bound) -> s.Layer:
    return s.Conv2D(
        filters=n.to_positive_int(b["filters"], "filters"),
        groups=n.to_positive_int(b.get("groups", 1), "groups"),
        **_window_args(b),
    )


def _depthwise(b: Bound) -> s.Layer:
    return s.DepthwiseConv2D(depth_multiplier=_depth_multiplier(b), **_window_args(b))


def _separable(b: Bound) -> s.Layer:
    return s.SeparableConv2D(
        filters=n.to_positive_int(b["filters"], "filters"),
        depth_multiplier=_depth_multiplier(b),
        **_window_args(b),
    )


def _pooling(cls: type[s.Pooling2D]) -> Builder:
    def build(b: Bound) -> s.Layer:
        pool = n.to_pair(b.get("pool_size", 2), "pool_size")
        strides = b.get("strides")
        return cls(
            pool_size=pool,
            # Keras: strides=None means strides = pool_size (non-overlapping windows).
            strides=pool if strides is None else n.to_pair(strides, "strides"),
            padding=n.to_padding(b.get("padding", "valid")),
        )

    return build


def _global_pooling(cls: type[s.GlobalPooling2D]) -> Builder:
    return lambda b: cls(keepdims=n.to_bool(b.get("keepdims", False), "keepdims"))


def _zero_padding(b: Bound) -> s.Layer:
    top, bottom, left, right = n.to_zero_padding(b.get("padding", 1))
    return s.ZeroPadding2D(top=top, bottom=bottom, left=left, right=right)


def _dense(b: Bound) -> s.Layer:
    return s.Dense(
        units=n.to_positive_int(b["units"], "units"),
        activation=n.to_activation(b.get("activation")),
        use_bias=n.to_bool(b.get("use_bias", True), "use_bias"),
    )


def _batchnorm(b: Bound) -> s.Layer:
    if b.get("axis", -1) not in (-1, 3):
        raise SpecError(f"`axis` must be -1 (the channels axis), got {b['axis']!r}")
    for unsupported in ("renorm",):
        if b.get(unsupported):
            raise SpecError(f"`{unsupported}=True` is not supported")
    return s.BatchNormalization(
        momentum=n.to_float(b.get("momentum", 0.99), "momentum"),
        epsilon=n.to_float(b.get("epsilon", 0.001), "epsilon"),
        center=n.to_bool(b.get("center", True), "center"),
        scale=n.to_bool(b.get("scale", True), "scale"),
    )


def _relu(b: Bound) -> s.Layer:
    max_value = b.get("max_value")
    return s.ReLU(
        max_value=None if max_value is None else n.to_float(max_value, "max_value"),
        negative_slope=n.to_float(b.get("negative_slope", 0.0), "negative_slope"),
        threshold=n.to_float(b.get("threshold", 0.0), "threshold"),
    )


def _softmax(b: Bound) -> s.Layer:
    if b.get("axis", -1) != -1:
        raise SpecError(f"`axis` other than -1 is not supported, got {b['axis']!r}")
    return s.Softmax()


def _transpose(b: Bound) -> s.Layer:
    window = _window_args(b)
    output_padding = b.get("output_padding")
    if output_padding is not None:
        output_padding = n.to_pair(output_padding, "output_padding", minimum=0)
        stride = window["strides"]
        if output_padding.h >= stride.h or output_padding.w >= stride.w:
            raise SpecError(
                f"`output_padding` must be smaller than `strides` (Keras refuses it), got "
                f"output_padding={b['output_padding']!r} and strides={b.get('strides', 1)!r}"
            )
    return s.Conv2DTranspose(
        filters=n.to_positive_int(b["filters"], "filters"), output_padding=output_padding, **window
    )


_RESIZE = ("nearest", "bilinear", "bicubic")  # the ones Keras's torch backend resizes with
_AFFINE = ("nearest", "bilinear")
# Keras also has fill_mode='wrap'; torch's grid_sample has no wrap-around, so it is refused.
_FILL = ("reflect", "constant", "nearest")
_FLIPS = ("horizontal", "vertical", "horizontal_and_vertical")


def _upsampling(b: Bound) -> s.Layer:
    return s.UpSampling2D(
        size=n.to_pair(b.get("size", 2), "size"),
        interpolation=n.to_choice(b.get("interpolation", "nearest"), "interpolation", _RESIZE),
    )


def _refuse_true(b: Bound, *args: str) -> None:
    for arg in args:
        if b.get(arg):
            raise SpecError(f"`{arg}=True` is not supported yet, got {arg}={b[arg]!r}")


def _resizing(b: Bound) -> s.Layer:
    _refuse_true(b, "crop_to_aspect_ratio", "pad_to_aspect_ratio", "antialias")
    return s.Resizing(
        height=n.to_positive_int(b["height"], "height"),
        width=n.to_positive_int(b["width"], "width"),
        interpolation=n.to_choice(b.get("interpolation", "bilinear"), "interpolation", _RESIZE),
    )


def _random(b: Bound) -> dict[str, Any]:
    """What every random affine layer shares: how to fill and how to sample."""
    return dict(
        fill_mode=n.to_choice(b.get("fill_mode", "reflect"), "fill_mode", _FILL),
        interpolation=n.to_choice(b.get("interpolation", "bilinear"), "interpolation", _AFFINE),
        fill_value=n.to_float(b.get("fill_value", 0.0), "fill_value"),
    )


def _zoom(b: Bound) -> s.Layer:
    width = b.get("width_factor")
    return s.RandomZoom(
        height_factor=n.to_factor(b["height_factor"], "height_factor", low=-1.0 + 1e-9),
        width_factor=None if width is None else n.to_factor(width, "width_factor", low=-1.0 + 1e-9),
        **_random(b),
    )


def _prelu(b: Bound) -> s.Layer:
    axes = b.get("shared_axes")
    if axes is None:
        return s.PReLU()
    axes = axes if isinstance(axes, (tuple, list)) else [axes]
    if not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in axes):
        raise SpecError(f"`shared_axes` must be axes 1, 2, ... (0 is the batch), got {axes!r}")
    return s.PReLU(shared_axes=tuple(sorted(set(axes))))


_CONV = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "groups",
    "activation",
    "use_bias",
)
_POOL = ("pool_size", "strides", "padding", "data_format")

SIGNATURES: dict[str, Signature] = {
    "Conv2D": Signature(_CONV, _conv, ("filters", "kernel_size")),
    "DepthwiseConv2D": Signature(
        (
            "kernel_size",
            "strides",
            "padding",
            "depth_multiplier",
            "data_format",
            "dilation_rate",
            "activation",
            "use_bias",
        ),
        _depthwise,
        ("kernel_size",),
    ),
    "SeparableConv2D": Signature(
        (
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            "depth_multiplier",
            "activation",
            "use_bias",
        ),
        _separable,
        ("filters", "kernel_size"),
    ),
    "MaxPooling2D": Signature(_POOL, _pooling(s.MaxPooling2D)),
    "AveragePooling2D": Signature(_POOL, _pooling(s.AveragePooling2D)),
    "GlobalAveragePooling2D": Signature(
        ("data_format", "keepdims"), _global_pooling(s.GlobalAveragePooling2D)
    ),
    "GlobalMaxPooling2D": Signature(
        ("data_format", "keepdims"), _global_pooling(s.GlobalMaxPooling2D)
    ),
    "ZeroPadding2D": Signature(("padding", "data_format"), _zero_padding),
    "Flatten": Signature(("data_format",), lambda b: s.Flatten()),
    "Dense": Signature(("units", "activation", "use_bias"), _dense, ("units",)),
    "Dropout": Signature(
        ("rate", "noise_shape", "seed"), lambda b: s.Dropout(rate=n.to_rate(b["rate"])), ("rate",)
    ),
    "SpatialDropout2D": Signature(
        # Keras 3's SpatialDropout2D.__init__(rate, data_format, seed, name, dtype): no
        # **kwargs, so no input_shape= or trainable= either.
        ("rate", "data_format", "seed", "name", "dtype"),
        lambda b: s.SpatialDropout2D(rate=n.to_rate(b["rate"])),
        ("rate",),
        layer_kwargs=False,
    ),
    "BatchNormalization": Signature(("axis", "momentum", "epsilon", "center", "scale"), _batchnorm),
    "Activation": Signature(
        ("activation",),
        lambda b: s.Activation(activation=n.to_activation(b["activation"])),
        ("activation",),
    ),
    "ReLU": Signature(("max_value", "negative_slope", "threshold"), _relu),
    "LeakyReLU": Signature(
        # Keras 3 still takes the Keras 2 name `alpha`, with a deprecation warning.
        ("negative_slope", "alpha"),
        lambda b: s.LeakyReLU(
            negative_slope=n.to_float(
                b.get("negative_slope", b.get("alpha", 0.3)), "negative_slope"
            )
        ),
    ),
    "Softmax": Signature(("axis",), _softmax),
    "Rescaling": Signature(
        ("scale", "offset"),
        lambda b: s.Rescaling(
            scale=n.to_float(b["scale"], "scale"), offset=n.to_float(b.get("offset", 0.0), "offset")
        ),
        ("scale",),
    ),
    "ELU": Signature(("alpha",), lambda b: s.ELU(alpha=n.to_float(b.get("alpha", 1.0), "alpha"))),
    "PReLU": Signature(
        ("alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"), _prelu
    ),
    "Reshape": Signature(
        ("target_shape",),
        lambda b: s.Reshape(target_shape=n.to_target_shape(b["target_shape"])),
        ("target_shape",),
    ),
    "UpSampling2D": Signature(("size", "data_format", "interpolation"), _upsampling),
    "Conv2DTranspose": Signature(
        (
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "output_padding",
            "data_format",
            "dilation_rate",
            "activation",
            "use_bias",
        ),
        _transpose,
        ("filters", "kernel_size"),
    ),
    "Resizing": Signature(
        (
            "height",
            "width",
            "interpolation",
            "crop_to_aspect_ratio",
            "pad_to_aspect_ratio",
            "fill_mode",
            "fill_value",
            "antialias",
            "data_format",
        ),
        _resizing,
        ("height", "width"),
    ),
    "CenterCrop": Signature(
        ("height", "width", "data_format"),
        lambda b: s.CenterCrop(
            height=n.to_positive_int(b["height"], "height"),
            width=n.to_positive_int(b["width"], "width"),
        ),
        ("height", "width"),
    ),
    "RandomFlip": Signature(
        ("mode", "seed", "data_format"),
        lambda b: s.RandomFlip(
            mode=n.to_choice(b.get("mode", "horizontal_and_vertical"), "mode", _FLIPS)
        ),
    ),
    "RandomRotation": Signature(
        ("factor", "fill_mode", "interpolation", "seed", "fill_value", "data_format"),
        lambda b: s.RandomRotation(factor=n.to_factor(b["factor"], "factor"), **_random(b)),
        ("factor",),
    ),
    "RandomZoom": Signature(
        (
            "height_factor",
            "width_factor",
            "fill_mode",
            "interpolation",
            "seed",
            "fill_value",
            "data_format",
        ),
        _zoom,
        ("height_factor",),
    ),
    "RandomTranslation": Signature(
        (
            "height_factor",
            "width_factor",
            "fill_mode",
            "interpolation",
            "seed",
            "fill_value",
            "data_format",
        ),
        lambda b: s.RandomTranslation(
            height_factor=n.to_factor(b["height_factor"], "height_factor"),
            width_factor=n.to_factor(b["width_factor"], "width_factor"),
            **_random(b),
        ),
        ("height_factor", "width_factor"),
    ),
    **MERGING,
}

SUPPORTED = tuple(sorted(SIGNATURES))
