"""Figures as PNG bytes, drawn with matplotlib's object API (no pyplot state, no window):
the shared helpers, and the model's own figures (parameters, filters, feature maps).

Each function takes plain data (numpy arrays from `runtime.inspect`, rows from
`core.explain.table`, numbers from a run) and returns the PNG; `fields` draws the
receptive fields, `results` a run's results. Many small images (channels,
kernels) are laid out as one mosaic per layer and drawn with a single imshow: hundreds of
matplotlib axes would take seconds, one image per layer takes milliseconds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.figure import Figure, SubFigure

from ...core.explain.table import Row, fmt_shape
from ...core.spec import LayerKind
from ...runtime import images

if TYPE_CHECKING:  # types only: `compare` draws curves without loading torch
    from ...runtime.inspect import LayerFilters, LayerOutput

WIDTH = 10.0  # inches; at 100 dpi a figure is 1000 pixels wide
DPI = 100
WEIGHTS = matplotlib.colormaps["RdBu_r"].with_extremes(bad="white")  # red > 0 > blue
VALUES = matplotlib.colormaps["viridis"].with_extremes(bad="white")
GRAY = matplotlib.colormaps["gray_r"].with_extremes(bad="white")  # ink dark, as on paper
FILTER_ROWS, FILTER_COLUMNS = 16, 32  # deeper conv layers: at most this many filters x inputs
CHANNELS_SHOWN = 256  # feature maps: more channels than this are cut, with a note


def as_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) in 0..1 of an image as its data set stores it (runtime.images.as_rgb);
    MNIST's 28 x 28 (white digits on black) drawn as dark ink on paper."""
    grey_digits = image.shape[:2] == (28, 28) and (image.ndim == 2 or image.shape[-1] == 1)
    rgb = images.as_rgb(image)
    return 1.0 - rgb if grey_digits else rgb


