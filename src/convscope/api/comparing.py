"""`convscope.compare`: runs side by side, from their directories alone (no torch)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.errors import ConvscopeError
from ..core.rundir import ComparisonDir
from ..present import compare as compared
from ..present import html
from .shown import Shown


class Comparison(Shown):
    """Runs side by side: the settings that differ, parameters, time, accuracy, curves."""

    def __init__(self, runs: Sequence[compared.RunSummary], folder: ComparisonDir) -> None:
        self.runs = list(runs)
        self.folder = folder.path
        self.files = folder.files

    def data(self) -> dict[str, Any]:
        return compared.compare_json(self.runs)

    def text(self) -> str:
        return (
            compared.compare_text(self.runs)
            + f"Curves and tables in {self.folder}: {', '.join(f.name for f in self.files)}\n"
        )

    def html(self) -> str:
        head, rows = compared.table(self.runs)
        body = html.table(head, rows) + f"<p>{html.escape(compared.shared_line(self.runs))}</p>"
        return html.with_figure(body, "Runs compared", compared.compare_png(self.runs))

    def summary(self) -> str:
        return f"{len(self.runs)} runs compared, in {self.folder}"


def compare(
    runs: Sequence[str | os.PathLike[str] | Any], *, output: str | os.PathLike[str] = "compare"
) -> Comparison:
    """Compare run directories (or `convscope.train` results): a table and overlaid curves,
    also saved as output/compare.png, .md and .json. Reads JSON and model.py only."""
    if len(runs) < 2:
        raise ConvscopeError(f"compare needs at least two runs, got {len(runs)}")
    paths = [Path(getattr(r, "path", r)) for r in runs]
    summaries = [compared.read_run(p) for p in paths]
    folder = ComparisonDir(Path(output))
    folder.write(
        compared.compare_png(summaries),
        compared.compare_markdown(summaries),
        compared.compare_json(summaries),
    )
    return Comparison(summaries, folder)
