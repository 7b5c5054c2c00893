"""The live page's speed: the server-side forward pass with every layer's outputs for one
drawing, stroke end to repainted maps in Chromium, and a bounded load test.

  python benchmarks/live_speed.py [--clients 8] [--requests 200]

On a 1-epoch chollet run (benchmarks/.runs, trained on first use). The server runs as
`convscope serve` in its own process on 127.0.0.1, so the load test's clients (threads
here) do not share its interpreter. Results: benchmarks/results/live_speed.json.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib import request

import numpy as np
from common import ENV, PYTHON, ROOT, cpu, trained_run
from PIL import Image, ImageDraw

RESULTS = ROOT / "benchmarks" / "results" / "live_speed.json"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def drawing() -> str:
    """A hand-drawn-like 3 on a 280x280 canvas, as the page sends it (PNG, base64)."""
    image = Image.new("L", (280, 280))
    pen = ImageDraw.Draw(image)
    pen.line([(90, 60), (190, 70), (130, 140), (200, 180), (120, 240)], fill=255, width=20)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def server_side(run: Path, rounds: int = 60) -> dict[str, float]:
    import convscope as cs
    from convscope.api.live import Live

    live = Live(cs.load(run))
    image, pixels = {"image": drawing()}, {"pixels": [[0] * 28] * 28}
    times: dict[str, list[float]] = {"image (prepared)": [], "pixels (as given)": []}
    for _ in range(rounds):
        for name, body in (("image (prepared)", image), ("pixels (as given)", pixels)):
            start = time.perf_counter()
            json.dumps(live.handle("predict", body))  # the answer as the server sends it
            times[name].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(v[5:]) for name, v in times.items()}


def start_server(run: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [PYTHON, "-m", "convscope", "serve", str(run), "--port", str(port)]
    process = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            request.urlopen(url + "/api/model", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def browser(page_url: str, strokes: int = 25) -> float:
    """Median ms from a stroke's end to the page's maps repainted (the page's own timer)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = chromium.new_page(viewport={"width": 1366, "height": 900})
        page.goto(page_url, wait_until="networkidle")
        page.wait_for_function("window.__convscope && window.__convscope.result")
        box = page.locator("canvas.pad").bounding_box()
        for k in range(strokes):
            page.get_by_role("button", name="Clear").click()
            page.mouse.move(box["x"] + 100 + k, box["y"] + 50)
            page.mouse.down()
            page.mouse.move(box["x"] + 120, box["y"] + 220, steps=3)
            page.mouse.up()
            page.wait_for_function(f"window.__convscope.timings.length >= {k + 1}")
        timings = page.evaluate("window.__convscope.timings")
        chromium.close()
    return float(statistics.median(timings))


def load_test(url: str, clients: int, requests_each: int) -> dict[str, float]:
    mnist_like = np.random.default_rng(0).integers(0, 256, (clients, 28, 28)).tolist()

    def client(i: int) -> list[float]:
        body = json.dumps({"pixels": mnist_like[i]}).encode()
        times = []
        for _ in range(requests_each):
            start = time.perf_counter()
            req = request.Request(url + "/api/predict", data=body, method="POST",
                                  headers={"content-type": "application/json"})  # fmt: skip
            with request.urlopen(req, timeout=60) as answer:
                assert answer.status == 200
                answer.read()
            times.append(time.perf_counter() - start)
        return times

    started = time.perf_counter()
    errors = 0
    latencies: list[float] = []
    with ThreadPoolExecutor(clients) as pool:
        for found in pool.map(client, range(clients)):
            latencies += found
    wall = time.perf_counter() - started
    total = clients * requests_each
    errors = total - len(latencies)
    ordered = sorted(latencies)
    return {
        "requests": total,
        "errors": errors,
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p95_ms": 1000 * ordered[int(len(ordered) * 0.95)],
        "requests_per_second": total / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    run = trained_run()
    forward = server_side(run)
    process, url = start_server(run)
    try:
        end_to_end = browser(url + "/")
        load = load_test(url, args.clients, args.requests)
    finally:
        process.terminate()
        process.wait(10)
    record = {
        "cpu": cpu(),
        "server_forward_ms": forward,
        "browser_stroke_to_maps_ms": end_to_end,
        "load": {"clients": args.clients, "requests_each": args.requests, **load},
    }
    print(json.dumps(record, indent=2))
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
