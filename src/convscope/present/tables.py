"""Plain tables for the terminal and Markdown, and the colours that tell runs apart.

No torch or matplotlib: `compare` and the experiments' tables share these.
"""

from __future__ import annotations

from collections.abc import Sequence

COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#ff7f0e", "#8c564b")


def table_text(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    right = [i > 0 and i < len(head) - 1 for i in range(len(head))]  # numbers align right

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)]) + "\n"


def table_markdown(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    align = ["---" if i in (0, len(head) - 1) else "---:" for i in range(len(head))]
    lines = [head, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines) + "\n"
