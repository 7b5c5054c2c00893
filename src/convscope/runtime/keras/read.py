"""Read a trained Keras model file (.keras, legacy .h5) as data, with h5py and numpy:
never import keras, never run or unpickle anything in it.

    .keras   a zip: config.json (the architecture), metadata.json, model.weights.h5
             (layers/<class_in_snake_case>[_k]/vars/<i>, numbered per class in the model's
             layer order, as keras/src/saving/saving_lib.py names them, not by layer
             name; Keras 2.13: _layer_checkpoint_dependencies/...)
    .h5      HDF5: the `model_config` attribute, and model_weights/<layer>/ whose
             `weight_names` attribute lists its arrays in get_weights() order

The zip's members are size-checked (core.keras.archive); HDF5 soft, external and
virtual links or datasets are refused, as are arrays that are not floating point. h5py
is imported only when a file needs it; runtime.keras.load puts the weights into torch.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import ConvscopeError
from ...core.keras.archive import (
    MAX_CONFIG,
    MAX_WEIGHTS,
    archive_config,
    fail,
    open_zip,
    parse_json,
    read_archive_config,
    read_member,
)
from ...core.keras.bind import to_snake_case
from ...core.keras.config import read_config
from ...core.spec import ModelSpec

WEIGHT_ROOTS = ("layers", "_layer_checkpoint_dependencies")


@dataclass(frozen=True)
class KerasFile:
    """A saved model read as data: its architecture and each layer's arrays, by name."""

    path: Path
    spec: ModelSpec
    weights: dict[str, list[np.ndarray]]  # layer name -> get_weights() order
    keras_version: str | None


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:  # a dependency; still, say so plainly
        raise ConvscopeError("reading Keras weights needs h5py", hint="pip install h5py") from None
    return h5py


def check_links(path: Path, group: Any) -> None:
    """Refuse soft and external links, external and virtual datasets, anywhere in the file."""
    h5py = _h5py()
    for name in group:
        link = group.get(name, getlink=True)
        if isinstance(link, h5py.ExternalLink | h5py.SoftLink):
            kind = "an external" if isinstance(link, h5py.ExternalLink) else "a soft"
            raise fail(path, f"{group.name}/{name} is {kind} link: refused (it points elsewhere)")
        item = group[name]
        if isinstance(item, h5py.Group):
            check_links(path, item)
        elif isinstance(item, h5py.Dataset) and (item.is_virtual or item.external):
            raise fail(path, f"{item.name} is a virtual or external dataset: refused")


def array(path: Path, dataset: Any) -> np.ndarray:
    if dataset.dtype.kind != "f":
        raise fail(path, f"{dataset.name} holds {dataset.dtype}, not floating-point weights")
    if dataset.size * dataset.dtype.itemsize > MAX_WEIGHTS:
        raise fail(path, f"{dataset.name} is larger than {MAX_WEIGHTS:,} bytes")
    return np.asarray(dataset[()], dtype=np.float32)


def vars_of(path: Path, group: Any) -> list[np.ndarray]:
    """layers/<name>/vars/0, 1, ...: one layer's arrays in variable order."""
    found = group.get("vars")
    if found is None:
        return []
    keys = sorted(found, key=lambda k: int(k) if k.isdigit() else -1)
    return [array(path, found[k]) for k in keys]


def keras3_weights(path: Path, f: Any) -> dict[str, list[np.ndarray]]:
    for root in WEIGHT_ROOTS:
        if root in f:
            return {name: vars_of(path, f[root][name]) for name in f[root]}
    return {}


def names_attr(group: Any, key: str) -> list[str]:
    """An attribute listing names; HDF5's 64 KB attribute limit splits long ones as key0, key1."""
    if key in group.attrs:
        values = list(group.attrs[key])
    else:
        values, k = [], 0
        while f"{key}{k}" in group.attrs:
            values += list(group.attrs[f"{key}{k}"])
            k += 1
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def legacy_weights(path: Path, f: Any) -> dict[str, list[np.ndarray]]:
    weights = f.get("model_weights", f)
    found = {}
    for name in names_attr(weights, "layer_names"):
        group = weights[name]
        found[name] = [array(path, group[w]) for w in names_attr(group, "weight_names")]
    return found


