"""Answers to the questions our users ask, worked out with their own model's numbers.

Data only, standard library only: each answer is a lead sentence and supporting points,
computed from an Explanation (and, for a trained run, its test accuracy). The HTML report
renders them; nothing here formats for a screen.

The questions come from the seeds (../shared/seeds/): why 28x28 becomes 26x26, what
Conv2D(32, ...) means, where 320 / 18,496 / 1,179,776 parameters come from, how a final
3x3x64 map can classify, and what max-pooling does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..arith import product
from ..errors import ConvscopeError
from ..experiments import Measured, finding, probe_finding
from ..spec import LayerKind, ModelSpec
from ..variants import pooling_layers, without_pooling
from .branches import branch_notes
from .notes import article, last_map_note, parameter_note, shrink_note
from .rules import explain
from .table import Explanation, Row, fmt_shape, last_map


@dataclass(frozen=True)
class Answer:
    key: str  # a stable anchor: "shapes", "parameters", "last-map", "pooling"
    question: str
    lead: str
    points: tuple[str, ...]


@dataclass(frozen=True)
class Words:
    """How the answers speak of what the images show."""

    patterns: str
    pieces: str
    thing: str


DIGITS = Words("a stroke, a curve, a loop", "strokes, not parts of digits", "A digit")
PHOTOS = Words("an edge, a colour, a texture", "edges and colours, not parts of objects",
               "An object")  # fmt: skip


def words(ex: Explanation) -> Words:
    """MNIST's words for 28 x 28 grey images (digits and clothes), a photo's otherwise."""
    return DIGITS if ex.input_shape in ((28, 28, 1), (784,)) else PHOTOS


@dataclass(frozen=True)
class RunFacts:
    """What a trained run adds: its measured test accuracy."""

    dataset: str  # as shown: "MNIST", "Fashion-MNIST"
    accuracy: float  # 0..1, on the full test set
    test_images: int
    epochs: int | None  # None: trained elsewhere (a Keras file), epochs unknown


def trained_for(epochs: int | None) -> str:
    """'after 5 epochs'; 'as trained in Keras' when a Keras file does not say how long."""
    if epochs is None:
        return "as trained in Keras"
    return f"after {epochs} epoch{'s' if epochs != 1 else ''}"


def dims(shape: tuple[int, ...]) -> str:
    """(26, 26, 32) -> '26 x 26 x 32'."""
    return " x ".join(map(str, shape))


def _first_conv(ex: Explanation) -> Row | None:
    return next((r for r in ex.rows if r.layer_type == "Conv2D"), None)  # the class: Conv2D(...)


def conv_meaning(ex: Explanation, model: ModelSpec) -> list[str]:
    """What Conv2D(filters, kernel) does to its input, with the first conv layer's numbers."""
    row = _first_conv(ex)
    if row is None or len(row.input_shape) != 3:
        return []
    layer = next(layer for layer in model.layers if layer.name == row.name)
    kernel = getattr(layer, "kernel_size", None)
    if kernel is None:
        return []
    h, w, cin = row.input_shape
    oh, ow, filters = row.output_shape
    return [
        f"{row.name} is Conv2D({filters}, {kernel.astuple()}): {filters} filters, each a "
        f"{kernel.h} x {kernel.w} x {cin} block of weights (the depth always matches the "
        f"{cin} input channel{'s' if cin != 1 else ''}). Each filter slides over the "
        f"{h} x {w} input and gives one {oh} x {ow} map; the {filters} maps stack into "
        f"{fmt_shape(row.output_shape)}.",
        f"Why {oh} and not {h}: {row.shape_formula.split(';')[0]}. A {kernel.h}-wide window "
        f"fits at {oh} places along {h} pixels when it may not hang over the edge "
        "(padding='valid', Keras's default); padding='same' would keep the size.",
    ]


