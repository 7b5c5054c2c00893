"""The live page's requests, answered for one model: shared by the HTTP server
(api.server) and the notebook widget (api.widget), so both speak the same JSON.

    model      -> the explanation, each layer's window geometry, classes, state
    predict    {"pixels": 28 rows of 28 numbers 0-255}  used as they are
               {"image": "<base64 PNG or JPEG>"}         prepared as `predict` prepares it
               {"index": a test image}
               -> {"predicted", "probabilities", "pixels" (MNIST's 28 x 28) or "image" and
                   "shape" (base64 RGB of any other input), "steps", "layers": [...]}
    position   {"pixels", "layer", "row", "col", "channel"} -> the value and its arithmetic
    channel    {"layer", "channel"} -> that filter's kernel (float16, base64) and bias
    attribution {"pixels" | "image" | "index", "method", "target"?} -> one method's (H, W) map

A bad request raises RequestError with the HTTP status it deserves (400 malformed, 422
the wrong shape), and a message; nothing is kept between requests.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ConvscopeError
from ..core.explain.table import Row
from ..core.graph import levels
from ..core.spec import LayerKind
from ..present.attribution import SIGNED
from ..runtime import live
from ..runtime.attribution import methods as attributing
from ..runtime.inspect import prepare_photo
from .model import Model

WEB = Path(__file__).resolve().parent.parent / "web"  # the page's files, for server and widget
MAX_BODY = 8 * 2**20  # bytes: a phone photo as base64 fits; more is refused with 413
SIZE = 28
MAX_SIDE = 512  # the page shows every layer of an image up to this many pixels a side


class RequestError(ConvscopeError):
    def __init__(self, status: int, message: str, *, where: str = "", hint: str = "") -> None:
        super().__init__(message, where=where, hint=hint)
        self.status = status

    @classmethod
    def of(cls, status: int, error: ConvscopeError) -> RequestError:
        """A user's mistake as the answer's error: its place, rule and hint kept apart."""
        return cls(status, error.message, where=error.where, hint=error.hint)


def geometry(row: Row) -> dict[str, Any] | None:
    """How one position of a conv or pooling layer reads the layer before: its window's
    span, the stride between positions, and where position (0, 0)'s window starts."""
    if row.kind not in (LayerKind.CONV, LayerKind.POOL) or row.window is None:
        return None
    span, stride, pad = row.window
    return {"span": [span.h, span.w], "stride": [stride.h, stride.w], "start": [-pad.h, -pad.w]}


