"""Keras 3's learning-rate schedules: the learning rate as a function of the step.

A Keras optimiser given a schedule asks it for the rate before every update, passing
`optimizer.iterations`: the number of updates made so far (0 for the first). The
formulas below are transcribed from keras/src/optimizers/schedules/learning_rate_schedule.py
(keras 3.15); tests/core/test_schedules.py compares them with Keras itself, step by step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .errors import ConvscopeError
from .spec import Schedule

Number = float | int

# Keras's constructor arguments in order, with their defaults (None: required).
SIGNATURES: dict[str, dict[str, Any]] = {
    "CosineDecay": {
        "initial_learning_rate": None,
        "decay_steps": None,
        "alpha": 0.0,
        "name": "CosineDecay",
        "warmup_target": None,
        "warmup_steps": 0,
    },
    "ExponentialDecay": {
        "initial_learning_rate": None,
        "decay_steps": None,
        "decay_rate": None,
        "staircase": False,
        "name": "ExponentialDecay",
    },
    "PiecewiseConstantDecay": {"boundaries": None, "values": None, "name": "PiecewiseConstant"},
}


def cosine_decay(step: int, a: dict[str, Any]) -> float:
    """Loshchilov & Hutter's SGDR cosine, after an optional linear warm-up (Goyal et al.):

    warm-up (step < warmup_steps): lr0 + (target - lr0) * step / warmup_steps
    then, t = min(step - warmup_steps, decay_steps) / decay_steps:
        peak * ((1 - alpha) * 0.5 * (1 + cos(pi * t)) + alpha)
    where peak is warmup_target when given, else initial_learning_rate.
    """
    lr0, decay_steps, alpha = a["initial_learning_rate"], a["decay_steps"], a["alpha"]
    target, warmup = a["warmup_target"], a["warmup_steps"]
    if target is None:
        done = min(step, decay_steps) / decay_steps
        return float(lr0 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * done)) + alpha))
    step = min(step, decay_steps + warmup)
    if step < warmup:
        return float((target - lr0) * step / warmup + lr0)
    done = (step - warmup) / decay_steps
    return float(target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * done)) + alpha))


def exponential_decay(step: int, a: dict[str, Any]) -> float:
    """lr0 * decay_rate ** (step / decay_steps), the exponent floored when staircase=True."""
    p = step / a["decay_steps"]
    if a["staircase"]:
        p = math.floor(p)
    return float(a["initial_learning_rate"] * a["decay_rate"] ** p)


def piecewise_constant(step: int, a: dict[str, Any]) -> float:
    """values[i] for the first boundaries[i] >= step; past the last boundary, the last value."""
    for boundary, value in zip(a["boundaries"], a["values"], strict=False):
        if step <= boundary:
            return float(value)
    return float(a["values"][-1])


RULES: dict[str, Callable[[int, dict[str, Any]], float]] = {
    "CosineDecay": cosine_decay,
    "ExponentialDecay": exponential_decay,
    "PiecewiseConstantDecay": piecewise_constant,
}


def learning_rate_at(schedule: Schedule, step: int) -> float:
    """The rate Keras's optimiser uses for update number `step` + 1 (step counts from 0)."""
    return RULES[schedule.name](step, {**SIGNATURES[schedule.name], **dict(schedule.args)})


def initial_rate(schedule: Schedule) -> float:
    return learning_rate_at(schedule, 0)


def _number(value: Any, name: str, key: str, where: str) -> Number:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConvscopeError(
            f"{name}({key}=...) must be a number known when the file is read, got {value!r}",
            where=where,
        )
    return value


def _numbers(value: Any, name: str, key: str, where: str) -> tuple[Number, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ConvscopeError(
            f"{name}({key}=...) must be a list of numbers, got {value!r}", where=where
        )
    return tuple(_number(v, name, key, where) for v in value)


def read_schedule(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], where: str) -> Schedule:
    """keras.optimizers.schedules.NAME(*args, **kwargs) from a file -> a checked Schedule."""
    if name not in SIGNATURES:
        raise ConvscopeError(
            f"convscope does not know the learning-rate schedule {name}",
            where=where,
            hint=f"it knows {', '.join(SIGNATURES)}; or give a constant rate with --lr",
        )
    signature = SIGNATURES[name]
    given = {**dict(zip(signature, args, strict=False)), **kwargs}
    unknown = sorted(set(given) - set(signature))
    if unknown:
        raise ConvscopeError(
            f"{name} takes no argument {unknown[0]!r}",
            where=where,
            hint=f"its arguments: {', '.join(signature)}",
        )
    missing = [
        k for k, v in signature.items() if v is None and k not in given and k != "warmup_target"
    ]
    if missing:
        raise ConvscopeError(f"{name}() needs {missing[0]}=", where=where)
    checked: list[tuple[str, Any]] = []
    for key, value in given.items():
        if key == "name":
            continue
        if key in ("boundaries", "values"):
            checked.append((key, _numbers(value, name, key, where)))
        elif key == "staircase":
            checked.append((key, bool(value)))
        elif not (key == "warmup_target" and value is None):
            checked.append((key, _number(value, name, key, where)))
    schedule = Schedule(name, tuple(checked))
    _check_ranges(schedule, where)
    return schedule


def _check_ranges(schedule: Schedule, where: str) -> None:
    a = {**SIGNATURES[schedule.name], **dict(schedule.args)}
    name = schedule.name
    if name in ("CosineDecay", "ExponentialDecay") and a["decay_steps"] <= 0:
        raise ConvscopeError(
            f"{name}(decay_steps=...) must be positive, got {a['decay_steps']}", where=where
        )
    if name == "CosineDecay" and a["warmup_target"] is not None and a["warmup_steps"] <= 0:
        raise ConvscopeError(
            f"CosineDecay(warmup_target=...) needs warmup_steps > 0, got {a['warmup_steps']}",
            where=where,
        )
    if name == "PiecewiseConstantDecay" and len(a["values"]) != len(a["boundaries"]) + 1:
        raise ConvscopeError(
            f"PiecewiseConstantDecay needs one more value than boundaries, got "
            f"{len(a['boundaries'])} boundaries and {len(a['values'])} values",
            where=where,
        )


def describe(schedule: Schedule) -> str:
    """One line for reports: CosineDecay(initial_learning_rate=0.0004, ...)."""
    return f"{schedule.name}({', '.join(f'{k}={v}' for k, v in schedule.args)})"