def shapes_answer(ex: Explanation, model: ModelSpec) -> Answer:
    points = [*conv_meaning(ex, model)]
    points += [
        f"{r.name} ({r.layer_type}): {fmt_shape(r.input_shape)} -> {fmt_shape(r.output_shape)}, "
        f"{r.shape_formula}"
        for r in ex.rows
    ]
    lead = shrink_note(ex.input_shape, ex.rows)
    return Answer(
        "shapes",
        "Why is each output shape what it is?",
        lead[0] if lead else f"The input is {fmt_shape(ex.input_shape)}.",
        tuple(points),
    )


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def parameters_answer(ex: Explanation) -> Answer:
    total = ex.total_params
    points = [
        f"{r.name} ({r.layer_type}): {r.params_formula} ({_share(r.params, total)})"
        for r in ex.rows
        if r.params
    ]
    conv = sum(r.params for r in ex.rows if r.kind == LayerKind.CONV)
    dense = sum(r.params for r in ex.rows if r.kind == LayerKind.DENSE)
    conv_macs = sum(r.macs for r in ex.rows if r.kind == LayerKind.CONV)
    if conv and dense:
        points.append(
            f"Convolutions hold {_share(conv, total)} of the parameters but do "
            f"{_share(conv_macs, ex.total_macs)} of the multiply-adds: each filter's few "
            "weights are reused at every position. Dense layers use each weight once per image."
        )
    points.append(
        "A layer's parameters are its weights plus one bias per output: "
        "(inputs to one unit + 1) x units. Pooling, Flatten and Dropout have none."
    )
    lead = parameter_note(ex.rows)
    return Answer(
        "parameters",
        f"Where are the {total:,} parameters?",
        lead[0] if lead else "This model has no parameters.",
        tuple(points),
    )


def last_map_answer(
    ex: Explanation, facts: RunFacts | None, measured: Measured | None = None
) -> Answer | None:
    last = last_map(ex.rows)
    if last is None:
        return None
    h, w, c = last.output_shape
    points = last_map_note(ex.input_shape, ex.rows)
    if measured is not None and measured.probe is not None:
        points = [*probe_finding(measured.probe), *points]
    after = ex.rows[ex.rows.index(last) + 1 :]
    readers = [r for r in after if r.params]
    if readers:
        first = readers[0]
        points.append(
            f"The layers after it see all {h * w * c:,} numbers at once: {first.name} "
            f"weighs every one of them for each of its {first.output_shape[-1]} units, so it "
            "can combine 'this filter fired in the top left' with 'that one in the centre'."
        )
    points.append(
        "Each number is no longer a pixel but an answer: how strongly one learned pattern "
        f"({words(ex).patterns}, built from the patterns of the layers before) appears "
        "in one window of the image."
    )
    if facts is None:
        lead = (
            f"Its {h * w * c:,} numbers each summarise a large window of the input, not one "
            "pixel. This model is untrained: train it to measure how well they classify."
        )
    else:
        lead = (
            f"They are enough: this run classifies {facts.accuracy:.2%} of the "
            f"{facts.test_images:,} {facts.dataset} test images correctly "
            f"{trained_for(facts.epochs)}, reading only those "
            f"{h * w * c:,} numbers, each of which summarises a window of the input."
        )
    return Answer(
        "last-map",
        f"How can a final {dims(last.output_shape)} map classify?",
        lead,
        tuple(points),
    )


def _pool_point(ex: Explanation, row: Row) -> str:
    before, after = row.input_shape, row.output_shape
    kept = product(after) / product(before)
    field = row.receptive_field
    nxt = next(
        (r for r in ex.rows[ex.rows.index(row) + 1 :] if r.kind == LayerKind.CONV),
        None,
    )
    text = (
        f"{row.name} ({row.layer_type}): {dims(before)} = {product(before):,} values become "
        f"{dims(after)} = {product(after):,} ({kept:.0%} kept); it has no parameters."
    )
    if field is not None and nxt is not None and nxt.receptive_field is not None:
        text += (
            f" After it, neighbouring positions lie {field.jump.h} pixels apart on the input, "
            f"so {nxt.name} sees {article(str(nxt.receptive_field.size))} window per position."
        )
    return text


