"""Render an Explanation: terminal table, Markdown, JSON. All read the same rows.

Standard library only, so `convscope explain` stays instant.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..core.arith import product, readable_bytes
from ..core.explain.notes import article
from ..core.explain.table import BYTES_PER_VALUE, Explanation, ReceptiveField, Row, fmt_shape
from ..core.spec import LayerKind

HEADERS = ("Layer (type)", "Output Shape", "Param #", "Receptive field", "Mult-adds", "Memory")
CONNECTED = "Connected to"
RIGHT = {"Param #", "Mult-adds", "Memory"}


def compact(n: int) -> str:
    """10,616,832 -> 10.6M; small numbers stay exact."""
    for limit, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "K")):
        if n >= limit:
            return f"{n / limit:.1f}{suffix}"
    return str(n)


def field_text(field: ReceptiveField | None) -> str:
    """`18x18, jump 4`: the input window one position sees and the step between positions."""
    if field is None:
        return "-"
    return f"{field.size}, jump {jump_text(field)}"


def jump_text(field: ReceptiveField) -> str:
    """`4` for a square jump, `2x4` otherwise."""
    return str(field.jump.h) if field.jump.square else str(field.jump)


def cells(row: Row) -> tuple[str, ...]:
    return (
        f"{row.name} ({row.layer_type})",
        fmt_shape(row.output_shape),
        f"{row.params:,}",
        field_text(row.receptive_field),
        compact(row.macs) if row.macs else "0",
        readable_bytes(row.activation_bytes),
    )


def headers(ex: Explanation) -> tuple[str, ...]:
    """A graph's table has Keras's "Connected to" column after "Param #"."""
    return (*HEADERS[:3], CONNECTED, *HEADERS[3:]) if ex.is_graph else HEADERS


def row_cells(ex: Explanation, row: Row) -> tuple[str, ...]:
    values = cells(row)
    return (*values[:3], row.connected, *values[3:]) if ex.is_graph else values


def input_cells(ex: Explanation) -> tuple[str, ...]:
    """A graph's first row, its InputLayer, as Keras's functional summary shows it."""
    memory = readable_bytes(product(ex.input_shape) * BYTES_PER_VALUE)
    shape = fmt_shape(ex.input_shape)
    return (f"{ex.input_name} (InputLayer)", shape, "0", "-", "1x1, jump 1", "0", memory)


def table_cells(ex: Explanation) -> list[tuple[str, ...]]:
    """The summary's body: every renderer shows these cells."""
    body = [row_cells(ex, row) for row in ex.rows]
    return [input_cells(ex), *body] if ex.is_graph else body


def totals(ex: Explanation) -> list[str]:
    """Keras's three summary lines, then convscope's cost line."""
    size = BYTES_PER_VALUE
    return [
        f"Total params: {ex.total_params:,} ({readable_bytes(ex.total_params * size)})",
        f"Trainable params: {ex.trainable_params:,} ({readable_bytes(ex.trainable_params * size)})",
        f"Non-trainable params: {ex.non_trainable_params:,} "
        f"({readable_bytes(ex.non_trainable_params * size)})",
        f"Multiply-adds per image: {ex.total_macs:,}; activations per image: "
        f"{readable_bytes(ex.activation_bytes)} (float32)",
    ]


