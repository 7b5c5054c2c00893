"""User-facing errors: one or two lines naming where, the rule, and what was received.

Anything raised as a `ConvscopeError` is a user mistake (a bad file, a misspelt layer,
a shape that cannot work). The Python API raises it as it is; the CLI prints
`str(error)` to stderr and exits with 2, never with a traceback.
"""

from __future__ import annotations


class ConvscopeError(ValueError):
    """A mistake in the user's input, reported without a traceback.

    A ValueError, so that code calling the Python API can catch it as the bad value it is.

    `where` is the place ("my_model.py, line 9" or "my_model.py: conv2d_3 (Conv2D,
    line 9)"), `message` the rule and the value received, `hint` an optional second
    line saying what to do.
    """

    def __init__(self, message: str, *, where: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        head = f"{self.where}: {self.message}" if self.where else self.message
        return f"{head}\n  {self.hint}" if self.hint else head


class SourceError(ConvscopeError):
    """The Keras source cannot be read: syntax, an unknown layer, an unsupported construct."""


class SpecError(ConvscopeError):
    """A layer's arguments are invalid (Keras would refuse them in the constructor)."""


class ShapeError(ConvscopeError):
    """A layer cannot accept its input shape (Keras would refuse it when building)."""


class Diverged(ConvscopeError):
    """Training's loss became NaN or infinite; the last good checkpoint is kept."""