def measured_pooling_points(measured: Measured | None) -> list[str]:
    """The pooling experiment's answer in numbers, when it has been run."""
    if measured is None or measured.pooling is None:
        return []
    found = finding(measured.pooling)
    if not found:
        return []
    return [*found, f"(convscope experiment pooling; results in {measured.pooling_folder}.)"]


def pooling_answer(ex: Explanation, model: ModelSpec, measured: Measured | None = None) -> Answer:
    pools = pooling_layers(model)
    if not pools:
        return Answer(
            "pooling",
            "What does pooling do here?",
            "This model has no pooling layers.",
            (),
        )
    rows = [r for r in ex.rows if r.name in {p.name for p in pools}]
    points = measured_pooling_points(measured) + [_pool_point(ex, r) for r in rows]
    try:
        bare = explain(without_pooling(model))  # larger maps: every window still fits
    except ConvscopeError as error:  # a graph whose paths meet only once pooled alike
        lead = (
            f"Pooling shrinks the maps on the way; here it also makes this graph's paths fit "
            f"together: without it, {error.message}."
        )
        return Answer("pooling", "What does pooling do here?", lead, tuple(points))
    last, bare_last = last_map(ex.rows), last_map(bare.rows)
    layers = f"{len(pools)} pooling layer{'s' if len(pools) != 1 else ''}"
    params = (
        f"left its {ex.total_params:,} parameters as they are (a global pooling before the "
        "classifier makes them independent of the maps' size) and cut"
        if bare.total_params == ex.total_params
        else f"cut this model from {bare.total_params:,} to {ex.total_params:,} parameters and"
    )
    lead = (
        f"Pooling shrinks the maps, not the knowledge: {layers} with no weights of their own "
        f"{params} from {bare.total_macs:,} to {ex.total_macs:,} multiply-adds per image."
    )
    if last and bare_last and last.receptive_field and bare_last.receptive_field:
        points.append(
            f"Without pooling (all else equal) the last map would be "
            f"{dims(bare_last.output_shape)} = {product(bare_last.output_shape):,} numbers "
            f"instead of {product(last.output_shape):,}, each seeing only "
            f"{article(str(bare_last.receptive_field.size))} window instead of "
            f"{article(str(last.receptive_field.size))}: the later layers would see "
            f"small pieces of {words(ex).pieces}."
        )
    dense_now = [r for r in ex.rows if r.kind == LayerKind.DENSE]
    dense_bare = [r for r in bare.rows if r.kind == LayerKind.DENSE]
    if dense_now and dense_bare and dense_now[0].params != dense_bare[0].params:
        points.append(
            f"{dense_now[0].name} would need {dense_bare[0].params:,} parameters instead of "
            f"{dense_now[0].params:,} ({dense_bare[0].params_formula}): more weights to fit "
            "from the same training images, and so more room to memorise them."
        )
    if any(p.op == "max" for p in pools):
        points.append(
            "Max-pooling keeps the strongest response in each window: whether a pattern is "
            "present survives; exactly where, to the pixel, is what is dropped. "
            f"{words(ex).thing} shifted by one pixel gives nearly the same pooled map."
        )
    if any(p.op == "average" for p in pools):
        points.append(
            "Average-pooling keeps each window's mean response: a blurred, smaller map in "
            "which a pattern's strength survives and its exact position does not."
        )
    return Answer("pooling", "What does pooling do here?", lead, tuple(points))


def answers(
    ex: Explanation,
    model: ModelSpec,
    facts: RunFacts | None = None,
    measured: Measured | None = None,
) -> list[Answer]:
    """The report's questions, in the order a learner meets them; experiments' numbers too."""
    found = [shapes_answer(ex, model), parameters_answer(ex)]
    last = last_map_answer(ex, facts, measured)
    if last is not None:
        found.append(last)
    found.append(pooling_answer(ex, model, measured))
    if ex.is_graph:
        found.append(branches_answer(ex, model))
    return found


def branches_answer(ex: Explanation, model: ModelSpec) -> Answer:
    """A graph's question: what its shortcuts and merges do, with its numbers."""
    lead, *points = branch_notes(model, ex.rows, ())
    return Answer("branches", "What do the shortcuts and merges do?", lead, tuple(points))
