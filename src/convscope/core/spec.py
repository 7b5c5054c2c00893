"""The model description: frozen layer dataclasses with Keras 3 semantics and defaults.

Everything downstream (explain, the torch runtime, reports) reads these types. Arguments
are normalised once, at the edge (core.normalise: `kernel_size=3`, `(3, 3)` and `[3, 3]` all become
`Pair(3, 3)`), so no later code looks at raw Keras arguments. Field names follow the
Keras argument names so that a Keras user recognises them. Layout is channels_last:
shapes are (height, width, channels) without the batch axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Literal

from .arith import Padding

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
    RESHAPE = "reshape"  # Reshape: the same values in a new shape
    RESAMPLE = "resample"  # UpSampling2D, Resizing, CenterCrop: a new grid, no weights
    TRANSPOSED_CONV = "transposed_conv"  # Conv2DTranspose: a window that spreads, with weights
    AUGMENT = "augment"  # RandomFlip, RandomRotation, ...: random while training, else identity
    MERGE = "merge"  # Add, Concatenate, ...: several tensors in, one out (core/graph.py)


# Activations accepted by name; each maps to a torch function in the runtime.
ACTIVATIONS = (
    "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "softplus",
    "softsign", "swish", "silu", "relu6", "leaky_relu", "hard_sigmoid", "exponential", "mish",
)  # fmt: skip


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


@dataclass(frozen=True, kw_only=True)
class ELU(Layer):
    kind = LayerKind.ACTIVATION
    keras_class = "ELU"
    alpha: float = 1.0


@dataclass(frozen=True, kw_only=True)
class PReLU(Layer):
    """max(0, x) + alpha * min(0, x), alpha learned per value (one per channel when shared)."""

    kind = LayerKind.ACTIVATION
    keras_class = "PReLU"
    shared_axes: tuple[int, ...] = ()  # Keras's axes (1 = height, 2 = width, 3 = channels)


@dataclass(frozen=True, kw_only=True)
class Reshape(Layer):
    kind = LayerKind.RESHAPE
    keras_class = "Reshape"
    target_shape: tuple[int, ...]  # one entry may be -1: whatever the values fill


@dataclass(frozen=True, kw_only=True)
class UpSampling2D(Layer):
    kind = LayerKind.RESAMPLE
    keras_class = "UpSampling2D"
    size: Pair = Pair(2, 2)
    interpolation: str = "nearest"


@dataclass(frozen=True, kw_only=True)
class Resizing(Layer):
    kind = LayerKind.RESAMPLE
    keras_class = "Resizing"
    height: int
    width: int
    interpolation: str = "bilinear"


@dataclass(frozen=True, kw_only=True)
class CenterCrop(Layer):
    kind = LayerKind.RESAMPLE
    keras_class = "CenterCrop"
    height: int
    width: int


@dataclass(frozen=True, kw_only=True)
class Conv2DTranspose(ConvBase):
    """The transpose of a strided convolution: each input value spreads over a kernel window."""

    kind = LayerKind.TRANSPOSED_CONV
    keras_class = "Conv2DTranspose"
    filters: int
    output_padding: Pair | None = None


@dataclass(frozen=True, kw_only=True)
class RandomFlip(Layer):
    kind = LayerKind.AUGMENT
    keras_class = "RandomFlip"
    mode: str = "horizontal_and_vertical"


@dataclass(frozen=True, kw_only=True)
class RandomTransform(Layer):
    """A random affine change of each training image; the identity at inference (Keras)."""

    kind = LayerKind.AUGMENT
    fill_mode: str = "reflect"
    interpolation: str = "bilinear"
    fill_value: float = 0.0


@dataclass(frozen=True, kw_only=True)
class RandomRotation(RandomTransform):
    keras_class = "RandomRotation"
    factor: tuple[float, float]  # (lower, upper) fractions of a full turn, counter-clockwise


@dataclass(frozen=True, kw_only=True)
class RandomZoom(RandomTransform):
    keras_class = "RandomZoom"
    height_factor: tuple[float, float]  # (lower, upper): positive zooms out, negative in
    width_factor: tuple[float, float] | None = None  # None: the height's zoom, aspect kept


@dataclass(frozen=True, kw_only=True)
class RandomTranslation(RandomTransform):
    keras_class = "RandomTranslation"
    height_factor: tuple[float, float]  # (lower, upper) fractions of the height
    width_factor: tuple[float, float]


@dataclass(frozen=True)
class Schedule:
    """A Keras learning-rate schedule by class name, with its arguments (core/schedules.py)."""

    name: str  # "CosineDecay", "ExponentialDecay", "PiecewiseConstantDecay"
    args: tuple[tuple[str, Any], ...]  # numbers, a flag, or tuples of numbers


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
    schedule: Schedule | None = None  # the learning rate per step, instead of learning_rate
    label_smoothing: float = 0.0  # CategoricalCrossentropy(label_smoothing=...)


@dataclass(frozen=True)
class Pretrained:
    """Weights a keras.applications model loads (weights="imagenet"): the file Keras keeps
    in its cache (~/.keras/models/), where to get it, and the layers they are for."""

    file: str
    url: str
    layers: tuple[str, ...]


@dataclass(frozen=True)
class ModelSpec:
    """A model: its input shape (no batch axis), layers in Keras's order, and origin.

    A chain (Sequential) leaves `inbound` empty; a functional graph lists, per layer, the
    nodes it is called on (node 0 the input, node j + 1 layer j's output; core/graph.py).
    """

    name: str
    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    source: str  # preset name or file path, for messages
    training: TrainingSpec | None = None
    notes: tuple[str, ...] = ()  # what the importer had to assume, said to the user
    inbound: tuple[tuple[int, ...], ...] = ()  # a graph's wiring; () for a chain
    input_name: str = "input_layer"  # the InputLayer's name, as a graph's summary shows it
    pretrained: tuple[Pretrained, ...] = ()  # weights to start from (keras.applications)
