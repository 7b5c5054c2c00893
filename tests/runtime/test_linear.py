"""runtime/nn/linear.py: the Dense products reoriented for the CPU against torch.nn's own
Linear (the oracle): the same outputs bit for bit, the same gradients to rounding."""

from __future__ import annotations

import pytest
import torch

from convscope.runtime.nn.linear import DenseProducts, linear

CASES = {  # batch, inputs, units, bias, which inputs want a gradient (x, weight, bias)
    "cifar-dense": (32, 2304, 512, True, (True, True, True)),
    "no-bias": (8, 300, 10, False, (True, True, False)),
    "frozen-input": (5, 64, 7, True, (False, True, True)),
    "frozen-weights": (5, 64, 7, True, (True, False, False)),
    "one-image": (1, 100, 3, True, (True, True, True)),
}


@pytest.mark.parametrize(("batch", "inputs", "units", "bias", "wants"), CASES.values(), ids=CASES)
def test_same_outputs_and_gradients_as_torch_linear(
    batch: int, inputs: int, units: int, bias: bool, wants: tuple[bool, bool, bool]
) -> None:
    torch.manual_seed(0)
    oracle = torch.nn.Linear(inputs, units, bias=bias)
    x = torch.randn(batch, inputs)
    grad = torch.randn(batch, units)
    results = []
    for fn in (oracle, lambda v: linear(v, oracle.weight, oracle.bias)):
        oracle.zero_grad()
        xi = x.clone().requires_grad_(wants[0])
        oracle.weight.requires_grad_(wants[1])
        if oracle.bias is not None:
            oracle.bias.requires_grad_(wants[2])
        y = fn(xi)
        y.backward(grad)
        grads = [xi.grad, oracle.weight.grad, None if oracle.bias is None else oracle.bias.grad]
        results.append((y.detach(), [None if g is None else g.clone() for g in grads]))
    (y_ref, ref), (y_ours, ours) = results
    assert torch.equal(y_ours, y_ref)
    for r, o in zip(ref, ours, strict=True):
        assert (r is None) == (o is None)
        if r is not None:
            torch.testing.assert_close(o, r, rtol=1e-5, atol=1e-5)


def test_feature_maps_and_autocast_keep_torch_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense on feature maps (3-D and up) and bf16 autocast go through F.linear unchanged."""
    w, b = torch.randn(4, 6), torch.randn(4)
    seen: list[str] = []
    original = DenseProducts.apply

    def spy(*args: object) -> object:
        seen.append("ours")
        return original(*args)

    monkeypatch.setattr(DenseProducts, "apply", spy)
    linear(torch.randn(2, 3, 6), w, b)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert linear(torch.randn(2, 6), w, b).dtype == torch.bfloat16
    assert seen == []
    linear(torch.randn(2, 6), w, b)
    assert seen == ["ours"]
