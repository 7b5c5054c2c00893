"""Keras 3 layer constructors: their signatures and defaults, bound to convscope's dataclasses.

`build_layer("Conv2D", (32, 3), {"activation": "relu"}, ...)` binds the arguments
exactly as Python would bind them to `keras.layers.Conv2D.__init__` (Keras 3.x
signatures, positional order included), applies Keras's defaults, validates them as
Keras's constructors do, and returns the frozen layer. It also answers which names are
Keras layers at all, so a misspelling gets "did you mean" and a real but unsupported
layer gets a clear "not supported".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from . import spec as s
from .errors import SpecError

# Keras 3's aliases (keras.layers.MaxPool2D is MaxPooling2D, ...): the class name
# is what Keras's summary prints and what names the layer.
ALIASES = {
    "Convolution2D": "Conv2D",
    "SeparableConvolution2D": "SeparableConv2D",
    "MaxPool2D": "MaxPooling2D",
    "AvgPool2D": "AveragePooling2D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
}

# Every public class in keras.layers (Keras 3.15.1, from dir(keras.layers)), to tell a
# misspelling from a real layer that convscope does not read yet.
KERAS_LAYERS = frozenset(
    [
        "Activation",
        "ActivityRegularization",
        "AdaptiveAveragePooling1D",
        "AdaptiveAveragePooling2D",
        "AdaptiveAveragePooling3D",
        "AdaptiveMaxPooling1D",
        "AdaptiveMaxPooling2D",
        "AdaptiveMaxPooling3D",
        "Add",
        "AdditiveAttention",
        "AlphaDropout",
        "Attention",
        "AugMix",
        "AutoContrast",
        "Average",
        "AveragePooling1D",
        "AveragePooling2D",
        "AveragePooling3D",
        "AvgPool1D",
        "AvgPool2D",
        "AvgPool3D",
        "BatchNormalization",
        "Bidirectional",
        "CategoryEncoding",
        "CenterCrop",
        "Concatenate",
        "ContrastLimitedAdaptiveHistogramEqualization",
        "Conv1D",
        "Conv1DTranspose",
        "Conv2D",
        "Conv2DTranspose",
        "Conv3D",
        "Conv3DTranspose",
        "ConvLSTM1D",
        "ConvLSTM2D",
        "ConvLSTM3D",
        "Convolution1D",
        "Convolution1DTranspose",
        "Convolution2D",
        "Convolution2DTranspose",
        "Convolution3D",
        "Convolution3DTranspose",
        "Cropping1D",
        "Cropping2D",
        "Cropping3D",
        "CutMix",
        "Dense",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "Discretization",
        "Dot",
        "Dropout",
        "ELU",
        "EinsumDense",
        "Embedding",
        "Equalization",
        "Flatten",
        "FlaxLayer",
        "GRU",
        "GRUCell",
        "GaussianDropout",
        "GaussianNoise",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
        "GlobalAveragePooling3D",
        "GlobalAvgPool1D",
        "GlobalAvgPool2D",
        "GlobalAvgPool3D",
        "GlobalMaxPool1D",
        "GlobalMaxPool2D",
        "GlobalMaxPool3D",
        "GlobalMaxPooling1D",
        "GlobalMaxPooling2D",
        "GlobalMaxPooling3D",
        "GroupNormalization",
        "GroupQueryAttention",
        "HashedCrossing",
        "Hashing",
        "Identity",
        "Input",
        "InputLayer",
        "InputSpec",
        "IntegerLookup",
        "JaxLayer",
        "LSTM",
        "LSTMCell",
        "Lambda",
        "Layer",
        "LayerNormalization",
        "LeakyReLU",
        "Masking",
        "MaxNumBoundingBoxes",
        "MaxPool1D",
        "MaxPool2D",
        "MaxPool3D",
        "MaxPooling1D",
        "MaxPooling2D",
        "MaxPooling3D",
        "Maximum",
        "MelSpectrogram",
        "Minimum",
        "MixUp",
        "MultiHeadAttention",
        "Multiply",
        "Normalization",
        "PReLU",
        "Permute",
        "Pipeline",
        "RMSNormalization",
        "RNN",
        "RandAugment",
        "RandomBrightness",
        "RandomColorDegeneration",
        "RandomColorJitter",
        "RandomContrast",
        "RandomCrop",
        "RandomElasticTransform",
        "RandomErasing",
        "RandomFlip",
        "RandomGaussianBlur",
        "RandomGrayscale",
        "RandomHue",
        "RandomInvert",
        "RandomPerspective",
        "RandomPosterization",
        "RandomRotation",
        "RandomSaturation",
        "RandomSharpness",
        "RandomShear",
        "RandomTranslation",
        "RandomZoom",
        "ReLU",
        "RepeatVector",
        "Rescaling",
        "Reshape",
        "Resizing",
        "ReversibleEmbedding",
        "STFTSpectrogram",
        "SeparableConv1D",
        "SeparableConv2D",
        "SeparableConvolution1D",
        "SeparableConvolution2D",
        "SimpleRNN",
        "SimpleRNNCell",
        "Softmax",
        "Solarization",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "SpectralNormalization",
        "StackedRNNCells",
        "StringLookup",
        "Subtract",
        "TFSMLayer",
        "TextVectorization",
        "TimeDistributed",
        "TorchModuleWrapper",
        "UnitNormalization",
        "UpSampling1D",
        "UpSampling2D",
        "UpSampling3D",
        "Wrapper",
        "ZeroPadding1D",
        "ZeroPadding2D",
        "ZeroPadding3D",
    ]
)

# Keyword arguments that every Keras layer takes (Layer.__init__), and the ones that
# change no shape or count: accepted and ignored here.
_COMMON = frozenset(
    {
        "name",
        "trainable",
        "dtype",
        "autocast",
        "input_shape",
        "input_dim",
        "batch_input_shape",
        "batch_size",
        "activity_regularizer",
        "seed",
        "noise_shape",
        "data_format",
    }
)
_NO_SHAPE_EFFECT = frozenset(
    {
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "bias_constraint",
        "depthwise_initializer",
        "pointwise_initializer",
        "depthwise_regularizer",
        "pointwise_regularizer",
        "depthwise_constraint",
        "pointwise_constraint",
        "beta_initializer",
        "gamma_initializer",
        "moving_mean_initializer",
        "moving_variance_initializer",
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
        "synchronized",
        "lora_rank",
        "lora_alpha",
        "quantization_config",
    }
)

Bound = Mapping[str, Any]
Builder = Callable[[Bound], s.Layer]


def _no_strided_dilation(b: Bound) -> None:
    """Keras refuses strides > 1 together with dilation_rate > 1 (base_conv.py)."""
    strides = s.to_pair(b.get("strides", 1), "strides")
    dilation = s.to_pair(b.get("dilation_rate", 1), "dilation_rate")
    if max(strides.h, strides.w) > 1 and max(dilation.h, dilation.w) > 1:
        raise SpecError(
            f"`strides > 1` cannot be combined with `dilation_rate > 1` (Keras refuses it), "
            f"got strides={b.get('strides')!r} and dilation_rate={b.get('dilation_rate')!r}"
        )


def _window_args(b: Bound) -> dict[str, Any]:
    """The arguments every convolution shares, normalised, with Keras's defaults."""
    _no_strided_dilation(b)
    return dict(
        kernel_size=s.to_pair(b["kernel_size"], "kernel_size"),
        strides=s.to_pair(b.get("strides", 1), "strides"),
        padding=s.to_padding(b.get("padding", "valid")),
        dilation_rate=s.to_pair(b.get("dilation_rate", 1), "dilation_rate"),
        activation=s.to_activation(b.get("activation")),
        use_bias=s.to_bool(b.get("use_bias", True), "use_bias"),
    )


