"""The model description: frozen layer dataclasses with Keras 3 semantics and defaults.

Everything downstream (explain, the torch runtime, reports) reads these types. Arguments
are normalised once, here at the edge (`kernel_size=3`, `(3, 3)` and `[3, 3]` all become
`Pair(3, 3)`), so no later code looks at raw Keras arguments. Field names follow the
Keras argument names so that a Keras user recognises them. Layout is channels_last:
shapes are (height, width, channels) without the batch axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Literal

from .arith import Padding
from .errors import SpecError

PoolOp = Literal["max", "average"]


class LayerKind(StrEnum):
    """What a layer does, as every reader asks it (no substring tests on class names)."""

    CONV = "conv"  # Conv2D, DepthwiseConv2D, SeparableConv2D: a sliding window with weights
    POOL = "pool"  # MaxPooling2D, AveragePooling2D: a sliding window without weights
    GLOBAL_POOL = "global_pool"  # one number per channel
    PADDING = "padding"  # ZeroPadding2D: moves the window's origin
    FLATTEN = "flatten"
    DENSE = "dense"
    DROPOUT = "dropout"  # Dropout, SpatialDropout2D: identity at inference
    NORM = "norm"  # BatchNormalization
    ACTIVATION = "activation"  # Activation, ReLU, LeakyReLU, Softmax: value by value
    RESCALE = "rescale"  # Rescaling


# Activations accepted by name; each maps to a torch function in the runtime.
ACTIVATIONS = (
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "elu",
    "selu",
    "gelu",
    "softplus",
    "softsign",
    "swish",
    "silu",
    "relu6",
    "leaky_relu",
    "hard_sigmoid",
    "exponential",
    "mish",
)


@dataclass(frozen=True)
class Pair:
    """A (height, width) pair: kernel sizes, strides, dilation rates, pool sizes."""

    h: int
    w: int

    @property
    def square(self) -> bool:
        return self.h == self.w

    def __str__(self) -> str:
        return f"{self.h}x{self.w}"

    def astuple(self) -> tuple[int, int]:
        return self.h, self.w


ONE = Pair(1, 1)


@dataclass(frozen=True, kw_only=True)
class Layer:
    """Fields every layer has. `name` is Keras's (conv2d, conv2d_1, ...), `line` the source line."""

    keras_class: ClassVar[str] = ""
    kind: ClassVar[LayerKind]
    name: str = ""
    line: int | None = None
    trainable: bool = True

    @property
    def label(self) -> str:
        """`conv2d (Conv2D)`, as in Keras's summary."""
        return f"{self.name} ({self.keras_class})"


@dataclass(frozen=True, kw_only=True)
class ConvBase(Layer):
    """What every convolution has: a sliding kernel window, an activation, a bias."""

    kind = LayerKind.CONV
    kernel_size: Pair
    strides: Pair = ONE
    padding: Padding = "valid"
    dilation_rate: Pair = ONE
    activation: str = "linear"
    use_bias: bool = True


@dataclass(frozen=True, kw_only=True)
class Conv2D(ConvBase):
    keras_class = "Conv2D"
    filters: int
    groups: int = 1


@dataclass(frozen=True, kw_only=True)
class DepthwiseConv2D(ConvBase):
    """One kernel per input channel (times depth_multiplier); channels are never mixed."""

    keras_class = "DepthwiseConv2D"
    depth_multiplier: int = 1


@dataclass(frozen=True, kw_only=True)
class SeparableConv2D(ConvBase):
    """A depthwise convolution followed by a 1x1 (pointwise) one."""

    keras_class = "SeparableConv2D"
    filters: int
    depth_multiplier: int = 1


@dataclass(frozen=True, kw_only=True)
class Pooling2D(Layer):
    """Max or average pooling; Keras's strides default to pool_size."""

    kind = LayerKind.POOL
    op: ClassVar[PoolOp] = "max"
    pool_size: Pair
    strides: Pair
    padding: Padding = "valid"


@dataclass(frozen=True, kw_only=True)
class MaxPooling2D(Pooling2D):
    keras_class = "MaxPooling2D"
    op = "max"


@dataclass(frozen=True, kw_only=True)
class AveragePooling2D(Pooling2D):
    keras_class = "AveragePooling2D"
    op = "average"


@dataclass(frozen=True, kw_only=True)
class GlobalPooling2D(Layer):
    kind = LayerKind.GLOBAL_POOL
    op: ClassVar[PoolOp] = "average"
    keepdims: bool = False


@dataclass(frozen=True, kw_only=True)
class GlobalAveragePooling2D(GlobalPooling2D):
    keras_class = "GlobalAveragePooling2D"
    op = "average"


@dataclass(frozen=True, kw_only=True)
class GlobalMaxPooling2D(GlobalPooling2D):
    keras_class = "GlobalMaxPooling2D"
    op = "max"


@dataclass(frozen=True, kw_only=True)
class ZeroPadding2D(Layer):
    kind = LayerKind.PADDING
    keras_class = "ZeroPadding2D"
    top: int = 1
    bottom: int = 1
    left: int = 1
    right: int = 1


@dataclass(frozen=True, kw_only=True)
class Flatten(Layer):
    kind = LayerKind.FLATTEN
    keras_class = "Flatten"


@dataclass(frozen=True, kw_only=True)
class Dense(Layer):
    kind = LayerKind.DENSE
    keras_class = "Dense"
    units: int
    activation: str = "linear"
    use_bias: bool = True


@dataclass(frozen=True, kw_only=True)
class Dropout(Layer):
    kind = LayerKind.DROPOUT
    keras_class = "Dropout"
    rate: float


