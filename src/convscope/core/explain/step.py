"""What one layer does to its input shape, as explain's rules compute it, and the shared
pieces of those rules: where a layer is (for errors), the sliding-window arithmetic with
its worked formula, and the check that a layer has an image-shaped input.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import arith
from .. import spec as s
from ..errors import ShapeError
from .table import Shape, fmt_shape


@dataclass(frozen=True)
class Step:
    """What one layer does to its input: the row's numbers before naming."""

    output_shape: Shape
    shape_formula: str
    trainable: int = 0
    non_trainable: int = 0
    params_formula: str = "no weights"
    macs: int = 0
    # The window geometry of a spatial layer, for the receptive field: (kernel, stride,
    # pad_before) per axis; None for layers that leave the field as it is.
    window: tuple[s.Pair, s.Pair, s.Pair] | None = None
    # True where one output position no longer sees a whole-pixel window of the image with
    # a whole-pixel step (up-sampling, resizing, a transposed convolution, a reshape that
    # moves values between positions): the receptive field is not followed past it.
    breaks_field: bool = False


def where(layer: s.Layer, source: str) -> str:
    """`my_model.py: conv2d_3 (Conv2D, line 9)`, the place named in errors."""
    line = f", line {layer.line}" if layer.line else ""
    return f"{source}: {layer.name} ({layer.keras_class}{line})"


# ---- output size along one axis, with its worked formula ----


def axis_formula(
    size: int,
    kernel: int,
    stride: int,
    padding: arith.Padding,
    dilation: int = 1,
    *,
    pooling: bool = False,
) -> tuple[int, str]:
    """The output size along one axis and how it comes about, with this layer's numbers."""
    out = arith.output_size(size, kernel, stride, padding, dilation)
    if padding == "same":
        if stride == 1:
            return out, f"{size} ('same' padding keeps the size)"
        return out, f"ceil({size} / {stride}) = {out}"
    span = arith.effective_kernel(kernel, dilation)
    if pooling and kernel == stride:
        return out, f"floor({size} / {stride}) = {out}"
    if stride == 1:
        return out, f"{size} - {span} + 1 = {out}"
    return out, f"floor(({size} - {span}) / {stride}) + 1 = {out}"


def window_formula(h: str, w: str) -> str:
    """One formula when both axes read the same, else both, labelled."""
    return h if h == w else f"height {h}; width {w}"


def spatial(layer: s.Layer, shape: Shape, source: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        hint = (
            "add the channel axis, e.g. input_shape=(28, 28, 1)"
            if len(shape) == 2
            else "conv and pooling layers need an image-shaped input, before any Flatten"
        )
        raise ShapeError(
            f"needs a (height, width, channels) input, got {fmt_shape(shape)}",
            where=where(layer, source),
            hint=hint,
        )
    return shape[0], shape[1], shape[2]


def sliding_window(
    layer: s.Layer,
    shape: Shape,
    source: str,
    kernel: s.Pair,
    strides: s.Pair,
    padding: arith.Padding,
    dilation: s.Pair,
    *,
    pooling: bool = False,
) -> tuple[int, int, str, s.Pair]:
    """Output height and width of a sliding window, its formula and its 'before' padding."""
    h, w, _ = spatial(layer, shape, source)
    out_h, text_h = axis_formula(h, kernel.h, strides.h, padding, dilation.h, pooling=pooling)
    out_w, text_w = axis_formula(w, kernel.w, strides.w, padding, dilation.w, pooling=pooling)
    if out_h <= 0 or out_w <= 0:
        span = kernel_span(kernel, dilation)
        noun = "pool window" if pooling else "kernel"
        dilated = f" dilated to {span}" if span != kernel else ""
        raise ShapeError(
            f"a {kernel} {noun}{dilated} does not fit a {h}x{w} input",
            where=where(layer, source),
            hint="use padding='same', a smaller window, or less downsampling before this layer",
        )
    top, _, left, _ = same_pads(shape, kernel, strides, padding, dilation)
    return out_h, out_w, window_formula(text_h, text_w), s.Pair(top, left)


def same_pads(
    shape: Shape, kernel: s.Pair, strides: s.Pair, padding: str, dilation: s.Pair = s.ONE
) -> tuple[int, int, int, int]:
    """A window's zero padding (top, bottom, left, right) on an (H, W, ...) input: none for
    'valid', TensorFlow's split for 'same' (arith.same_padding, the odd pixel after)."""
    if padding != "same":
        return 0, 0, 0, 0
    top, bottom = arith.same_padding(shape[0], kernel.h, strides.h, dilation.h)
    left, right = arith.same_padding(shape[1], kernel.w, strides.w, dilation.w)
    return top, bottom, left, right


def kernel_span(kernel: s.Pair, dilation: s.Pair) -> s.Pair:
    """The input extent a (dilated) kernel covers, per axis."""
    return s.Pair(
        arith.effective_kernel(kernel.h, dilation.h), arith.effective_kernel(kernel.w, dilation.w)
    )


def conv_window(
    layer: s.ConvBase, shape: Shape, source: str
) -> tuple[int, int, str, tuple[s.Pair, s.Pair, s.Pair]]:
    """A convolution's output size and formula, and its (span, stride, pad) for the field."""
    k, strides, dilation = layer.kernel_size, layer.strides, layer.dilation_rate
    out_h, out_w, formula, pad = sliding_window(
        layer, shape, source, k, strides, layer.padding, dilation
    )
    return out_h, out_w, formula, (kernel_span(k, dilation), strides, pad)


def filters(count: int) -> str:
    """'32 filters', '1 filter'."""
    return f"{count} filter" if count == 1 else f"{count} filters"
