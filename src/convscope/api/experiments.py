"""Experiments: `convscope.pooling`, and the results of `Model.probe` and `Model.occlusion`,
each saved where the CLI saves it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO

from ..core.attribution import AttributionResults, attribution_finding
from ..core.errors import ConvscopeError, Diverged
from ..core.experiments import PoolingResults, ProbeResults, finding
from ..core.rundir import PoolingDir, default_pooling_dir
from ..core.settings import Options, plan_training
from ..present import attribution as attribution_shown
from ..present import experiments as shown
from ..present import html
from ..present.figures import Picture
from ..runtime import probe as probing
from ..runtime.attribution import checks as attribution_checks
from ..runtime.attribution.occlusion import Occlusion, occlude_subject
from ..runtime.subject import Subject
from ..runtime.sweep import pooling as pooling_runs
from ..runtime.sweep.ray_tasks import check_ray
from ..runtime.train import StopFlag
from .results import Figure
from .shown import Shown
from .training import Stopped, default_stream, first_interrupt_stops, trial_lines

__all__ = ["Attribution", "Diverged", "OcclusionMap", "Pooling", "Probe", "pooling"]


class Pooling(Shown):
    """The pooling experiment's results: every variant's numbers and accuracy over seeds."""

    def __init__(self, folder: PoolingDir, results: PoolingResults) -> None:
        self.folder = folder.path
        self.files = (folder.results_json, folder.markdown, folder.png)
        self.results = results

    @property
    def complete(self) -> bool:
        return self.results.complete

    def data(self) -> dict[str, Any]:
        return {"folder": str(self.folder), **self.results.as_dict()}

    def text(self) -> str:
        return (
            shown.pooling_text(self.results)
            + f"Saved in {self.folder}: {', '.join(f.name for f in self.files)}\n"
        )

    def html(self) -> str:
        rows = [shown.pooling_cells(v) for v in self.results.variants]
        body = f"<p><b>{html.escape(shown.title(self.results))}</b></p>" + html.table(
            shown.POOLING_HEAD, rows, set(shown.POOLING_HEAD[1:])
        )
        body += "".join(f"<p>{html.escape(line)}</p>" for line in finding(self.results))
        if any(v.runs for v in self.results.variants):
            return html.with_figure(body, "Pooling experiment", shown.pooling_png(self.results))
        return body

    def summary(self) -> str:
        done = sum(len(v.runs) for v in self.results.variants)
        return f"pooling experiment in {self.folder}, {done} runs finished"


def pooling(
    model: str | os.PathLike[str],
    *,
    seeds: int = 3,
    output: str | os.PathLike[str] | None = None,
    ray: bool | str = False,
    cpus_per_trial: float | None = None,
    quiet: bool = False,
    stream: TextIO | None = None,
    **options: Any,
) -> Pooling:
    """Train the model with max pooling, average pooling, stride-2 convolutions in place of
    pooling, and no pooling, on the same data and seeds (1..seeds); other keywords are
    train's (epochs=, dataset=, train_images=, augment=, ...). Calling it again with the
    same settings skips finished runs and resumes a stopped one. The experiment is a sweep
    over the variants: `ray=True` (or an address) runs its runs as Ray tasks, as
    `convscope.sweep` does."""
    err = stream or default_stream()
    check_ray(ray)  # before anything is planned or written
    plan = plan_training(os.fspath(model), Options.given(seed=0, **options))
    for note in plan.notes:
        err.write(f"convscope: {note}\n")
    folder = PoolingDir(Path(output)) if output else default_pooling_dir(plan.settings)
    experiment = pooling_runs.open_experiment(
        folder, plan.settings, plan.spec, plan.source_text, seeds
    )
    how = "as Ray tasks" if ray else "one at a time"
    err.write(f"Pooling experiment in {folder.path}: {len(experiment.plan())} runs, {how}\n")

    stop = StopFlag()
    with first_interrupt_stops(stop, err):
        results = pooling_runs.run_all(experiment, stop, trial_lines(quiet, err), stream=err,
                                       ray=ray, cpus_per_trial=cpus_per_trial)  # fmt: skip
    has_runs = any(v.runs for v in results.variants)
    folder.write_figures(
        shown.pooling_markdown(results), shown.pooling_png(results) if has_runs else None
    )
    outcome = Pooling(folder, results)
    if not results.complete:
        done = sum(len(v.runs) for v in results.variants)
        raise Stopped(
            folder.path,
            f"stopped with {done} of {len(experiment.plan())} runs finished; the stopped run "
            "kept its checkpoint\n  continue: repeat the same command",
            outcome,
        )
    return outcome


class Probe(Shown):
    """Linear probes: how much of the label a linear classifier reads after each layer."""

    def __init__(self, results: ProbeResults, saved: tuple[Path, Path] | None) -> None:
        self.results = results
        self.saved = saved  # (json, png), for a run

    @classmethod
    def of(
        cls, subject: Subject, epochs: int, train_images: int | None, data_dir: str | None,
        stream: TextIO | None,
    ) -> Probe:  # fmt: skip
        """Train and score the probes (`Model.probe`); saved in RUN/experiments for a run."""
        Options(epochs=epochs, train_images=train_images)  # checked as train checks them
        err = stream or sys.stderr

        def progress(epoch: int, total: int) -> None:
            if epoch < total:
                err.write(f"probe epoch {epoch + 1}/{total}\n")

        settings = probing.ProbeSettings(epochs=epochs)
        results = probing.probe_subject(
            subject, settings, train_images, data_dir, stream=err, progress=progress
        )
        if subject.run is None:
            return cls(results, None)
        subject.run.write_probe(results.as_dict(), shown.probe_png(results))
        return cls(results, (subject.run.probe_json, subject.run.probe_png))

    @property
    def points(self) -> dict[str, float]:
        """{point: probe test accuracy}, from the input pixels to the last layer."""
        return {p.name: p.test_accuracy for p in self.results.points}

    def figure(self) -> Figure:
        png = shown.probe_png(self.results)
        return Figure(Picture("probe", "Linear probes", shown.probe_title(self.results), png))

    def data(self) -> dict[str, Any]:
        return self.results.as_dict()

    def text(self) -> str:
        saved = ""
        if self.saved:
            json_path, png_path = self.saved
            saved = f"Saved in {json_path.parent}: {json_path.name}, {png_path.name}\n"
        return shown.probe_text(self.results) + saved

    def html(self) -> str:
        rows = [shown.probe_cells(p) for p in self.results.points]
        body = f"<p><b>{html.escape(shown.probe_title(self.results))}</b></p>"
        body += html.table(shown.PROBE_HEAD, rows)
        return html.with_figure(body, "Linear probes", shown.probe_png(self.results))

    def summary(self) -> str:
        last = self.results.points[-1]
        count = len(self.results.points)
        return f"probes of {self.results.model}: {count} points, last {last.test_accuracy:.2%}"


class OcclusionMap(Shown):
    """Where covering the image with a patch lowers the predicted class's probability."""

    def __init__(self, occlusion: Occlusion, png: bytes, path: Path | None) -> None:
        self.occlusion = occlusion
        self.png = png
        self.path = path  # the saved PNG, for a run

    @classmethod
    def of(
        cls, subject: Subject, image: Any, patch: int, stride: int, fill: int,
        data_dir: str | None,
    ) -> OcclusionMap:  # fmt: skip
        """Occlude `image` (`Model.occlusion`); saved in RUN/experiments for a run."""
        choice = str(image) if isinstance(image, int) else os.fspath(image)
        occ = occlude_subject(subject, choice, patch, stride, fill, data_dir)
        png = shown.occlusion_png(occ)
        if subject.run is None:
            return cls(occ, png, None)
        subject.run.write_occlusion(choice, occ.as_dict(), png)
        return cls(occ, png, subject.run.occlusion(choice)[1])

    @property
    def drop(self) -> Any:
        """(H, W) numpy: the mean probability drop over the patches covering each pixel."""
        return self.occlusion.drop

    def data(self) -> dict[str, Any]:
        return {**self.occlusion.as_dict(), "png": None if self.path is None else str(self.path)}

    def text(self) -> str:
        saved = f"Saved: {self.path} (and .json)\n" if self.path else ""
        return shown.occlusion_text(self.occlusion) + saved

    def html(self) -> str:
        body = f"<p>{html.escape(shown.occlusion_text(self.occlusion))}</p>"
        return html.with_figure(body, "Occlusion", self.png)

    def summary(self) -> str:
        return shown.occlusion_text(self.occlusion).strip()

    def _repr_png_(self) -> bytes:
        return self.png


