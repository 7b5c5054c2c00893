"""Explain a model: the rules that give each layer its row (shape, parameters, formulas,
receptive field, multiply-adds). The row types live in `core.explanation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from . import arith
from . import spec as s
from .errors import ShapeError
from .explanation import IMAGE_FIELD, Explanation, ReceptiveField, Row, Shape, fmt_shape
from .notes import notes_for


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


def _spatial(layer: s.Layer, shape: Shape, source: str) -> tuple[int, int, int]:
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


def _window(
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
    h, w, _ = _spatial(layer, shape, source)
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
    if padding == "same":
        pad = s.Pair(
            arith.same_padding(h, kernel.h, strides.h, dilation.h)[0],
            arith.same_padding(w, kernel.w, strides.w, dilation.w)[0],
        )
    else:
        pad = s.Pair(0, 0)
    return out_h, out_w, window_formula(text_h, text_w), pad


def kernel_span(kernel: s.Pair, dilation: s.Pair) -> s.Pair:
    """The input extent a (dilated) kernel covers, per axis."""
    return s.Pair(
        arith.effective_kernel(kernel.h, dilation.h), arith.effective_kernel(kernel.w, dilation.w)
    )


def _conv_window(
    layer: s.ConvBase, shape: Shape, source: str
) -> tuple[int, int, str, tuple[s.Pair, s.Pair, s.Pair]]:
    """A convolution's output size and formula, and its (span, stride, pad) for the field."""
    k, strides, dilation = layer.kernel_size, layer.strides, layer.dilation_rate
    out_h, out_w, formula, pad = _window(layer, shape, source, k, strides, layer.padding, dilation)
    return out_h, out_w, formula, (kernel_span(k, dilation), strides, pad)