def _depth_multiplier(b: Bound) -> int:
    return s.to_positive_int(b.get("depth_multiplier", 1), "depth_multiplier")


def _conv(b: Bound) -> s.Layer:
    return s.Conv2D(
        filters=s.to_positive_int(b["filters"], "filters"),
        groups=s.to_positive_int(b.get("groups", 1), "groups"),
        **_window_args(b),
    )


def _depthwise(b: Bound) -> s.Layer:
    return s.DepthwiseConv2D(depth_multiplier=_depth_multiplier(b), **_window_args(b))


def _separable(b: Bound) -> s.Layer:
    return s.SeparableConv2D(
        filters=s.to_positive_int(b["filters"], "filters"),
        depth_multiplier=_depth_multiplier(b),
        **_window_args(b),
    )


def _pooling(cls: type[s.Pooling2D]) -> Builder:
    def build(b: Bound) -> s.Layer:
        pool = s.to_pair(b.get("pool_size", 2), "pool_size")
        strides = b.get("strides")
        return cls(
            pool_size=pool,
            # Keras: strides=None means strides = pool_size (non-overlapping windows).
            strides=pool if strides is None else s.to_pair(strides, "strides"),
            padding=s.to_padding(b.get("padding", "valid")),
        )

    return build


def _global_pooling(cls: type[s.GlobalPooling2D]) -> Builder:
    return lambda b: cls(keepdims=s.to_bool(b.get("keepdims", False), "keepdims"))


