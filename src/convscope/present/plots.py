"""Figures as PNG bytes, drawn with matplotlib's object API (no pyplot state, no window).

Each function takes plain data (numpy arrays from `runtime.inspect`, rows from
`core.explain`, numbers from a run) and returns the PNG. Many small images (channels,
kernels) are laid out as one mosaic per layer and drawn with a single imshow: hundreds of
matplotlib axes would take seconds, one image per layer takes milliseconds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Rectangle

from ..core.explain import ReceptiveField, Row, Window, fmt_shape
from ..core.notes import article

if TYPE_CHECKING:  # types only: `compare` draws curves without loading torch
    from ..runtime.inspect import LayerFilters, LayerOutput

WIDTH = 10.0  # inches; at 100 dpi a figure is 1000 pixels wide
DPI = 100
WEIGHTS = matplotlib.colormaps["RdBu_r"].with_extremes(bad="white")  # red > 0 > blue
VALUES = matplotlib.colormaps["viridis"].with_extremes(bad="white")
GRAY = matplotlib.colormaps["gray_r"].with_extremes(bad="white")  # ink dark, as on paper
FILTER_ROWS, FILTER_COLUMNS = 16, 32  # deeper conv layers: at most this many filters x inputs
CHANNELS_SHOWN = 256  # feature maps: more channels than this are cut, with a note


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


def _no_ticks(ax: object) -> None:
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


def filters_png(layers: Sequence[LayerFilters], title: str) -> bytes:
    """Every conv layer's kernels, one panel per layer, a colour scale centred on 0 per layer."""
    prepared = []
    for layer in layers:
        tiles, columns, axes_note, note = filter_tiles(layer)
        prepared.append((layer, mosaic(tiles, columns), columns, axes_note, note, tiles.shape))
    heights = [panel_height(m, WIDTH * 0.8, 2) for _, m, *_ in prepared]
    fig, subs = stacked([0.4, *heights])
    subs[0].suptitle(title, fontsize=13, fontweight="bold")
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
        cmap = GRAY if i == 0 else VALUES
        im = ax.imshow(image, cmap=cmap, interpolation="nearest", aspect="equal")
        ax.set_title(_output_title(out) + note, fontsize=10, loc="left")
        _no_ticks(ax)
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


# ---- receptive fields ----


def _dimmed(image: np.ndarray, window: Window) -> np.ndarray:
    """An RGB view of a (H, W) uint8 image, faded outside the window."""
    ink = 1.0 - image.astype(np.float32) / 255.0  # dark ink on white
    rgb = np.stack([ink, ink, ink], -1)
    h, w = image.shape
    mask = np.full((h, w), 0.25, dtype=np.float32)
    c = window.clipped(h, w)
    mask[c.top : c.bottom + 1, c.left : c.right + 1] = 1.0
    return rgb * mask[..., None] + (1.0 - mask[..., None])


def _outline(ax: object, window: Window, colour: str, width: float = 2.0) -> None:
    ax.add_patch(  # type: ignore[attr-defined]
        Rectangle(
            (window.left - 0.5, window.top - 0.5),
            window.width,
            window.height,
            fill=False,
            edgecolor=colour,
            linewidth=width,
        )
    )


