"""Explain's rules for layers that take several tensors: the merge layers' output shapes
(keras/src/layers/merging/base_merge.py and concatenate.py), and the receptive field
where paths meet.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import graph as g
from .. import spec as s
from ..errors import ShapeError
from .step import Step, where
from .table import ReceptiveField, Shape, fmt_shape

AXIS_NAMES = ("rows", "columns", "channels")


def broadcast(shapes: Sequence[Shape], layer: s.Layer, source: str) -> Shape:
    """Keras's element-wise merge shape: equal sizes, or 1 on an axis (broadcast)."""
    first = shapes[0]
    if any(len(shape) != len(first) for shape in shapes):
        raise ShapeError(
            f"{layer.keras_class} needs tensors of one rank, got "
            f"{', '.join(fmt_shape(x) for x in shapes)}",
            where=where(layer, source),
            hint="it works value by value, so every input needs the same shape",
        )
    out = list(first)
    for shape in shapes[1:]:
        for axis, (a, b) in enumerate(zip(out, shape, strict=True)):
            if a != b and 1 not in (a, b):
                raise ShapeError(
                    f"{layer.keras_class} needs equal shapes, got "
                    f"{', '.join(fmt_shape(x) for x in shapes)}",
                    where=where(layer, source),
                    hint="it combines value by value, position by position; give the shortcut "
                    "a 1x1 Conv2D (with the branch's strides) to match the other path",
                )
            out[axis] = max(a, b)
    return tuple(out)


def elementwise(layer: g.Merge, shapes: Sequence[Shape], source: str) -> Step:
    out = broadcast(shapes, layer, source)
    if isinstance(layer, g.Subtract) and len(shapes) != 2:
        raise ShapeError(
            f"Subtract takes exactly 2 tensors, got {len(shapes)}", where=where(layer, source)
        )
    same = all(shape == out for shape in shapes)
    what = (
        f"{len(shapes)} tensors of {fmt_shape(out)}"
        if same
        else (f"{', '.join(fmt_shape(x) for x in shapes)} (an axis of 1 repeated to match)")
    )
    return Step(out, f"{layer.verb} {what}, value by value")


def concatenate_axis(layer: g.Concatenate, rank: int, source: str) -> int:
    """Keras's axis (the batch axis counted) as an index into a shape without it."""
    axis = layer.axis + rank + 1 if layer.axis < 0 else layer.axis
    if not 1 <= axis <= rank:
        raise ShapeError(
            f"Concatenate axis={layer.axis} is outside a {rank + 1}-d tensor (the batch counted)",
            where=where(layer, source),
        )
    return axis - 1


def concatenate(layer: g.Concatenate, shapes: Sequence[Shape], source: str) -> Step:
    first = shapes[0]
    if any(len(shape) != len(first) for shape in shapes):
        raise ShapeError(
            f"Concatenate needs tensors of one rank, got {', '.join(map(fmt_shape, shapes))}",
            where=where(layer, source),
        )
    axis = concatenate_axis(layer, len(first), source)
    for shape in shapes[1:]:
        if any(a != b for k, (a, b) in enumerate(zip(first, shape, strict=True)) if k != axis):
            raise ShapeError(
                f"Concatenate on axis {layer.axis} needs equal sizes on every other axis, got "
                f"{', '.join(map(fmt_shape, shapes))}",
                where=where(layer, source),
                hint="only the axis it joins on may differ",
            )
    sizes = [shape[axis] for shape in shapes]
    out = (*first[:axis], sum(sizes), *first[axis + 1 :])
    name = AXIS_NAMES[axis] if len(first) == 3 else f"axis {layer.axis}"
    return Step(out, f"{name} side by side: {' + '.join(map(str, sizes))} = {sum(sizes)}")


def merge_step(layer: s.Layer, shapes: Sequence[Shape], source: str) -> Step:
    if isinstance(layer, g.Concatenate):
        return concatenate(layer, shapes, source)
    assert isinstance(layer, g.Merge)
    return elementwise(layer, shapes, source)


def along_grid(layer: s.Layer, shapes: Sequence[Shape]) -> bool:
    """Every input is a map of the output's height and width, joined position by position."""
    if (
        isinstance(layer, g.Concatenate)
        and len(shapes[0]) == 3
        and concatenate_axis(layer, 3, "") != 2
    ):
        return False  # maps joined along rows or columns: positions are remapped
    return all(len(x) == 3 and x[:2] == shapes[0][:2] for x in shapes)


def met_field(
    layer: s.Layer, fields: Sequence[ReceptiveField | None], shapes: Sequence[Shape]
) -> tuple[ReceptiveField | None, bool]:
    """The receptive field where paths meet: the largest window over all of them (its
    first window from the leftmost start to the rightmost end). Returns the field and
    whether the paths step over the input differently (then only the first position's
    window is exact)."""
    if any(f is None for f in fields) or not along_grid(layer, shapes):
        return None, False
    known = [f for f in fields if f is not None]
    ends = [
        (f.start.h + f.size.h, f.start.w + f.size.w) for f in known
    ]  # one past the window's last pixel
    start = s.Pair(min(f.start.h for f in known), min(f.start.w for f in known))
    end_h, end_w = max(e[0] for e in ends), max(e[1] for e in ends)
    jump = s.Pair(max(f.jump.h for f in known), max(f.jump.w for f in known))
    disagree = len({f.jump for f in known}) > 1
    field = ReceptiveField(s.Pair(end_h - start.h, end_w - start.w), jump, start)
    return field, disagree
