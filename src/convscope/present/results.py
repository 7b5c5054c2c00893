"""Test results and predictions as text (the CLI) and JSON; one TestReport, two renderings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.training import hyperparameters, rate_and_loss_notes

if TYPE_CHECKING:  # only the types: `explain` must not pay for torch or numpy
    from ..runtime.metrics import TestReport
    from ..runtime.runs import Run


def report_text(report: TestReport, title: str = "") -> str:
    lines = [title] if title else []
    lines.append(
        f"Test set: {report.count:,} {report.dataset} images: accuracy {report.accuracy:.2%}, "
        f"loss {report.loss:.4f}"
    )
    named = any(c.name != str(c.label) for c in report.classes)  # Fashion's, not MNIST's
    width = max(len(label(c.label, c.name, named)) for c in report.classes)
    lines += ["", f"  {'class':<{width}}  images  correct  accuracy  precision"]
    for c in report.classes:
        lines.append(
            f"  {label(c.label, c.name, named):<{width}}  {c.count:>6,}  {c.correct:>7,}  "
            f"{c.accuracy:>8.2%}  {c.precision:>9.2%}"
        )
    lines += ["", confusion_text(report), ""]
    if report.most_confused:
        pairs = ", ".join(
            f"{report.classes[m.true].name} taken for {report.classes[m.predicted].name} "
            f"({m.count})"
            for m in report.most_confused
        )
        lines.append(f"Most confused: {pairs}")
    return "\n".join(lines) + "\n"


def label(index: int, name: str, named: bool) -> str:
    return f"{index} {name}" if named else str(index)


def confusion_text(report: TestReport) -> str:
    k = len(report.classes)
    width = max(5, len(f"{max(max(r) for r in report.confusion):,}") + 1)
    head = "".join(f"{j:>{width}}" for j in range(k))
    rows = [
        "Confusion matrix (rows: true class, columns: predicted class; the diagonal is correct)",
        f"  true {head}",
    ]
    for i, row in enumerate(report.confusion):
        cells = "".join(
            f"{v:>{width},}" if v or i == j else f"{'.':>{width}}" for j, v in enumerate(row)
        )
        rows.append(f"  {i:>4} {cells}")
    return "\n".join(rows)


def prediction_text(
    class_names: Sequence[str], probabilities: Sequence[float], steps: Sequence[str], image: str
) -> str:
    ranked = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])
    best = ranked[0]
    named = any(name != str(i) for i, name in enumerate(class_names))
    lines = [
        f"{image}: {label(best, class_names[best], named)} ({probabilities[best]:.1%})",
        "",
        "Prepared as the training images were:",
        *(f"  - {step}" for step in steps),
        "",
        "Class probabilities:",
    ]
    width = max(len(label(i, n, named)) for i, n in enumerate(class_names))
    for i in ranked:
        p = probabilities[i]
        lines.append(
            f"  {label(i, class_names[i], named):<{width}}  {p:>6.1%}  {'█' * round(p * 30)}"
        )
    return "\n".join(lines) + "\n"


def table_text(
    title: str, head: Sequence[str], rows: Sequence[Sequence[str]], notes: Sequence[str]
) -> str:
    """A title, a plain table (numbers right-aligned, text left) and the notes under it."""
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(head)]
    right = [bool(rows) and all(r[j].rstrip("%").replace(".", "").isdigit() for r in rows)
             for j in range(len(head))]  # fmt: skip

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            f"{c:>{w}}" if r else f"{c:<{w}}" for c, w, r in zip(cells, widths, right, strict=True)
        ).rstrip()

    return "\n".join([title, "", "  " + line(head), *("  " + line(r) for r in rows), "",
                      *notes]) + "\n"  # fmt: skip


def run_header(run: Run) -> str:
    """The line a training starts with: what is trained on what, how, and where it goes."""
    s, data = run.settings, run.data
    t = s.training
    hyper = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in hyperparameters(t).items()
    ) + rate_and_loss_notes(t)
    model = run.trainer.model
    logits = model.softmax_output or model.sigmoid_output or t.from_logits
    loss = "from logits" if logits else "on probabilities"
    epochs = f"{t.epochs} epoch" + ("s" if t.epochs != 1 else "")
    verb = "Resuming" if run.resumed_from else "Training"
    where = ""
    if run.resumed_from:
        where = f" from epoch {run.resumed_from.epoch + 1}, batch {run.resumed_from.step}"
    augmented = f"; augmented with {s.augment.describe()}" if s.augment else ""
    return (
        f"{verb} {s.model}{where} on {t.dataset}: {len(data.train):,} images, validating on "
        f"{data.validation_name}; {t.optimizer}({hyper}); {t.loss} {loss}; batch {t.batch_size}, "
        f"{epochs}, seed {s.seed}; {s.device}, {s.precision}{augmented}\n"
        f"Run directory: {run.dir}\n"
    )


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"
