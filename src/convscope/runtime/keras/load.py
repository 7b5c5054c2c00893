"""A model read from a Keras file (runtime.keras.read) in torch, with its trained weights:
a Subject to explain, evaluate, draw and report on like a convscope run."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...core.keras.archive import fail
from ...core.keras.write import to_source
from ...core.spec import LayerKind
from ..nn.model import KerasModel
from ..subject import Subject
from .read import KerasFile
from .weights import layer_arrays, load_layer

WEIGHTED = frozenset({LayerKind.CONV, LayerKind.DENSE, LayerKind.NORM})


def weights_by_layer(kf: KerasFile) -> list[list[np.ndarray]]:
    """Each spec layer's arrays; a clear error for a layer with weights the file lacks."""
    found = []
    for layer in kf.spec.layers:
        arrays = kf.weights.get(layer.name)
        if arrays is None:
            arrays = []
            if kf.weights and layer.kind in WEIGHTED:
                raise fail(kf.path, f"the weights have nothing for layer {layer.name!r}")
        found.append(arrays)
    return found


def check_shapes(
    kf: KerasFile, label: str, given: list[tuple[int, ...]], wanted: list[np.ndarray]
) -> None:
    """The file's arrays against the ones the layer has, in Keras's layouts."""
    shapes = [tuple(w.shape) for w in wanted]
    if len(given) != len(shapes) or any(tuple(g) != w for g, w in zip(given, shapes, strict=False)):
        raise fail(
            kf.path,
            f"{label}: the weights do not fit: the file has {given or 'none'}, the layer "
            f"needs {shapes}",
        )


def load_keras(kf: KerasFile, dataset: str | None) -> Subject:
    """The file's model in torch with its trained weights, as a Subject to look at."""
    model = KerasModel(kf.spec)
    for layer, module, arrays in zip(
        kf.spec.layers, model.layers, weights_by_layer(kf), strict=True
    ):
        check_shapes(kf, layer.label, [a.shape for a in arrays], layer_arrays(module))
        load_layer(module, arrays)
    model.eval()
    spec = replace(kf.spec, name=kf.path.stem)  # what reports and default file names call it
    source = to_source(spec, comment=f"Read from {kf.path.name} (Keras {kf.keras_version or '?'}).")
    return Subject(spec, source, model, dataset, epochs=None, origin=kf.path)