def _conv2d(layer: s.Conv2D, shape: Shape, source: str) -> Step:
    out_h, out_w, formula, window = _conv_window(layer, shape, source)
    cin = shape[2]
    if cin % layer.groups:
        raise ShapeError(
            f"{cin} input channels cannot be split into groups={layer.groups}",
            where=where(layer, source),
        )
    if layer.filters % layer.groups:
        raise ShapeError(
            f"filters={layer.filters} cannot be split into groups={layer.groups}",
            where=where(layer, source),
        )
    k = layer.kernel_size
    params = arith.conv2d_params(k.h, k.w, cin, layer.filters, layer.groups, layer.use_bias)
    per_filter = (
        f"{k.h}*{k.w}*{cin}" if layer.groups == 1 else f"{k.h}*{k.w}*({cin}/{layer.groups})"
    )
    params_formula = (
        f"({per_filter} + 1) * {layer.filters} = {params:,}"
        if layer.use_bias
        else f"{per_filter} * {layer.filters} = {params:,} (no bias)"
    )
    return Step(
        (out_h, out_w, layer.filters),
        f"{formula}; {layer.filters} filters",
        params,
        params_formula=params_formula,
        macs=arith.conv2d_macs(out_h, out_w, layer.filters, k.h, k.w, cin // layer.groups),
        window=window,
    )


def _depthwise(layer: s.DepthwiseConv2D, shape: Shape, source: str) -> Step:
    out_h, out_w, formula, window = _conv_window(layer, shape, source)
    cin, dm, k = shape[2], layer.depth_multiplier, layer.kernel_size
    params = arith.depthwise_params(k.h, k.w, cin, dm, layer.use_bias)
    times_dm = f" * {dm}" if dm != 1 else ""
    params_formula = (
        f"({k.h}*{k.w} + 1) * {cin}{times_dm} = {params:,}"
        if layer.use_bias
        else f"{k.h}*{k.w} * {cin}{times_dm} = {params:,} (no bias)"
    )
    channels = f"{cin} channels" + (f" x {dm} = {cin * dm}" if dm != 1 else " kept apart")
    return Step(
        (out_h, out_w, cin * dm),
        f"{formula}; {channels}",
        params,
        params_formula=params_formula,
        macs=arith.conv2d_macs(out_h, out_w, cin * dm, k.h, k.w, 1),
        window=window,
    )


def _separable(layer: s.SeparableConv2D, shape: Shape, source: str) -> Step:
    out_h, out_w, formula, window = _conv_window(layer, shape, source)
    cin, dm, k, f = shape[2], layer.depth_multiplier, layer.kernel_size, layer.filters
    params = arith.separable_params(k.h, k.w, cin, f, dm, layer.use_bias)
    mid = f"{cin}*{dm}" if dm != 1 else f"{cin}"
    bias = f" + {f}" if layer.use_bias else ""
    return Step(
        (out_h, out_w, f),
        f"{formula}; {f} filters",
        params,
        params_formula=f"{k.h}*{k.w}*{mid} + {mid}*{f}{bias} = {params:,} (depthwise + pointwise"
        + (" + bias)" if layer.use_bias else ")"),
        macs=arith.conv2d_macs(out_h, out_w, cin * dm, k.h, k.w, 1)
        + arith.conv2d_macs(out_h, out_w, f, 1, 1, cin * dm),
        window=window,
    )


def _pooling(layer: s.Pooling2D, shape: Shape, source: str) -> Step:
    out_h, out_w, formula, pad = _window(
        layer, shape, source, layer.pool_size, layer.strides, layer.padding, s.ONE, pooling=True
    )
    return Step(
        (out_h, out_w, shape[2]),
        f"{formula}; {shape[2]} channels kept",
        window=(layer.pool_size, layer.strides, pad),
    )


def _global_pooling(layer: s.GlobalPooling2D, shape: Shape, source: str) -> Step:
    h, w, c = _spatial(layer, shape, source)
    verb = "average" if layer.op == "average" else "maximum"
    out: Shape = (1, 1, c) if layer.keepdims else (c,)
    return Step(out, f"{verb} of each channel over {h} x {w} positions: {c} numbers")


def _zero_padding(layer: s.ZeroPadding2D, shape: Shape, source: str) -> Step:
    h, w, c = _spatial(layer, shape, source)
    out_h, out_w = h + layer.top + layer.bottom, w + layer.left + layer.right
    text_h, text_w = (
        f"{h} + {layer.top} + {layer.bottom} = {out_h}",
        f"{w} + {layer.left} + {layer.right} = {out_w}",
    )
    return Step(
        (out_h, out_w, c),
        window_formula(text_h, text_w),
        window=(s.ONE, s.ONE, s.Pair(layer.top, layer.left)),
    )


def _flatten(layer: s.Flatten, shape: Shape, source: str) -> Step:
    total = arith.product(shape)
    return Step((total,), f"{' x '.join(map(str, shape))} = {total:,}")


def _dense(layer: s.Dense, shape: Shape, source: str) -> Step:
    fin, units = shape[-1], layer.units
    params = arith.dense_params(fin, units, layer.use_bias)
    positions = arith.product(shape[:-1])
    if len(shape) == 1:
        formula = f"{units} units"
    else:
        grid = " x ".join(map(str, shape[:-1]))
        formula = f"last axis {fin} -> {units} units, at each of {grid} positions"
    return Step(
        (*shape[:-1], units),
        formula,
        params,
        params_formula=f"({fin} + 1) * {units} = {params:,}"
        if layer.use_bias
        else f"{fin} * {units} = {params:,} (no bias)",
        macs=arith.dense_macs(positions, fin, units),
        window=(s.ONE, s.ONE, s.Pair(0, 0)) if len(shape) == 3 else None,
    )


def _batchnorm(layer: s.BatchNormalization, shape: Shape, source: str) -> Step:
    c = shape[-1]
    trainable, moving = arith.batchnorm_params(c, layer.center, layer.scale)
    learned = [n for n, on in (("gamma", layer.scale), ("beta", layer.center)) if on]
    k = len(learned) + 2
    return Step(
        shape,
        "unchanged",
        trainable,
        moving,
        f"{k} * {c} = {trainable + moving:,} ({', '.join(learned) or 'nothing'} trained; "
        f"moving mean and variance, {moving:,}, not trained)",
        macs=arith.product(shape),  # one multiply-add per value once folded for inference
    )


def _spatial_dropout(layer: s.SpatialDropout2D, shape: Shape, source: str) -> Step:
    _spatial(layer, shape, source)
    return Step(shape, "unchanged (drops whole channels while training)")


def _unchanged(note: str) -> Callable[[s.Layer, Shape, str], Step]:
    return lambda layer, shape, source: Step(shape, note)


L = TypeVar("L", bound=s.Layer)
_RULES: dict[type[s.Layer], Callable[[s.Layer, Shape, str], Step]] = {}


def _rule(cls: type[L], fn: Callable[[L, Shape, str], Step]) -> None:
    _RULES[cls] = fn  # type: ignore[assignment]


_rule(s.Conv2D, _conv2d)
_rule(s.DepthwiseConv2D, _depthwise)
_rule(s.SeparableConv2D, _separable)
_rule(s.MaxPooling2D, _pooling)
_rule(s.AveragePooling2D, _pooling)
_rule(s.GlobalAveragePooling2D, _global_pooling)
_rule(s.GlobalMaxPooling2D, _global_pooling)
_rule(s.ZeroPadding2D, _zero_padding)
_rule(s.Flatten, _flatten)
_rule(s.Dense, _dense)
_rule(s.BatchNormalization, _batchnorm)
_rule(s.SpatialDropout2D, _spatial_dropout)
_rule(s.Dropout, _unchanged("unchanged (zeroes random values while training)"))
_rule(s.Activation, _unchanged("unchanged (applied value by value)"))
_rule(s.ReLU, _unchanged("unchanged (applied value by value)"))
_rule(s.LeakyReLU, _unchanged("unchanged (applied value by value)"))
_rule(s.Softmax, _unchanged("unchanged (normalised along the last axis)"))
_rule(s.Rescaling, _unchanged("unchanged (scaled value by value)"))


def step(layer: s.Layer, shape: Shape, source: str) -> Step:
    """What `layer` makes of an input of `shape` (no batch axis); ShapeError if it cannot."""
    result = _RULES[type(layer)](layer, shape, source)
    if not layer.trainable and result.trainable:
        return replace(
            result,
            trainable=0,
            non_trainable=result.trainable + result.non_trainable,
            params_formula=result.params_formula + " (all frozen: trainable=False)",
        )
    return result


def next_field(
    field: ReceptiveField | None, result: Step, output_shape: Shape
) -> ReceptiveField | None:
    """The receptive field after a layer: grown by its window, None once space is gone."""
    if field is None or len(output_shape) != 3:
        return None
    if result.window is None:
        return field
    kernel, stride, pad = result.window
    size_h, jump_h, start_h = arith.receptive_field_step(
        field.size.h, field.jump.h, field.start.h, kernel.h, stride.h, pad.h
    )
    size_w, jump_w, start_w = arith.receptive_field_step(
        field.size.w, field.jump.w, field.start.w, kernel.w, stride.w, pad.w
    )
    return ReceptiveField(s.Pair(size_h, size_w), s.Pair(jump_h, jump_w), s.Pair(start_h, start_w))


def explain(model: s.ModelSpec) -> Explanation:
    """Every layer's output shape, parameters, formulas, receptive field and cost."""
    shape: Shape = model.input_shape
    field: ReceptiveField | None = IMAGE_FIELD if len(shape) == 3 else None
    rows: list[Row] = []
    for layer in model.layers:
        result = step(layer, shape, model.source)
        field = next_field(field, result, result.output_shape)
        rows.append(
            Row(
                name=layer.name,
                layer_type=layer.keras_class,
                kind=layer.kind,
                line=layer.line,
                input_shape=shape,
                output_shape=result.output_shape,
                trainable=result.trainable,
                non_trainable=result.non_trainable,
                shape_formula=result.shape_formula,
                params_formula=result.params_formula,
                receptive_field=field,
                macs=result.macs,
                window=result.window,
            )
        )
        shape = result.output_shape
    notes = (*notes_for(model.input_shape, rows), *model.notes)
    return Explanation(model.name, model.source, model.input_shape, tuple(rows), notes)