class Attribution(Shown):
    """The attribution experiment: each method's sanity check and deletion measurement."""

    def __init__(self, results: AttributionResults, saved: tuple[Path, ...] | None) -> None:
        self.results = results
        self.saved = saved  # (json, png, md), for a run

    @classmethod
    def of(
        cls,
        subject: Subject,
        images: int,
        deletion_images: int,
        data_dir: str | None,
        stream: TextIO | None,
    ) -> Attribution:
        """Run the experiment on the subject's first test images; saved in a run's folder."""
        for value, name in ((images, "images"), (deletion_images, "deletion_images")):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
                raise ConvscopeError(
                    f"{name} must be from 1 to 10,000 (the test set), got {value!r}"
                )
        err = stream or default_stream()

        def progress(step: str) -> None:
            err.write(f"{step}\n")

        results = attribution_checks.run_experiment(
            subject, sanity_images=images, deletion_images=deletion_images, data_dir=data_dir,
            stream=err, progress=progress,
        )  # fmt: skip
        run = subject.run
        if run is None:
            return cls(results, None)
        run.write_attribution(
            results.as_dict(),
            attribution_shown.experiment_png(results),
            attribution_shown.experiment_markdown(results),
        )
        return cls(results, run.attribution_files)

    @property
    def flagged(self) -> list[str]:
        """The methods whose maps barely change when the weights are random."""
        return [c.method for c in self.results.cascade if c.flagged]

    def figure(self) -> Figure:
        png = attribution_shown.experiment_png(self.results)
        return Figure(
            Picture("attribution", "Attribution", attribution_shown.title(self.results), png)
        )

    def data(self) -> dict[str, Any]:
        return self.results.as_dict()

    def text(self) -> str:
        saved = ""
        if self.saved:
            saved = f"Saved in {self.saved[0].parent}: {', '.join(p.name for p in self.saved)}\n"
        return attribution_shown.experiment_text(self.results) + saved

    def html(self) -> str:
        head = attribution_shown.HEAD
        body = f"<p><b>{html.escape(attribution_shown.title(self.results))}</b></p>"
        body += html.table(head, attribution_shown.cells(self.results), set(head[1:]))
        body += "".join(f"<p>{html.escape(line)}</p>" for line in attribution_finding(self.results))
        return html.with_figure(body, "Attribution", attribution_shown.experiment_png(self.results))

    def summary(self) -> str:
        flagged = ", ".join(self.flagged) or "none"
        return f"attribution experiment of {self.results.model}: flagged {flagged}"
