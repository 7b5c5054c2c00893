"""The run directory and the experiment folder: the one module that knows their layout.

    runs/<time>-<model>/
      model.py              the Keras source the model was read from (read, never run)
      settings.json         training settings, seed, device, data, versions, command
      weights.safetensors   the latest weights (after the last finished epoch)
      checkpoint.safetensors  weights + optimiser + random generators + position, for resume
      history.json / .csv   per-epoch loss, accuracy, validation metrics, seconds
      tensorboard/          the same curves and the sweep's settings (sweep --tensorboard)
      metrics.json          test-set results: loss, accuracy, per class, confusion matrix
      arrays.npz            the arrays cs.train(model, x, y) was given in memory (only then)
      figures/*.png         `convscope show`
      experiments/          probe.json/.png, occlusion-<image>.json/.png
      report.html           `convscope report`

    experiments/pooling-<model>-<dataset>-e<epochs>[-<augment>][-n<images>]/
      experiment.json       what is compared (model source, settings): checked on resume
      sweep.json, attempts/ the experiment as a sweep over the variants (core.sweep.folder)
      runs/<variant>-seed<k>/   an ordinary run directory per variant and seed
      pooling.json          the results, rewritten after each run
      pooling.png / .md     their figure and table

Every other module asks this one for a path or a file's contents. Every write is atomic
(core.files), so Ctrl-C or a crash leaves the previous complete version. Standard library
only: reading a run's JSON needs no torch (compare, report lookups).
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .attribution import AttributionResults
from .errors import ConvscopeError
from .experiments import Measured, PoolingResults, ProbeResults, SavedOcclusion
from .files import atomic_write, write_json, write_text
from .settings import Settings
from .training import data_label

RUNS_ROOT = "runs"  # where `convscope train` puts run directories by default
EXPERIMENTS_ROOT = "experiments"  # where experiment folders go by default
ARRAYS = "arrays.npz"  # settings.json's dataset for arrays kept in the run directory
HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def _json(path: Path) -> Any:
    """A JSON file's value; None when it does not exist; a clear error when it is broken."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConvscopeError(f"{path}: not readable JSON ({error})") from None


def safe_stem(text: str) -> str:
    """`my digit` -> 'my-digit': a safe part of a file name."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)


def training_seconds(history: list[dict[str, float]]) -> float:
    """A run's training time: the sum over its epochs in history.json."""
    return sum(float(h.get("seconds", 0.0)) for h in history)


