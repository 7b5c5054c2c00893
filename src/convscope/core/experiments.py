"""Experiment results as data: what the pooling experiment measured, per variant and seed.

Standard library only, so the report and `explain` can read results without torch. The
runtime fills in the measurements (runtime/pooling.py); the arithmetic part (parameters,
shapes, receptive field) comes from `explain` of each variant.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from . import spec as s
from .attribution import AttributionResults
from .explain.rules import explain
from .explain.table import last_map
from .variants import Variant


@dataclass(frozen=True)
class Spread:
    """Several seeds' values: mean, sample standard deviation, lowest, highest."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)


@dataclass(frozen=True)
class SeedResult:
    seed: int
    accuracy: float  # on the full test set
    loss: float
    seconds: float  # training only: the sum of the epochs' times
    val_accuracy: tuple[float, ...]  # per epoch, for the curves


@dataclass(frozen=True)
class VariantResult:
    key: str
    title: str
    how: str
    params: int
    macs: int  # multiply-adds per image
    shapes: tuple[str, ...]  # every layer's output, "26x26x32"
    activations: int  # numbers all layers output for one image
    last_map: str  # "3x3x64": what Flatten (or the head) receives
    receptive_field: str  # of one position of the last map, "18x18"
    runs: tuple[SeedResult, ...] = ()

    @property
    def accuracy(self) -> Spread | None:
        return Spread(tuple(r.accuracy for r in self.runs)) if self.runs else None

    @property
    def seconds(self) -> Spread | None:
        return Spread(tuple(r.seconds for r in self.runs)) if self.runs else None


def compact_shape(shape: tuple[int, ...]) -> str:
    """(26, 26, 32) -> '26x26x32', the way tables and plots label a map."""
    return "x".join(map(str, shape))


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe_variant(variant: Variant, model: s.ModelSpec) -> VariantResult:
    """The arithmetic half of a variant's row: no training needed."""
    ex = explain(variant.build(model))
    last = last_map(ex.rows)
    field = last.receptive_field if last is not None else None
    return VariantResult(
        key=variant.key,
        title=variant.title,
        how=variant.how,
        params=ex.total_params,
        macs=ex.total_macs,
        shapes=tuple(compact_shape(r.output_shape) for r in ex.rows),
        activations=sum(math.prod(r.output_shape) for r in ex.rows),
        last_map=compact_shape(last.output_shape) if last is not None else "-",
        receptive_field=str(field.size) if field is not None else "-",
    )


@dataclass(frozen=True)
class PoolingResults:
    model: str
    dataset: str
    epochs: int
    seeds: tuple[int, ...]
    augment: str  # "none" or "shift=2,rotate=10"
    train_images: int  # how many training images each run saw
    variants: tuple[VariantResult, ...]

    @property
    def complete(self) -> bool:
        return all(len(v.runs) == len(self.seeds) for v in self.variants)

    def variant(self, key: str) -> VariantResult | None:
        return next((v for v in self.variants if v.key == key), None)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["complete"] = self.complete
        for row, v in zip(d["variants"], self.variants, strict=True):
            for name in ("accuracy", "seconds"):
                got = getattr(v, name)
                row[name] = (
                    None
                    if got is None
                    else {"mean": got.mean, "std": got.std, "min": got.low, "max": got.high}
                )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PoolingResults:
        variants = tuple(
            VariantResult(
                **{
                    **{k: v[k] for k in VARIANT_FIELDS},
                    "shapes": tuple(v["shapes"]),
                    "runs": tuple(
                        SeedResult(**{**r, "val_accuracy": tuple(r["val_accuracy"])})
                        for r in v["runs"]
                    ),
                }
            )
            for v in d["variants"]
        )
        return cls(
            model=d["model"],
            dataset=d["dataset"],
            epochs=int(d["epochs"]),
            seeds=tuple(d["seeds"]),
            augment=d["augment"],
            train_images=int(d["train_images"]),
            variants=variants,
        )


VARIANT_FIELDS = (
    "key",
    "title",
    "how",
    "params",
    "macs",
    "activations",
    "last_map",
    "receptive_field",
)


def points(value: float) -> str:
    """A difference of accuracies in percentage points: 0.0021 -> '0.21 points'."""
    return f"{abs(value) * 100:.2f} points"


def accuracy_text(spread: Spread | None) -> str:
    """'99.15% ± 0.04 (99.10..99.20)': mean, standard deviation in points, lowest..highest."""
    if spread is None:
        return "not run yet"
    if len(spread.values) == 1:
        return f"{spread.mean:.2%} (1 seed)"
    return f"{spread.mean:.2%} ± {spread.std * 100:.2f} ({spread.low * 100:.2f}..{spread.high:.2%})"


