"""Plain-language notes computed from an explanation's rows.

Each function reads the rows and returns sentences (or nothing) that answer one of the
questions our users ask: where the parameters are, how the spatial size shrinks, what
the last feature map means, where the compute goes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .. import spec as s
from ..arith import product
from ..spec import LayerKind
from .table import ReceptiveField, Row, Shape, last_map, total_macs, total_params
from .unread import unread_note

Rows = Sequence[Row]


def article(text: str) -> str:
    """'an 18 x 18', 'an 8x8', 'a 3 x 3', 'a 180x180': the article as the number is spoken."""
    digits = re.match(r"\d+", text)
    lead = digits.group() if digits else ""
    spoken_vowel = lead.startswith("8") or lead in ("11", "18")
    return f"an {text}" if spoken_vowel else f"a {text}"


def names(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%"


def parameter_note(rows: Rows) -> list[str]:
    """Which layer holds most of the parameters, and why when it sits after Flatten."""
    total = total_params(rows)
    if total == 0:
        return []
    top = max(rows, key=lambda r: r.params)
    share = _pct(top.params, total)
    note = f"{top.name} holds {share} of all parameters ({top.params:,} of {total:,})"
    if top.kind == LayerKind.DENSE and len(top.input_shape) == 1:
        index = list(rows).index(top)
        before = rows[index - 1] if index else None
        if before is not None and before.kind == LayerKind.FLATTEN:
            grid = " x ".join(map(str, before.input_shape))
            note += (
                f": Flatten hands it {top.input_shape[0]:,} numbers ({grid}), each wired to all "
                f"{top.output_shape[-1]} units"
            )
    return [note + "."]


def compute_note(rows: Rows) -> list[str]:
    """Convolutions hold few weights but do most of the work: say so with this model's numbers."""
    total = total_macs(rows)
    if total == 0:
        return []
    top = max(rows, key=lambda r: r.macs)
    if top.kind != LayerKind.CONV:
        return []
    positions = product(top.output_shape[:-1])
    return [
        f"{top.name} does {_pct(top.macs, total)} of the multiply-adds ({top.macs:,} per image) "
        f"with {top.params:,} parameters: a convolution reuses the same weights at each of its "
        f"{positions:,} output positions."
    ]


def image_shape(input_shape: Shape, rows: Rows) -> Shape:
    """The image the receptive fields are measured on: the input, or the Reshape that makes
    flat pixels an image (a (784,) input reshaped to (28, 28, 1))."""
    if len(input_shape) == 3:
        return input_shape
    for row in rows:
        if row.kind == LayerKind.RESHAPE and row.receptive_field is not None:
            return row.output_shape
    return input_shape


def shrink_note(input_shape: Shape, rows: Rows) -> list[str]:
    """How the spatial size shrinks, layer by layer, with the rounding made visible."""
    input_shape = image_shape(input_shape, rows)
    if len(input_shape) != 3:
        return []
    h, w = input_shape[:2]
    steps = [f"{h}x{w}"]
    rounded: list[str] = []
    for row in rows:
        if len(row.output_shape) != 3 or len(row.input_shape) != 3:
            continue
        size = f"{row.output_shape[0]}x{row.output_shape[1]}"
        if row.output_shape[:2] == row.input_shape[:2] or steps[-1].startswith(f"{size} "):
            continue  # a parallel path (a graph's projection) shrinking alike is said once
        steps.append(f"{size} ({row.name})")
        if "floor(" in row.shape_formula and any(n % 2 for n in row.input_shape[:2]):
            rounded.append(f"{row.name} rounds down ({row.shape_formula.split(';')[0]})")
    if len(steps) == 1:
        return []
    text = "Spatial size: " + " -> ".join(steps) + "."
    if rounded:
        text += " Pooling an odd size drops the last row and column: " + "; ".join(rounded) + "."
    return [text]


