"""The HTML report: one self-contained file (images as data: URIs, styles inline, no
scripts, no fonts or anything else from a network) that reads at laptop and phone widths.

It renders the same rows as `convscope explain`, the answers from `core.answers`, and
the figures from `present.figures`; jinja2 escapes every value.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from .. import __version__
from ..core.experiments import Measured
from ..core.explain.answers import answers
from ..core.rundir import training_seconds
from ..core.training import hyperparameters, rate_and_loss_notes
from ..runtime.runs import validation_name
from ..runtime.view import View
from .experiments import experiment_pictures, experiment_tables
from .figures import Picture
from .render import cells, totals

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Fact:
    name: str
    value: str


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def explain_rows(view: View) -> list[dict[str, str]]:
    """The terminal table's cells (render.cells), with the formulas beside them."""
    rows = []
    for r in view.explanation.rows:
        _, shape, params, field, macs, memory = cells(r)
        rows.append(
            {
                "name": r.name,
                "type": r.layer_type,
                "line": str(r.line or ""),
                "reads": r.connected.replace("[0][0]", ""),  # a graph's "Connected to"
                "shape": shape,
                "params": params,
                "shape_formula": r.shape_formula,
                "params_formula": r.params_formula,
                "field": field,
                "macs": macs,
                "memory": memory,
            }
        )
    return rows


def trained_for(epochs: int | None) -> str:
    """'after 5 epochs', or where the weights came from when a Keras file does not say."""
    if epochs is None:
        return "(trained in Keras)"
    return f"after {epochs} epoch{'s' if epochs != 1 else ''}"


def run_facts(view: View) -> list[Fact]:
    """Settings and headline results of a trained run, as name/value pairs."""
    run = view.run
    if run is None:
        return []
    st = run.settings
    if st is None:  # trained in Keras: what the file and the test set say
        return [
            Fact("Model file", str(run.dir)),
            Fact("Data set", f"{view.dataset} ({run.report.count:,} test images)"),
            Fact("Test accuracy", f"{run.report.accuracy:.2%} (loss {run.report.loss:.4f})"),
            Fact("Trained", "in Keras (weights read from the file)"),
        ]
    t = st.training
    hyper = ", ".join(f"{k}={v}" for k, v in hyperparameters(t).items())
    hyper += rate_and_loss_notes(t)
    facts = [
        Fact("Run", str(run.dir)),
        Fact("Data set", f"{st.training.dataset} ({run.report.count:,} test images)"),
        Fact("Test accuracy", f"{run.report.accuracy:.2%} (loss {run.report.loss:.4f})"),
        Fact("Epochs trained", f"{run.epochs} of {t.epochs}"),
        Fact("Optimizer", f"{t.optimizer} ({hyper})"),
        Fact("Loss", t.loss + (" (from logits)" if t.from_logits else "")),
        Fact("Batch size", str(t.batch_size)),
        Fact("Validation", validation_name(st)),
        Fact("Seed", str(st.seed)),
        Fact("Device, precision", f"{st.device}, {st.precision}"),
    ]
    if st.train_images:
        facts.append(Fact("Training images", f"the first {st.train_images:,}"))
    seconds = training_seconds(run.history)
    if seconds:
        facts.append(Fact("Training time", f"{seconds:.1f} s"))
    return facts


def pictures_context(found: list[Picture]) -> list[dict[str, str]]:
    return [
        {"key": p.key, "title": p.title, "caption": p.caption, "src": data_uri(p.png)}
        for p in found
    ]


def context(view: View, found: list[Picture], measured: Measured | None = None) -> dict[str, Any]:
    ex = view.explanation
    run = view.run
    measured = measured or Measured()
    return {
        "title": f"convscope: {view.spec.name}" + (f" ({run.dir.name})" if run else ""),
        "model": view.spec.name,
        "source": ex.source,
        "trained": run is not None,
        "headline": (
            f"{run.report.accuracy:.2%} on {run.report.count:,} {view.dataset_title} test images "
            + trained_for(run.epochs)
            if run
            else "untrained: the initial (random) weights Keras would start from"
        ),
        "answers": answers(ex, view.spec, view.facts, measured),
        "rows": explain_rows(view),
        "totals": totals(ex),
        "notes": ex.notes,
        "figures": pictures_context(found),
        "experiments": experiment_tables(measured),
        "experiment_figures": pictures_context(experiment_pictures(measured) if run else []),
        "facts": run_facts(view),
        "classes": run.report.classes if run else (),
        "history": run.history if run else [],
        "model_source": view.subject.source_text,
        "missing": view.notes,
        "version": __version__,
        "image": view.image.title if view.image else None,
        "image_steps": view.image.steps if view.image else (),
    }


def render_html(view: View, found: list[Picture], measured: Measured | None = None) -> str:
    """The page; `measured` adds the experiments run on this model (their answers, tables
    and figures)."""
    page = _environment().get_template("report.html.j2")
    return page.render(**context(view, found, measured))
