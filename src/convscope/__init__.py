"""convscope: understand and train small Keras-style convolutional networks.

    import convscope as cs
    cs.explain("chollet")                       # every shape and parameter, with formulas
    run = cs.train("chollet", epochs=1, train_images=2000)
    m = cs.load(run)                            # or cs.load("runs/<run>"), cs.load("chollet")
    m.predict(images); m.evaluate(); m.figures(image=7); m.report("report.html")

Importing convscope loads neither torch nor numpy: each function's module is imported
the first time it is used (PEP 562), so `cs.explain` stays instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .core.errors import ConvscopeError

__version__ = "0.1.0"

# name -> the api module that defines it
_PUBLIC = {
    "explain": "explaining",
    "presets": "explaining",
    "Explanation": "explaining",
    "train": "training",
    "resume": "training",
    "Run": "training",
    "Stopped": "training",
    "Diverged": "training",
    "load": "model",
    "load_data": "datasets",
    "Model": "model",
    "pooling": "experiments",
    "compare": "comparing",
    "sweep": "sweeping",
    "Sweep": "sweeping",
}

__all__ = [
    "ConvscopeError",
    "Diverged",
    "Explanation",
    "Model",
    "Run",
    "Stopped",
    "Sweep",
    "__version__",
    "compare",
    "explain",
    "load",
    "load_data",
    "pooling",
    "presets",
    "resume",
    "sweep",
    "train",
]

if TYPE_CHECKING:
    from .api.comparing import compare
    from .api.datasets import load_data
    from .api.experiments import pooling
    from .api.explaining import Explanation, explain, presets
    from .api.model import Model, load
    from .api.sweeping import Sweep, sweep
    from .api.training import Diverged, Run, Stopped, resume, train


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'convscope' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".api.{_PUBLIC[name]}", __name__), name)
    globals()[name] = value  # found once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
