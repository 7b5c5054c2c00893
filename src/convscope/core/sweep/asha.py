"""Stopping the worst trials early: asynchronous successive halving (ASHA; Li et al. 2020,
"A System for Massively Parallel Hyperparameter Tuning"), as Ray Tune's ASHAScheduler runs
it and Keras Tuner's Hyperband brackets do.

Rungs sit at `grace`, `grace * eta`, `grace * eta**2`, ... epochs. When a trial finishes a
rung's epoch, its validation accuracy joins the rung's record, and it goes on only if it
is not below the record's (1 - 1/eta) quantile (linear interpolation, as numpy's
percentile and Ray Tune's cutoff compute it): the top 1/eta go on, the rest stop there and
their place goes to the next trial. Asynchronous: a trial is judged against those that
reached the rung before it, so nothing waits for a whole rung to fill.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ConvscopeError

METHODS = ("asha",)


@dataclass(frozen=True)
class Asha:
    grace: int = 1  # epochs every trial gets before its first judgement
    eta: int = 3  # the reduction factor: the top 1/eta of a rung go on
    metric: str = "val_accuracy"

    def __post_init__(self) -> None:
        if self.grace < 1 or self.eta < 2:
            raise ConvscopeError(
                f"ASHA needs grace >= 1 and eta >= 2, got {self.grace}, {self.eta}"
            )

    def rungs(self, epochs: int) -> tuple[int, ...]:
        """The epochs after which a trial of `epochs` is judged (none at the last)."""
        found, rung = [], self.grace
        while rung < epochs:
            found.append(rung)
            rung *= self.eta
        return tuple(found)

    def keeps(self, recorded: Sequence[float], value: float) -> bool:
        """Whether `value` (already in `recorded`) is not below the rung's cutoff."""
        return value >= quantile(recorded, 1 - 1 / self.eta)

    def as_dict(self) -> dict[str, Any]:
        return {"method": "asha", **asdict(self)}


def quantile(values: Sequence[float], q: float) -> float:
    """numpy.percentile(values, 100 * q) with linear interpolation."""
    ordered = sorted(values)
    at = q * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def early_stop(name: str | None) -> Asha | None:
    """--early-stop's value: 'asha' (grace 1 epoch, eta 3), or None for none."""
    if name is None:
        return None
    if name not in METHODS:
        raise ConvscopeError(f"--early-stop must be one of {', '.join(METHODS)}, got {name!r}")
    return Asha()


def from_record(record: dict[str, Any]) -> Asha | None:
    """The sweep's early stopping as sweep.json keeps it."""
    found = record.get("early_stop")
    if not isinstance(found, dict):
        return None
    return Asha(int(found["grace"]), int(found["eta"]), str(found["metric"]))
