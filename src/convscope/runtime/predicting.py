"""Many image files through a trained model at once: `convscope predict RUN photos/`,
`Model.predict_images` and `Model.predict` given file names.

Each file is prepared as one file is for `predict` (inspect.prepare_photo: MNIST's
centring for MNIST-like models, else read with the model's channels and resized
bilinearly as image_dataset_from_directory resized the training photos). Folders are
walked as Keras walks them (folders.images_in: sorted, .bmp .gif .jpeg .jpg .png, any
depth). Files are decoded CHUNK at a time on threads and predicted in that chunk, so a
folder of any size predicts in bounded memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from ..core.errors import ConvscopeError, DataError
from .download import Progress
from .folders import FORMATS, images_in
from .inspect import model_outputs, prepare_photo, scaling_steps, two_classes
from .nn.model import KerasModel
from .subject import Subject

CHUNK = 64  # files decoded and predicted together: memory stays at this many images
NAMED = 5  # bad files named in the message (whole paths: a message stays short); the rest counted


@dataclass(frozen=True)
class FilePredictions:
    """What the model says of each readable file, in the order the files were found."""

    files: tuple[str, ...]
    outputs: np.ndarray  # (N, units) float32: Keras's model.predict of the prepared images
    probabilities: np.ndarray  # (N, classes): one sigmoid unit p as (1 - p, p)
    steps: tuple[tuple[str, ...], ...]  # how each file was prepared, in order
    skipped: tuple[str, ...]  # "name: why" for each file that cannot be read as an image


def are_paths(images: object) -> bool:
    """A file or folder name, or a list of them: what predict reads from disk."""
    if isinstance(images, list | tuple) and images:
        return all(isinstance(one, str | os.PathLike) for one in images)
    return isinstance(images, str | os.PathLike)


def predict_subject(
    subject: Subject, paths: object, skip_bad: bool, stream: TextIO | None
) -> FilePredictions:
    """predict_files for a loaded model; `paths`: one file or folder, or a list of them."""
    subject.check_images()
    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)  # type: ignore[call-overload]
    return predict_files(subject.model, subject.photo_preparation(), given, scale=subject.scale,
                         skip_bad=skip_bad, stream=stream)  # fmt: skip


def image_files(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files as given; a folder's images as Keras lists them, relative to where it was named."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = images_in(path)  # relative to path's parent
            if not inside:
                raise DataError(f"{path}: the folder holds no images ({', '.join(FORMATS)})")
            found += [path.parent / name for name in inside]
        elif path.is_file():
            found.append(path)
        elif path.exists():  # a pipe or a device: reading it could wait forever
            raise DataError(f"{path}: not a file or a folder of images")
        else:
            raise DataError(f"{path}: no such image file or folder")
    if not found:
        raise DataError("no image files given")
    return found


def prepared_chunks(
    files: Sequence[Path], dataset: str, input_shape: tuple[int, ...],
) -> Iterator[list[tuple[Path, np.ndarray | None, tuple[str, ...]]]]:  # fmt: skip
    """(file, image or None for a bad file, steps or the reason), CHUNK files at a time;
    the next chunk decodes on the threads while the caller predicts this one."""

    def one(path: Path) -> tuple[Path, np.ndarray | None, tuple[str, ...]]:
        try:
            image, steps = prepare_photo(path, dataset, input_shape)
        except ConvscopeError as error:
            return path, None, (error.message,)
        return path, image, tuple(steps)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # PIL frees the GIL
        ahead = [pool.submit(one, path) for path in files[:CHUNK]]
        for start in range(CHUNK, len(files) + CHUNK, CHUNK):
            chunk = [job.result() for job in ahead]
            ahead = [pool.submit(one, path) for path in files[start : start + CHUNK]]
            yield chunk


def predict_files(
    model: KerasModel,
    dataset: str,
    paths: Sequence[str | os.PathLike[str]],
    *,
    scale: bool = True,
    skip_bad: bool = False,
    stream: TextIO | None = None,
) -> FilePredictions:
    """Every image file (and every image in each folder) of `paths` through the model.

    A file that is not a readable image stops it with one message naming them all (the
    first NAMED, the rest counted), unless skip_bad: then it is left out and listed."""
    files = image_files(paths)
    divided = scaling_steps(model, scale)
    names: list[str] = []
    outputs: list[np.ndarray] = []
    steps: list[tuple[str, ...]] = []
    bad: list[tuple[str, str]] = []  # (file, why)
    bar = Progress("predicting", stream, "images")
    try:
        for chunk in prepared_chunks(files, dataset, model.spec.input_shape):
            good = [(path, image, how) for path, image, how in chunk if image is not None]
            bad += [(os.fspath(path), reason(how[0], path)) for path, image, how in chunk
                    if image is None]  # fmt: skip
            if good and (skip_bad or not bad):  # once refused, only count the bad files
                batch = np.stack([image for _, image, _ in good]).astype(np.float32)  # (B, ...)
                outputs.append(model_outputs(model, batch, scale=scale))
                names += [os.fspath(path) for path, _, _ in good]
                steps += [how + divided for _, _, how in good]
            bar(len(names) + len(bad), len(files))
    finally:
        bar.close()
    if bad and (not skip_bad or not names):
        raise unreadable(bad, len(files), skip_bad)  # every file looked at: all are named
    found = np.concatenate(outputs)  # (N, units)
    skipped = tuple(f"{name}: {why}" for name, why in bad)
    return FilePredictions(tuple(names), found, two_classes(found, model), tuple(steps), skipped)


def reason(message: str, path: Path) -> str:
    """A preparation's message without the file's path it starts with (Pillow's repeats
    it: there, its name)."""
    return message.removeprefix(f"{path}: ").replace(str(path), path.name)


def unreadable(bad: Sequence[tuple[str, str]], total: int, skipped: bool) -> DataError:
    """One message: the first NAMED files, the rest counted, the first's reason."""
    listed = ", ".join(name for name, _ in bad[:NAMED])
    more = f" and {len(bad) - NAMED} more" if len(bad) > NAMED else ""
    return DataError(
        f"{len(bad)} of {total:,} files cannot be read as images: {listed}{more} "
        f"(the first: {bad[0][1]})",
        hint="none is left to predict" if skipped else
        "remove or fix them, or pass --skip-bad-images to predict the others",
    )  # fmt: skip


def folder_classes(files: Sequence[str], class_names: Sequence[str]) -> list[int | None]:
    """The class each file's folder is named after (photos/cat/1.jpg: cat), else None:
    a folder laid out as training folders are says what each photo shows."""
    index = {name: i for i, name in enumerate(class_names)}
    return [index.get(Path(name).parent.name) for name in files]
