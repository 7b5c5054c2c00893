"""`convscope.explain` and `convscope.presets`: the model's numbers, without torch.

Standard library only below this module too, so `cs.explain` in a notebook is instant.
"""

from __future__ import annotations

import os
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from ..core import presets as preset_table
from ..core.explain.rules import explain as explain_spec
from ..core.explain.table import Explanation as Rows
from ..core.explain.table import fmt_shape
from ..core.load import Reading, load_model, parse_shape, without_magics
from ..core.settings import positive_int
from ..core.source.read import read_model
from ..core.spec import ModelSpec
from ..present import html, render
from .shown import Shown


class Explanation(Rows):
    """Every layer's output shape and parameters as Keras counts them, with the formulas,
    receptive fields, multiply-adds and notes: `print()` gives the terminal table,
    Jupyter the HTML table, `to_dict()` the same JSON as `convscope explain --json`."""

    @classmethod
    def of(cls, spec: ModelSpec) -> Explanation:
        rows = explain_spec(spec)
        return cls(**{f.name: getattr(rows, f.name) for f in fields(rows)})

    def to_dict(self) -> dict[str, Any]:
        return render.to_dict(self)

    def to_json(self) -> str:
        return render.to_json(self)

    def to_markdown(self) -> str:
        return render.to_markdown(self)

    def text(self) -> str:
        """The terminal table, as `convscope explain` prints it."""
        return render.to_text(self)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return (
            f"<Explanation of {self.source} ({self.model!r}): {len(self.rows)} layers, "
            f"{self.total_params:,} "
            f"parameters, input {fmt_shape(self.input_shape)}>"
        )

    def _repr_html_(self) -> str:
        return html.explanation_html(self)


def as_shape(value: str | tuple[int, ...] | list[int] | None) -> tuple[int, ...] | None:
    """`"28,28,1"`, `(28, 28, 1)` or None, checked once."""
    if value is None:
        return None
    return parse_shape(value if isinstance(value, str) else ",".join(map(str, value)))


def explain(
    model: str | os.PathLike[str] = "",
    *,
    input_shape: str | tuple[int, ...] | None = None,
    code: str | None = None,
    pick: str | None = None,
    classes: int | None = None,
) -> Explanation:
    """Explain a Keras Sequential model the way Keras's model.summary() counts it.

    model: a preset name (see `presets()`), a Keras .py file (read, never run), or a
    saved model, .keras or .h5 (its architecture, read as data). code: Keras source
    text instead of a file (model then names it).
    input_shape: another input, e.g. (32, 32, 3) or "32,32,3". pick: which model of a
    file that builds several (its variable, the function that builds it, or its name=).
    classes: the units of a Dense the file only works out at run time.

    >>> cs.explain("chollet").total_params
    93322
    """
    if classes is not None:
        positive_int(classes, "classes")
    reading = Reading(as_shape(input_shape), pick, classes)
    target = os.fspath(model)
    if code is not None:
        spec = read_model(  # a notebook cell's magics (%matplotlib, pip install) as in a file
            without_magics(code),
            target or "<code>",
            input_shape=reading.input_shape,
            classes=classes,
            pick=pick,
        ).spec
    elif Path(target).suffix.lower() in (".h5", ".hdf5"):
        from ..runtime.keras.read import read_spec  # h5py and numpy; never torch or keras

        reading.check_source(target)
        spec = read_spec(Path(target))
        shape = reading.input_shape
        spec = spec if shape is None else replace(spec, input_shape=shape)
    else:
        spec = load_model(target, reading=reading)
    return Explanation.of(spec)


class Presets(Shown):
    """The built-in models with their training settings."""

    def __init__(self) -> None:
        self.presets = tuple(preset_table.PRESETS.values())

    def data(self) -> dict[str, Any]:
        return {
            "presets": [
                {
                    "name": p.name,
                    "title": p.title,
                    "dataset": p.training.dataset,
                    "optimizer": p.training.optimizer,
                    "batch_size": p.training.batch_size,
                    "epochs": p.training.epochs,
                }
                for p in self.presets
            ]
        }

    def text(self) -> str:
        return "".join(
            f"{p.name:18} {p.title}\n{'':18} {p.training.dataset}, {p.training.optimizer}, "
            f"batch {p.training.batch_size}, {p.training.epochs} "
            f"epoch{'s' if p.training.epochs != 1 else ''}\n"
            for p in self.presets
        )

    def html(self) -> str:
        head = ("preset", "from", "data set", "optimizer", "batch", "epochs")
        rows = [
            (p.name, p.title, p.training.dataset, p.training.optimizer,
             str(p.training.batch_size), str(p.training.epochs))
            for p in self.presets
        ]  # fmt: skip
        return html.table(head, rows)

    def summary(self) -> str:
        return ", ".join(p.name for p in self.presets)

    def __iter__(self) -> Any:
        return iter(p.name for p in self.presets)


def presets() -> Presets:
    """The built-in models: `list(cs.presets())` gives their names."""
    return Presets()
