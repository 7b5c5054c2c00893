"""convscope's CPU Dropout (runtime/dropout.py) against what Keras's Dropout means: values
kept with probability 1 - rate and scaled by 1 / (1 - rate), zero elsewhere, gradients
through the same mask, nothing at inference, the same masks for the same seed."""

from __future__ import annotations

import pytest
import torch

from convscope.runtime.nn.dropout import Dropout

LAYOUTS = {
    "nchw": lambda x: x.contiguous(),
    "channels-last": lambda x: x.contiguous(memory_format=torch.channels_last),
    "flat": lambda x: x.flatten(1),
    "transposed-falls-back": lambda x: x.flatten(1).t(),
}


@pytest.mark.parametrize("rate", [0.25, 0.5, 0.3], ids=["quarter", "half", "0.3"])
@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_keeps_one_minus_rate_and_scales(rate: float, layout: object) -> None:
    torch.manual_seed(0)
    x = layout(torch.rand(64, 32, 12, 12) + 0.5).requires_grad_()  # type: ignore[operator]
    y = Dropout(rate).train()(x)
    kept = y != 0
    # 294,912 values: the binomial's standard deviation is under 0.1% of them
    assert abs(float(kept.float().mean()) - (1 - rate)) < 0.004
    torch.testing.assert_close(y[kept], x[kept] / (1 - rate))
    y.sum().backward()  # type: ignore[no-untyped-call]
    assert x.grad is not None
    torch.testing.assert_close(x.grad, kept.float() / (1 - rate))
    if x.dim() == 4:  # every channel masked independently, none all kept or all dropped
        per_channel = kept.float().mean(dim=(0, 2, 3))
        assert float((per_channel - (1 - rate)).abs().max()) < 0.03


def test_nothing_at_inference_and_the_same_masks_for_the_same_seed() -> None:
    x = torch.rand(8, 16, 5, 5).contiguous(memory_format=torch.channels_last)
    layer = Dropout(0.5)
    assert layer.eval()(x) is x
    layer.train()
    torch.manual_seed(4)
    first = layer(x)
    torch.manual_seed(4)
    again = layer(x)
    torch.manual_seed(5)
    other = layer(x)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_bf16_stays_bf16() -> None:
    x = torch.rand(4, 8, 6, 6, dtype=torch.bfloat16)
    assert Dropout(0.25).train()(x).dtype == torch.bfloat16


EXACT = [  # rate, lanes per value's draw, the fraction kept when every lane value occurs once
    (0.25, 256, 0.75),
    (0.5, 256, 0.5),
    (0.125, 256, 0.875),
    (0.3, 65536, 1 - 19661 / 65536),  # round(0.3 * 65536) = 19661
    (0.1, 65536, 1 - 6554 / 65536),
]


@pytest.mark.parametrize(("rate", "lane_count", "kept"), EXACT, ids=[str(r) for r, *_ in EXACT])
def test_every_lane_value_once_keeps_the_promised_fraction(
    rate: float, lane_count: int, kept: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The threshold's arithmetic, without chance: each possible lane value drawn once."""
    from convscope.runtime.nn import dropout

    every = torch.arange(-lane_count // 2, lane_count // 2)
    every = every.to(torch.int8 if lane_count == 256 else torch.int16)
    monkeypatch.setattr(dropout, "lanes", lambda count, bits, device: every)
    assert 2 ** dropout.lane_bits(rate) == lane_count
    mask = dropout.scaled_mask(torch.ones(lane_count), rate)
    assert mask is not None
    assert float((mask != 0).float().mean()) == kept
    torch.testing.assert_close(mask[mask != 0], torch.full_like(mask[mask != 0], 1 / (1 - rate)))
