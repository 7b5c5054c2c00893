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
