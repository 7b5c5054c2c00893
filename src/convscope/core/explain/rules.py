"""Explain a model: the rules that give each layer its row (shape, parameters, formulas,
receptive field, multiply-adds). The row types live in `core.explanation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from .. import arith
from .. import graph as g
from .. import spec as s
from ..errors import ShapeError
from . import grid
from .branches import branch_notes
from .merge import merge_step, met_field
from .notes import notes_for
from .step import Step, conv_window, filters, sliding_window, spatial, where, window_formula
from .table import IMAGE_FIELD, Explanation, ReceptiveField, Row, Shape


def _conv2d(layer: s.Conv2D, shape: Shape, source: str) -> Step:
    out_h, out_w, formula, window = conv_window(layer, shape, source)
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
        f"{formula}; {filters(layer.filters)}",
        params,
        params_formula=params_formula,
        macs=arith.conv2d_macs(out_h, out_w, layer.filters, k.h, k.w, cin // layer.groups),
        window=window,
    )


def _depthwise(layer: s.DepthwiseConv2D, shape: Shape, source: str) -> Step:
    out_h, out_w, formula, window = conv_window(layer, shape, source)
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
    out_h, out_w, formula, window = conv_window(layer, shape, source)
    cin, dm, k, f = shape[2], layer.depth_multiplier, layer.kernel_size, layer.filters
    params = arith.separable_params(k.h, k.w, cin, f, dm, layer.use_bias)
    mid = f"{cin}*{dm}" if dm != 1 else f"{cin}"
    bias = f" + {f}" if layer.use_bias else ""
    return Step(
        (out_h, out_w, f),
        f"{formula}; {filters(f)}",
        params,
        params_formula=f"{k.h}*{k.w}*{mid} + {mid}*{f}{bias} = {params:,} (depthwise + pointwise"
        + (" + bias)" if layer.use_bias else ")"),
        macs=arith.conv2d_macs(out_h, out_w, cin * dm, k.h, k.w, 1)
        + arith.conv2d_macs(out_h, out_w, f, 1, 1, cin * dm),
        window=window,
    )


def _pooling(layer: s.Pooling2D, shape: Shape, source: str) -> Step:
    out_h, out_w, formula, pad = sliding_window(
        layer, shape, source, layer.pool_size, layer.strides, layer.padding, s.ONE, pooling=True
    )
    return Step(
        (out_h, out_w, shape[2]),
        f"{formula}; {shape[2]} channels kept",
        window=(layer.pool_size, layer.strides, pad),
    )


def _global_pooling(layer: s.GlobalPooling2D, shape: Shape, source: str) -> Step:
    h, w, c = spatial(layer, shape, source)
    verb = "average" if layer.op == "average" else "maximum"
    out: Shape = (1, 1, c) if layer.keepdims else (c,)
    return Step(out, f"{verb} of each channel over {h} x {w} positions: {c} numbers")


def _zero_padding(layer: s.ZeroPadding2D, shape: Shape, source: str) -> Step:
    h, w, c = spatial(layer, shape, source)
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
    spatial(layer, shape, source)
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
_rule(s.ELU, _unchanged("unchanged (applied value by value)"))
_rule(s.PReLU, grid.prelu)
_rule(s.Reshape, grid.reshape)
_rule(s.UpSampling2D, grid.upsampling)
_rule(s.Resizing, grid.resizing)
_rule(s.CenterCrop, grid.center_crop)
_rule(s.Conv2DTranspose, grid.conv_transpose)
_rule(s.RandomFlip, _unchanged("unchanged (flipped at random while training, else as is)"))
_rule(s.RandomRotation, _unchanged("unchanged (turned at random while training, else as is)"))
_rule(s.RandomZoom, _unchanged("unchanged (zoomed at random while training, else as is)"))
_rule(s.RandomTranslation, _unchanged("unchanged (moved at random while training, else as is)"))


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
    if field is None or len(output_shape) != 3 or result.breaks_field:
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


def starts_image(layer: s.Layer, result: Step, rows: list[Row], input_shape: Shape) -> bool:
    """A Reshape of flat pixels into an image, before anything else moved them: from here
    on map positions are image pixels (`Reshape((28, 28, 1))` on a (784,) input)."""
    return (
        isinstance(layer, s.Reshape)
        and len(result.output_shape) == 3
        and len(input_shape) != 3
        and all(r.output_shape == input_shape for r in rows)
    )


def explain(model: s.ModelSpec) -> Explanation:
    """Every layer's output shape, parameters, formulas, receptive field and cost."""
    g.check_wiring(model)
    shapes: list[Shape] = [model.input_shape]  # per node: the input, then each layer's output
    fields: list[ReceptiveField | None] = [IMAGE_FIELD if len(model.input_shape) == 3 else None]
    rows: list[Row] = []
    met: list[str] = []  # merges whose paths step over the input differently
    for i, layer in enumerate(model.layers):
        reads = g.sources(model, i)
        if layer.kind == s.LayerKind.MERGE:
            ins = [shapes[j] for j in reads]
            result = merge_step(layer, ins, model.source)
            field, disagree = met_field(layer, [fields[j] for j in reads], ins)
            met += [layer.name] if disagree else []
        else:
            result = step(layer, shapes[reads[0]], model.source)
            field = next_field(fields[reads[0]], result, result.output_shape)
            if starts_image(layer, result, rows, model.input_shape):
                field = IMAGE_FIELD
        rows.append(
            Row(
                name=layer.name,
                layer_type=layer.keras_class,
                kind=layer.kind,
                line=layer.line,
                input_shape=shapes[reads[0]],
                output_shape=result.output_shape,
                trainable=result.trainable,
                non_trainable=result.non_trainable,
                shape_formula=result.shape_formula,
                params_formula=result.params_formula,
                receptive_field=field,
                macs=result.macs,
                window=result.window,
                connected=g.connected_to(model, i) if g.is_graph(model) else "",
            )
        )
        shapes.append(result.output_shape)
        fields.append(field)
    chain = None if g.is_graph(model) else model.layers  # a graph's pixels: all read
    notes = (*notes_for(model.input_shape, rows, chain), *branch_notes(model, rows, met),
             *model.notes)  # fmt: skip
    name = model.input_name if g.is_graph(model) else ""
    return Explanation(model.name, model.source, model.input_shape, tuple(rows), notes, name)
