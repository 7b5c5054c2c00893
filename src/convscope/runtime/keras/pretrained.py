"""keras.applications weights (weights="imagenet") from Keras's own cache, put into the
torch model before training: the files Keras downloads into ~/.keras/models/ (or
$KERAS_HOME/models/), read as data (legacy HDF5: layer_names, weight_names); nothing is
downloaded here."""

from __future__ import annotations

import os
from pathlib import Path

from ...core.errors import ConvscopeError
from ...core.spec import Pretrained
from ..nn.model import KerasModel
from .read import check_links, legacy_weights, open_h5
from .weights import layer_arrays, load_layer


def keras_models_dir() -> Path:
    """Where Keras keeps downloaded weights (keras/src/utils/file_utils.py get_file)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"


def missing(weights: Pretrained, folder: Path) -> ConvscopeError:
    return ConvscopeError(
        f"weights='imagenet' needs {weights.file}, which is not in Keras's cache ({folder})",
        hint=f"download {weights.url} into {folder}, or pass weights=None to train from "
        "Keras's initial weights",
    )


def load_pretrained(model: KerasModel, *, required: bool = True) -> list[str]:
    """Each keras.applications base's weights from its file, layer by layer (names as in
    the file); returns the files used. A missing file is an error when `required`."""
    folder, used = keras_models_dir(), []
    names = [layer.name for layer in model.spec.layers]
    for weights in model.spec.pretrained:
        path = folder / weights.file
        if not path.is_file():
            if required:
                raise missing(weights, folder)
            continue
        with open_h5(path, path) as f:
            check_links(path, f)
            arrays = legacy_weights(path, f)
        for name in weights.layers:
            if name not in arrays:
                continue  # a layer without weights (an activation, a pooling)
            module = model.layers[names.index(name)]
            shapes = [tuple(a.shape) for a in layer_arrays(module)]
            if [tuple(a.shape) for a in arrays[name]] != shapes:
                raise ConvscopeError(
                    f"{weights.file}: layer {name!r} holds arrays of "
                    f"{[a.shape for a in arrays[name]]}, the model needs {shapes}",
                    hint="the file does not belong to this architecture (include_top, alpha?)",
                )
            load_layer(module, arrays[name])
        used.append(weights.file)
    return used
