"""The integer formulas, table-driven with readable ids."""

from __future__ import annotations

import pytest

from convscope.core import arith

OUTPUT_SIZES = [
    # id, (size, kernel, stride, padding, dilation), expected
    ("valid-3x3-on-28", (28, 3, 1, "valid", 1), 26),
    ("valid-2x2-pool-on-26", (26, 2, 2, "valid", 1), 13),
    ("valid-pool-odd-rounds-down", (11, 2, 2, "valid", 1), 5),
    ("valid-stride2-odd", (27, 3, 2, "valid", 1), 13),
    ("valid-dilated", (28, 3, 1, "valid", 2), 24),
    ("valid-kernel-equals-input", (5, 5, 1, "valid", 1), 1),
    ("valid-kernel-too-big", (1, 3, 1, "valid", 1), -1),
    ("same-stride1-keeps", (28, 3, 1, "same", 1), 28),
    ("same-stride2-even", (28, 3, 2, "same", 1), 14),
    ("same-stride2-odd-rounds-up", (27, 3, 2, "same", 1), 14),
    ("same-stride3", (10, 5, 3, "same", 1), 4),
]


@pytest.mark.parametrize(
    ("args", "expected"), [c[1:] for c in OUTPUT_SIZES], ids=[c[0] for c in OUTPUT_SIZES]
)
def test_output_size(args: tuple[int, int, int, arith.Padding, int], expected: int) -> None:
    size, kernel, stride, padding, dilation = args
    assert arith.output_size(size, kernel, stride, padding, dilation) == expected


SAME_PADS = [
    ("odd-kernel-stride1", (28, 3, 1, 1), (1, 1)),
    ("even-kernel-extra-after", (15, 4, 1, 1), (1, 2)),
    ("stride2-even-input-extra-after", (28, 3, 2, 1), (0, 1)),
    ("stride2-odd-input", (27, 3, 2, 1), (1, 1)),
    ("dilated", (21, 3, 1, 2), (2, 2)),
    ("kernel-1-no-pad", (9, 1, 2, 1), (0, 0)),
]


@pytest.mark.parametrize(
    ("args", "expected"), [c[1:] for c in SAME_PADS], ids=[c[0] for c in SAME_PADS]
)
def test_same_padding_puts_odd_pixel_after(
    args: tuple[int, int, int, int], expected: tuple[int, int]
) -> None:
    assert arith.same_padding(*args) == expected


PARAMS = [
    ("mnist-first-conv", arith.conv2d_params(3, 3, 1, 32), 320),
    ("mnist-second-conv", arith.conv2d_params(3, 3, 32, 64), 18_496),
    ("chollet-last-conv", arith.conv2d_params(3, 3, 64, 64), 36_928),
    ("conv-no-bias", arith.conv2d_params(3, 3, 1, 32, use_bias=False), 288),
    ("conv-groups", arith.conv2d_params(3, 3, 8, 16, groups=4), (3 * 3 * 2 + 1) * 16),
    ("mnist-cnn-dense", arith.dense_params(9216, 128), 1_179_776),
    ("dense-no-bias", arith.dense_params(64, 10, use_bias=False), 640),
    ("depthwise", arith.depthwise_params(3, 3, 16, 2), 320),
    ("separable", arith.separable_params(3, 3, 32, 8), 552),
]


@pytest.mark.parametrize(("got", "expected"), [c[1:] for c in PARAMS], ids=[c[0] for c in PARAMS])
def test_params(got: int, expected: int) -> None:
    assert got == expected


def test_batchnorm_has_four_per_channel_two_not_trainable() -> None:
    assert arith.batchnorm_params(32) == (64, 64)
    assert arith.batchnorm_params(32, center=False) == (32, 64)


def test_receptive_field_recurrence_reaches_18_for_chollet() -> None:
    field = (1, 1, 0)
    for kernel, stride in [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]:
        field = arith.receptive_field_step(*field, kernel, stride, 0)
    assert field == (18, 4, 0)


def test_receptive_field_start_moves_into_padding() -> None:
    assert arith.receptive_field_step(1, 1, 0, 3, 1, 1) == (3, 1, -1)


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0.00 B"), (256, "256.00 B"), (1330 * 4, "5.20 KB"), (1_199_882 * 4, "4.58 MB")],
)
def test_readable_bytes_as_keras(count: int, text: str) -> None:
    assert arith.readable_bytes(count) == text
