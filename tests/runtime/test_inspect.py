"""The figures' data comes from the run's real weights and activations.

The oracle is plain torch: the weights read straight from weights.safetensors and run
through torch.nn.functional, independent of convscope's model classes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from convscope.core.errors import ConvscopeError
from convscope.core.rundir import RunDir
from convscope.present.plots import model as plots
from convscope.runtime import data
from convscope.runtime.inspect import choose_image, conv_filters, layer_outputs
from convscope.runtime.runs import load_tensors, load_trained
from convscope.runtime.subject import open_run
from convscope.runtime.view import build_view, field_grid, fields_at

IMAGE = 7  # a test image index, as in `convscope show RUN --image 7`


@pytest.fixture(scope="module")
def mnist() -> data.Dataset:
    return data.load("mnist", allow_download=False)


def by_hand(run_dir: Path, image: np.ndarray) -> list[torch.Tensor]:
    """chollet's layers, recomputed with torch.nn.functional from the saved weights (NCHW)."""
    w, _ = load_tensors(RunDir(run_dir).weights)
    x = torch.tensor(image, dtype=torch.float32)[None, None] / 255  # (1, 1, 28, 28)
    conv1 = F.relu(
        F.conv2d(x, w["layers.0.conv.weight"], w["layers.0.conv.bias"])
    )  # (1, 32, 26, 26)
    pool1 = F.max_pool2d(conv1, 2)  # (1, 32, 13, 13)
    conv2 = F.relu(
        F.conv2d(pool1, w["layers.2.conv.weight"], w["layers.2.conv.bias"])
    )  # (1, 64, 11, 11)
    pool2 = F.max_pool2d(conv2, 2)  # (1, 64, 5, 5)
    conv3 = F.relu(
        F.conv2d(pool2, w["layers.4.conv.weight"], w["layers.4.conv.bias"])
    )  # (1, 64, 3, 3)
    flat = conv3.permute(0, 2, 3, 1).flatten(1)  # (1, 576) in Keras's (H, W, C) order
    dense = F.relu(F.linear(flat, w["layers.6.linear.weight"], w["layers.6.linear.bias"]))
    out = torch.softmax(F.linear(dense, w["layers.7.linear.weight"], w["layers.7.linear.bias"]), -1)
    return [x, conv1, pool1, conv2, pool2, conv3, flat, dense, out]


def keras_layout(t: torch.Tensor) -> np.ndarray:
    return (t.permute(0, 2, 3, 1) if t.dim() == 4 else t)[0].numpy()


