"""The attribution experiment's results as data, and what they say in sentences.

Two measurements of each attribution method (runtime.attribution computes the maps):

- The sanity check of Adebayo et al. ("Sanity Checks for Saliency Maps", NeurIPS 2018):
  randomise the weights layer by layer from the top (a cascade) and measure how similar
  each method's maps stay to the trained model's (Spearman rank correlation of |map|,
  averaged over the images). A map that still looks the same once the weights are random
  does not depend on what the network learnt: it is flagged.
- The deletion measurement (Samek et al. 2017; Petsiuk et al. 2018): remove the k% of
  pixels a method ranks highest (set them to the background, 0) and measure the accuracy;
  the faster it falls, the more the method found the pixels the prediction needs. A
  random ranking is the reference; the area under the accuracy-drop curve is the score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

# A method whose maps keep a rank correlation above this with every layer randomised is
# flagged: its ranking of the pixels is nearly the same for a network that learnt nothing.
FLAG_AT = 0.8
FRACTIONS = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50)
RANDOM = "random"
RANDOM_INK = "random ink"  # the ink's pixels first, in a random order, then the background
REFERENCES = (RANDOM, RANDOM_INK)
INPUT_WEIGHTED = ("gradient_x_input", "integrated_gradients")  # maps that are x times something


@dataclass(frozen=True)
class Cascade:
    """One method under the cascade: the correlation after each further layer is randomised."""

    method: str
    layers: tuple[str, ...]  # randomised so far at each step: the top layer first
    correlations: tuple[float, ...]  # mean Spearman(|trained map|, |randomised map|)
    ink: tuple[float, ...]  # the same over the image's ink (pixels > 0) only

    @property
    def flagged(self) -> bool:
        return self.correlations[-1] > FLAG_AT


@dataclass(frozen=True)
class Deletion:
    """One ranking (a method's, or random): accuracy with the top k% of pixels removed."""

    method: str
    accuracies: tuple[float, ...]  # at FRACTIONS

    def drops(self, full: float) -> tuple[float, ...]:
        return tuple(full - a for a in self.accuracies)

    def area(self, full: float) -> float:
        """The mean accuracy drop over k = 5..50% (trapezoids): higher found more."""
        d = self.drops(full)
        areas = [(a + b) / 2 * (k1 - k0) for (a, b), (k0, k1) in
                 zip(pairwise(d), pairwise(FRACTIONS), strict=True)]  # fmt: skip
        return sum(areas) / (FRACTIONS[-1] - FRACTIONS[0])


@dataclass(frozen=True)
class AttributionResults:
    run: str
    model: str
    dataset: str
    model_epochs: int
    sanity_images: int
    deletion_images: int
    full_accuracy: float  # on the deletion images, nothing removed
    cascade: tuple[Cascade, ...]
    deletion: tuple[Deletion, ...]  # the methods', then RANDOM's
    completeness: float | None  # integrated gradients' mean relative error
    seconds: dict[str, float]  # per method: maps for the sanity check and the deletion

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fractions"] = list(FRACTIONS)
        d["flagged"] = [c.method for c in self.cascade if c.flagged]
        d["areas"] = {x.method: self.area(x) for x in self.deletion}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AttributionResults:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        cascade = tuple(
            Cascade(c["method"], tuple(c["layers"]), tuple(c["correlations"]), tuple(c["ink"]))
            for c in d["cascade"]
        )
        deletion = tuple(Deletion(x["method"], tuple(x["accuracies"])) for x in d["deletion"])
        return cls(**{**known, "cascade": cascade, "deletion": deletion})

    def area(self, deletion: Deletion) -> float:
        return deletion.area(self.full_accuracy)

    def ranked(self) -> list[Deletion]:
        """The methods by their deletion area, best first (random among them)."""
        return sorted(self.deletion, key=self.area, reverse=True)


def attribution_finding(results: AttributionResults) -> list[str]:
    """Which methods pass the sanity check, and which the deletion numbers favour."""
    found = []
    flagged = [c for c in results.cascade if c.flagged]
    passed = [c for c in results.cascade if not c.flagged]
    if flagged:
        each = [f"{c.method} (rank correlation {c.correlations[-1]:.2f} with every layer random)"
                for c in flagged]  # fmt: skip
        found.append(
            f"Flagged by the sanity check: {', '.join(each)}: their maps stay much the same for "
            "a network that learnt nothing, so they show the image more than the model."
        )
        weighted = [c for c in flagged if c.method in INPUT_WEIGHTED]
        if weighted:
            found.append(
                f"{' and '.join(c.method for c in weighted)} multiply by the input, which is 0 "
                "on the background: those pixels rank last for any weights. On the ink alone "
                "the correlation is "
                + ", ".join(f"{c.ink[-1]:.2f} ({c.method})" for c in weighted)
                + ": there the maps do depend on the weights."
            )
    if passed:
        found.append(
            "Changed by random weights, as a map of the model should be: "
            + ", ".join(f"{c.method} ({c.correlations[-1]:.2f})" for c in passed)
            + "."
        )
    ranked = [d for d in results.ranked() if d.method not in REFERENCES]
    area = {d.method: results.area(d) for d in results.deletion}
    best = ranked[0]
    beat = [d.method for d in ranked if area[d.method] > area[RANDOM_INK]]
    found.append(
        f"Deletion: removing the pixels {best.method} ranks highest lowers the accuracy "
        f"fastest (mean drop {area[best.method]:.1%} over 5-50% of the pixels removed; "
        f"random pixels {area[RANDOM]:.1%}, random ink pixels {area[RANDOM_INK]:.1%}). "
        + (
            f"Better than removing the ink at random: {', '.join(beat)}."
            if beat
            else "No method does better than removing the ink at random."
        )
    )
    return found
