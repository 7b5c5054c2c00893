"""What every public result shares: one dict (the CLI's --json), text, notebook HTML.

A result is data first; `to_dict()` is exactly what the command's `--json` prints,
`str()` what the command prints, `_repr_html_()` what Jupyter shows (static HTML and
inline images: JupyterLab runs no scripts in untrusted output).
"""

from __future__ import annotations

import json
from typing import Any


class Shown:
    """Base of the API's results: subclasses give data, text, html and a short summary."""

    def data(self) -> dict[str, Any]:
        """The result's values (tuples allowed); to_dict() makes them plain JSON."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Exactly the command's --json object: lists, not tuples; str keys."""
        plain: dict[str, Any] = json.loads(json.dumps(self.data()))
        return plain

    def text(self) -> str:
        """What the command prints."""
        raise NotImplementedError

    def html(self) -> str:
        """What a notebook shows."""
        raise NotImplementedError

    def summary(self) -> str:
        """One line: what this is, with its headline number."""
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps(self.data(), indent=2) + "\n"

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.summary()}>"

    def _repr_html_(self) -> str:
        return self.html()