def sample_positions(count: int, most: int = 4) -> list[int]:
    """All positions along an axis when few, else `most` spread evenly, ends included."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def _limits(ax: object, h: int, w: int, windows: Sequence[Window]) -> None:
    """Show the whole image, and any padding the windows reach into."""
    top = min([0, *(x.top for x in windows)])
    left = min([0, *(x.left for x in windows)])
    bottom = max([h - 1, *(x.bottom for x in windows)])
    right = max([w - 1, *(x.right for x in windows)])
    ax.set_xlim(left - 0.5, right + 0.5)  # type: ignore[attr-defined]
    ax.set_ylim(bottom + 0.5, top - 0.5)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class FieldGrid:
    layer: str
    layer_type: str
    map_shape: tuple[int, ...]
    field: ReceptiveField
    windows: dict[tuple[int, int], Window]  # (row, col) -> its input window


CYCLE = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def receptive_grid_png(image: np.ndarray, grid: FieldGrid, image_title: str) -> bytes:
    """The image with the windows of the last spatial layer: all at once, then one by one."""
    rows = sorted({r for r, _ in grid.windows})
    cols = sorted({c for _, c in grid.windows})
    h, w = image.shape
    size, jump = grid.field.size, grid.field.jump
    fig = Figure(
        figsize=(WIDTH, 0.9 + WIDTH * 0.5 * len(rows) / max(len(cols), 1) + 0.4),
        layout="constrained",
    )
    left, right = fig.subfigures(1, 2, width_ratios=[1, 1.15], squeeze=False)[0]
    mh, mw = grid.map_shape[0], grid.map_shape[1]
    apart = f"{jump.h} pixel{'s' if jump.h != 1 else ''} apart"
    if len(rows) * len(cols) == mh * mw:
        which = f"each of its {mh} x {mw} positions sees"
    else:
        which = f"{len(rows)} x {len(cols)} of its {mh} x {mw} positions; each sees"
    fig.suptitle(
        f"{grid.layer} ({grid.layer_type}): {which} {article(str(size))} window, {apart}",
        fontsize=12,
        fontweight="bold",
    )
    ax = left.subplots()
    ax.imshow(image, cmap=GRAY, interpolation="nearest")
    for i, (_, window) in enumerate(sorted(grid.windows.items())):
        inset = 0.15 * (i % 3)  # overlapping outlines stay apart
        ax.add_patch(
            Rectangle(
                (window.left - 0.5 + inset, window.top - 0.5 + inset),
                window.width - 2 * inset,
                window.height - 2 * inset,
                fill=False,
                edgecolor=CYCLE[i % len(CYCLE)],
                linewidth=1.6,
            )
        )
    _limits(ax, h, w, list(grid.windows.values()))
    ax.set_title(f"{image_title}: all windows", fontsize=10)
    ax.set_xlabel("column (pixels)", fontsize=8)
    ax.set_ylabel("row (pixels)", fontsize=8)
    axes = right.subplots(len(rows), len(cols), squeeze=False)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            window = grid.windows[(r, c)]
            cell = axes[i][j]
            cell.imshow(_dimmed(image, window), interpolation="nearest")
            _outline(cell, window, CYCLE[(i * len(cols) + j) % len(CYCLE)])
            _limits(cell, h, w, [window])
            _no_ticks(cell)
            where = f"rows {window.top}-{window.bottom}\ncols {window.left}-{window.right}"
            cell.set_title(f"({r}, {c}): {where}" if len(cols) <= 3 else f"({r}, {c})", fontsize=7)
    return png(fig)


@dataclass(frozen=True)
class FieldAt:
    """One chosen position of one layer, its window, and the layer's strongest channel there."""

    row: Row
    position: tuple[int, int]
    window: Window
    channel: int
    channel_map: np.ndarray  # (H, W) of that layer's output


