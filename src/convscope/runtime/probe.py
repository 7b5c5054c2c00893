"""Linear probes: a logistic regression on each layer's frozen output, scored on the test set.

How much does each layer still "know" about the label, in a form a linear classifier can
read? (Alain & Bengio, "Understanding intermediate layers using linear classifier
probes", 2016.) The network is frozen; one softmax classifier per point (the input
pixels, then every layer's output) trains on the training images' features and is scored
on the test images'. All probes learn together from one forward pass per batch, so the
features never have to be stored: 60,000 x 21,632 floats would be 5 GB.

Features are standardised (mean 0, deviation 1 per feature, from the first 5,000
training images) so that one learning rate suits pixels and deep features alike.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..core import graph as g
from ..core import spec as s
from ..core.experiments import ProbePoint, ProbeResults
from .heads import is_binary, output_classes
from .nn.model import KerasModel
from .splits import Split, to_split
from .subject import Subject
from .train import eval_batch, resolve_device

# Layers whose output at inference holds the same numbers as their input (a probe can't
# tell them apart: Flatten only reorders, and a linear classifier ignores order).
SAME_NUMBERS = (s.Dropout, s.SpatialDropout2D, s.Flatten)
STATS_IMAGES = 5000


@dataclass(frozen=True)
class ProbeSettings:
    epochs: int = 5
    batch_size: int = 256
    learning_rate: float = 1e-3  # Adam
    seed: int = 0


@dataclass
class Probe:
    """One point's classifier and its standardisation."""

    index: int  # into the list of features: 0 is the input
    mean: Tensor  # (F,)
    scale: Tensor  # (F,) 1 / deviation; 1 where the feature never varies
    linear: nn.Linear

    def logits(self, features: Tensor) -> Tensor:
        out: Tensor = self.linear((features - self.mean) * self.scale)  # (B, classes)
        return out


@torch.no_grad()
def layer_features(model: KerasModel, x: Tensor) -> list[Tensor]:
    """The input and every layer's output for a (B, C, H, W) batch, each as (B, F).

    Kept in torch's layout: a linear classifier does not care in which order it reads
    the numbers, so nothing is transposed.
    """
    outputs: list[Tensor] = []
    model.run(x, len(model.layers), outputs)
    return [x.flatten(1), *(y.flatten(1) for y in outputs)]


def probed_points(model: KerasModel) -> list[int | None]:
    """For each point, None to train a probe, or the earlier point whose numbers it shares."""
    shared: list[int | None] = [None]
    for i, layer in enumerate(model.spec.layers):
        if isinstance(layer, SAME_NUMBERS):
            read = g.sources(model.spec, i)[0]  # the node it passes on
            shared.append(read if shared[read] is None else shared[read])
        else:
            shared.append(None)
    return shared


@torch.no_grad()
def standardisation(model: KerasModel, train: Split, indices: list[int]) -> list[Probe]:
    sample = train.x[:STATS_IMAGES]
    sums: list[Tensor] = []
    squares: list[Tensor] = []
    batch = eval_batch(model)
    for start in range(0, len(sample), batch):
        feats = layer_features(model, sample[start : start + batch])
        chosen = [feats[i] for i in indices]  # (B, F) each
        batch_sums = [f.sum(0).double() for f in chosen]  # totals in float64: 5,000 images
        batch_squares = [(f * f).sum(0).double() for f in chosen]
        if not sums:
            sums, squares = batch_sums, batch_squares
        else:
            for k in range(len(chosen)):
                sums[k] += batch_sums[k]
                squares[k] += batch_squares[k]
    n = len(sample)
    classes = 2 if is_binary(model) else model.shapes[-1][-1]  # one sigmoid: two classes
    probes = []
    for k, index in enumerate(indices):
        mean = sums[k] / n
        deviation = (squares[k] / n - mean * mean).clamp_min(0).sqrt()
        scale = torch.where(deviation > 1e-6, 1 / deviation.clamp_min(1e-6), 1.0)
        linear = nn.Linear(mean.numel(), classes).to(train.x.device)
        nn.init.zeros_(linear.weight)  # the convex problem's usual start
        nn.init.zeros_(linear.bias)
        probes.append(Probe(index, mean.float(), scale.float(), linear))
    return probes