def test_feature_maps_are_the_real_activations(
    chollet_run: tuple[Path, dict[str, object]], mnist: data.Dataset
) -> None:
    run_dir = chollet_run[0]
    _, model, _ = load_trained(run_dir)
    image = mnist.test_images[IMAGE]
    outputs = layer_outputs(model, image)
    expected = by_hand(run_dir, image)
    assert [o.name for o in outputs] == [
        "input", "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "conv2d_2",
        "flatten", "dense", "dense_1",
    ]  # fmt: skip
    assert [o.shape for o in outputs][1:6] == [
        (26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (3, 3, 64),
    ]  # fmt: skip
    for out, want in zip(outputs, expected, strict=True):
        np.testing.assert_allclose(out.values, keras_layout(want), atol=1e-5, err_msg=out.name)
    assert outputs[1].values.max() > 0  # a trained conv layer responds to a digit


def test_the_feature_map_mosaic_holds_each_channel(
    chollet_run: tuple[Path, dict[str, object]], mnist: data.Dataset
) -> None:
    """What the figure draws: channel k of conv2d is tile k of the mosaic, value for value."""
    _, model, _ = load_trained(chollet_run[0])
    conv = layer_outputs(model, mnist.test_images[IMAGE])[1]  # (26, 26, 32)
    image, _ = plots._map_image(conv)
    assert image.shape == (2 * 27 - 1, 16 * 27 - 1)  # 32 channels: 2 rows of 16, 1-pixel gaps
    for k in (0, 5, 17, 31):
        r, c = divmod(k, 16)
        tile = image[r * 27 : r * 27 + 26, c * 27 : c * 27 + 26]
        np.testing.assert_array_equal(tile, conv.values[..., k])
    assert np.isnan(image[26, 0])  # the gap between rows


def test_filters_are_the_saved_kernels(chollet_run: tuple[Path, dict[str, object]]) -> None:
    run_dir = chollet_run[0]
    _, model, _ = load_trained(run_dir)
    saved, _ = load_tensors(RunDir(run_dir).weights)
    found = conv_filters(model)
    assert [(f.name, f.kernels.shape) for f in found] == [
        ("conv2d", (32, 1, 3, 3)),
        ("conv2d_1", (64, 32, 3, 3)),
        ("conv2d_2", (64, 64, 3, 3)),
    ]
    np.testing.assert_array_equal(found[1].kernels, saved["layers.2.conv.weight"].numpy())


def test_filter_mosaic_caps_deep_layers_with_a_note(
    chollet_run: tuple[Path, dict[str, object]],
) -> None:
    _, model, _ = load_trained(chollet_run[0])
    first, _, third = conv_filters(model)
    tiles, columns, _, note = plots.filter_tiles(first)
    assert tiles.shape == (32, 3, 3) and columns == 16 and note == ""
    tiles, columns, axes, note = plots.filter_tiles(third)
    assert tiles.shape == (16 * 32, 3, 3) and columns == 32
    assert "filters 0-15 of 64" in note and "input channels 0-31 of 64" in note
    assert axes == "rows: filters, columns: input channels"
    np.testing.assert_array_equal(tiles[33], third.kernels[1, 1])  # filter 1, input channel 1


def test_receptive_field_grid_of_chollet_on_a_real_digit(
    chollet_run: tuple[Path, dict[str, object]],
) -> None:
    view = build_view(open_run(chollet_run[0]), str(IMAGE))
    grid = field_grid(view.explanation)
    assert grid is not None and grid.layer == "conv2d_2" and grid.map_shape == (3, 3, 64)
    assert sorted(grid.windows) == [(r, c) for r in range(3) for c in range(3)]
    assert {(w.top, w.left) for w in grid.windows.values()} == {
        (r, c) for r in (0, 4, 8) for c in (0, 4, 8)
    }
    assert {(w.height, w.width) for w in grid.windows.values()} == {(18, 18)}
    assert view.image is not None and view.image.title == "test image 7 (class 9)"


def test_position_per_layer_marks_the_strongest_channel(
    chollet_run: tuple[Path, dict[str, object]],
) -> None:
    view = build_view(open_run(chollet_run[0]), str(IMAGE))
    found = {f.row.name: f for f in fields_at(view, "conv2d_1:2,3")}
    assert list(found) == ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "conv2d_2"]
    chosen = found["conv2d_1"]
    assert chosen.position == (2, 3)
    # conv2d_1 sees 8x8 with jump 2: position (2, 3) -> rows 4-11, columns 6-13
    assert (chosen.window.top, chosen.window.bottom, chosen.window.left, chosen.window.right) == (
        4, 11, 6, 13,
    )  # fmt: skip
    maps = {o.name: o.values for o in view.outputs}["conv2d_1"]
    assert chosen.channel == int(np.argmax(maps[2, 3]))
    assert found["conv2d"].position == (13, 13)  # the others: their centre


@pytest.mark.parametrize(
    ("position", "message"),
    [
        ("conv2d", "must look like LAYER:ROW,COL"),
        ("dense:1,1", "'dense' is not a layer with positions"),
        ("conv2d_2:3,0", "conv2d_2 is 3x3, so rows and columns run 0-2 and 0-2"),
    ],
    ids=["no-position", "dense-layer", "outside"],
)
def test_bad_positions(
    chollet_run: tuple[Path, dict[str, object]], position: str, message: str
) -> None:
    view = build_view(open_run(chollet_run[0]), "0")
    with pytest.raises(ConvscopeError, match=message.replace("(", r"\(")):
        fields_at(view, position)


def test_choose_a_users_own_image(mnist: data.Dataset, tmp_path: Path) -> None:
    png = tmp_path / "mine.png"
    Image.fromarray(255 - mnist.test_images[0]).resize((140, 140)).save(png)  # dark on white
    chosen = choose_image(str(png), "mnist", None)
    assert chosen.pixels.shape == (28, 28) and chosen.label is None
    assert chosen.title == "mine.png" and any("invert" in s for s in chosen.steps)
    with pytest.raises(ConvscopeError, match="images 0 to 9999"):
        choose_image("10000", "mnist", mnist)