def receptive_layers_png(image: np.ndarray, fields: Sequence[FieldAt], title: str) -> bytes:
    """Per spatial layer: its strongest channel with the chosen position marked, and that
    position's window on the input."""
    n = len(fields)
    columns = min(n, 5)
    lines = -(-n // columns)
    fig = Figure(figsize=(WIDTH, 0.6 + lines * 4.4), layout="constrained")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    axes = fig.subplots(2 * lines, columns, squeeze=False)
    h, w = image.shape
    for k in range(lines * columns):
        top, bottom = (
            axes[2 * (k // columns)][k % columns],
            axes[2 * (k // columns) + 1][k % columns],
        )
        if k >= n:
            top.set_visible(False)
            bottom.set_visible(False)
            continue
        f = fields[k]
        r, c = f.position
        top.imshow(f.channel_map, cmap=VALUES, interpolation="nearest")
        top.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="#d62728", lw=2))
        mh, mw = f.channel_map.shape
        top.set_title(
            f"{f.row.name} {mh}x{mw}\nchannel {f.channel}, position ({r}, {c})", fontsize=8
        )
        _no_ticks(top)
        bottom.imshow(_dimmed(image, f.window), interpolation="nearest")
        _outline(bottom, f.window, "#d62728")
        _limits(bottom, h, w, [f.window])
        size = f.row.receptive_field.size if f.row.receptive_field else ""
        bottom.set_title(
            f"sees {size}: rows {f.window.top}-{f.window.bottom},\n"
            f"cols {f.window.left}-{f.window.right}",
            fontsize=8,
        )
        _no_ticks(bottom)
    return png(fig)


# ---- training and test results ----


def curves_png(history: Sequence[dict[str, float]], validation_name: str, title: str) -> bytes:
    fig = Figure(figsize=(WIDTH, 3.6), layout="constrained")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    loss_ax, acc_ax = fig.subplots(1, 2)
    epochs = [int(h["epoch"]) for h in history]
    for ax, key, label in ((loss_ax, "loss", "loss"), (acc_ax, "accuracy", "accuracy")):
        ax.plot(epochs, [h[key] for h in history], "o-", label="training", color="#1f77b4")
        val = [h.get(f"val_{key}") for h in history]
        if all(v is not None for v in val):
            ax.plot(epochs, val, "s--", label=f"validation ({validation_name})", color="#ff7f0e")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    loss_ax.set_title("loss per epoch (lower is better)", fontsize=10)
    acc_ax.set_title("accuracy per epoch", fontsize=10)
    return png(fig)


def confusion_png(confusion: np.ndarray, class_names: Sequence[str], title: str) -> bytes:
    """Counts in each cell; colour by the share of that true class (rows add up to 1)."""
    k = len(class_names)
    share = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    fig = Figure(figsize=(7.5, 6.6), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(np.sqrt(share), cmap=matplotlib.colormaps["Blues"], vmin=0, vmax=1)
    for t in range(k):
        for p in range(k):
            n = int(confusion[t, p])
            if n:
                colour = "white" if share[t, p] > 0.5 else "black"
                ax.text(p, t, f"{n:,}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(
        range(k), class_names, rotation=45 if max(map(len, class_names)) > 2 else 0, fontsize=8
    )
    ax.set_yticks(range(k), class_names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=11, fontweight="bold")
    bar = fig.colorbar(im, ax=ax, shrink=0.8, label="share of the true class")
    ticks = [0, 0.01, 0.1, 0.5, 1]
    bar.set_ticks([t**0.5 for t in ticks], labels=[f"{t:.0%}" for t in ticks])
    return png(fig)


@dataclass(frozen=True)
class Mistake:
    index: int  # in the test set
    image: np.ndarray  # (28, 28) uint8
    true: int
    predicted: int
    confidence: float  # probability of the predicted class


def _mistake_cell(ax: object, m: Mistake, class_names: Sequence[str], *, index: bool) -> None:
    ax.imshow(m.image, cmap=GRAY, interpolation="nearest")  # type: ignore[attr-defined]
    _no_ticks(ax)
    where = f"#{m.index}\n" if index else ""
    ax.set_title(  # type: ignore[attr-defined]
        f"{where}true {class_names[m.true]}\npred {class_names[m.predicted]} {m.confidence:.0%}",
        fontsize=7,
    )


def misclassified_png(
    mistakes: Sequence[Mistake], class_names: Sequence[str], title: str, columns: int = 8
) -> bytes:
    rows = max(1, -(-len(mistakes) // columns))
    fig = Figure(figsize=(WIDTH, 0.5 + rows * 1.75), layout="constrained")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    axes = fig.subplots(rows, columns, squeeze=False)
    for k in range(rows * columns):
        ax = axes[k // columns][k % columns]
        if k < len(mistakes):
            _mistake_cell(ax, mistakes[k], class_names, index=True)
        else:
            ax.set_visible(False)
    return png(fig)


@dataclass(frozen=True)
class ConfusedPair:
    true: int
    predicted: int
    count: int
    examples: tuple[Mistake, ...]


def confused_pairs_png(
    pairs: Sequence[ConfusedPair], class_names: Sequence[str], title: str
) -> bytes:
    """One line per pair: how often, and the test images behind the count."""
    columns = 1 + max([len(p.examples) for p in pairs] or [1])
    fig = Figure(figsize=(WIDTH, 0.6 + 1.45 * max(len(pairs), 1)), layout="constrained")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    axes = fig.subplots(
        max(len(pairs), 1), columns, squeeze=False, width_ratios=[2.2] + [1] * (columns - 1)
    )
    for i, pair in enumerate(pairs):
        label = axes[i][0]
        label.axis("off")
        label.text(
            0.0,
            0.5,
            f"true {class_names[pair.true]}\nread as {class_names[pair.predicted]}\n"
            f"{pair.count} image{'s' if pair.count != 1 else ''}",
            fontsize=10,
            va="center",
        )
        for j in range(1, columns):
            ax = axes[i][j]
            if j - 1 < len(pair.examples):
                m = pair.examples[j - 1]
                ax.imshow(m.image, cmap=GRAY, interpolation="nearest")
                _no_ticks(ax)
                ax.set_title(f"#{m.index}, {m.confidence:.0%}", fontsize=7)
            else:
                ax.axis("off")
    if not pairs:
        axes[0][0].text(0.5, 0.5, "no mistakes on the test set", ha="center")
    return png(fig)


def params_png(rows: Sequence[Row], title: str) -> bytes:
    """Parameters per layer: where the weights are (layers without any show 0)."""
    fig = Figure(figsize=(WIDTH, 0.9 + 0.38 * len(rows)), layout="constrained")
    ax = fig.subplots()
    total = sum(r.params for r in rows) or 1
    names = [f"{r.name} ({r.layer_type})" for r in rows]
    values = [r.params for r in rows]
    colours = [
        "#1f77b4" if "Conv" in r.layer_type else "#ff7f0e" if r.params else "#bbbbbb" for r in rows
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
