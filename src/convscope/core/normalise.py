"""Normalisation at the edge: raw Keras argument values -> the spec's types.

Keras's standardize_tuple and its constructors' checks, once: `kernel_size=3`, `(3, 3)`
and `[3, 3]` all become `Pair(3, 3)`, so no later code looks at raw Keras arguments.
Each function raises SpecError naming the argument, the rule and the value received.
"""

from __future__ import annotations

from .arith import Padding
from .errors import SpecError
from .spec import ACTIVATIONS, Pair


def to_pair(value: object, arg: str, *, minimum: int = 1) -> Pair:
    """Keras's standardize_tuple: `3`, `(3, 3)` and `[3, 3]` all give `Pair(3, 3)`."""
    if isinstance(value, bool):
        raise SpecError(f"`{arg}` must be an integer or a pair of integers, got {value!r}")
    if isinstance(value, int):
        h = w = value
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        h, w = value
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (h, w)):
            raise SpecError(f"`{arg}` must be a pair of integers, got {value!r}")
    else:
        raise SpecError(f"`{arg}` must be an integer or a pair of integers, got {value!r}")
    if h < minimum or w < minimum:
        raise SpecError(f"`{arg}` must be at least {minimum}, got {value!r}")
    return Pair(h, w)


def to_padding(value: object) -> Padding:
    """'valid' or 'same', case-insensitive as in Keras."""
    if isinstance(value, str) and value.lower() in ("valid", "same"):
        return "same" if value.lower() == "same" else "valid"
    raise SpecError(f"`padding` must be 'valid' or 'same', got {value!r}")


MAX_SIZE = 1_000_000_000  # filters, units, kernel sizes: far past any model convscope runs


def to_positive_int(value: object, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"`{arg}` must be a positive integer, got {value!r}")
    if value > MAX_SIZE:
        digits = int(value.bit_length() * 0.30103) + 1  # never the number itself: Python
        raise SpecError(  # refuses to print one of more than 4,300 digits
            f"`{arg}` must be at most {MAX_SIZE:,}, got a number of about {digits:,} digits"
        )
    return value


def to_rate(value: object, arg: str = "rate") -> float:
    """Dropout rates: Keras requires 0 <= rate <= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise SpecError(f"`{arg}` must be a number between 0 and 1, got {value!r}")
    return float(value)


def to_float(value: object, arg: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"`{arg}` must be a number, got {value!r}")
    return float(value)


def to_bool(value: object, arg: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"`{arg}` must be True or False, got {value!r}")
    return value


def to_activation(value: object) -> str:
    """An activation by Keras name; None means 'linear' as in Keras."""
    if value is None:
        return "linear"
    if isinstance(value, str) and value.lower() in ACTIVATIONS:
        return value.lower()
    raise SpecError(
        f"`activation` must be one of {', '.join(ACTIVATIONS)}, got {value!r}",
    )


def to_zero_padding(value: object) -> tuple[int, int, int, int]:
    """ZeroPadding2D's padding: `p`, `(ph, pw)` or `((top, bottom), (left, right))`."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, value, value, value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        first, second = value
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (first, second)):
            return first, first, second, second
        if all(isinstance(v, (tuple, list)) and len(v) == 2 for v in (first, second)):
            flat = (*first, *second)
            if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in flat):
                return flat
    raise SpecError(
        "`padding` must be an int, (rows, cols) or ((top, bottom), (left, right)) of "
        f"non-negative integers, got {value!r}"
    )


def to_shape(value: object, arg: str) -> tuple[int, ...]:
    """An input shape without the batch axis: a tuple of positive integers."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if (
        isinstance(value, (tuple, list))
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_SIZE for v in value)
    ):
        return tuple(value)
    raise SpecError(
        f"`{arg}` must be a tuple of positive integers such as (28, 28, 1), got {value!r}"
    )


def to_choice(value: object, arg: str, choices: tuple[str, ...]) -> str:
    """One of a few strings, case-insensitive as Keras lower-cases them."""
    if isinstance(value, str) and value.lower() in choices:
        return value.lower()
    raise SpecError(f"`{arg}` must be one of {', '.join(map(repr, choices))}, got {value!r}")


def to_factor(value: object, arg: str, low: float = -1.0, high: float = 1.0) -> tuple[float, float]:
    """A random layer's range: `f` means (-|f|, |f|), a pair (lower, upper); Keras's _set_factor."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        lower, upper = (to_float(v, arg) for v in value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        lower, upper = -abs(float(value)), abs(float(value))
    else:
        raise SpecError(f"`{arg}` must be a number or a (lower, upper) pair, got {value!r}")
    if not low <= min(lower, upper) <= max(lower, upper) <= high:
        raise SpecError(f"`{arg}` must lie in [{low:g}, {high:g}], got {value!r}")
    return min(lower, upper), max(lower, upper)


def to_target_shape(value: object) -> tuple[int, ...]:
    """Reshape's target: positive integers, at most one of them -1 (Keras)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if (
        isinstance(value, (tuple, list))
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and all(0 < v <= MAX_SIZE or v == -1 for v in value)
        and list(value).count(-1) <= 1
    ):
        return tuple(value)
    raise SpecError(
        "`target_shape` must be a tuple of positive integers, at most one of them -1, "
        f"got {value!r}"
    )
