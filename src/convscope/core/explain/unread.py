"""Which pixels of each feature map some later layer reads: integer arithmetic on a chain.

A 'valid' 2x2 max pool over an odd map drops its last row and column (floor(13 / 2) = 6),
so the layer before it computes that row and column for nothing, and the layers before
that may read less of their own maps in turn. Reading the chain backwards from its end,
`needed` gives the leading rows and columns of each layer's output that are read: what
explain's notes count as wasted multiply-adds, and what the runtime computes
(runtime/nn/crop.py; autograd is the test oracle, tests/runtime/test_crop.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import arith
from .. import spec as s
from .step import same_pads
from .table import Row, Shape

Size = tuple[int, int]  # (rows, cols) of a feature map
# layers that give one value per value they read, from no other pixel and no random draw
# (Dropout draws its mask over the whole map, so it keeps the map whole: the same masks;
# BatchNormalization's statistics are over the whole map)
ELEMENTWISE = (s.Activation, s.ReLU, s.LeakyReLU, s.ELU, s.Rescaling)
CONVOLUTIONS = (s.Conv2D, s.DepthwiseConv2D, s.SeparableConv2D)
Pads = tuple[int, int, int, int]  # top, bottom, left, right


def spatial(shape: Shape) -> Size | None:
    return (shape[0], shape[1]) if len(shape) == 3 else None


def conv_reads(layer: s.ConvBase, shape: Shape, wanted: Size) -> tuple[int, int, Pads]:
    """The input rows and columns a convolution's first `wanted` outputs read, and the
    zero padding (top, bottom, left, right) around them that they read: TensorFlow's
    'same' padding before, and after only as far as the windows reach past the input."""
    k, st, d = layer.kernel_size, layer.strides, layer.dilation_rate
    top, _, left, _ = same_pads(shape, k, st, layer.padding, d)
    rows = arith.rows_read(wanted[0], k.h, st.h, d.h, top)
    cols = arith.rows_read(wanted[1], k.w, st.w, d.w, left)
    bottom, right = max(0, rows - shape[0]), max(0, cols - shape[1])  # read past the end
    return rows - bottom, cols - right, (top, bottom, left, right)


def read_by(layer: s.Layer, wanted: Size, shape: Shape) -> Size:
    """The leading (rows, cols) of `layer`'s input (of `shape`) that its first `wanted`
    output rows and columns read; all of them for any layer not known to read a prefix."""
    if isinstance(layer, ELEMENTWISE):
        return wanted
    if isinstance(layer, s.Pooling2D) and layer.padding == "valid":
        k, st = layer.pool_size, layer.strides
        return arith.rows_read(wanted[0], k.h, st.h), arith.rows_read(wanted[1], k.w, st.w)
    if isinstance(layer, CONVOLUTIONS):
        rows, cols, _ = conv_reads(layer, shape, wanted)
        return rows, cols
    return (shape[0], shape[1])


def needed(layers: Sequence[s.Layer], shapes: Sequence[Shape]) -> list[Size | None]:
    """For each layer of a chain, the leading (rows, cols) of its output that the layers
    after it read (None: not a feature map). `shapes[i]` is layer i's input shape and
    `shapes[i + 1]` its output's; the chain's last output is read whole."""
    wanted = spatial(shapes[len(layers)])
    out: list[Size | None] = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        out[i] = wanted
        whole = spatial(shapes[i])
        wanted = whole if wanted is None or whole is None else read_by(layers[i], wanted, shapes[i])
    return out


def cropped(layers: Sequence[s.Layer], shapes: Sequence[Shape]) -> dict[int, Size]:
    """The convolutions that compute more of their map than is read: index -> (rows, cols)
    read."""
    return {
        i: size
        for i, size in enumerate(needed(layers, shapes))
        if isinstance(layers[i], CONVOLUTIONS)
        and size is not None
        and size != spatial(shapes[i + 1])
    }


def unread_note(layers: Sequence[s.Layer], input_shape: Shape, rows: Sequence[Row]) -> list[str]:
    """The multiply-adds of the positions no later layer reads, layer by layer."""
    if len(rows) != len(layers):  # one row per layer, as explain gives a chain
        return []
    shapes = [input_shape, *(row.output_shape for row in rows)]
    parts: list[str] = []
    wasted = 0
    for i, (h, w) in cropped(layers, shapes).items():
        row = rows[i]
        out_h, out_w = row.output_shape[:2]
        unread = out_h * out_w - h * w
        wasted += row.macs // (out_h * out_w) * unread
        parts.append(f"{unread:,} of {row.name}'s {out_h * out_w:,} positions")
    if not parts:
        return []
    total = sum(row.macs for row in rows)
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return [
        f"No later layer reads {listed} (a pool's dropped row and column, and the pixels "
        f"only they need): {wasted:,} multiply-adds an image ({wasted / total:.1%}) computed "
        "for nothing, which convscope's training and predictions leave out."
    ]
