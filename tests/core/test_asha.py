"""ASHA's rungs and cutoff (core/sweep/asha.py): the quantile is numpy's, the rungs are
Li et al.'s geometric ladder, and a value below the cutoff stops its trial."""

from __future__ import annotations

import numpy as np
import pytest

from convscope.core.errors import ConvscopeError
from convscope.core.sweep.asha import Asha, early_stop, from_record, quantile


@pytest.mark.parametrize(
    "values",
    [[0.5], [0.2, 0.9], [0.1, 0.4, 0.35, 0.8], list(np.random.default_rng(0).random(17))],
    ids=["one", "two", "four", "seventeen"],
)
@pytest.mark.parametrize("q", [0.0, 0.5, 2 / 3, 0.75, 1.0])
def test_quantile_is_numpys(values: list[float], q: float) -> None:
    assert quantile(values, q) == pytest.approx(float(np.percentile(values, 100 * q)))


@pytest.mark.parametrize(
    ("asha", "epochs", "rungs"),
    [(Asha(), 9, (1, 3)), (Asha(), 10, (1, 3, 9)), (Asha(grace=2, eta=2), 12, (2, 4, 8)),
     (Asha(), 1, ())],
    ids=["nine", "ten", "grace-2-eta-2", "one-epoch"],
)  # fmt: skip
def test_rungs_are_a_geometric_ladder_below_the_last_epoch(
    asha: Asha, epochs: int, rungs: tuple[int, ...]
) -> None:
    assert asha.rungs(epochs) == rungs


def test_the_top_third_goes_on() -> None:
    asha = Asha()
    recorded = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    kept = [v for v in recorded if asha.keeps(recorded, v)]
    assert kept == [0.9, 0.95]  # the cutoff is the 2/3 quantile, 0.8667
    assert asha.keeps([0.3], 0.3)  # the first at a rung goes on


def test_the_rule_by_name_and_from_the_plan() -> None:
    assert early_stop(None) is None and early_stop("asha") == Asha()
    assert from_record({"early_stop": Asha(2, 4).as_dict()}) == Asha(2, 4)
    assert from_record({}) is None
    with pytest.raises(ConvscopeError, match="--early-stop must be one of asha"):
        early_stop("hyperband")
    with pytest.raises(ConvscopeError, match="eta >= 2"):
        Asha(eta=1)