def picture(ax: object, image: np.ndarray, **kwargs: object) -> object:
    """imshow of an image as its data set stores it (as_rgb), pixels as squares."""
    return ax.imshow(as_rgb(image), interpolation="nearest", **kwargs)  # type: ignore[attr-defined]


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def mosaic(tiles: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """(n, h, w) tiles -> one (rows*(h+gap)-gap, columns*(w+gap)-gap) image, NaN between."""
    n, h, w = tiles.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tiles[i]
    return out


def stacked(heights: Sequence[float], width: float = WIDTH) -> tuple[Figure, list[SubFigure]]:
    """A figure of panels one above the other, each `height` inches tall."""
    fig = Figure(figsize=(width, sum(heights)), layout="constrained")
    subs = fig.subfigures(len(heights), 1, height_ratios=list(heights), squeeze=False)
    return fig, [sub for (sub,) in subs]


def panel_height(image: np.ndarray, width: float, title_lines: int = 1) -> float:
    """Inches a panel needs to show `image` at `width` inches, plus its title."""
    h, w = image.shape[:2]
    return max(min(width * float(h) / float(w), 6.0), 0.5) + 0.3 * title_lines + 0.25


def no_ticks(ax: object) -> None:
    ax.set_xticks([])  # type: ignore[attr-defined]
    ax.set_yticks([])  # type: ignore[attr-defined]


def _tile_ticks(ax: object, axis: str, count: int, size: int, gap: int = 1) -> None:
    """Label tile indices along one axis of a mosaic: 0, and then every 4th or 8th."""
    step = 1 if count <= 16 else 4 if count <= 64 else 8
    index = list(range(0, count, step))
    centres = [i * (size + gap) + (size - 1) / 2 for i in index]
    getattr(ax, f"set_{axis}ticks")(centres, [str(i) for i in index], fontsize=7)


# ---- filters ----


def filter_tiles(layer: LayerFilters) -> tuple[np.ndarray, int, str, str]:
    """The kernels to draw, the mosaic's column count, its axis labels and a note."""
    k = layer.kernels  # (filters, in_channels, kh, kw)
    filters, inputs, kh, kw = k.shape
    if inputs == 1:  # the first layer on a gray image, or a depthwise layer
        columns = min(filters, 16)
        return k[:, 0], columns, "", ""
    shown_f, shown_c = min(filters, FILTER_ROWS), min(inputs, FILTER_COLUMNS)
    tiles = k[:shown_f, :shown_c].reshape(shown_f * shown_c, kh, kw)
    note = ""
    if (shown_f, shown_c) != (filters, inputs):
        note = (
            f" (showing filters 0-{shown_f - 1} of {filters}, "
            f"input channels 0-{shown_c - 1} of {inputs})"
        )
    return tiles, shown_c, "rows: filters, columns: input channels", note


def colour_tiles(layer: LayerFilters) -> np.ndarray | None:
    """A first layer's filters on an RGB image as colour patches (as in Krizhevsky et al.
    2012, fig. 3): each filter's three kernels as one (kh, kw, 3) picture, the layer's
    weights stretched to 0..1 together, so grey is 0 and colours are what a filter seeks."""
    k = layer.kernels  # (filters, 3, kh, kw)
    if k.shape[1] != 3:
        return None
    limit = float(np.abs(k).max()) or 1.0
    return (k.transpose(0, 2, 3, 1) / (2 * limit) + 0.5).clip(0, 1)  # (filters, kh, kw, 3)


def colour_mosaic(tiles: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """(n, h, w, 3) tiles -> one RGB mosaic, white between."""
    n, h, w, _ = tiles.shape
    rows = -(-n // columns)
    out = np.ones((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tiles[i]
    return out


def filters_png(layers: Sequence[LayerFilters], title: str) -> bytes:
    """Every conv layer's kernels, one panel per layer, a colour scale centred on 0 per layer."""
    prepared = []
    for layer in layers:
        tiles, columns, axes_note, note = filter_tiles(layer)
        prepared.append((layer, mosaic(tiles, columns), columns, axes_note, note, tiles.shape))
    colour = colour_tiles(layers[0]) if layers else None
    heights = [panel_height(m, WIDTH * 0.8, 2) for _, m, *_ in prepared]
    if colour is not None:
        patches = colour_mosaic(colour, min(len(colour), 8))
        heights.insert(0, panel_height(patches, WIDTH * 0.8, 2))
    fig, subs = stacked([0.4, *heights])
    subs[0].suptitle(title, fontsize=13, fontweight="bold")
    if colour is not None:
        ax = subs[1].subplots()
        ax.imshow(patches, interpolation="nearest")
        no_ticks(ax)
        ax.set_title(
            f"{layers[0].name}: its {len(colour)} filters as colour patches (each filter's "
            "red, green and blue kernels together; grey = 0)",
            fontsize=10,
            loc="left",
        )
        subs = [subs[0], *subs[2:]]
    for sub, (layer, image, columns, axes_note, note, shape) in zip(
        subs[1:], prepared, strict=True
    ):
        filters, inputs, kh, kw = layer.kernels.shape
        limit = float(np.abs(layer.kernels).max()) or 1.0  # the whole layer, shown or not
        ax = sub.subplots()
        im = ax.imshow(image, cmap=WEIGHTS, vmin=-limit, vmax=limit, interpolation="nearest")
        what = (
            f"{filters} kernels of {kh}x{kw}"
            if inputs == 1
            else f"{filters} filters of {kh}x{kw}x{inputs}"
        )
        ax.set_title(f"{layer.name} ({layer.layer_type}): {what}{note}", fontsize=10, loc="left")
        if axes_note:
            ax.set_ylabel("filter", fontsize=8)
            ax.set_xlabel("input channel", fontsize=8)
            _tile_ticks(ax, "x", columns, kw)
            _tile_ticks(ax, "y", shape[0] // columns, kh)
        else:
            ax.set_xlabel("filter", fontsize=8)
            _tile_ticks(ax, "x", min(columns, filters), kw)
            ax.set_yticks([])
        sub.colorbar(im, ax=ax, shrink=0.9, label="weight")
    return png(fig)


# ---- feature maps ----


def _output_title(out: LayerOutput) -> str:
    shape = fmt_shape(out.shape)
    if len(out.shape) == 3:
        h, w, c = out.shape
        channels = f"{c} channel{'s' if c != 1 else ''}"
        return f"{out.name} ({out.layer_type}) -> {shape}: {channels} of {h}x{w}"
    return f"{out.name} ({out.layer_type}) -> {shape}: {out.shape[0]:,} numbers"


def _map_image(out: LayerOutput) -> tuple[np.ndarray, str]:
    """The mosaic of a layer's channels (or a strip of its numbers), and a note."""
    if len(out.shape) == 3:
        channels = out.values.transpose(2, 0, 1)  # (C, H, W)
        note = ""
        if len(channels) > CHANNELS_SHOWN:
            note = f" (first {CHANNELS_SHOWN} of {len(channels)} channels)"
            channels = channels[:CHANNELS_SHOWN]
        columns = 1 if len(channels) == 1 else min(len(channels), 16)
        return mosaic(channels, columns), note
    flat = out.values.reshape(-1)
    columns = min(
        len(flat), max(64, round((4 * len(flat)) ** 0.5))
    )  # about 4 times wider than tall
    rows = -(-len(flat) // columns)
    strip = np.full(rows * columns, np.nan, dtype=np.float32)
    strip[: len(flat)] = flat
    return strip.reshape(rows, columns), ""


def feature_maps_png(
    outputs: Sequence[LayerOutput], class_names: Sequence[str], title: str
) -> bytes:
    """The image, then every layer's output: all channels, each layer on its own scale."""
    last = len(outputs) - 1
    panels: list[tuple[LayerOutput, np.ndarray | None, str, float]] = []
    for i, out in enumerate(outputs):
        if out.same_as_previous:
            panels.append((out, None, "", 0.45))
        elif i == last and out.shape == (len(class_names),):
            panels.append((out, None, "", 1.9))
        else:
            mapped, note = _map_image(out)
            panels.append((out, mapped, note, panel_height(mapped, WIDTH * 0.85)))
    fig, subs = stacked([0.4, *(p[3] for p in panels)])
    subs[0].suptitle(title, fontsize=13, fontweight="bold")
    for i, (sub, (out, image, note, _)) in enumerate(zip(subs[1:], panels, strict=True)):
        if out.same_as_previous:
            sub.text(
                0.01,
                0.5,
                f"{out.name} ({out.layer_type}) -> {fmt_shape(out.shape)}: the same values as "
                "the layer before (it only acts while training)",
                fontsize=10,
                va="center",
            )
            continue
        ax = sub.subplots()
        if image is None:  # the output layer: one bar per class
            _class_bars(ax, out.values, class_names)
            ax.set_title(_output_title(out), fontsize=10, loc="left")
            continue
        if i == 0 and out.values.ndim == 3 and out.shape[-1] in (3, 4):
            picture(ax, out.values)  # the input in colour, not three grey channels
            ax.set_title(_output_title(out), fontsize=10, loc="left")
            no_ticks(ax)
            continue
        cmap = GRAY if i == 0 else VALUES
        im = ax.imshow(image, cmap=cmap, interpolation="nearest", aspect="equal")
        ax.set_title(_output_title(out) + note, fontsize=10, loc="left")
        no_ticks(ax)
        if i:
            sub.colorbar(im, ax=ax, shrink=0.9, label="value")
    return png(fig)


def _class_bars(ax: object, values: np.ndarray, class_names: Sequence[str]) -> None:
    best = int(np.argmax(values))
    colours = ["#d62728" if i == best else "#7f7f7f" for i in range(len(values))]
    bars = ax.bar(range(len(values)), values, color=colours)  # type: ignore[attr-defined]
    ax.set_xticks(range(len(values)), class_names, fontsize=8)  # type: ignore[attr-defined]
    ax.set_ylabel("output", fontsize=8)  # type: ignore[attr-defined]
    ax.bar_label(bars, [f"{v:.2f}" for v in values], fontsize=7)  # type: ignore[attr-defined]


def params_png(rows: Sequence[Row], title: str) -> bytes:
    """Parameters per layer: where the weights are (layers without any show 0)."""
    fig = Figure(figsize=(WIDTH, 0.9 + 0.38 * len(rows)), layout="constrained")
    ax = fig.subplots()
    total = sum(r.params for r in rows) or 1
    names = [f"{r.name} ({r.layer_type})" for r in rows]
    values = [r.params for r in rows]
    colours = [
        "#1f77b4" if r.kind == LayerKind.CONV else "#ff7f0e" if r.params else "#bbbbbb"
        for r in rows
    ]
    y = list(range(len(rows)))
    bars = ax.barh(y, values, color=colours)
    ax.set_yticks(y, names, fontsize=9)
    ax.invert_yaxis()
    ax.bar_label(bars, [f" {v:,} ({v / total:.1%})" if v else " 0" for v in values], fontsize=8)
    ax.set_xlabel("parameters")
    ax.set_xlim(0, max(values or [1]) * 1.3 or 1)
    ax.set_title(title, fontsize=12, fontweight="bold")
    ax.grid(axis="x", alpha=0.3)
    return png(fig)