class Live:
    """One model behind the page: answers its requests, one forward pass at a time."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.lock = threading.Lock()  # torch inference of one model: one request at a time

    def describe(self) -> dict[str, Any]:
        ex = self.model.explain()
        table = ex.to_dict()
        subject = self.model.subject
        steps = levels(subject.spec)  # a graph's layers side by side where they run in parallel
        for entry, row, level in zip(table["layers"], ex.rows, steps, strict=True):
            entry["kind"] = str(row.kind)
            entry["reads"] = geometry(row)
            entry["level"] = level
        shape = subject.spec.input_shape
        grey = shape in ((SIZE, SIZE, 1), (SIZE * SIZE,))
        return {
            "name": self.model.name,
            "trained": self.model.trained,
            "dataset": self.model.dataset,
            "classes": list(self.model.class_names),
            "input_shape": list(shape),
            "live": grey or (len(shape) == 3 and max(shape[:2]) <= MAX_SIDE),
            "drawable": grey or (len(shape) == 3 and shape[2] == 1),  # one channel: drawn
            "test_images": self.test_count(),
            "explain": table,
            "text": ex.text(),
        }

    def test_count(self) -> int:
        """Test images the page can pick from: 0 without a data set (drawing still works)."""
        if not self.model.dataset:
            return 0
        if self.model.subject.scale:
            return 10_000  # MNIST's, Fashion-MNIST's and CIFAR's test sets
        try:
            return len(self.model.subject.load_data().test_labels)
        except ConvscopeError:
            return 0

    def handle(self, kind: str, body: Any) -> dict[str, Any]:
        """Answer one request (`kind`: model, predict, position, channel, test)."""
        if kind == "model":
            return self.describe()
        if not isinstance(body, dict):
            raise RequestError(422, "the request body must be a JSON object")
        handlers = {"predict": self.predict, "position": self.position,
                    "channel": self.channel, "test": self.test_image,
                    "attribution": self.attribution}  # fmt: skip
        if kind not in handlers:
            raise RequestError(404, f"no such request: {kind!r}")
        try:
            with self.lock:
                return handlers[kind](body)
        except RequestError:
            raise
        except ConvscopeError as error:
            raise RequestError.of(422, error) from None

    def input_pixels(self, body: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
        """The image the network sees, and how it was made from the request."""
        subject = self.model.subject
        subject.check_images()
        if "index" in body:
            return self.test_pixels(body["index"])[0], [f"test image {body['index']}"]
        if "pixels" in body:
            return pixel_grid(body["pixels"]), ["used as given: 28x28, 0-255"]
        if "image" in body:
            if not isinstance(body["image"], str):
                raise RequestError(400, "image must be a base64 PNG or JPEG string")
            raw = body["image"].split(",", 1)[-1]  # a data: URL is fine too
            try:
                data = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise RequestError(400, "image is not valid base64") from None
            try:
                prepared, steps = prepare_photo(
                    io.BytesIO(data), subject.photo_preparation(), subject.spec.input_shape,
                    "the image",
                )  # fmt: skip
            except ConvscopeError as error:
                raise RequestError.of(400, error) from None
            return prepared, steps
        raise RequestError(
            422, 'the request needs "image" (a PNG or JPEG), "index" (a test image) or "pixels"'
        )

    def predict(self, body: dict[str, Any]) -> dict[str, Any]:
        pixels, steps = self.input_pixels(body)
        s = self.model.subject
        return {**live.forward(s.model, pixels, s.scale).as_dict(), "steps": steps}

    def position(self, body: dict[str, Any]) -> dict[str, Any]:
        pixels, _ = self.input_pixels(body)
        where = [body.get(k) for k in ("row", "col", "channel")]
        if not isinstance(body.get("layer"), str) or not all(isinstance(v, int) for v in where):
            raise RequestError(
                422, "position needs layer (a name), row, col and channel (integers)"
            )
        row, col, k = (int(v) for v in where)  # type: ignore[arg-type]
        s = self.model.subject
        return live.position(s.model, pixels, body["layer"], row, col, k, s.scale)

    def channel(self, body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body.get("layer"), str) or not isinstance(body.get("channel"), int):
            raise RequestError(422, "channel needs layer (a name) and channel (an integer)")
        return live.channel(self.model.subject.model, body["layer"], body["channel"])

    def attribution(self, body: dict[str, Any]) -> dict[str, Any]:
        """One method's map of the input, for the predicted class or body["target"]."""
        pixels, _ = self.input_pixels(body)
        method, target = body.get("method", "gradcam"), body.get("target")
        if not isinstance(method, str) or not (target is None or isinstance(target, int)):
            raise RequestError(422, "attribution takes method (a name) and target (a class)")
        s = self.model.subject
        found = attributing.attribute(
            s.model, pixels[None], method, target, attributing.DEFAULTS, s.scale
        )
        values = found.maps[0]
        return {"method": method, "methods": list(attributing.METHODS),
                "target": int(found.targets[0]), "signed": method in SIGNED,
                "max": float(np.abs(values).max()), "data": live.encode(values)}  # fmt: skip

    def test_pixels(self, index: Any) -> tuple[np.ndarray, int, int]:
        """A test image by index (None: a random one): its pixels, label and index."""
        self.model.subject.check_images()
        dataset = self.model.subject.load_data()
        count = len(dataset.test_labels)
        if index is None:
            index = int(np.random.default_rng().integers(count))
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
            raise RequestError(422, f"index must be a test-set index from 0 to {count - 1}")
        return np.asarray(dataset.test_images[index]), int(dataset.test_labels[index]), index

    def test_image(self, body: dict[str, Any]) -> dict[str, Any]:
        """A test image by index (or a random one), with its true label."""
        pixels, label, index = self.test_pixels(body.get("index"))
        s = self.model.subject
        result = live.forward(s.model, pixels, s.scale).as_dict()
        return {**result, "index": index, "label": label, "steps": [f"test image {index}"]}


def pixel_grid(value: Any) -> np.ndarray:
    """28 rows of 28 numbers 0-255 -> (28, 28) uint8; 422 for anything else."""
    message = f"pixels must be {SIZE} rows of {SIZE} numbers from 0 to 255"
    if not (isinstance(value, list) and len(value) == SIZE):
        raise RequestError(422, message)
    if not all(isinstance(row, list) and len(row) == SIZE for row in value):
        raise RequestError(422, message)
    try:
        grid = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise RequestError(422, message) from None
    if (
        grid.shape != (SIZE, SIZE)
        or not np.isfinite(grid).all()
        or grid.min() < 0
        or grid.max() > 255
    ):
        raise RequestError(422, message)
    return np.rint(grid).astype(np.uint8)
