"""Keras 3's merge layers (keras/src/layers/merging): constructors and their functions.

`layers.Add()([x, y])` and `layers.add([x, y])` make the same layer: the lowercase
functions (`add`, `concatenate`, ...) build the class with their keyword arguments and
call it on the list at once.
"""

from __future__ import annotations

from .. import graph as g
from ..errors import SpecError
from .signature import Bound, Signature


def _concatenate(b: Bound) -> g.Concatenate:
    axis = b.get("axis", -1)
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise SpecError(f"`axis` must be an integer, got {axis!r}")
    if axis == 0:
        raise SpecError("`axis=0` is the batch axis: concatenating images is not a layer")
    return g.Concatenate(axis=axis)


def _elementwise(cls: type[g.Merge]) -> Signature:
    return Signature((), lambda b: cls())


MERGING: dict[str, Signature] = {cls.keras_class: _elementwise(cls) for cls in g.MERGES}
MERGING["Concatenate"] = Signature(("axis",), _concatenate)

# keras.layers.add(inputs, **kwargs) -> Add(**kwargs)(inputs), and so on.
FUNCTIONS = {name.lower(): name for name in MERGING}