def overlap(v: VariantResult, base: VariantResult) -> str:
    """Whether the seeds tell two variants apart: do their accuracy ranges overlap?"""
    a, b = v.accuracy, base.accuracy
    assert a is not None and b is not None
    if len(a.values) < 2 or len(b.values) < 2:
        return "one seed each: not enough to tell them apart"
    if a.high < b.low:
        return f"every seed below every {base.title} seed"
    if a.low > b.high:
        return f"every seed above every {base.title} seed"
    return "the seeds' ranges overlap"


def finding(results: PoolingResults) -> list[str]:
    """What the experiment found, in sentences: accuracy, and at what price in size and time."""
    measured = [v for v in results.variants if v.accuracy is not None]
    base = results.variant("max")
    if base is None or base.accuracy is None or len(measured) < 2:
        return []
    seeds = min(len(v.runs) for v in measured)
    ranked = sorted(measured, key=lambda v: -v.accuracy.mean if v.accuracy else 0.0)
    found = [
        f"Measured on {results.dataset} ({plural(results.epochs, 'epoch')}, "
        f"{plural(seeds, 'seed')} per variant): "
        + "; ".join(f"{v.title} {accuracy_text(v.accuracy)}" for v in ranked)
        + "."
    ]
    for v in measured:
        if v is base or v.accuracy is None or v.seconds is None or base.seconds is None:
            continue
        gap = v.accuracy.mean - base.accuracy.mean
        found.append(
            f"{v.title.capitalize()} vs {base.title}: {'+' if gap >= 0 else '-'}"
            f"{points(gap)} ({overlap(v, base)}), with {v.params / base.params:.1f}x the "
            f"parameters, {v.activations / base.activations:.1f}x the activations and "
            f"{v.seconds.mean / max(base.seconds.mean, 1e-9):.1f}x the training time."
        )
    return found


# ---- probes: how much each layer's output still says about the label ----


@dataclass(frozen=True)
class ProbePoint:
    name: str  # "input", or the layer's name
    layer_type: str
    shape: tuple[int, ...]  # Keras layout, no batch axis
    features: int  # numbers the probe reads: the product of the shape
    train_accuracy: float  # over the last probe epoch, while it trained
    test_accuracy: float
    same_as: str | None = None  # the point whose numbers these are (Dropout, Flatten)


@dataclass(frozen=True)
class ProbeResults:
    run: str
    model: str
    dataset: str
    model_epochs: int  # how long the probed network trained
    model_accuracy: float  # the network's own test accuracy, for comparison
    train_images: int
    probe_epochs: int
    points: tuple[ProbePoint, ...]
    seconds: float = 0.0  # the probes' training and scoring, wall clock

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProbeResults:
        points = tuple(ProbePoint(**{**p, "shape": tuple(p["shape"])}) for p in d["points"])
        return cls(**{**d, "points": points})


def probe_finding(results: ProbeResults) -> list[str]:
    """The measurement that answers "how can 3x3x64 be enough?"."""
    points = results.points
    first, best = points[0], max(points[1:], key=lambda p: p.test_accuracy)
    spatial = [p for p in points if len(p.shape) == 3]
    found = [
        f"A linear classifier on the raw pixels ({first.features:,} numbers) scores "
        f"{first.test_accuracy:.2%}; on {best.name}'s {best.features:,} numbers "
        f"{best.test_accuracy:.2%} (the network itself: {results.model_accuracy:.2%})."
    ]
    if spatial:
        last = spatial[-1]
        found.append(
            f"The last map, {compact_shape(last.shape)} = {last.features:,} numbers, "
            f"{last.features / first.features:.2g}x as many as the image has pixels, lets a "
            f"linear classifier score {last.test_accuracy:.2%}: the layers have turned "
            "pixels into features from which the classes are (almost) linearly separable."
        )
    return found


@dataclass(frozen=True)
class SavedOcclusion:
    """An occlusion map as `convscope experiment occlusion` saved it: its figure and facts."""

    key: str  # "occlusion-7"
    about: dict[str, Any]  # the saved JSON: image, patch, fill, target_name, ...
    png: bytes


@dataclass(frozen=True)
class Measured:
    """Experiment results that bear on one run's model, for its report's answers."""

    pooling: PoolingResults | None = None
    pooling_folder: str = ""  # where the pooling results were found
    probe: ProbeResults | None = None
    occlusions: tuple[SavedOcclusion, ...] = ()
    attribution: AttributionResults | None = None
