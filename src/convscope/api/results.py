"""The results of looking at a model: test results, predictions, figures, a written report.

Each is a `Shown`: `to_dict()` is the command's `--json`, `str()` its terminal output,
and Jupyter shows `_repr_html_()` (figures also as PNG).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.files import atomic_write
from ..present import html
from ..present import results as text
from .shown import Shown

if TYPE_CHECKING:  # types only: these load numpy and torch
    from ..present.figures import Picture
    from ..runtime.inspect import Prediction as Predicted
    from ..runtime.metrics import ClassResult, Confusion, TestReport
    from ..runtime.predicting import FilePredictions


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class TestResults(Shown):
    """Test-set loss and accuracy, per class, with the confusion matrix (`convscope evaluate`)."""

    __test__ = False  # not a pytest class, despite its name

    def __init__(self, report: TestReport, source: str, epochs: int | None) -> None:
        self.report = report
        self.source = source  # the run directory, or the model for an untrained one
        self.epochs = epochs

    @property
    def accuracy(self) -> float:
        return self.report.accuracy

    @property
    def loss(self) -> float:
        return self.report.loss

    @property
    def count(self) -> int:
        return self.report.count

    @property
    def classes(self) -> tuple[ClassResult, ...]:
        return self.report.classes

    @property
    def confusion(self) -> tuple[tuple[int, ...], ...]:
        """[true][predicted] counts."""
        return self.report.confusion

    @property
    def most_confused(self) -> tuple[Confusion, ...]:
        return self.report.most_confused

    @property
    def title(self) -> str:
        if self.epochs is None:
            return f"{self.source} (trained in Keras)"
        return f"{self.source} (after {plural(self.epochs, 'epoch')})"

    def data(self) -> dict[str, Any]:
        return {"run_dir": self.source, "epochs": self.epochs, **self.report.as_dict()}

    def text(self) -> str:
        return text.report_text(self.report, self.title)

    def html(self) -> str:
        return html.test_report_html(self.report, self.title)

    def summary(self) -> str:
        return f"{self.accuracy:.2%} on {self.count:,} {self.report.dataset} test images"


class Prediction(Shown):
    """One image's class probabilities, and how the image was prepared (`convscope predict`)."""

    def __init__(self, predicted: Predicted, image: str) -> None:
        self.image = image
        self.label = predicted.label
        self.class_names = predicted.class_names
        self.probabilities = predicted.probabilities
        self.steps = predicted.steps

    @property
    def class_name(self) -> str:
        return self.class_names[self.label]

    def data(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "predicted": self.label,
            "class_name": self.class_name,
            "probabilities": dict(zip(self.class_names, self.probabilities, strict=True)),
            "preparation": list(self.steps),
        }

    def text(self) -> str:
        return text.prediction_text(self.class_names, self.probabilities, self.steps, self.image)

    def html(self) -> str:
        title = f"{self.image}: {self.class_name} ({self.probabilities[self.label]:.1%})"
        return html.bars_html(title, self.class_names, self.probabilities, self.steps)

    def summary(self) -> str:
        return f"{self.image}: {self.class_name} ({self.probabilities[self.label]:.1%})"


WAYS = 3  # the ways files were prepared that the notes list, before giving one example


