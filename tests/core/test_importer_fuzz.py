"""A property-based fuzz of the importer (hypothesis): Python built from Keras-like
fragments and hostile constructs. Whatever the file, reading it ends in a model or in
one ConvscopeError, within the time bound; and every model it accepts has the numbers
real torch.nn counts for the same spec."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convscope.core.errors import ConvscopeError
from convscope.core.explain.rules import explain
from convscope.core.source.read import read_model

pytestmark = pytest.mark.slow  # a few hundred generated files

small = st.integers(min_value=1, max_value=6)
LAYERS = st.one_of(
    st.builds(lambda f, k, p, s: f"layers.Conv2D({f}, {k}, padding='{p}', strides={s})",
              small, st.integers(1, 5), st.sampled_from(["valid", "same"]), st.integers(1, 3)),
    st.builds(lambda k: f"layers.MaxPooling2D({k})", st.integers(1, 3)),
    st.builds(lambda k: f"layers.AveragePooling2D({k}, padding='same')", st.integers(1, 3)),
    st.builds(lambda u, a: f"layers.Dense({u}, activation='{a}')", small, st.sampled_from(["relu", "softmax", "linear"])),
    st.just("layers.Flatten()"),
    st.just("layers.BatchNormalization()"),
    st.just("layers.GlobalAveragePooling2D()"),
    st.builds(lambda r: f"layers.Dropout(0.{r})", st.integers(0, 9)),
    st.builds(lambda n: f"layers.ZeroPadding2D({n})", st.integers(0, 2)),
    st.just("layers.Conv2D(2, 3, name='same_name')"),
    st.just("layers.Dense(units)"),
    st.just("layers.Dense(**cfg)"),
    st.just("layers.Lambda(lambda x: x)"),
    st.just("layers.MaxPooling2d()"),
    st.builds(lambda n: f"layers.Dense(10**{n})", st.integers(0, 90)),
    st.builds(lambda f, k, s, p: f"layers.Conv2DTranspose({f}, {k}, strides={s}, padding='{p}')",
              small, st.integers(1, 4), st.integers(1, 3), st.sampled_from(["valid", "same"])),
    st.builds(lambda n: f"layers.UpSampling2D({n})", st.integers(1, 3)),
    st.builds(lambda h, w: f"layers.CenterCrop({h}, {w})", small, small),
    st.builds(lambda h, w: f"layers.Resizing({h}, {w})", small, small),
    st.builds(lambda t: f"layers.Reshape({t})", st.sampled_from(["(-1,)", "(-1, 2)", "(4, -1, 1)", "(3, 3)", "(-1, -1)"])),
    st.builds(lambda a: f"layers.PReLU(shared_axes={a})", st.sampled_from(["None", "[1, 2]", "[3]", "[7]"])),
    st.just("layers.ELU()"),
    st.builds(lambda f: f"layers.RandomRotation({f})", st.sampled_from(["0.1", "(-0.2, 0.3)", "2", "'x'"])),
    st.just("layers.RandomFlip('horizontal')"),
    st.just("Convolution2D(4, 3, 3)"),
)  # fmt: skip
HOSTILE = st.sampled_from([
    "x = 3\n" + "x = x * x\n" * 12,
    "a = [1]\n" + "a = [a, a]\n" * 30,
    "s = 'ab' * 60000\n",
    "while True:\n    pass\n",
    "for i in range(10**12):\n    pass\n",
    "import keras\np = keras\n" + "p = p.keras\n" * 100,
    "x = [1, 2][::0]\n",
    "y = round(1e308 * 10)\n",
    "units = 2 ** 40\n",
    "units = 7\n",
    "cfg = {'units': 3}\n",
    "cfg = {1: 2}\n",
    "def build():\n    return build()\nbuild()\n",
    "x = (((((((((1)))))))))\n",
    "q = " + "-" * 300 + "1\n",
    "r = " + "+".join(["1"] * 300) + "\n",
    "",
])  # fmt: skip
INPUTS = st.sampled_from(["(28, 28, 1)", "(8, 8, 3)", "(5, 5, 1)", "(12,)", "(10**30, 2, 1)"])


@st.composite
def sources(draw: st.DrawFn) -> str:
    prefix = "".join(draw(st.lists(HOSTILE, max_size=3)))
    layers = draw(st.lists(LAYERS, min_size=1, max_size=6))
    shape = draw(INPUTS)
    form = draw(st.sampled_from(["list", "add"]))
    head = (
        "from keras import layers, Sequential, Input\nfrom keras.layers import Convolution2D\n"
        + prefix
    )
    if form == "list":
        body = ", ".join(layers)
        return head + f"model = Sequential([Input({shape}), {body}])\n"
    adds = "".join(f"model.add({layer})\n" for layer in layers)
    return head + f"model = Sequential()\nmodel.add(Input({shape}))\n" + adds


@settings(
    max_examples=int(os.environ.get("CONVSCOPE_FUZZ", "250")),
    deadline=10_000,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(sources())
def test_any_file_ends_in_a_model_or_one_clear_error(source: str) -> None:
    try:
        spec = read_model(source, "fuzz.py").spec
        ex = explain(spec)
    except ConvscopeError as error:
        text = str(error)
        assert text and len(text) < 1500 and "Traceback" not in text
        return
    from convscope.runtime.nn.model import KerasModel, count_params

    if ex.total_params < 5_000_000 and max(a for r in ex.rows for a in r.output_shape) < 10_000:
        import torch

        model = KerasModel(spec).eval()
        assert count_params(model) == (ex.trainable_params, ex.non_trainable_params)
        with torch.no_grad():  # every row's shape is the shape torch computes
            outputs = model.activations(torch.rand(2, *spec.input_shape))
        assert [tuple(o.shape[1:]) for o in outputs] == [r.output_shape for r in ex.rows]
