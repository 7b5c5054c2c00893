"""Make docs/images/*.png from a real run (see scripts/screenshots, which runs this)."""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
CONVSCOPE = [sys.executable, "-m", "convscope"]
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def convscope(*argv: str) -> str:
    return subprocess.run([*CONVSCOPE, *argv], check=True, capture_output=True, text=True).stdout


def shrink(raw: bytes, name: str, width: int = 900) -> None:
    """At most `width` px wide, 256 colours: small enough for a README."""
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image = image.quantize(256, method=Image.Quantize.MEDIANCUT)
    path = IMAGES / name
    image.save(path, optimize=True)
    print(
        f"{path.relative_to(ROOT)}: {image.width}x{image.height}, {path.stat().st_size // 1024} KB"
    )


def pages(site: Path, report: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 860})
            page.goto((site / "index.html").as_uri(), wait_until="load")
            page.wait_for_function("document.querySelector('#predicted')?.dataset.class")
            cell = page.locator('[data-layer="conv2d_2"] canvas').first
            cell.scroll_into_view_if_needed()
            cell.click(position={"x": 30, "y": 30})
            page.wait_for_function("document.querySelector('.detail .formula')")
            page.evaluate("window.scrollTo(0, 0)")
            shrink(page.screenshot(), "live-page.png", width=1100)
            page = browser.new_page(viewport={"width": 1100, "height": 1300})
            page.goto(report.as_uri(), wait_until="load")
            shrink(page.screenshot(), "report.png")
        finally:
            browser.close()


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        convscope("train", "chollet", "--epochs", "1", "--seed", "1", "--quiet",
                  "--runs-dir", str(work / "runs"))  # fmt: skip
        run = next((work / "runs").iterdir())
        convscope("report", str(run), "--image", "7")
        convscope("show", str(run), "--image", "7", "--attribution",
                  "--output", str(work / "figures"))  # fmt: skip
        for figure, name, width in (("feature_maps*", "feature-maps.png", 520),
                                    ("attribution*", "attribution.png", 900)):  # fmt: skip
            shrink(next((work / "figures").glob(f"{figure}.png")).read_bytes(), name, width)
        convscope("export", str(run), "--format", "site", "-o", str(work / "site"))
        pages(work / "site", run / "report.html")
        convscope("sweep", "chollet", "--grid", "lr=3e-4,1e-3,3e-3", "--grid",
                  "batch_size=32,128", "--train-images", "5000", "--epochs", "2", "--quiet",
                  "--output", str(work / "sweep"))  # fmt: skip
        shrink((work / "sweep" / "sweep.png").read_bytes(), "sweep.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
