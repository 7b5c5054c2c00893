"""What a sweep may vary, and how `--grid`, `--random` and a sweep.toml say it.

    --grid "lr=1e-4,3e-4,1e-3"            every value, crossed with the other grids
    --grid "augment=none;shift=2,rotate=10"   ';' between values that hold commas
    --random "lr=loguniform(1e-4,1e-2)"   one draw per trial (--trials N draws)

Distributions, as Ray Tune names them: uniform(a, b) and loguniform(a, b) for numbers,
randint(a, b) for whole numbers a <= n < b, choice(x, y, ...) for anything. A drawn
number keeps three significant digits (0.000347, not 0.00034712...): the table and the
folder names stay readable and the value is exactly what settings.json records.

Every value is checked here, once, with the setting's own rule, so a typo fails before
anything trains. Standard library only.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import training
from ..augment import parse_augment
from ..errors import ConvscopeError
from ..settings import PRECISIONS
from ..variants import POOLING_VARIANTS

Value = int | float | str


def shown(value: Value) -> str:
    """A value as titles and folder names show it: 0.0003, 64, adam (floats by %g)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(text: Any, where: str) -> float:
    if isinstance(text, bool):
        raise ConvscopeError(f"{where}: expected a number, got {text!r}")
    if isinstance(text, int | float):
        return float(text)
    try:
        return float(str(text).strip())
    except ValueError:
        raise ConvscopeError(f"{where}: expected a number, got {text!r}") from None


def positive_float(text: Any, where: str) -> float:
    value = _number(text, where)
    if not (math.isfinite(value) and value > 0):
        raise ConvscopeError(f"{where}: must be a positive number, got {text!r}")
    return value


def positive_int(text: Any, where: str) -> int:
    value = _number(text, where)
    if not (value.is_integer() and value >= 1):
        raise ConvscopeError(f"{where}: must be a positive whole number, got {text!r}")
    return int(value)


def fraction(text: Any, where: str) -> float:
    value = _number(text, where)
    if not 0 < value < 1:
        raise ConvscopeError(f"{where}: must be between 0 and 1, got {text!r}")
    return value


def rate(text: Any, where: str) -> float:
    value = _number(text, where)
    if not 0 <= value < 1:
        raise ConvscopeError(f"{where}: a dropout rate must be in [0, 1), got {text!r}")
    return value


