"""Plain-language notes on a graph's branches: what a shortcut costs and why Add needs equal
shapes, what Concatenate does to channels, and where paths disagree on the grid."""

from __future__ import annotations

from collections.abc import Sequence

from .. import graph as g
from .. import spec as s
from .notes import names
from .table import Row, fmt_shape

MERGE_NOTES = 6


def projection(model: s.ModelSpec, node: int, users: list[list[int]]) -> int | None:
    """The layer of a 1x1 convolution (BatchNormalization after it allowed) that starts
    at a branch point and ends in `node`: a projection shortcut; None otherwise."""
    layer = node - 1
    if layer >= 0 and model.layers[layer].kind == s.LayerKind.NORM:
        layer = g.sources(model, layer)[0] - 1
    if layer < 0:
        return None
    conv = model.layers[layer]
    start = g.sources(model, layer)[0]
    if isinstance(conv, s.ConvBase) and conv.kernel_size == s.ONE and len(users[start]) > 1:
        return layer
    return None


def shortcut_note(model: s.ModelSpec, rows: Sequence[Row], i: int, users: list[list[int]]) -> str:
    """One Add (or other value-by-value merge): its shortcut, its cost, the equal shapes."""
    layer, row = model.layers[i], rows[i]
    assert isinstance(layer, g.Merge)
    reads = g.sources(model, i)
    shape = fmt_shape(row.output_shape)
    identity = [j for j in reads if len(users[j]) > 1]
    projected = [p for j in reads if (p := projection(model, j, users)) is not None]
    inputs = names([g.node_name(model, j) for j in reads])
    note = f"{layer.name} ({layer.keras_class}) {layer.verb} {inputs}, value by value"
    if identity and not projected:
        source = g.node_name(model, identity[0])
        note += (
            f": the shortcut from {source} is the identity, so it adds no parameters; "
            f"{layer.keras_class} needs equal shapes, here {shape}, because it pairs the paths "
            "position by position"
        )
    elif projected:
        conv = rows[projected[0]]
        before = fmt_shape(rows[projected[0]].input_shape)
        params = sum(rows[p].params for p in projected)
        note += (
            f": the shortcut goes through {conv.name}, a 1x1 projection with {params:,} "
            f"parameters, because the block turns {before} into {shape} and "
            f"{layer.keras_class} needs equal shapes"
        )
    else:
        note += f" ({shape}); it has no parameters"
    return note + "."


def concatenate_note(rows: Sequence[Row], i: int, reads: Sequence[int]) -> str:
    row = rows[i]
    sizes = " + ".join(str(rows[j - 1].output_shape[-1] if j else "input") for j in reads)
    return (
        f"{row.name} (Concatenate) puts its inputs side by side ({row.shape_formula}); it has "
        f"no parameters, but the next layer sees all {row.output_shape[-1]:,} channels, so a "
        f"convolution after it has a kernel that deep (channels {sizes})."
        if len(row.output_shape) == 3 and row.shape_formula.startswith("channels")
        else f"{row.name} (Concatenate) puts its inputs side by side: {row.shape_formula}."
    )


def branch_notes(model: s.ModelSpec, rows: Sequence[Row], met: Sequence[str]) -> list[str]:
    """Sentences about the graph; none for a chain."""
    if not g.is_graph(model):
        return []
    users = g.consumers(model)
    merges = [i for i, layer in enumerate(model.layers) if layer.kind == s.LayerKind.MERGE]
    out = [
        f"The model is a graph: {len(model.layers)} layers, {len(merges)} where paths meet; "
        '"Connected to" says which outputs each layer reads, and a receptive field where '
        "paths meet is the largest window over all of them."
    ]
    said = [
        concatenate_note(rows, i, g.sources(model, i))
        if isinstance(model.layers[i], g.Concatenate)
        else shortcut_note(model, rows, i, users)
        for i in merges
    ]
    if len(said) > MERGE_NOTES:  # a ResNet50 has 16 shortcuts: the first few say it
        more = len(said) - MERGE_NOTES
        said = [*said[:MERGE_NOTES], f"... and {more} more places where paths meet."]
    out += said
    if met:
        out.append(
            f"At {names(list(met))} the paths step over the input by different amounts: the "
            "receptive field shown is the largest window, exact for the first position."
        )
    return out