def history_csv(history: list[dict[str, float]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, HISTORY_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


REPORT = "report.html"  # also the name of a shared page's copy (api/site.py)


@dataclass(frozen=True)
class RunDir:
    """One run directory: its paths, and its plain files read and written."""

    path: Path

    # ---- paths ----
    @property
    def model_py(self) -> Path:
        return self.path / "model.py"

    @property
    def settings_json(self) -> Path:
        return self.path / "settings.json"

    @property
    def weights(self) -> Path:
        return self.path / "weights.safetensors"

    @property
    def arrays(self) -> Path:
        return self.path / ARRAYS

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.safetensors"

    @property
    def metrics_json(self) -> Path:
        return self.path / "metrics.json"

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    @property
    def experiments(self) -> Path:
        return self.path / "experiments"

    @property
    def tensorboard(self) -> Path:
        """TensorBoard's event files: train/ and validation/, as Keras's callback writes them."""
        return self.path / "tensorboard"

    @property
    def report(self) -> Path:
        return self.path / REPORT

    @property
    def probe_json(self) -> Path:
        return self.experiments / "probe.json"

    @property
    def probe_png(self) -> Path:
        return self.experiments / "probe.png"

    @property
    def attribution_files(self) -> tuple[Path, Path, Path]:
        """(json, png, md) of the attribution experiment."""
        base = self.experiments / "attribution"
        return base.with_suffix(".json"), base.with_suffix(".png"), base.with_suffix(".md")

    def occlusion(self, image: str) -> tuple[Path, Path]:
        """(json, png) of the occlusion map of `image` (a test index or a file name)."""
        stem = image if image.isdigit() else safe_stem(Path(image).stem).replace(".", "-")
        base = f"occlusion-{stem}"
        return self.experiments / f"{base}.json", self.experiments / f"{base}.png"

    # ---- reading ----
    def check(self) -> RunDir:
        """This, when it is a run directory; otherwise a clear error."""
        if not self.path.is_dir():
            raise ConvscopeError(f"{self.path} is not a run directory (no such folder)")
        if not self.settings_json.exists():
            raise ConvscopeError(
                f"{self.path} is not a run directory: it has no {self.settings_json.name}",
                hint="give a folder that `convscope train` made, e.g. runs/<time>-<model>",
            )
        return self

    def remove_temporaries(self) -> None:
        """Half-written files a killed process left (`.checkpoint.safetensors.<pid>.tmp`):
        never read, removed when the run is resumed."""
        for stale in self.path.glob(".*.tmp"):
            stale.unlink(missing_ok=True)

    def raw_settings(self) -> dict[str, Any]:
        found = _json(self.check().settings_json)
        if not isinstance(found, dict):
            raise ConvscopeError(f"{self.settings_json}: unreadable settings (not an object)")
        return found

    def settings(self) -> Settings:
        try:
            return Settings.from_dict(self.raw_settings())
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, ConvscopeError):
                raise
            why = f"no {error}" if isinstance(error, KeyError) else str(error)
            raise ConvscopeError(f"{self.settings_json}: unreadable settings ({why})") from None

    def source(self) -> str:
        """model.py: the Keras source the run was read from."""
        try:
            return self.model_py.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConvscopeError(f"{self.path} has no {self.model_py.name}") from None

    def history(self) -> list[dict[str, float]]:
        found = _json(self.path / "history.json")
        return found if isinstance(found, list) else []

    def metrics(self) -> dict[str, Any] | None:
        """The test results of the last evaluation, None before the first."""
        found = _json(self.metrics_json)
        return found if isinstance(found, dict) else None

    def trained_epochs(self) -> int:
        try:
            return len(self.history())
        except ConvscopeError:  # a history cut short by a crash counts as none
            return 0

    def finished(self, epochs: int) -> bool:
        """Trained every epoch and scored on the test set."""
        return self.trained_epochs() >= epochs and self.metrics_json.exists()

    def seconds(self) -> float:
        """Training time: the sum over its epochs."""
        return training_seconds(self.history())

    def measured(self, pooling: Path | None = None) -> Measured:
        """The experiments that bear on this run's model, for its report."""
        settings = self.settings()
        results, folder = find_pooling(self, settings.model, settings.training.dataset, pooling)
        probe = _json(self.probe_json)
        occlusions = []
        for png in sorted(self.experiments.glob("occlusion-*.png")):
            about = _json(png.with_name(png.stem + ".json"))
            occlusions.append(SavedOcclusion(png.stem, about or {}, png.read_bytes()))
        attribution = _json(self.attribution_files[0])
        return Measured(
            pooling=results,
            pooling_folder=folder,
            probe=None if probe is None else ProbeResults.from_dict(probe),
            occlusions=tuple(occlusions),
            attribution=None if attribution is None else AttributionResults.from_dict(attribution),
        )

    # ---- writing ----
    def write_start(self, source_text: str, settings: Settings, extra: dict[str, Any]) -> None:
        """model.py and settings.json, when the run starts (`extra`: versions, command)."""
        write_text(self.model_py, source_text)
        write_json(self.settings_json, {**settings.as_dict(), **extra})

    def update_settings(self, settings: Settings) -> None:
        """New settings (resume with more epochs), keeping what else settings.json says."""
        write_json(self.settings_json, {**self.raw_settings(), **settings.as_dict()})

    def write_history(self, history: list[dict[str, float]]) -> None:
        write_json(self.path / "history.json", history)
        write_text(self.path / "history.csv", history_csv(history))

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        write_json(self.metrics_json, metrics)

    def write_probe(self, results: dict[str, Any], png: bytes | None = None) -> None:
        write_json(self.probe_json, results)
        if png is not None:
            atomic_write(self.probe_png, png)

    def write_attribution(self, results: dict[str, Any], png: bytes, markdown: str) -> None:
        path_json, path_png, path_md = self.attribution_files
        write_json(path_json, results)
        atomic_write(path_png, png)
        write_text(path_md, markdown)

    def write_occlusion(self, image: str, results: dict[str, Any], png: bytes | None) -> None:
        path_json, path_png = self.occlusion(image)
        write_json(path_json, results)
        if png is not None:
            atomic_write(path_png, png)


def is_run_dir(path: Path) -> bool:
    return RunDir(path).settings_json.is_file()


def new_run_dir(root: Path, model_name: str) -> RunDir:
    """runs/<time>-<model>, made now (a -2, -3, ... suffix when two start in one second)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = safe_stem(model_name)
    for n in range(1, 1000):
        path = root / (f"{stamp}-{safe}" if n == 1 else f"{stamp}-{safe}-{n}")
        try:
            path.mkdir(parents=True)
            return RunDir(path)
        except FileExistsError:
            continue  # another training took this name a moment ago: the next suffix
        except OSError as error:  # read-only, not a folder, full
            raise ConvscopeError(
                f"cannot create a run directory in {root} ({error.strerror or error})",
                hint="choose a folder you can write to with --runs-dir",
            ) from None
    raise ConvscopeError(f"cannot create a run directory in {root}")


# ---- the pooling experiment's folder ----


@dataclass(frozen=True)
class PoolingDir:
    path: Path

    @property
    def identity_json(self) -> Path:
        return self.path / "experiment.json"

    @property
    def results_json(self) -> Path:
        return self.path / "pooling.json"

    @property
    def markdown(self) -> Path:
        return self.path / "pooling.md"

    @property
    def png(self) -> Path:
        return self.path / "pooling.png"

    def run(self, variant: str, seed: int) -> RunDir:
        return RunDir(self.path / "runs" / f"{variant}-seed{seed}")

    @property
    def runs_root(self) -> Path:
        return self.path / "runs"

    def identity(self) -> dict[str, Any] | None:
        found = _json(self.identity_json)
        return found if isinstance(found, dict) else None

    def write_identity(self, identity: dict[str, Any]) -> None:
        write_json(self.identity_json, identity)

    def results(self) -> PoolingResults | None:
        found = _json(self.results_json)
        return PoolingResults.from_dict(found) if isinstance(found, dict) else None

    def write_results(self, results: PoolingResults) -> None:
        write_json(self.results_json, results.as_dict())

    def write_figures(self, markdown: str, png: bytes | None) -> None:
        write_text(self.markdown, markdown)
        if png is not None:
            atomic_write(self.png, png)


@dataclass(frozen=True)
class ComparisonDir:
    """`convscope compare`'s output folder: the table as JSON and Markdown, the curves."""

    path: Path

    @property
    def files(self) -> tuple[Path, Path, Path]:
        return self.path / "compare.png", self.path / "compare.md", self.path / "compare.json"

    def write(self, png: bytes, markdown: str, data: dict[str, Any]) -> None:
        png_path, md_path, json_path = self.files
        atomic_write(png_path, png)
        write_text(md_path, markdown)
        write_json(json_path, data)


def default_pooling_dir(base: Settings, root: Path = Path(EXPERIMENTS_ROOT)) -> PoolingDir:
    name = f"pooling-{base.model}-{data_label(base.training.dataset)}-e{base.training.epochs}"
    if base.augment:
        name += "-" + str(base.augment).replace("=", "").replace(",", "-")
    if base.train_images:
        name += f"-n{base.train_images}"
    return PoolingDir(root / name)


def find_pooling(
    run: RunDir, model: str, dataset: str, folder: Path | None
) -> tuple[PoolingResults | None, str]:
    """The pooling results a run's report shows, and where they were found.

    The folder given (--pooling), else the experiment the run is part of, else the most
    complete experiments/pooling-<model>-<dataset>-* (the default output folder).
    """
    parent = PoolingDir(run.path.resolve().parent.parent)
    if folder is None and parent.results_json.exists():
        folder = parent.path
    if folder is not None:
        given = PoolingDir(folder).results()
        if given is None:
            raise ConvscopeError(
                f"--pooling {folder}: no {parent.results_json.name} there",
                hint=f"run: convscope experiment pooling --model {model} --output {folder}",
            )
        return given, str(folder)
    best: tuple[int, PoolingResults, str] | None = None
    pattern = f"pooling-{model}-{data_label(dataset)}-*"
    for candidate in sorted(Path(EXPERIMENTS_ROOT).glob(pattern)):
        try:
            results = PoolingDir(candidate).results()
        except ConvscopeError:  # a broken folder beside good ones is not this run's concern
            continue
        if results is None or results.model != model or results.dataset != dataset:
            continue
        done = sum(len(v.runs) for v in results.variants)
        if best is None or done > best[0]:
            best = (done, results, str(candidate))
    return (best[1], best[2]) if best else (None, "")
