"""weights="imagenet" of a keras.applications base: read from Keras's own cache (a weights
file Keras itself wrote, in the legacy HDF5 layout its downloads use), or a clear message
naming the file, the folder and where to get it."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

import convscope as cs

from ..helpers import Cli
from ..parity.keras_oracle import keras

pytestmark = pytest.mark.slow  # Keras builds and writes a MobileNetV2

FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
SOURCE = """\
import keras
from keras import layers
base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False,
                                      weights="imagenet", pooling="avg")
base.trainable = False
inputs = keras.Input(shape=(96, 96, 3))
x = base(inputs)
outputs = layers.Dense(3, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
"""


def keras_weights_file(folder: Path) -> object:
    """MobileNetV2 with random weights, saved as the file Keras downloads for it."""
    from keras.src.legacy.saving import legacy_h5_format

    keras.backend.clear_session(free_memory=False)
    base = keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.35, include_top=False, weights=None, pooling="avg"
    )
    rng = np.random.default_rng(0)
    for layer in base.layers:
        layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32")
                           for w in layer.get_weights()])  # fmt: skip
    (folder / "models").mkdir(parents=True)
    with h5py.File(folder / "models" / FILE, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, base)
    return base


def test_the_base_starts_from_the_cached_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = keras_weights_file(tmp_path / "keras-home")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    (tmp_path / "m.py").write_text(SOURCE)
    model = cs.load(tmp_path / "m.py").subject.model
    ex = cs.explain(tmp_path / "m.py")
    assert ex.trainable_params == 1280 * 3 + 3  # the base frozen: only the new head trains
    batch = np.random.default_rng(1).uniform(0, 255, (2, 96, 96, 3)).astype("float32")
    with torch.no_grad():
        features = model.activations(torch.from_numpy(batch))[-2].numpy()  # the pooled base
    expected = keras.ops.convert_to_numpy(base(batch, training=False))
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-4)


def test_training_without_the_file_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    (tmp_path / "m.py").write_text(SOURCE)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 96, 96, 3), dtype=np.uint8)
    y = rng.integers(0, 3, 12)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x[:4], y_test=y[:4])
    r = cli("train", str(tmp_path / "m.py"), "--data", str(tmp_path / "d.npz"), "--epochs", "1",
            "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert r.code == 2 and "Traceback" not in r.err
    assert f"needs {FILE}, which is not in Keras's cache ({tmp_path / 'empty' / 'models'})" in r.err
    assert "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/" in r.err
    assert not any((tmp_path / "runs").glob("*/weights*"))  # nothing half-made