def _zero_padding(b: Bound) -> s.Layer:
    top, bottom, left, right = s.to_zero_padding(b.get("padding", 1))
    return s.ZeroPadding2D(top=top, bottom=bottom, left=left, right=right)


def _dense(b: Bound) -> s.Layer:
    return s.Dense(
        units=s.to_positive_int(b["units"], "units"),
        activation=s.to_activation(b.get("activation")),
        use_bias=s.to_bool(b.get("use_bias", True), "use_bias"),
    )


def _batchnorm(b: Bound) -> s.Layer:
    if b.get("axis", -1) not in (-1, 3):
        raise SpecError(f"`axis` must be -1 (the channels axis), got {b['axis']!r}")
    for unsupported in ("renorm",):
        if b.get(unsupported):
            raise SpecError(f"`{unsupported}=True` is not supported")
    return s.BatchNormalization(
        momentum=s.to_float(b.get("momentum", 0.99), "momentum"),
        epsilon=s.to_float(b.get("epsilon", 0.001), "epsilon"),
        center=s.to_bool(b.get("center", True), "center"),
        scale=s.to_bool(b.get("scale", True), "scale"),
    )


def _relu(b: Bound) -> s.Layer:
    max_value = b.get("max_value")
    return s.ReLU(
        max_value=None if max_value is None else s.to_float(max_value, "max_value"),
        negative_slope=s.to_float(b.get("negative_slope", 0.0), "negative_slope"),
        threshold=s.to_float(b.get("threshold", 0.0), "threshold"),
    )


def _softmax(b: Bound) -> s.Layer:
    if b.get("axis", -1) != -1:
        raise SpecError(f"`axis` other than -1 is not supported, got {b['axis']!r}")
    return s.Softmax()


@dataclass(frozen=True)
class Signature:
    """A Keras constructor: its parameters in positional order, and how to build it."""

    params: tuple[str, ...]
    build: Builder
    required: tuple[str, ...] = ()
    layer_kwargs: bool = True  # False: the class does not pass **kwargs on to Layer


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
        ("rate", "noise_shape", "seed"), lambda b: s.Dropout(rate=s.to_rate(b["rate"])), ("rate",)
    ),
    "SpatialDropout2D": Signature(
        # Keras 3's SpatialDropout2D.__init__(rate, data_format, seed, name, dtype): no
        # **kwargs, so no input_shape= or trainable= either.
        ("rate", "data_format", "seed", "name", "dtype"),
        lambda b: s.SpatialDropout2D(rate=s.to_rate(b["rate"])),
        ("rate",),
        layer_kwargs=False,
    ),
    "BatchNormalization": Signature(("axis", "momentum", "epsilon", "center", "scale"), _batchnorm),
    "Activation": Signature(
        ("activation",),
        lambda b: s.Activation(activation=s.to_activation(b["activation"])),
        ("activation",),
    ),
    "ReLU": Signature(("max_value", "negative_slope", "threshold"), _relu),
    "LeakyReLU": Signature(
        # Keras 3 still takes the Keras 2 name `alpha`, with a deprecation warning.
        ("negative_slope", "alpha"),
        lambda b: s.LeakyReLU(
            negative_slope=s.to_float(
                b.get("negative_slope", b.get("alpha", 0.3)), "negative_slope"
            )
        ),
    ),
    "Softmax": Signature(("axis",), _softmax),
    "Rescaling": Signature(
        ("scale", "offset"),
        lambda b: s.Rescaling(
            scale=s.to_float(b["scale"], "scale"), offset=s.to_float(b.get("offset", 0.0), "offset")
        ),
        ("scale",),
    ),
}

