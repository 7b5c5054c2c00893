"""The attribution experiment: the cascading-randomisation sanity check and the deletion
measurement (their meaning and the results' types: core.attribution)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ...core.attribution import FRACTIONS, RANDOM, RANDOM_INK, AttributionResults, Cascade, Deletion
from ...core.spec import LayerKind
from ..heads import output_classes
from ..inspect import model_outputs
from ..nn.model import KerasModel
from ..subject import Subject
from .methods import DEFAULTS, METHODS, Settings, attribute

WEIGHTED = (LayerKind.CONV, LayerKind.DENSE, LayerKind.TRANSPOSED_CONV)


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks of a 1-D array, ties given their mean rank (as scipy's rankdata)."""
    order = np.argsort(values, kind="stable")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    out = np.empty(len(values))
    out[order] = np.repeat(first + (counts - 1) / 2, counts)  # the mean of the places held
    return out


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two 1-D arrays; 0 when either ranks nothing (constant,
    as Grad-CAM's map can be once ReLU has cut everything)."""
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    norm = float(np.sqrt((ra**2).sum() * (rb**2).sum()))
    return float((ra * rb).sum() / norm) if norm > 0 else 0.0


def spearman(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    """The mean over images of the rank correlation of two (N, H, W) maps, over every pixel
    or only where `where` (N, H, W) is true (an image's ink)."""
    where = np.ones(a.shape, bool) if where is None else where
    return float(np.mean([correlation(x[m], y[m]) for x, y, m in zip(a, b, where, strict=True)]))


def cascade_layers(model: KerasModel) -> list[int]:
    """The layers with weights, the top one first: the order Adebayo et al. randomise in."""
    return [i for i, layer in enumerate(model.spec.layers) if layer.kind in WEIGHTED][::-1]


def randomised(model: KerasModel, indices: Sequence[int], seed: int) -> KerasModel:
    """A copy of the model whose layers `indices` have fresh initial (random) weights."""
    torch.manual_seed(seed)
    fresh = KerasModel(model.spec)
    out = copy.deepcopy(model)
    for i in indices:
        out.layers[i].load_state_dict(fresh.layers[i].state_dict())
    return out.eval()


Progress = Callable[[str], None]


def sanity(
    model: KerasModel,
    images: np.ndarray,
    methods: Sequence[str],
    settings: Settings,
    seconds: dict[str, float],
    progress: Progress,
    scale: bool = True,
) -> list[Cascade]:
    """Each method's maps for the trained model, then with 1, 2, ... top layers random."""
    layers = cascade_layers(model)
    names = tuple(model.spec.layers[i].name for i in layers)
    found = []
    for method in methods:
        progress(f"sanity check: {method}")
        start = time.perf_counter()
        trained = attribute(model, images, method, settings=settings, scale=scale)
        targets = trained.targets
        whole, ink = [], []
        for step in range(1, len(layers) + 1):
            random_model = randomised(model, layers[:step], seed=1000 + step)
            maps = np.abs(attribute(random_model, images, method, targets, settings, scale).maps)
            whole.append(spearman(np.abs(trained.maps), maps))
            ink.append(spearman(np.abs(trained.maps), maps, inked(images)))
        seconds[f"{method} sanity"] = time.perf_counter() - start
        found.append(Cascade(method, names, tuple(whole), tuple(ink)))
    return found


def inked(images: np.ndarray) -> np.ndarray:
    """(N, H, W): pixels that are not background (0) in any channel."""
    return np.asarray(images > 0) if images.ndim == 3 else np.asarray((images > 0).any(-1))


@torch.no_grad()
def accuracy(model: KerasModel, images: np.ndarray, labels: np.ndarray, scale: bool) -> float:
    outputs = model_outputs(model, images, scale=scale)  # (N, classes), or (N, 1): sigmoid
    return float((output_classes(outputs) == labels).mean())


def deleted(
    images: np.ndarray, maps: np.ndarray, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """The images with their top `fraction` of pixels by `maps` set to the background (0);
    ties are broken at random, so a map with many equal values is not favoured."""
    n = len(images)
    flat_maps = maps.reshape(n, -1)
    jitter = rng.random(flat_maps.shape)
    order = np.lexsort((jitter, -flat_maps), axis=1)  # highest first
    count = round(fraction * flat_maps.shape[1])
    out = images.reshape(n, flat_maps.shape[1], -1).copy()  # (N, H*W, C): all channels go
    np.put_along_axis(out, order[:, :count, None], 0, axis=1)
    return out.reshape(images.shape)


def deletion(
    model: KerasModel,
    images: np.ndarray,
    labels: np.ndarray,
    methods: Sequence[str],
    settings: Settings,
    seconds: dict[str, float],
    progress: Progress,
    scale: bool = True,
) -> tuple[float, list[Deletion], float | None]:
    """Accuracy with each method's top pixels removed, for k in FRACTIONS; and random's."""
    full = accuracy(model, images, labels, scale)
    found, completeness = [], None
    rng = np.random.default_rng(0)
    rankings: dict[str, np.ndarray] = {}
    for method in methods:
        progress(f"deletion: {method}")
        start = time.perf_counter()
        found_maps = attribute(model, images, method, settings=settings, scale=scale)
        rankings[method] = found_maps.maps
        if found_maps.completeness is not None:
            completeness = found_maps.completeness
        seconds[f"{method} deletion"] = time.perf_counter() - start
    pixel_grid = images.shape[:3]  # (N, H, W): a colour pixel goes with all its channels
    rankings[RANDOM] = rng.random(pixel_grid).astype(np.float32)
    # The ink in a random order, then the background: what any map that is 0 off the ink
    # (x times a gradient) gets for free. A method must beat this to have found more.
    rankings[RANDOM_INK] = (inked(images) + 0.5 * rng.random(pixel_grid)).astype(np.float32)
    for method, maps in rankings.items():
        accuracies = tuple(
            accuracy(model, deleted(images, maps, k, rng), labels, scale) for k in FRACTIONS
        )
        found.append(Deletion(method, accuracies))
    return full, found, completeness


def run_experiment(
    subject: Subject,
    *,
    sanity_images: int = 100,
    deletion_images: int = 1000,
    methods: Sequence[str] = METHODS,
    settings: Settings = DEFAULTS,
    data_dir: str | None = None,
    stream: object = None,
    progress: Progress = lambda _: None,
) -> AttributionResults:
    """Both measurements on the first test images of the subject's data set."""
    subject.check_images()  # maps over images: (H, W, C), or MNIST's flattened
    dataset = subject.load_data(data_dir, stream=stream)
    images, labels = dataset.test_images, dataset.test_labels
    seconds: dict[str, float] = {}
    model = subject.model.eval()
    scale = subject.scale
    sample = np.asarray(images[:sanity_images])
    cascade = sanity(model, sample, methods, settings, seconds, progress, scale)
    full, found, completeness = deletion(
        model,
        np.asarray(images[:deletion_images]),
        labels[:deletion_images],
        methods,
        settings,
        seconds,
        progress,
        scale,
    )
    return AttributionResults(
        run=str(subject.origin),
        model=subject.name,
        dataset=dataset.info.name,
        model_epochs=subject.epochs or 0,
        sanity_images=len(images[:sanity_images]),
        deletion_images=len(images[:deletion_images]),
        full_accuracy=full,
        cascade=tuple(cascade),
        deletion=tuple(found),
        completeness=completeness,
        seconds={k: round(v, 2) for k, v in seconds.items()},
    )
