"""The seed documents' own code, pasted as it is, gives the seeds' own numbers.

Expected values are the numbers printed in the seed texts (../shared/seeds/), quoted
here with the file they come from; the code is the seeds' code, copied verbatim into
tests/fixtures/seeds/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from convscope.core.errors import SourceError
from convscope.core.explain.rules import explain
from convscope.core.presets import model
from convscope.core.source.read import read_model

FIXTURES = Path(__file__).parent / "fixtures" / "seeds"


def explain_fixture(name: str):  # type: ignore[no-untyped-def]
    return explain(read_model((FIXTURES / name).read_text(), name).spec)


def test_keras_mnist_cnn_seed_summary() -> None:
    """keras-mnist-cnn-parameters.txt: its model.summary() table, row by row."""
    summary = (FIXTURES / "keras_mnist_cnn_summary.txt").read_text()
    expected = [
        (m.group(1), tuple(int(d) for d in m.group(2).split(",")), int(m.group(3)))
        for m in re.finditer(r"\((\w+)\s*\)?\s+\(None, ([\d, ]+)\)\s+(\d+)", summary)
    ]
    ex = explain_fixture("keras_mnist_cnn.py")
    assert len(expected) == len(ex.rows) == 8
    for (kind, shape, params), row in zip(expected, ex.rows, strict=True):
        assert row.layer_type.startswith(kind)  # Keras 2 truncated "MaxPooling2D" to 12 chars
        assert row.output_shape == shape
        assert row.params == params
    totals = re.search(r"Total params: ([\d,]+)", summary)
    assert totals and ex.total_params == int(totals.group(1).replace(",", ""))


def test_dlwp_seed_last_conv() -> None:
    """dlwp-mnist-3x3-question.txt: `conv2d_2 (Conv2D) (None, 3, 3, 64) 36928`."""
    row = {r.name: r for r in explain(model("chollet")).rows}["conv2d_2"]
    assert (row.layer_type, row.output_shape, row.params) == ("Conv2D", (3, 3, 64), 36928)


def test_pooling_question_seed_shapes() -> None:
    """pooling-information-loss-question.txt: conv to 26x26 with 32 filters, then 2x2 pooling."""
    ex = explain_fixture("tf_course_pooling.py")
    assert ex.rows[0].output_shape == (26, 26, 32)
    assert ex.rows[1].output_shape == (13, 13, 32)


def test_coursera_paste_as_is_gives_its_syntax_error() -> None:
    with pytest.raises(SourceError) as caught:
        read_model((FIXTURES / "coursera_fashion_paste.py").read_text(), "paste.py")
    assert "line 5: syntax error: a comma is missing between the items on lines 5 and 6" in str(
        caught.value
    )


def test_coursera_with_commas_fixed_names_the_misspelling() -> None:
    source = (
        (FIXTURES / "coursera_fashion_fixed.py").read_text().replace("MaxPooling2D", "MaxPooling2d")
    )
    with pytest.raises(SourceError) as caught:
        read_model(source, "paste.py")
    assert "did you mean MaxPooling2D?" in str(caught.value)


def test_coursera_fixed_gives_the_notes_shapes() -> None:
    """coursera-fashion-notes.txt: (26,26,64), (13,13,64), (11,11,64), (5,5,64), 1600 inputs."""
    ex = explain_fixture("coursera_fashion_fixed.py")
    assert [r.output_shape for r in ex.rows[:5]] == [
        (26, 26, 64),
        (13, 13, 64),
        (11, 11, 64),
        (5, 5, 64),
        (1600,),
    ]