@dataclass(frozen=True, kw_only=True)
class SpatialDropout2D(Layer):
    kind = LayerKind.DROPOUT
    keras_class = "SpatialDropout2D"
    rate: float


@dataclass(frozen=True, kw_only=True)
class BatchNormalization(Layer):
    kind = LayerKind.NORM
    keras_class = "BatchNormalization"
    momentum: float = 0.99
    epsilon: float = 0.001
    center: bool = True
    scale: bool = True


@dataclass(frozen=True, kw_only=True)
class Activation(Layer):
    kind = LayerKind.ACTIVATION
    keras_class = "Activation"
    activation: str


@dataclass(frozen=True, kw_only=True)
class ReLU(Layer):
    kind = LayerKind.ACTIVATION
    keras_class = "ReLU"
    max_value: float | None = None
    negative_slope: float = 0.0
    threshold: float = 0.0


@dataclass(frozen=True, kw_only=True)
class LeakyReLU(Layer):
    kind = LayerKind.ACTIVATION
    keras_class = "LeakyReLU"
    negative_slope: float = 0.3


@dataclass(frozen=True, kw_only=True)
class Softmax(Layer):
    kind = LayerKind.ACTIVATION
    keras_class = "Softmax"
    axis: int = -1


@dataclass(frozen=True, kw_only=True)
class Rescaling(Layer):
    kind = LayerKind.RESCALE
    keras_class = "Rescaling"
    scale: float
    offset: float = 0.0


@dataclass(frozen=True)
class TrainingSpec:
    """How a model is trained: what Keras's compile() and fit() say, plus the data set."""

    dataset: str
    optimizer: str
    loss: str
    batch_size: int
    epochs: int
    learning_rate: float | None = None  # None: the optimiser's Keras 3 default
    optimizer_args: tuple[tuple[str, float | bool], ...] = ()  # e.g. (("momentum", 0.9),)
    from_logits: bool = False  # the loss's own flag: outputs are logits, not probabilities


@dataclass(frozen=True)
class ModelSpec:
    """A Sequential model: its input shape (no batch axis), layers in order, and origin."""

    name: str
    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    source: str  # preset name or file path, for messages
    training: TrainingSpec | None = None
    notes: tuple[str, ...] = ()  # what the importer had to assume, said to the user


# ---- normalisation at the edge: raw Keras argument values -> the types above ----


def to_pair(value: object, arg: str, *, minimum: int = 1) -> Pair:
    """Keras's standardize_tuple: `3`, `(3, 3)` and `[3, 3]` all give `Pair(3, 3)`."""
    if isinstance(value, bool):
        raise SpecError(f"`{arg}` must be an integer or a pair of integers, got {value!r}")
    if isinstance(value, int):
        h = w = value
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        h, w = value
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (h, w)):
            raise SpecError(f"`{arg}` must be a pair of integers, got {value!r}")
    else:
        raise SpecError(f"`{arg}` must be an integer or a pair of integers, got {value!r}")
    if h < minimum or w < minimum:
        raise SpecError(f"`{arg}` must be at least {minimum}, got {value!r}")
    return Pair(h, w)


def to_padding(value: object) -> Padding:
    """'valid' or 'same', case-insensitive as in Keras."""
    if isinstance(value, str) and value.lower() in ("valid", "same"):
        return "same" if value.lower() == "same" else "valid"
    raise SpecError(f"`padding` must be 'valid' or 'same', got {value!r}")


MAX_SIZE = 1_000_000_000  # filters, units, kernel sizes: far past any model convscope runs


def to_positive_int(value: object, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"`{arg}` must be a positive integer, got {value!r}")
    if value > MAX_SIZE:
        raise SpecError(
            f"`{arg}` must be at most {MAX_SIZE:,}, got a number of {len(str(value))} digits"
        )
    return value


def to_rate(value: object, arg: str = "rate") -> float:
    """Dropout rates: Keras requires 0 <= rate <= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise SpecError(f"`{arg}` must be a number between 0 and 1, got {value!r}")
    return float(value)


def to_float(value: object, arg: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"`{arg}` must be a number, got {value!r}")
    return float(value)


def to_bool(value: object, arg: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"`{arg}` must be True or False, got {value!r}")
    return value


def to_activation(value: object) -> str:
    """An activation by Keras name; None means 'linear' as in Keras."""
    if value is None:
        return "linear"
    if isinstance(value, str) and value.lower() in ACTIVATIONS:
        return value.lower()
    raise SpecError(
        f"`activation` must be one of {', '.join(ACTIVATIONS)}, got {value!r}",
    )


def to_zero_padding(value: object) -> tuple[int, int, int, int]:
    """ZeroPadding2D's padding: `p`, `(ph, pw)` or `((top, bottom), (left, right))`."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, value, value, value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        first, second = value
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (first, second)):
            return first, first, second, second
        if all(isinstance(v, (tuple, list)) and len(v) == 2 for v in (first, second)):
            flat = (*first, *second)
            if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in flat):
                return flat
    raise SpecError(
        "`padding` must be an int, (rows, cols) or ((top, bottom), (left, right)) of "
        f"non-negative integers, got {value!r}"
    )


def to_shape(value: object, arg: str) -> tuple[int, ...]:
    """An input shape without the batch axis: a tuple of positive integers."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if (
        isinstance(value, (tuple, list))
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_SIZE for v in value)
    ):
        return tuple(value)
    raise SpecError(
        f"`{arg}` must be a tuple of positive integers such as (28, 28, 1), got {value!r}"
    )
