"""Keras 1 and tf.keras 2 spellings that Keras 3 reads differently or refuses, read as the
scripts that use them meant them, each with a note saying so.

- `Convolution2D(32, 3, 3)`: Keras 1's (nb_filter, nb_row, nb_col), a 3x3 kernel. Keras 2
  and 3 would bind the second 3 to `strides`; a script that calls the class by its Keras 1
  name with three numbers was written for Keras 1, so the Keras 1 reading is used.
- Keras 1 keywords: border_mode (padding), subsample (strides), output_dim (Dense's units),
  p (Dropout's rate), bias (use_bias); init and W_/b_ regularizers and constraints change
  no number here; dim_ordering='th' (channels first) is refused; BatchNormalization's
  mode=0 is Keras 2's, other modes are refused.
- `AveragePooling2D()` without pool_size: Keras 3 requires it; tf.keras 2 took (2, 2).
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError

RENAMED = {
    "border_mode": "padding",
    "subsample": "strides",
    "output_dim": "units",
    "bias": "use_bias",
    "nb_filter": "filters",
}
DROPPED = frozenset(
    {"init", "W_regularizer", "b_regularizer", "W_constraint", "b_constraint", "weights"}
)
CONV_CLASSES = frozenset({"Convolution2D", "Conv2D"})


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def modernise(
    cls: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any], str | None]:
    """(args, kwargs) in Keras 3's terms, and a note when the reading differs from Keras 3's."""
    notes = []
    kwargs = dict(kwargs)
    if cls == "Convolution2D" and len(args) >= 3 and all(_int(a) for a in args[:3]):
        if len(args) > 3:
            raise SpecError(
                "Convolution2D with more than three positional arguments (Keras 1's "
                "init, activation, ...): write them as keywords"
            )
        filters, rows, cols = args
        args = (filters, (rows, cols))
        notes.append(
            f"Convolution2D({filters}, {rows}, {cols}) is read as Keras 1 wrote it: {filters} "
            f"filters of {rows}x{cols} (Keras 2 and 3 would read the last {cols} as strides)"
        )
    if cls in CONV_CLASSES and ("nb_row" in kwargs or "nb_col" in kwargs):
        rows, cols = kwargs.pop("nb_row", None), kwargs.pop("nb_col", None)
        kwargs["kernel_size"] = (rows, cols)
    old = [k for k in kwargs if k in RENAMED or k in DROPPED or k == "dim_ordering"]
    if cls == "Dropout" and "p" in kwargs:
        kwargs["rate"] = kwargs.pop("p")
        old.append("p")
    for key in old:
        if key == "p":
            continue
        value = kwargs.pop(key)
        if key == "dim_ordering" and value not in ("tf", "default"):
            raise SpecError(
                f"dim_ordering={value!r} (channels first) is not supported; convscope reads "
                "channels_last models, dim_ordering='tf'"
            )
        if key in RENAMED:
            kwargs[RENAMED[key]] = value
    if cls in ("BatchNormalization", "BatchNormalizationV1") and "mode" in kwargs:
        mode = kwargs.pop("mode")  # Keras 1: 0 normalises per feature map, as Keras 2 and 3
        if mode != 0:
            raise SpecError(
                f"mode={mode!r} (Keras 1's per-sample normalisation) is not supported; "
                "mode=0, the only one Keras 2 and 3 kept, is"
            )
        old.append("mode")
    if old:
        notes.append(f"Keras 1 arguments read as Keras 3's: {', '.join(old)}")
    if cls in ("AveragePooling2D", "AvgPool2D") and not args and "pool_size" not in kwargs:
        notes.append(
            f"{cls}() without pool_size: Keras 3 refuses it; read as tf.keras 2 did, "
            "pool_size=(2, 2)"
        )
    return args, kwargs, "; ".join(notes) or None
