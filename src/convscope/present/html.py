"""HTML for notebooks: the same rows and cells as the terminal, as static HTML fragments.

What `_repr_html_` returns in Jupyter. Static HTML and inline images only: JupyterLab runs
no scripts in untrusted output and strips <style> there, so styles are inline and the
formulas fold with <details>, which needs neither. Standard library only (html.escape),
so `convscope.explain` in a notebook stays instant.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape as escape
from typing import TYPE_CHECKING

from ..core.explain.table import Explanation, fmt_shape
from ..core.spec import LayerKind
from .render import RIGHT, headers, input_cells, row_cells, sees, totals

if TYPE_CHECKING:
    from ..runtime.metrics import TestReport

CELL = "padding:2px 8px;border-bottom:1px solid #ddd;vertical-align:top"
HEAD = CELL + ";border-bottom:2px solid #888;text-align:left"
NOTE = "color:#555;font-size:90%"


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _td(text: str, right: bool = False, tag: str = "td", style: str = CELL) -> str:
    align = ";text-align:right" if right else ""
    return f'<{tag} style="{style}{align}">{escape(text)}</{tag}>'


def table(head: Sequence[str], rows: Sequence[Sequence[str]], right: set[str] | None = None) -> str:
    """A plain table: the same cells a terminal table shows."""
    right = right or set()
    out = ['<table style="border-collapse:collapse;font-size:90%">', "<tr>"]
    out += [_td(h, h in right, "th", HEAD) for h in head]
    out.append("</tr>")
    for row in rows:
        out.append("<tr>" + "".join(_td(v, h in right) for h, v in zip(head, row, strict=True)))
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def explanation_html(ex: Explanation) -> str:
    """Keras's summary table, each row's formulas folded under it, then totals and notes."""
    out = [
        f'<div><p><b>Model: {escape(ex.model)}</b> <span style="{NOTE}">({escape(ex.source)}; '
        f"input {escape(fmt_shape(ex.input_shape))})</span></p>",
        '<table style="border-collapse:collapse;font-size:90%">',
        "<tr>" + "".join(_td(h, h in RIGHT, "th", HEAD) for h in headers(ex)) + "</tr>",
    ]
    if ex.is_graph:
        out.append(
            "<tr>"
            + "".join(_td(v, h in RIGHT) for h, v in zip(headers(ex), input_cells(ex), strict=True))
            + "</tr>"
        )
    for row in ex.rows:
        values = row_cells(ex, row)
        first, rest = values[0], values[1:]
        how = [f"line {row.line} of the source"] if row.line else []
        how.append(f"shape: {row.shape_formula} -> {fmt_shape(row.output_shape)}")
        how.append(f"params: {row.params_formula}")
        if row.receptive_field is not None and row.kind != LayerKind.DENSE:
            how.append(f"sees: {sees(row.receptive_field)}")
        folded = "<br>".join(escape(h) for h in how)
        name = (
            f'<td style="{CELL}"><details><summary>{escape(first)}</summary>'
            f'<div style="{NOTE}">{folded}</div></details></td>'
        )
        body = "".join(_td(v, h in RIGHT) for h, v in zip(headers(ex)[1:], rest, strict=True))
        out.append(f"<tr>{name}{body}</tr>")
    out.append("</table>")
    out.append("<p>" + "<br>".join(escape(t) for t in totals(ex)) + "</p>")
    if ex.notes:
        out.append("<p><b>Notes</b></p><ul>")
        out += [f"<li>{escape(n)}</li>" for n in ex.notes]
        out.append("</ul>")
    out.append("</div>")
    return "\n".join(out)


def test_report_html(report: TestReport, title: str) -> str:
    """Accuracy, per-class results and the confusion matrix, as `convscope evaluate` prints."""
    head = ("class", "images", "correct", "accuracy", "precision")
    rows = [
        (f"{c.label} {c.name}" if c.name != str(c.label) else c.name, f"{c.count:,}",
         f"{c.correct:,}", f"{c.accuracy:.2%}", f"{c.precision:.2%}")
        for c in report.classes
    ]  # fmt: skip
    k = len(report.classes)
    matrix_head = ("true \\ predicted", *map(str, range(k)))
    matrix = [
        (str(i), *(f"{v:,}" if v or i == j else "." for j, v in enumerate(row)))
        for i, row in enumerate(report.confusion)
    ]
    confused = ", ".join(
        f"{report.classes[m.true].name} taken for {report.classes[m.predicted].name} ({m.count})"
        for m in report.most_confused
    )
    return (
        f"<div><p><b>{escape(title)}</b><br>Test set: {report.count:,} {escape(report.dataset)} "
        f"images: accuracy <b>{report.accuracy:.2%}</b>, loss {report.loss:.4f}</p>"
        + table(head, rows, {"images", "correct", "accuracy", "precision"})
        + "<p>Confusion matrix (rows: true class; the diagonal is correct)</p>"
        + table(matrix_head, matrix, set(matrix_head[1:]))
        + (f"<p>Most confused: {escape(confused)}</p>" if confused else "")
        + "</div>"
    )


def bars_html(
    title: str, names: Sequence[str], values: Sequence[float], notes: Sequence[str]
) -> str:
    """Probabilities as a table of bars (plain <div>s: no script, no image)."""
    ranked = sorted(range(len(values)), key=lambda i: -values[i])
    rows = []
    for i in ranked:
        width = round(values[i] * 200)
        rows.append(
            f'<tr><td style="{CELL}">{escape(names[i])}</td>'
            f'<td style="{CELL};text-align:right">{values[i]:.1%}</td>'
            f'<td style="{CELL}"><div style="background:#1f77b4;height:10px;width:{width}px">'
            "</div></td></tr>"
        )
    steps = "".join(f"<li>{escape(n)}</li>" for n in notes)
    return (
        f"<div><p><b>{escape(title)}</b></p>"
        + (f'<ul style="{NOTE}">{steps}</ul>' if steps else "")
        + '<table style="border-collapse:collapse">'
        + "".join(rows)
        + "</table></div>"
    )


def figure_html(title: str, caption: str, png: bytes) -> str:
    return (
        f'<figure style="margin:0 0 1em 0"><figcaption><b>{escape(title)}</b>'
        f' <span style="{NOTE}">{escape(caption)}</span></figcaption>'
        f'<img src="{data_uri(png)}" alt="{escape(title)}" style="max-width:100%"></figure>'
    )


def facts_html(title: str, facts: Sequence[tuple[str, str]]) -> str:
    rows = "".join(
        f'<tr><th style="{HEAD};border-bottom:1px solid #ddd">{escape(k)}</th>'
        f'<td style="{CELL}">{escape(v)}</td></tr>'
        for k, v in facts
    )
    table = f'<table style="border-collapse:collapse">{rows}</table>'
    return f"<div><p><b>{escape(title)}</b></p>{table}</div>"


def progress_html(title: str, done: int, total: int, text: str) -> str:
    """A static progress bar: redrawn in place through a display handle, no widget needed."""
    return (
        f'<div style="font-family:monospace;font-size:90%">{escape(title)} '
        f'<progress value="{done}" max="{max(total, 1)}" style="width:240px"></progress> '
        f"{escape(text)}</div>"
    )


def with_figure(body: str, title: str, png: bytes) -> str:
    """A table or text, then its figure."""
    return f"<div>{body}{figure_html(title, '', png)}</div>"
