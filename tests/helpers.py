"""What several test modules share: running the CLI in-process, reading HTML pages and
PNGs. One module, imported by the tests and by conftest's fixtures."""

from __future__ import annotations

import http.server
import io
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __iter__(self) -> Iterator[object]:  # code, out, err = cli(...)
        return iter((self.code, self.out, self.err))


Cli = Callable[..., Result]


def run_cli(*argv: str, stdin: str = "") -> Result:
    """Run convscope's main() in-process, as a user would run the command."""
    from convscope.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return Result(code, out.getvalue(), err.getvalue())


# a quick real training: 1 epoch on the first 20,000 MNIST images, seed 3
QUICK = ["--train-images", "20000", "--epochs", "1", "--seed", "3", "--quiet"]


class Page(HTMLParser):
    """Every tag with its attributes, and the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]

    @property
    def words(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


def png_size(raw: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(raw)) as image:
        image.verify()
        assert image.format == "PNG"
        return image.size


def fresh_python(code: str) -> str:
    """What `code` prints when run by a new Python process (nothing imported yet)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


# ---- a real browser: Debian's Chromium through Playwright ----

CHROMIUM = "/usr/bin/chromium"
# As the machine's notes advise: no sandbox as root, and no background calls to the network.
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PageLog:
    """What a reader would notice going wrong on a page: errors, failed and all requests."""

    errors: list[str]
    failed: list[str]
    requests: list[str]


def watch(page: object) -> PageLog:
    log = PageLog([], [], [])
    on = page.on  # type: ignore[attr-defined]
    on("console", lambda m: log.errors.append(m.text) if m.type == "error" else None)
    on("pageerror", lambda e: log.errors.append(str(e)))
    on("requestfailed", lambda r: log.failed.append(r.url[:80]))
    on("request", lambda r: log.requests.append(r.url[:80]))
    return log


def screenshots(fallback: object) -> object:
    """Where screenshots go: $CONVSCOPE_SCREENSHOTS, else the test's temporary folder."""
    import os
    from pathlib import Path

    folder = Path(os.environ.get("CONVSCOPE_SCREENSHOTS") or str(fallback))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Server:
    """An HTTP server on 127.0.0.1 serving `routes`: path -> (body, declared length or None)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, int | None]] = {}
        routes = self.routes

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path not in routes:
                    self.send_error(404)
                    return
                body, declared = routes[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(declared or len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


SHAPES = ("circle", "square", "triangle", "diamond")


def shapes_folder(
    root: Path, per_class: int, classes: int = 3, size: int = 40, seed: int = 0
) -> Path:
    """A folder of coloured shapes, one subfolder per class (image_dataset_from_directory's
    layout): each class its own shape and hue on a dark ground of random colour, at a
    random place and size, in sizes from `size` to `size` + 15 pixels, as PNG and JPEG."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    for label, name in enumerate(SHAPES[:classes]):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            w, h = (size + int(v) for v in rng.integers(0, 16, 2))
            image = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(0, 90, 3)))
            hue = [int(v) for v in rng.integers(60, 140, 3)]
            hue[label % 3] = 255  # the class's colour: red, green or blue leads
            r = int(rng.integers(size // 5, size // 3))
            cx, cy = int(rng.integers(r, w - r)), int(rng.integers(r, h - r))
            box = [cx - r, cy - r, cx + r, cy + r]
            draw = ImageDraw.Draw(image)
            if name == "circle":
                draw.ellipse(box, fill=tuple(hue))
            elif name == "square":
                draw.rectangle(box, fill=tuple(hue))
            elif name == "triangle":
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=tuple(hue))
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy), (cx, cy + r), (cx + r, cy)],
                             fill=tuple(hue))  # fmt: skip
            image.save(root / name / f"{name}.{i}.{'png' if i % 3 == 0 else 'jpg'}")
    return root


SHAPES_MODEL = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Rescaling(1.0 / 255),
    layers.Conv2D(16, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense({units}, activation="{activation}"),
])
model.compile(optimizer="adam", loss="{loss}", metrics=["accuracy"])
"""


def shapes_model(path: Path, classes: int = 3) -> Path:
    """A small convnet for shapes_folder's photos at 32 x 32 (softmax, or one sigmoid)."""
    binary = classes == 2
    path.write_text(SHAPES_MODEL.format(
        units=1 if binary else classes,
        activation="sigmoid" if binary else "softmax",
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
    ))  # fmt: skip
    return path
