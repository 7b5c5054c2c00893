"""What `explain` finds, as data: one frozen row per layer and the model's totals.

The rules that compute these rows live in `core.explain`, the sentences about them in
`core.notes`; every renderer (terminal, Markdown, JSON, HTML, the report) reads the same
rows. Shapes exclude the batch axis here; renderers add `None`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import arith
from .. import spec as s

Shape = tuple[int, ...]
BYTES_PER_VALUE = 4  # float32 activations and weights, as Keras's summary assumes


@dataclass(frozen=True)
class ReceptiveField:
    """The input window one output position sees: its size, the step between positions
    (jump) and where the first window starts on the input (negative inside padding)."""

    size: s.Pair
    jump: s.Pair
    start: s.Pair


@dataclass(frozen=True)
class Window:
    """The input pixels one output position sees: rows top..bottom, columns left..right,
    inclusive. It may reach outside the image, into 'same' padding."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top + 1

    @property
    def width(self) -> int:
        return self.right - self.left + 1

    def clipped(self, height: int, width: int) -> Window:
        """The part that lies on a height x width image."""
        return Window(
            max(self.top, 0),
            max(self.left, 0),
            min(self.bottom, height - 1),
            min(self.right, width - 1),
        )


def field_window(field: ReceptiveField, row: int, col: int) -> Window:
    """The input window of output position (row, col) of a layer with this receptive field."""
    top, bottom = arith.window_span(field.start.h, field.jump.h, field.size.h, row)
    left, right = arith.window_span(field.start.w, field.jump.w, field.size.w, col)
    return Window(top, left, bottom, right)


IMAGE_FIELD = ReceptiveField(s.Pair(1, 1), s.Pair(1, 1), s.Pair(0, 0))


@dataclass(frozen=True)
class Row:
    """One layer as explain sees it: every number of the summary and how it comes about."""

    name: str
    layer_type: str  # the Keras class, as the summary prints it: "Conv2D"
    kind: s.LayerKind  # what it does, for every test on the layer's nature
    line: int | None
    input_shape: Shape
    output_shape: Shape
    trainable: int
    non_trainable: int
    shape_formula: str
    params_formula: str
    receptive_field: ReceptiveField | None
    macs: int
    # How one position reads the layer before: (span, stride, pad_before) per axis, the
    # span being the (dilated) kernel's extent; None for layers that read one position.
    window: tuple[s.Pair, s.Pair, s.Pair] | None = None
    connected: str = ""  # a graph's "Connected to": `conv2d[0][0], input_layer[0][0]`

    def read_at(self, row: int, col: int) -> Window | None:
        """The window output (row, col) reads in the layer before (it may reach into padding)."""
        if self.window is None:
            return None
        span, stride, pad = self.window
        top, left = row * stride.h - pad.h, col * stride.w - pad.w
        return Window(top, left, top + span.h - 1, left + span.w - 1)

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def activation_bytes(self) -> int:
        """Memory of this layer's output for one image, in float32."""
        return arith.product(self.output_shape) * BYTES_PER_VALUE


@dataclass(frozen=True)
class Explanation:
    model: str
    source: str
    input_shape: Shape
    rows: tuple[Row, ...]
    notes: tuple[str, ...]
    input_name: str = ""  # a graph's InputLayer, shown as its first row; "" for a chain

    @property
    def is_graph(self) -> bool:
        return bool(self.input_name)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable for r in self.rows)

    @property
    def non_trainable_params(self) -> int:
        return sum(r.non_trainable for r in self.rows)

    @property
    def total_params(self) -> int:
        return total_params(self.rows)

    @property
    def total_macs(self) -> int:
        return total_macs(self.rows)

    @property
    def activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.rows)


def total_params(rows: Sequence[Row]) -> int:
    return sum(r.params for r in rows)


def total_macs(rows: Sequence[Row]) -> int:
    return sum(r.macs for r in rows)


def last_map(rows: Sequence[Row]) -> Row | None:
    """The layer that made the last (height, width, channels) map, not a Dropout or an
    activation passing it on; None when the model has no such map."""
    spatial = [r for r in rows if len(r.output_shape) == 3 and r.receptive_field is not None]
    if not spatial:
        return None
    index = list(rows).index(spatial[-1])
    while (
        index
        and rows[index - 1].output_shape == rows[index].output_shape
        and not rows[index].params
        and rows[index].kind != s.LayerKind.MERGE  # where paths meet: a map of its own
    ):
        index -= 1
    return rows[index]


# Layers that move the input window: what the per-layer window figures draw.
WINDOW_KINDS = frozenset({s.LayerKind.CONV, s.LayerKind.POOL, s.LayerKind.PADDING})


def spatial_rows(rows: Sequence[Row]) -> list[Row]:
    """Layers that change the window: convolutions, pooling and padding (not Dropout or BN)."""
    return [
        r
        for r in rows
        if len(r.output_shape) == 3 and r.receptive_field is not None and r.kind in WINDOW_KINDS
    ]


def fmt_shape(shape: Shape) -> str:
    """(None, 26, 26, 32), as Keras prints it."""
    return "(" + ", ".join(["None", *map(str, shape)]) + ")"
