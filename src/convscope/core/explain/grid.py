"""Explain's rules for the layers that change the grid itself: Reshape, UpSampling2D,
Resizing, CenterCrop and Conv2DTranspose, and the activations with their own weights
(PReLU). Shapes and counts as Keras 3 computes them; the sources are named per rule.
"""

from __future__ import annotations

from .. import arith
from .. import spec as s
from ..errors import ShapeError
from .step import Step, filters, spatial, where, window_formula
from .table import Shape, fmt_shape


def reshape(layer: s.Reshape, shape: Shape, source: str) -> Step:
    """Keras's Reshape: the same values in row-major (height, width, channels) order.

    One -1 takes whatever is left: `total / product(the others)`, which must be whole
    (keras/src/ops/operation_utils.py compute_reshape_output_shape).
    """
    total, target = arith.product(shape), layer.target_shape
    known = arith.product(tuple(d for d in target if d != -1))
    if -1 in target:
        if total % known:
            raise ShapeError(
                f"{total:,} values cannot fill a shape of {fmt_shape(target)}: "
                f"{total:,} is not a multiple of {known:,}",
                where=where(layer, source),
            )
        out = tuple(total // known if d == -1 else d for d in target)
        formula = f"{total:,} values; -1 = {total:,} / {known:,} = {total // known:,}"
    else:
        if known != total:
            raise ShapeError(
                f"{total:,} values ({fmt_shape(shape)}) cannot be reshaped to "
                f"{fmt_shape(target)}, which holds {known:,}",
                where=where(layer, source),
                hint="the product of target_shape must equal the product of the input shape",
            )
        out = target
        formula = f"the same {total:,} values in a new shape"
    return Step(out, formula, breaks_field=out != shape)


def upsampling(layer: s.UpSampling2D, shape: Shape, source: str) -> Step:
    """Each value repeated size.h x size.w times (nearest) or interpolated (bilinear)."""
    h, w, c = spatial(layer, shape, source)
    size = layer.size
    text = window_formula(f"{h} * {size.h} = {h * size.h}", f"{w} * {size.w} = {w * size.w}")
    how = "each value repeated" if layer.interpolation == "nearest" else layer.interpolation
    return Step((h * size.h, w * size.w, c), f"{text} ({how})", breaks_field=True)


def resizing(layer: s.Resizing, shape: Shape, source: str) -> Step:
    h, w, c = spatial(layer, shape, source)
    return Step(
        (layer.height, layer.width, c),
        f"{h}x{w} resized to {layer.height}x{layer.width} ({layer.interpolation})",
        breaks_field=(layer.height, layer.width) != (h, w),
    )


def center_crop(layer: s.CenterCrop, shape: Shape, source: str) -> Step:
    """The middle height x width, cut from `(h - height) // 2` rows from the top (Keras 3)."""
    h, w, c = spatial(layer, shape, source)
    if layer.height > h or layer.width > w:
        raise ShapeError(
            f"cannot crop a {h}x{w} input to {layer.height}x{layer.width}: Keras would resize "
            "it instead, which convscope does not read as a crop",
            where=where(layer, source),
            hint="use Resizing(height, width) to enlarge an image",
        )
    top, left = (h - layer.height) // 2, (w - layer.width) // 2
    text = (
        window_formula(
            f"{h} - {h - layer.height} = {layer.height}", f"{w} - {w - layer.width} = {layer.width}"
        )
        + " (the middle kept)"
    )
    # A crop is a 1x1 window whose origin moves inwards: a negative 'before' padding.
    return Step((layer.height, layer.width, c), text, window=(s.ONE, s.ONE, s.Pair(-top, -left)))


def _transposed_axis(
    size: int, k: int, stride: int, layer: s.Conv2DTranspose, op: int | None
) -> tuple[int, str]:
    out = arith.transposed_output_size(size, k, stride, layer.padding, op)
    if op is not None:
        odd = f"{k} % 2" if layer.padding == "same" else f"{k}"
        return out, f"({size} - 1) * {stride} + {odd} + {op} = {out}"
    if layer.padding == "same":
        if stride == 1:
            return out, f"{size} ('same' padding keeps the size)"
        return out, f"{size} * {stride} = {out}"
    if stride == 1:
        return out, f"{size} + {k} - 1 = {out}"
    return out, f"({size} - 1) * {stride} + max({k}, {stride}) = {out}"


def conv_transpose(layer: s.Conv2DTranspose, shape: Shape, source: str) -> Step:
    """Output sizes from keras/src/backend/common/backend_utils.py (see arith); the kernel
    is (kh, kw, filters, in_channels) in Keras, so the weights count as a Conv2D's."""
    h, w, cin = spatial(layer, shape, source)
    kh, kw = (
        arith.effective_kernel(layer.kernel_size.h, layer.dilation_rate.h),
        arith.effective_kernel(layer.kernel_size.w, layer.dilation_rate.w),
    )
    op = layer.output_padding
    out_h, text_h = _transposed_axis(h, kh, layer.strides.h, layer, op.h if op else None)
    out_w, text_w = _transposed_axis(w, kw, layer.strides.w, layer, op.w if op else None)
    k, f = layer.kernel_size, layer.filters
    params = arith.conv2d_params(k.h, k.w, cin, f, 1, layer.use_bias)
    params_formula = (
        f"({k.h}*{k.w}*{cin} + 1) * {f} = {params:,}"
        if layer.use_bias
        else f"{k.h}*{k.w}*{cin} * {f} = {params:,} (no bias)"
    )
    return Step(
        (out_h, out_w, f),
        f"{window_formula(text_h, text_w)}; {filters(f)}",
        params,
        params_formula=params_formula,
        macs=arith.conv2d_macs(h, w, f, k.h, k.w, cin),  # every input value meets the kernel
        breaks_field=True,
    )


def prelu_shape(layer: s.PReLU, shape: Shape, source: str) -> tuple[int, ...]:
    """alpha's shape: the input's, with 1 on each shared axis (Keras's PReLU.build)."""
    if any(axis > len(shape) for axis in layer.shared_axes):
        raise ShapeError(
            f"shared_axes={list(layer.shared_axes)} names an axis past the input's "
            f"{len(shape)} ({fmt_shape(shape)})",
            where=where(layer, source),
        )
    return tuple(1 if i + 1 in layer.shared_axes else d for i, d in enumerate(shape))


def prelu(layer: s.PReLU, shape: Shape, source: str) -> Step:
    alpha = prelu_shape(layer, shape, source)
    count = arith.product(alpha)
    shared = (
        f" (shared over axes {', '.join(map(str, layer.shared_axes))})" if layer.shared_axes else ""
    )
    return Step(
        shape,
        "unchanged (applied value by value, with a learned slope below 0)",
        count,
        params_formula=f"one alpha per value: {'*'.join(map(str, alpha))} = {count:,}{shared}",
    )
