"""A preset: a model our users start from, as the Keras code it was published in, with
the training settings its origin used."""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import TrainingSpec


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    origin: str
    source: str
    training: TrainingSpec
