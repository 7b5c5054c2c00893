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
        message, where, hint = printable(message), printable(where), printable(hint)
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        head = f"{self.where}: {self.message}" if self.where else self.message
        return f"{head}\n  {self.hint}" if self.hint else head


MOST = 600  # characters of one part of a message: echoes of a 300 KB list are cut


def printable(text: str) -> str:
    """A message part as a terminal may show it: control characters (ANSI escapes, stray
    newlines) and lone surrogates escaped, and a long echo cut in the middle."""
    safe = "".join(
        c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else repr(c)[1:-1] for c in text
    )
    return (
        safe
        if len(safe) <= MOST
        else f"{safe[:400]} ... ({len(safe):,} characters) ... {safe[-100:]}"
    )


class SourceError(ConvscopeError):
    """The Keras source cannot be read: syntax, an unknown layer, an unsupported construct."""


class SpecError(ConvscopeError):
    """A layer's arguments are invalid (Keras would refuse them in the constructor)."""


class ShapeError(ConvscopeError):
    """A layer cannot accept its input shape (Keras would refuse it when building)."""


class DataError(ConvscopeError):
    """A data file is missing, broken, or could not be fetched."""


class Diverged(ConvscopeError):
    """Training's loss became NaN or infinite; the last good checkpoint is kept."""


def missing_extra(what: str, extra: str, packages: str) -> ConvscopeError:
    """The one line a command says when an optional extra is not installed."""
    return ConvscopeError(
        f"{what} needs {packages}, the optional extra {extra!r}: pip install 'convscope[{extra}]'"
    )