def _box(headers: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]

    def line(values: Sequence[str], left: str, mid: str, right: str) -> str:
        parts = [
            (v.rjust(w) if headers[i] in RIGHT else v.ljust(w))
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return f"{left} " + f" {mid} ".join(parts) + f" {right}"

    def rule(left: str, mid: str, right: str, fill: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    out = [rule("┏", "┳", "┓", "━"), line(headers, "┃", "┃", "┃"), rule("┡", "╇", "┩", "━")]
    for index, values in enumerate(body):
        if index:
            out.append(rule("├", "┼", "┤", "─"))
        out.append(line(values, "│", "│", "│"))
    out.append(rule("└", "┴", "┘", "─"))
    return out


def to_text(ex: Explanation) -> str:
    """The terminal view: a Keras-style summary, then each number's worked formula, then notes."""
    out = [f'Model: "{ex.model}"  ({ex.source}; input {fmt_shape(ex.input_shape)})']
    out += _box(headers(ex), table_cells(ex))
    out += [" " + t for t in totals(ex)]
    out += ["", "How each number comes about"]
    for row in ex.rows:
        line = f", line {row.line}" if row.line else ""
        out.append(f" {row.name} ({row.layer_type}{line})")
        out.append(f"   shape   {row.shape_formula} -> {fmt_shape(row.output_shape)}")
        out.append(f"   params  {row.params_formula}")
        if row.receptive_field is not None and row.kind != LayerKind.DENSE:
            out.append(f"   sees    {sees(row.receptive_field)}")
    if ex.notes:
        out += ["", "Notes"]
        out += [f" * {note}" for note in ex.notes]
    return "\n".join(out) + "\n"


def sees(field: ReceptiveField) -> str:
    jump = jump_text(field)
    return (
        f"{article(str(field.size))} window of the input per position, moving {jump} pixel"
        f"{'' if jump == '1' else 's'} per step"
    )


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")


def to_markdown(ex: Explanation) -> str:
    heads = (*headers(ex)[:-3], "Shape formula", "Param formula", *HEADERS[3:])
    out = [
        f"## Model: {ex.model}",
        "",
        f"Source: `{ex.source}`; input shape `{fmt_shape(ex.input_shape)}`",
        "",
    ]
    out.append("| " + " | ".join(heads) + " |")
    out.append("|" + "|".join("---:" if h in RIGHT else "---" for h in heads) + "|")
    worked = [("", "", "0"), *[(r.shape_formula, r.params_formula, f"{r.macs:,}") for r in ex.rows]]
    worked = worked if ex.is_graph else worked[1:]
    for values, (shape_formula, params_formula, macs) in zip(table_cells(ex), worked, strict=True):
        *first, field, _, memory = values
        first[1] = f"`{first[1]}`"
        middle = (_md_escape(shape_formula), _md_escape(params_formula))
        out.append("| " + " | ".join((*first, *middle, field, macs, memory)) + " |")
    out.append("")
    out += [f"- {t}" for t in totals(ex)]
    if ex.notes:
        out += ["", "### Notes", ""]
        out += [f"- {_md_escape(n)}" for n in ex.notes]
    return "\n".join(out) + "\n"


def _batch(shape: tuple[int, ...]) -> list[int | None]:
    return [None, *shape]


def to_dict(ex: Explanation) -> dict[str, Any]:
    """The `--json` object; batch axes are null as in Keras's (None, ...) shapes."""
    return {
        "model": ex.model,
        "source": ex.source,
        "input_shape": _batch(ex.input_shape),
        **({"input_layer": ex.input_name} if ex.is_graph else {}),
        "layers": [
            {
                "name": r.name,
                "type": r.layer_type,
                "line": r.line,
                "output_shape": _batch(r.output_shape),
                **({"connected_to": r.connected} if ex.is_graph else {}),
                "params": r.params,
                "trainable": r.trainable,
                "non_trainable": r.non_trainable,
                "receptive_field": None
                if r.receptive_field is None
                else {
                    "size": list(r.receptive_field.size.astuple()),
                    "jump": list(r.receptive_field.jump.astuple()),
                    "start": list(r.receptive_field.start.astuple()),
                },
                "macs": r.macs,
                "activation_bytes": r.activation_bytes,
                "shape_formula": r.shape_formula,
                "params_formula": r.params_formula,
            }
            for r in ex.rows
        ],
        "total_params": ex.total_params,
        "trainable_params": ex.trainable_params,
        "non_trainable_params": ex.non_trainable_params,
        "total_macs": ex.total_macs,
        "notes": list(ex.notes),
    }


def to_json(ex: Explanation) -> str:
    return json.dumps(to_dict(ex), indent=2) + "\n"
