"""The shared page (`convscope export RUN --format site`): its folder's size, the first
paint from file://, and a redraw while drawing, against the live page served by Python.

  python benchmarks/site_speed.py [--rounds 5] [--strokes 25]

On a 1-epoch chollet run (benchmarks/.runs, trained on first use), exported with its 100
bundled test images. First paint: from navigation start to the first prediction shown
(performance.now() in the page, so Playwright's own time is not counted). Redraw: the
page's own timer from a stroke's end to the maps repainted, the median over the strokes,
in both pages (the served page's requests go to `convscope serve` on 127.0.0.1).
Results: benchmarks/results/site_speed.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from common import ENV, PYTHON, ROOT, cpu, trained_run
from live_speed import CHROMIUM, browser, start_server

RESULTS = ROOT / "benchmarks" / "results" / "site_speed.json"
FIRST = "document.querySelector('#predicted')?.dataset.class ? performance.now() : false"


def export(run: Path, folder: Path) -> None:
    cmd = [PYTHON, "-m", "convscope", "export", str(run), "--format", "site", "-o", str(folder)]
    subprocess.run(cmd, check=True, env=ENV, stdout=subprocess.DEVNULL)


def first_paint(index: Path, rounds: int) -> list[float]:
    """ms from navigation start to the first prediction on screen, a fresh browser each time."""
    from playwright.sync_api import sync_playwright

    found = []
    with sync_playwright() as p:
        for _ in range(rounds):
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = chromium.new_page(viewport={"width": 1366, "height": 900})
            page.goto(index.as_uri())
            found.append(float(page.wait_for_function(FIRST).json_value()))
            chromium.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--strokes", type=int, default=25)
    args = parser.parse_args()
    run = trained_run()
    folder = Path(tempfile.mkdtemp()) / "site"
    export(run, folder)
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    paints = first_paint(folder / "index.html", args.rounds)
    redraw_site = [browser((folder / "index.html").as_uri(), args.strokes)]
    server, url = start_server(run)
    try:
        redraw_served = [browser(url + "/", args.strokes)]
    finally:
        server.terminate()
        server.wait()
    shutil.rmtree(folder.parent)
    record = {
        "cpu": cpu(),
        "run": run.name,
        "bytes": sizes,
        "total_mb": sum(sizes.values()) / 1e6,
        "first_paint_ms": paints,
        "first_paint_median_ms": statistics.median(paints),
        "redraw_median_ms": {
            "site (JavaScript)": redraw_site[0],
            "served (Python)": redraw_served[0],
        },
    }
    print(json.dumps(record, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