def train_probes(
    model: KerasModel,
    train: Split,
    settings: ProbeSettings,
    progress: Callable[[int, int], None] = lambda epoch, epochs: None,
) -> tuple[list[Probe], list[float]]:
    """Every probe trained on the frozen features; their training accuracy in the last epoch."""
    model.eval()
    shared = probed_points(model)
    indices = [i for i, same in enumerate(shared) if same is None]
    probes = standardisation(model, train, indices)
    optimizers = [torch.optim.Adam(p.linear.parameters(), settings.learning_rate) for p in probes]
    order_rng = torch.Generator().manual_seed(settings.seed)
    correct = [0] * len(probes)
    for epoch in range(settings.epochs):
        progress(epoch, settings.epochs)
        order = torch.randperm(len(train), generator=order_rng).to(train.x.device)
        correct = [0] * len(probes)
        for start in range(0, len(train), settings.batch_size):
            idx = order[start : start + settings.batch_size]
            x, y = train.x[idx], train.y[idx]  # (B, C, H, W), (B,)
            feats = layer_features(model, x)
            for k, (probe, optimizer) in enumerate(zip(probes, optimizers, strict=True)):
                logits = probe.logits(feats[probe.index])  # (B, classes)
                loss = F.cross_entropy(logits, y)
                optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                correct[k] += int((logits.argmax(-1) == y).sum())
    progress(settings.epochs, settings.epochs)
    return probes, [c / len(train) for c in correct]


@torch.no_grad()
def test_probes(model: KerasModel, probes: list[Probe], test: Split) -> tuple[list[float], float]:
    """Each probe's test accuracy, and the network's own (its last output, same pass)."""
    correct = [0] * len(probes)
    network = 0
    batch = eval_batch(model)
    for start in range(0, len(test), batch):
        x, y = test.x[start : start + batch], test.y[start : start + batch]
        feats = layer_features(model, x)
        for k, probe in enumerate(probes):
            correct[k] += int((probe.logits(feats[probe.index]).argmax(-1) == y).sum())
        network += int((output_classes(feats[-1]) == y).sum())
    return [c / len(test) for c in correct], network / len(test)


def probe_points(
    model: KerasModel,
    train: Split,
    test: Split,
    settings: ProbeSettings,
    progress: Callable[[int, int], None] = lambda epoch, epochs: None,
) -> tuple[list[ProbePoint], float]:
    """A probe at the input and after every layer (accuracies, shapes, feature counts), and
    the network's own test accuracy."""
    probes, train_accuracy = train_probes(model, train, settings, progress)
    test_accuracy, network_accuracy = test_probes(model, probes, test)
    by_index = {p.index: k for k, p in enumerate(probes)}
    names = ["input", *(layer.name for layer in model.spec.layers)]
    types = ["Input", *(layer.keras_class for layer in model.spec.layers)]
    points = []
    for i, same in enumerate(probed_points(model)):
        k = by_index[i if same is None else same]
        points.append(
            ProbePoint(
                name=names[i],
                layer_type=types[i],
                shape=tuple(model.shapes[i]),
                features=math.prod(model.shapes[i]),
                train_accuracy=train_accuracy[k],
                test_accuracy=test_accuracy[k],
                same_as=None if same is None else names[same],
            )
        )
    return points, network_accuracy


def probe_subject(
    subject: Subject,
    settings: ProbeSettings,
    train_images: int | None = None,
    data_dir: str | None = None,
    stream: Any = None,
    progress: Callable[[int, int], None] = lambda epoch, epochs: None,
) -> ProbeResults:
    """Probe every layer of a model (a trained run's, as a rule) on its data set."""
    dataset = subject.load_data(data_dir, stream=stream)
    model = subject.model.to(resolve_device("auto"))
    device = next(model.parameters()).device
    x, y = dataset.train_images, dataset.train_labels
    if train_images:  # cut before it is made float
        x, y = x[:train_images], y[:train_images]
    train = to_split(x, y, model.spec, device, dataset.scale)
    test = to_split(dataset.test_images, dataset.test_labels, model.spec, device, dataset.scale)
    started = time.perf_counter()
    points, model_accuracy = probe_points(model, train, test, settings, progress)
    seconds = time.perf_counter() - started
    subject.model = model.to("cpu")
    return ProbeResults(
        run=str(subject.run.path) if subject.run else subject.name,
        model=subject.name,
        dataset=subject.need_dataset(),
        model_epochs=subject.epochs or 0,
        model_accuracy=model_accuracy,
        train_images=len(train),
        probe_epochs=settings.epochs,
        points=tuple(points),
        seconds=round(seconds, 2),
    )