class Predictions(Shown):
    """Many files' classes (`convscope predict RUN photos/`): one row per readable file.

    A file in a folder named after a class (photos/cat/1.jpg) is checked against it."""

    def __init__(self, found: FilePredictions, class_names: Sequence[str]) -> None:
        from ..runtime.predicting import folder_classes

        self.files = found.files
        self.class_names = tuple(class_names)
        self.outputs = found.outputs  # (N, units): what Keras's predict gives
        self.probabilities = found.probabilities  # (N, classes)
        self.labels = tuple(int(i) for i in found.probabilities.argmax(1))
        self.folders = tuple(folder_classes(found.files, class_names))
        self.steps = found.steps
        self.skipped = found.skipped

    def counts(self) -> dict[str, int]:
        """{class: files predicted as it}, in class order, the classes predicted at all."""
        n = Counter(self.labels)
        return {name: n[i] for i, name in enumerate(self.class_names) if n[i]}

    def folder_accuracy(self) -> tuple[int, float] | None:
        """(files in a folder named after a class, the fraction predicted as it)."""
        pairs = [(f, y) for f, y in zip(self.folders, self.labels, strict=True) if f is not None]
        return (len(pairs), sum(f == y for f, y in pairs) / len(pairs)) if pairs else None

    def rows(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """(head, rows): the cells every rendering shows."""
        named = any(f is not None for f in self.folders)
        head = ("image", "predicted", "probability") + (("folder",) if named else ())
        rows = []
        for i, (file, y) in enumerate(zip(self.files, self.labels, strict=True)):
            cells = (file, self.class_names[y], f"{self.probabilities[i, y]:.1%}")
            folder = self.folders[i]
            rows.append(cells + ((self.class_names[folder] if folder is not None else "",)
                                 if named else ()))  # fmt: skip
        return head, rows

    def notes(self) -> list[str]:
        """The lines under the table: counts, the folders' verdict, preparation, skips."""
        counts = ", ".join(f"{name} {n:,}" for name, n in self.counts().items())
        lines = [f"Predicted: {counts}"]
        checked = self.folder_accuracy()
        if checked:
            n, right = checked
            lines.append(f"Of the {plural(n, 'file')} in a folder named after a class, "
                         f"{round(right * n):,} ({right:.1%}) are predicted as their "
                         "folder")  # fmt: skip
        ways = Counter(self.steps)
        if len(ways) <= WAYS:
            lines.append("Prepared as the training images were:")
            lines += [f"  {plural(n, 'file')}: {'; '.join(how)}" for how, n in ways.most_common()]
        else:  # sizes differ from photo to photo: one example, the rest in --json
            lines.append("Prepared as the training images were, each its own way (every "
                         f"file's steps are in --json); the first, {self.files[0]}:")  # fmt: skip
            lines += [f"  {step}" for step in self.steps[0]]
        if self.skipped:
            lines.append(f"Skipped {plural(len(self.skipped), 'file')} that cannot be read "
                         "as an image:")  # fmt: skip
            lines += [f"  {why}" for why in self.skipped]
        return lines

    def data(self) -> dict[str, Any]:
        top = min(5, len(self.class_names))
        images = []
        for i, (file, y) in enumerate(zip(self.files, self.labels, strict=True)):
            p = self.probabilities[i].tolist()
            ranked = sorted(range(len(p)), key=lambda k: -p[k])[:top]
            folder = self.folders[i]
            images.append({
                "image": file, "predicted": y, "class_name": self.class_names[y],
                "probability": p[y],
                "top": [[self.class_names[k], p[k]] for k in ranked],
                "folder_class": None if folder is None else self.class_names[folder],
                "preparation": list(self.steps[i]),
            })  # fmt: skip
        checked = self.folder_accuracy()
        return {
            "images": images,
            "counts": self.counts(),
            "folder_accuracy": None if checked is None else checked[1],
            "skipped": list(self.skipped),
        }

    def text(self) -> str:
        head, rows = self.rows()
        return text.table_text(self.summary(), head, rows, self.notes())

    def html(self) -> str:
        head, rows = self.rows()
        notes = "".join(f'<p style="{html.NOTE}">{html.escape(n)}</p>' for n in self.notes())
        return (f"<div><p><b>{html.escape(self.summary())}</b></p>"
                + html.table(head, rows, {"probability"}) + notes + "</div>")  # fmt: skip

    def summary(self) -> str:
        skipped = f" ({len(self.skipped)} skipped)" if self.skipped else ""
        return f"{plural(len(self.files), 'image')} predicted{skipped}"


class Figure(Shown):
    """One titled figure: shows inline in a notebook, saves as PNG."""

    def __init__(self, picture: Picture) -> None:
        self.key, self.title, self.caption, self.png = (
            picture.key,
            picture.title,
            picture.caption,
            picture.png,
        )

    def save(self, path: str | Path) -> Path:
        """Write the PNG (atomically); a folder gets <key>.png inside it."""
        target = Path(path)
        if target.is_dir():
            target = target / f"{self.key}.png"
        atomic_write(target, self.png)
        return target

    def data(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "caption": self.caption}

    def text(self) -> str:
        return f"{self.title}: {self.caption}"

    def html(self) -> str:
        return html.figure_html(self.title, self.caption, self.png)

    def summary(self) -> str:
        return f"{self.key} ({len(self.png) / 1000:.0f} kB PNG)"

    def _repr_png_(self) -> bytes:
        return self.png


class Figures(Shown):
    """The figures of `convscope show`: by index or key (`figs["feature_maps"]`)."""

    def __init__(
        self, figures: Sequence[Figure], notes: Sequence[str] = (), folder: Path | None = None
    ):
        self.figures = tuple(figures)
        self.notes = tuple(notes)  # what could not be drawn, and why
        self.folder = folder  # where they were saved, when they were

    def __len__(self) -> int:
        return len(self.figures)

    def __iter__(self) -> Iterator[Figure]:
        return iter(self.figures)

    def __getitem__(self, key: int | str) -> Figure:
        if isinstance(key, int):
            return self.figures[key]
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(f"no figure {key!r}; these are: {', '.join(self.keys())}")

    def keys(self) -> list[str]:
        return [f.key for f in self.figures]

    def save(self, folder: str | Path) -> list[Path]:
        """Every figure as <folder>/<key>.png."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        self.folder = target
        return [f.save(target / f"{f.key}.png") for f in self.figures]

    def data(self) -> dict[str, Any]:
        folder = self.folder
        return {
            "folder": None if folder is None else str(folder),
            "figures": [
                {**f.data(), "png": None if folder is None else str(folder / f"{f.key}.png")}
                for f in self.figures
            ],
            "notes": list(self.notes),
        }

    def text(self) -> str:
        where = f" in {self.folder}" if self.folder else ""
        lines = [f"{len(self.figures)} figures{where}:", *(f"  {f.key}.png" for f in self.figures)]
        return "\n".join([*lines, *self.notes]) + "\n"

    def html(self) -> str:
        notes = "".join(f"<p>{n}</p>" for n in map(html.escape, self.notes))
        return "<div>" + "".join(f.html() for f in self.figures) + notes + "</div>"

    def summary(self) -> str:
        return f"{len(self.figures)} figures: {', '.join(self.keys())}"


class Report(Shown):
    """The self-contained HTML report, written (`convscope report`)."""

    def __init__(self, path: Path, size: int, figures: int) -> None:
        self.path = path
        self.size = size  # bytes
        self.figures = figures  # how many it holds

    def data(self) -> dict[str, Any]:
        return {"report": str(self.path), "bytes": self.size, "figures": self.figures}

    def text(self) -> str:
        return (
            f"Report written to {self.path} ({self.size / 1e6:.1f} MB, {self.figures} figures, "
            "self-contained: open it in any browser, offline)\n"
        )

    def html(self) -> str:
        return (
            f'<p>Report written to <a href="{html.escape(str(self.path))}" target="_blank">'
            f"{html.escape(str(self.path))}</a> ({self.size / 1e6:.1f} MB, {self.figures} "
            "figures): one self-contained file that opens in any browser, offline.</p>"
        )

    def summary(self) -> str:
        return f"{self.path} ({self.size / 1e6:.1f} MB)"


class Exported(Shown):
    """A model written back out (`convscope export`): .keras, ONNX or a shared page."""

    def __init__(self, path: Path, fmt: str, size: int, takes: str = "") -> None:
        self.path, self.format, self.size = path, fmt, size
        self.takes = takes  # the input, as Keras's model.predict takes it: "(N, 32, 32, 3) ..."

    def data(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format, "bytes": self.size}

    def text(self) -> str:
        how = {
            "keras": "load it with keras.models.load_model",
            "onnx": f"input {self.takes}, as Keras's model.predict takes it",
            "site": f"open {self.path / 'index.html'} in any browser, or put the folder on any "
            "static web host",
        }[self.format]
        return f"Exported to {self.path} ({self.format}, {self.size / 1e6:.2f} MB): {how}\n"

    def html(self) -> str:
        return f"<p>{html.escape(self.text())}</p>"

    def summary(self) -> str:
        return f"{self.path} ({self.format})"