def _coverage(field: ReceptiveField, positions: tuple[int, int], image: tuple[int, int]) -> str:
    """Which part of the input the windows of all positions cover together."""
    covered: list[tuple[int, int]] = []
    gaps = False
    for axis in range(2):
        size = (field.size.h, field.size.w)[axis]
        jump = (field.jump.h, field.jump.w)[axis]
        start = (field.start.h, field.start.w)[axis]
        first = max(start, 0)
        last = min(start + (positions[axis] - 1) * jump + size - 1, image[axis] - 1)
        covered.append((first, last))
        gaps = gaps or jump > size
    whole = all(c == (0, image[i] - 1) for i, c in enumerate(covered))
    if whole and not gaps:
        return "together they cover the whole input"
    rows, cols = covered
    text = f"together they cover rows {rows[0]}-{rows[1]} and columns {cols[0]}-{cols[1]}"
    if gaps:
        return text + ", with gaps between windows (the stride is larger than the window)"
    missed = image[0] - (rows[1] - rows[0] + 1), image[1] - (cols[1] - cols[0] + 1)
    text += f" (all but {missed[0]} rows and {missed[1]} columns at the border)"
    if image == (28, 28) and rows[0] <= 4 and cols[0] <= 4 and min(rows[1], cols[1]) >= 23:
        text += ", which holds the central 20 x 20 box where MNIST centres every digit"
    return text


def last_map_note(input_shape: Shape, rows: Rows) -> list[str]:
    """What the last feature map is: numbers, positions, and the input window each one sees."""
    last = last_map(rows)
    if last is None:
        return []
    field = last.receptive_field
    assert field is not None
    h, w, c = last.output_shape
    ih, iw = image_shape(input_shape, rows)[:2]
    size = f"{field.size.h} x {field.size.w}"
    jump = f"{field.jump.h}" if field.jump.square else f"{field.jump.h} x {field.jump.w}"
    positions = h * w
    where = (
        f"each of the {positions} positions sees {article(size)} window of the {ih} x {iw} input, "
        f"{jump} pixel{'' if jump == '1' else 's'} apart from the next"
        if positions > 1
        else f"its one position sees {article(size)} window of the {ih} x {iw} input"
    )
    larger = field.size.h > ih or field.size.w > iw
    note = (
        f"The last feature map, {last.name}'s {h} x {w} x {c} = {h * w * c:,} numbers, is {c} "
        f"channels of {h} x {w}: {where}"
    )
    if larger:
        note += " (windows reach past the border, into padding)"
    note += f"; {_coverage(field, (h, w), (ih, iw))}."
    return [note]


def weightless_note(rows: Rows) -> list[str]:
    notes = []
    dropouts = [r.name for r in rows if r.kind == LayerKind.DROPOUT]
    if dropouts:
        notes.append(
            f"{names(dropouts)} {'has' if len(dropouts) == 1 else 'have'} no parameters and "
            f"change{'s' if len(dropouts) == 1 else ''} no shape: dropout only zeroes random "
            "values while training."
        )
    frozen = [r for r in rows if r.non_trainable]
    if frozen:
        amount = sum(r.non_trainable for r in frozen)
        why = []
        if any(r.kind == LayerKind.NORM for r in frozen):
            why.append("batch normalization's moving mean and variance are averaged, not learned")
        if any("frozen" in r.params_formula for r in frozen):
            why.append("layers with trainable=False keep their weights fixed")
        notes.append(
            f"{amount:,} parameters are non-trainable ({', '.join(r.name for r in frozen)}): "
            + "; ".join(why)
            + "."
        )
    return notes


def field_end_note(input_shape: Shape, rows: Rows) -> list[str]:
    """Where the receptive field stops being followed, and why, when a layer remaps the grid."""
    had = len(image_shape(input_shape, rows)) == 3
    for row in rows:
        if had and row.receptive_field is None and len(row.output_shape) == 3:
            return [
                f"Receptive fields stop at {row.name} ({row.layer_type}): from there on one "
                "map position no longer sees a whole-pixel window moving in whole-pixel "
                "steps, so later rows show none."
            ]
        had = row.receptive_field is not None
    augment = [r.name for r in rows if r.kind == LayerKind.AUGMENT]
    if augment:
        return [
            f"{names(augment)} change{'s' if len(augment) == 1 else ''} images only "
            "while training (random each step); when predicting they pass images on as they are."
        ]
    return []


def notes_for(input_shape: Shape, rows: Rows, chain: Sequence[s.Layer] | None = None) -> list[str]:
    """Every note that applies to these rows, in the order a learner asks the questions;
    `chain`, a chain's layers, also says which positions no later layer reads."""
    return [
        *parameter_note(rows),
        *shrink_note(input_shape, rows),
        *(unread_note(chain, input_shape, rows) if chain is not None else []),
        *last_map_note(input_shape, rows),
        *compute_note(rows),
        *weightless_note(rows),
        *field_end_note(input_shape, rows),
    ]
