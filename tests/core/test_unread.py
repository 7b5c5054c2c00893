"""explain's note on the positions no later layer reads (core/explain/unread.py), hand
counted: positions left unread x filters x the window's multiply-adds (kh * kw * cin).
Which positions those are is checked against autograd in tests/runtime/test_crop.py."""

from __future__ import annotations

import pytest

from convscope.core import presets
from convscope.core.explain.rules import explain

NOTES = {
    # conv2d_2: 15x15 of which 14x14 read, 64 filters of 3x3x32; conv2d_3: 13x13, 12x12, 3x3x64
    "keras-cifar10-cnn": ("29 of conv2d_2's 225", "25 of conv2d_3's 169", 29 * 64 * 288 + 25 * 64 * 576),
    # conv2d: 26x26 of which 24x24 read, 32 filters of 3x3x1; conv2d_1: 11x11, 10x10, 3x3x32
    "chollet": ("100 of conv2d's 676", "21 of conv2d_1's 121", 100 * 32 * 9 + 21 * 64 * 288),
}  # fmt: skip


@pytest.mark.parametrize(("name", "note"), NOTES.items(), ids=NOTES.keys())
def test_the_unread_positions_and_their_cost(name: str, note: tuple[str, str, int]) -> None:
    first, second, wasted = note
    ex = explain(presets.model(name))
    [line] = [n for n in ex.notes if n.startswith("No later layer reads")]
    total = sum(row.macs for row in ex.rows)
    assert f"{first} positions and {second} positions" in line
    assert f": {wasted:,} multiply-adds an image ({wasted / total:.1%})" in line


@pytest.mark.parametrize("name", ["keras-mnist-cnn", "resnet20-cifar"])
def test_no_note_where_every_position_is_read(name: str) -> None:
    """keras-mnist-cnn's maps are even (24 -> 12); a graph's maps are left whole."""
    assert not [n for n in explain(presets.model(name)).notes if n.startswith("No later layer")]