# Input layers: they carry the input shape, and are not rows in Keras's summary.
INPUT_CLASSES = frozenset({"Input", "InputLayer"})
SUPPORTED = tuple(sorted(SIGNATURES))


def canonical(name: str) -> str:
    """The class Keras instantiates for `name` (MaxPool2D -> MaxPooling2D)."""
    return ALIASES.get(name, name)


def is_keras_layer(name: str) -> bool:
    return name in KERAS_LAYERS


def suggest(name: str) -> str | None:
    """The supported layer a misspelt name most likely means ("MaxPooling2d" -> "MaxPooling2D")."""
    candidates = [*SIGNATURES, *ALIASES, *INPUT_CLASSES]
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return close[0] if close else None


@dataclass(frozen=True)
class BoundLayer:
    """A built layer plus what its constructor said about the model as a whole."""

    layer: s.Layer
    name: str | None  # name= if given
    input_shape: tuple[int, ...] | None  # input_shape= / input_dim= / batch_input_shape=


def bind(
    cls_name: str, params: tuple[str, ...], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """Bind positional and keyword arguments to parameter names, as Python would."""
    if len(args) > len(params):
        raise SpecError(
            f"{cls_name} takes at most {len(params)} positional arguments "
            f"({', '.join(params)}), got {len(args)}"
        )
    bound = dict(zip(params, args, strict=False))
    for key, value in kwargs.items():
        if key in bound:
            raise SpecError(f"{cls_name} got `{key}` both by position and by keyword")
        bound[key] = value
    return bound


def build_layer(cls_name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> BoundLayer:
    """Build a supported Keras layer from its constructor arguments.

    Raises SpecError naming the argument, the rule and the value received.
    """
    cls_name = canonical(cls_name)
    signature = SIGNATURES[cls_name]
    bound = bind(cls_name, signature.params, args, kwargs)
    known = set(signature.params) | _NO_SHAPE_EFFECT
    if signature.layer_kwargs:
        known |= _COMMON
    for key in bound:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(set(signature.params) | _COMMON), n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise SpecError(f"{cls_name} has no argument `{key}`{hint}")
    for key in signature.required:
        if key not in bound:
            raise SpecError(f"{cls_name} needs `{key}`")
    data_format = bound.get("data_format")
    if data_format not in (None, "channels_last"):
        raise SpecError(
            f"only data_format='channels_last' (Keras's default) is supported, got {data_format!r}"
        )
    layer = signature.build(bound)
    name = bound.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecError(f"`name` must be a string, got {name!r}")
    return BoundLayer(layer, name, _input_shape(bound))


def _input_shape(bound: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The input shape a first layer may carry: input_shape, input_dim, batch_input_shape."""
    if bound.get("input_shape") is not None:
        return s.to_shape(bound["input_shape"], "input_shape")
    if bound.get("input_dim") is not None:
        return (s.to_positive_int(bound["input_dim"], "input_dim"),)
    batch_shape = bound.get("batch_input_shape")
    if batch_shape is not None:
        if not isinstance(batch_shape, (tuple, list)) or len(batch_shape) < 2:
            raise SpecError(f"`batch_input_shape` must include the batch axis, got {batch_shape!r}")
        return s.to_shape(tuple(batch_shape[1:]), "batch_input_shape")
    return None


def input_layer_shape(
    cls_name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[int, ...]:
    """The shape of `keras.Input(shape=...)` or `InputLayer(shape=... | input_shape=...)`."""
    params = ("shape", "batch_size", "dtype", "sparse", "ragged", "batch_shape", "name")
    bound = bind(cls_name, params, args, kwargs)
    if bound.get("shape") is not None:
        return s.to_shape(bound["shape"], "shape")
    if bound.get("input_shape") is not None:
        return s.to_shape(bound["input_shape"], "input_shape")
    for key in ("batch_shape", "batch_input_shape"):
        batch_shape = bound.get(key)
        if isinstance(batch_shape, (tuple, list)) and len(batch_shape) >= 2:
            return s.to_shape(tuple(batch_shape[1:]), key)
    raise SpecError(f"{cls_name} needs `shape`, such as shape=(28, 28, 1)")


# ---- Sequential: layer names and the input shape, as a fresh Keras 3 session gives them ----


@dataclass(frozen=True)
class LayerCall:
    """One `SomeLayer(...)` call as written in the source: class name, arguments, line."""

    cls: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    line: int | None = None


def to_snake_case(name: str) -> str:
    """Keras's layer-name prefix: MaxPooling2D -> max_pooling2d, ReLU -> re_lu.

    Same regular expressions as keras/src/utils/naming.py to_snake_case.
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def next_auto_name(prefix: str, uids: dict[str, int]) -> str:
    """The name Keras's uniquify would give the next unnamed layer: conv2d, conv2d_1, ..."""
    return f"{prefix}_{uids[prefix]}" if prefix in uids else prefix


def auto_name(prefix: str, uids: dict[str, int]) -> str:
    """Keras's uniquify: conv2d, conv2d_1, ...; only layers without name= take a number."""
    name = next_auto_name(prefix, uids)
    uids[prefix] = uids.get(prefix, 0) + 1
    return name


def sequential(
    calls: list[LayerCall],
    *,
    source: str,
    name: str | None = None,
    input_shape: tuple[int, ...] | None = None,
    notes: tuple[str, ...] = (),
) -> s.ModelSpec:
    """Assemble `keras.Sequential([...])`: input shape, layers, Keras's auto names.

    Names follow keras/src/utils/naming.py uniquify in a fresh session: the first
    Conv2D is conv2d, the next conv2d_1; a layer given name= keeps it. `input_shape`,
    when given, overrides the file's own (the CLI's --input-shape).
    """
    file_shape: tuple[int, ...] | None = None
    layers: list[s.Layer] = []
    uids: dict[str, int] = {}
    for position, call in enumerate(calls):
        where = f"{source}, line {call.line}" if call.line else source
        try:
            if canonical(call.cls) in INPUT_CLASSES:
                if position != 0:
                    raise SpecError(f"{call.cls} must be the first item of a Sequential model")
                file_shape = input_layer_shape(call.cls, call.args, call.kwargs)
                continue
            bound = build_layer(call.cls, call.args, call.kwargs)
            trainable = s.to_bool(call.kwargs.get("trainable", True), "trainable")
        except SpecError as error:
            raise SpecError(f"{canonical(call.cls)}: {error.message}", where=where) from None
        if not layers and file_shape is None:
            file_shape = bound.input_shape
        layer_name = bound.name or auto_name(to_snake_case(bound.layer.keras_class), uids)
        layers.append(replace(bound.layer, name=layer_name, line=call.line, trainable=trainable))
    if not layers:
        raise SpecError("the Sequential model has no layers", where=source)
    shape = input_shape or file_shape
    if shape is None:
        raise SpecError(
            "the model has no input shape: neither keras.Input(shape=...) nor input_shape= "
            "on its first layer",
            where=source,
            hint="add input_shape=(28, 28, 1) to the first layer, or pass --input-shape 28,28,1",
        )
    return s.ModelSpec(
        name=name or "sequential",
        input_shape=shape,
        layers=tuple(layers),
        source=source,
        notes=notes,
    )
