"""Shapes and parameter counts equal those of the equivalent torch.nn model on a dummy batch."""

from __future__ import annotations

import pytest
import torch

from convscope.core.explain.rules import explain
from convscope.core.source.read import read_model
from convscope.runtime.nn.model import KerasModel, count_params

from .cases import CASES


@pytest.mark.parametrize("case", CASES)
def test_matches_torch(case: str) -> None:
    spec = read_model(CASES[case], f"{case}.py").spec
    ours = explain(spec)
    model = KerasModel(spec).eval()
    batch = torch.rand(2, *spec.input_shape)
    with torch.no_grad():
        outputs = model.activations(batch)
    for row, module, output in zip(ours.rows, model.layers, outputs, strict=True):
        assert tuple(output.shape) == (2, *row.output_shape), row.name
        assert count_params(module) == (row.trainable, row.non_trainable), row.name
    assert sum(count_params(model)) == ours.total_params
