"""A Keras constructor as data: its parameters in positional order and how to build it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import spec as s

Bound = Mapping[str, Any]
Builder = Callable[[Bound], s.Layer]


@dataclass(frozen=True)
class Signature:
    """A Keras constructor: its parameters in positional order, and how to build it."""

    params: tuple[str, ...]
    build: Builder
    required: tuple[str, ...] = ()
    layer_kwargs: bool = True  # False: the class does not pass **kwargs on to Layer