def one_of(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def check(text: Any, where: str) -> str:
        value = str(text).strip()
        if value not in choices:
            raise ConvscopeError(f"{where}: must be one of {', '.join(choices)}, got {text!r}")
        return value

    return check


def optimizer(text: Any, where: str) -> str:
    return training.optimizer_name(str(text).strip(), where)


def augment(text: Any, where: str) -> str:
    return str(parse_augment(str(text), where))  # the canonical spelling: shift=2,rotate=10


@dataclass(frozen=True)
class Setting:
    name: str
    check: Callable[[Any, str], Value]
    numeric: str  # "float", "int" or "" (which distributions apply)
    help: str
    model: bool = False  # True: the network changes (a variant), not how it trains


SETTINGS = {
    s.name: s
    for s in (
        Setting("lr", positive_float, "float", "learning rate (a constant rate)"),
        Setting("batch_size", positive_int, "int", "samples per batch"),
        Setting("epochs", positive_int, "int", "epochs"),
        Setting("optimizer", optimizer, "", f"one of {', '.join(training.OPTIMIZERS)}"),
        Setting(
            "dataset", one_of(training.DATASETS), "", "mnist, fashion-mnist, cifar10, cifar100"
        ),
        Setting("train_images", positive_int, "int", "the first N training images"),
        Setting("augment", augment, "", "none, or shift=N,rotate=DEG"),
        Setting("validation_split", fraction, "float", "the validated fraction"),
        Setting("precision", one_of(PRECISIONS), "", "fp32, bf16 or auto"),
        Setting(
            "pooling",
            one_of(tuple(v.key for v in POOLING_VARIANTS)),
            "",
            "the pooling experiment's variants: max, average, strided, none",
            model=True,
        ),
        Setting("width", positive_float, "float", "every Conv2D's filters times this", True),
        Setting(
            "dropout",
            rate,
            "float",
            "every Dropout's rate; a model without one gets one before its last Dense",
            True,
        ),
    )
}


def setting(name: str, where: str) -> Setting:
    key = name.strip().replace("-", "_")
    if key not in SETTINGS:
        raise ConvscopeError(
            f"{where}: {name.strip()!r} is not a setting a sweep can vary",
            hint=f"the settings are: {', '.join(SETTINGS)}",
        )
    return SETTINGS[key]


def split_values(text: str) -> list[str]:
    """Values between commas, or between semicolons when a value holds commas."""
    return [v.strip() for v in text.split(";" if ";" in text else ",")]


def parse_grid(text: str) -> tuple[str, tuple[Value, ...]]:
    """`lr=1e-4,3e-4` -> ('lr', (0.0001, 0.0003))."""
    where = f"--grid {text!r}"
    name, eq, values = text.partition("=")
    if not eq:
        raise ConvscopeError(f"{where}: expected SETTING=VALUE,VALUE,..., e.g. lr=1e-4,1e-3")
    return grid_values(setting(name, where), split_values(values), where)


def grid_values(s: Setting, values: list[Any], where: str) -> tuple[str, tuple[Value, ...]]:
    if not values or any(v == "" for v in values):
        raise ConvscopeError(f"{where}: {s.name} needs at least one value, and no empty ones")
    checked = tuple(s.check(v, f"{where}: {s.name}") for v in values)
    if len(set(checked)) < len(checked):
        raise ConvscopeError(f"{where}: {s.name} lists a value twice")
    return s.name, checked


@dataclass(frozen=True)
class Distribution:
    setting: str
    kind: str  # uniform, loguniform, randint, choice
    args: tuple[Value, ...]

    def draw(self, rng: random.Random) -> Value:
        if self.kind == "choice":
            return rng.choice(self.args)
        low, high = float(self.args[0]), float(self.args[1])
        if self.kind == "randint":
            return rng.randrange(int(low), int(high))
        if self.kind == "loguniform":
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            value = rng.uniform(low, high)
        return float(f"{value:.3g}")

    def __str__(self) -> str:
        return f"{self.kind}({', '.join(str(a) for a in self.args)})"


DISTRIBUTIONS = {"uniform": "float", "loguniform": "float", "randint": "int", "choice": ""}


def parse_random(text: str) -> Distribution:
    """`lr=loguniform(1e-4,1e-2)` -> Distribution('lr', 'loguniform', (0.0001, 0.01))."""
    where = f"--random {text!r}"
    name, eq, rest = text.partition("=")
    return distribution(name, rest if eq else "", where)


def distribution(name: str, text: str, where: str) -> Distribution:
    s = setting(name, where)
    kind, paren, args = text.strip().partition("(")
    kind = kind.strip()
    if not paren or not args.endswith(")") or kind not in DISTRIBUTIONS:
        raise ConvscopeError(
            f"{where}: expected SETTING=DISTRIBUTION(...), got {text.strip()!r}",
            hint="the distributions: uniform(a,b), loguniform(a,b), randint(a,b), choice(x,y,...)",
        )
    values = split_values(args[:-1])
    if kind == "choice":
        return Distribution(s.name, kind, grid_values(s, values, where)[1])
    if s.numeric == "" or (kind != "randint") != (s.numeric == "float"):
        wanted = {"float": "uniform or loguniform", "int": "randint"}.get(s.numeric, "choice")
        raise ConvscopeError(f"{where}: {s.name} takes {wanted}, not {kind}")
    if len(values) != 2:
        raise ConvscopeError(f"{where}: {kind} takes two bounds, got {len(values)}")
    low, high = (s.check(v, f"{where}: {s.name}") for v in values)
    if not float(low) < float(high):
        raise ConvscopeError(f"{where}: the lower bound must be below the upper, got {text!r}")
    if kind == "randint" and int(high) - int(low) < 2:
        raise ConvscopeError(f"{where}: randint(a, b) draws a <= n < b: {text!r} has one value")
    return Distribution(s.name, kind, (low, high))
