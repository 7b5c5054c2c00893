"""Receptive-field figures: the input window each position of a layer sees, on a real image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...core.explain.notes import article
from ...core.explain.table import Window
from .model import VALUES, WIDTH, as_rgb, no_ticks, picture, png

if TYPE_CHECKING:
    from ...runtime.view import FieldAt, FieldGrid


def _dimmed(image: np.ndarray, window: Window) -> np.ndarray:
    """An RGB view of the image (as_rgb: MNIST as dark ink on white), faded outside the
    window."""
    rgb = as_rgb(image)
    h, w = image.shape[:2]
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


def _limits(ax: object, h: int, w: int, windows: Sequence[Window]) -> None:
    """Show the whole image, and any padding the windows reach into."""
    top = min([0, *(x.top for x in windows)])
    left = min([0, *(x.left for x in windows)])
    bottom = max([h - 1, *(x.bottom for x in windows)])
    right = max([w - 1, *(x.right for x in windows)])
    ax.set_xlim(left - 0.5, right + 0.5)  # type: ignore[attr-defined]
    ax.set_ylim(bottom + 0.5, top - 0.5)  # type: ignore[attr-defined]


CYCLE = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def receptive_grid_png(image: np.ndarray, grid: FieldGrid, image_title: str) -> bytes:
    """The image with the windows of the last spatial layer: all at once, then one by one."""
    rows = sorted({r for r, _ in grid.windows})
    cols = sorted({c for _, c in grid.windows})
    h, w = image.shape[:2]
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
    picture(ax, image)
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
            no_ticks(cell)
            where = f"rows {window.top}-{window.bottom}\ncols {window.left}-{window.right}"
            cell.set_title(f"({r}, {c}): {where}" if len(cols) <= 3 else f"({r}, {c})", fontsize=7)
    return png(fig)


def receptive_layers_png(image: np.ndarray, fields: Sequence[FieldAt], title: str) -> bytes:
    """Per spatial layer: its strongest channel with the chosen position marked, and that
    position's window on the input."""
    n = len(fields)
    columns = min(n, 5)
    lines = -(-n // columns)
    fig = Figure(figsize=(WIDTH, 0.6 + lines * 4.4), layout="constrained")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    axes = fig.subplots(2 * lines, columns, squeeze=False)
    h, w = image.shape[:2]
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
        no_ticks(top)
        bottom.imshow(_dimmed(image, f.window), interpolation="nearest")
        _outline(bottom, f.window, "#d62728")
        _limits(bottom, h, w, [f.window])
        size = f.row.receptive_field.size if f.row.receptive_field else ""
        bottom.set_title(
            f"sees {size}: rows {f.window.top}-{f.window.bottom},\n"
            f"cols {f.window.left}-{f.window.right}",
            fontsize=8,
        )
        no_ticks(bottom)
    return png(fig)