def read_keras(path: Path) -> tuple[Any, dict[str, list[np.ndarray]], str | None]:
    """config.json, the arrays of each group in model.weights.h5, the Keras version."""
    with open_zip(path) as archive:  # one open: the config, then the weights
        config, version = archive_config(path, archive)
        data = read_member(path, archive, "model.weights.h5")
    with open_h5(path, io.BytesIO(data)) as f:
        check_links(path, f)
        weights = keras3_weights(path, f)
    return config, weights, version


def open_h5(path: Path, source: Any) -> Any:
    try:
        return _h5py().File(source, "r")
    except OSError as error:
        raise fail(path, f"not a readable HDF5 file: truncated or damaged ({error})") from None


def h5_config(path: Path, f: Any) -> Any:
    """A legacy .h5's architecture: its model_config attribute (JSON)."""
    raw = f.attrs.get("model_config")
    if raw is None:
        raise fail(
            path,
            "the file has no model_config: it holds weights only (model.save_weights)",
            "save the whole model with model.save('my_model.keras')",
        )
    if len(raw) > MAX_CONFIG:
        raise fail(path, f"model_config is larger than {MAX_CONFIG:,} bytes")
    return parse_json(path, "model_config", raw)


def read_h5(path: Path) -> tuple[Any, dict[str, list[np.ndarray]], str | None]:
    with open_h5(path, path) as f:
        check_links(path, f)
        config = h5_config(path, f)
        weights = legacy_weights(path, f)
        version = f.attrs.get("keras_version")
    return config, weights, version.decode() if isinstance(version, bytes) else version


def saveable_names(spec: ModelSpec) -> dict[str, str]:
    """Layer name -> its group in model.weights.h5: the class in snake case, numbered per
    class in layer order (saving_lib's _save_container_state), not the layer's name."""
    used: dict[str, int] = {}
    found = {}
    for layer in spec.layers:
        base = to_snake_case(layer.keras_class)
        found[layer.name] = base if base not in used else f"{base}_{used[base]}"
        used[base] = used.get(base, 0) + 1
    return found


def open_keras_file(path: Path) -> KerasFile:
    """Architecture and weights of a .keras or .h5 model file, checked."""
    if not path.is_file():
        raise ConvscopeError(f"no such file: {path}")
    if path.suffix.lower() == ".keras":
        config, stored, version = read_keras(path)
        spec = read_config(config, path.name)
        groups = saveable_names(spec)
        weights = {name: stored[group] for name, group in groups.items() if group in stored}
    else:
        config, weights, version = read_h5(path)
        spec = read_config(config, path.name)
    return KerasFile(path, spec, weights, version)


def from_keras_model(model: Any) -> KerasFile:
    """A live keras.Model in the user's session, read the same way: its config (through
    Keras's own serializer, as model.save() writes it) and each layer's get_weights()."""
    from keras.saving import serialize_keras_object  # the caller handed us a Keras object

    config = json.loads(json.dumps(serialize_keras_object(model), default=str))
    spec = read_config(config, f"<keras {type(model).__name__} {model.name!r}>")
    weights = {
        layer.name: [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
        for layer in model.layers
    }
    return KerasFile(Path(model.name), spec, weights, None)


def is_keras_model(value: Any) -> bool:
    """A keras.Model instance, recognised without importing keras."""
    return any(
        c.__module__.startswith("keras") and c.__name__ in ("Model", "Sequential", "Functional")
        for c in type(value).__mro__
    )


def read_spec(path: Path) -> ModelSpec:
    """The architecture alone (for explain): config.json, or a legacy .h5's model_config."""
    if path.suffix.lower() == ".keras":
        config, _ = read_archive_config(path)
    else:
        if not path.is_file():
            raise ConvscopeError(f"no such file: {path}")
        with open_h5(path, path) as f:
            config = h5_config(path, f)
    return read_config(config, path.name)
