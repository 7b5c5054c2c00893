"""The report in a real browser: Debian's Chromium, driven by Playwright.

Opens the report of a trained chollet run at laptop and phone widths and checks what a
reader would notice: failed requests, console errors, images that did not load, and a
page wider than the screen. Screenshots go to $CONVSCOPE_SCREENSHOTS (default: the
test's temporary folder) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..helpers import BROWSER_ARGS, CHROMIUM, run_cli, screenshots, watch

pytestmark = pytest.mark.slow  # real trainings and reports: the full suite runs them

WIDTHS = {"laptop": (1366, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def report_file(
    chollet_run: tuple[Path, dict[str, object]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("browser") / "report.html"
    code, _, err = run_cli("report", str(chollet_run[0]), "--image", "7", "--output", str(path))
    assert code == 0, err
    return path


@pytest.mark.parametrize("device", WIDTHS)
def test_report_in_chromium(report_file: Path, device: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: run scripts/setup --dev"
    shots = Path(str(screenshots(tmp_path)))
    width, height = WIDTHS[device]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            log = watch(page)
            page.goto(report_file.as_uri(), wait_until="load")
            images = page.eval_on_selector_all(
                "img",
                "els => els.map(e => ({alt: e.alt, complete: e.complete, "
                "natural: e.naturalWidth, shown: e.getBoundingClientRect().width, "
                "height: e.getBoundingClientRect().height}))",
            )
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            page.screenshot(path=str(shots / f"report-{device}.png"))
            page.locator("#receptive_field").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"report-{device}-receptive-field.png"))
            page.locator("#layers").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"report-{device}-layers.png"))
        finally:
            browser.close()
    assert log.errors == [] and log.failed == []
    # the page itself and data: images; nothing from any network
    assert all(r.startswith(("file://", "data:")) for r in log.requests), log.requests
    assert len(images) == 10  # with the attribution maps of the report's image
    for image in images:
        assert image["complete"] and image["natural"] > 0, image["alt"]
        assert 0 < image["shown"] <= width and image["height"] > 0, image
    assert overflow == 0  # nothing wider than the screen: wide tables scroll inside a box
    assert (shots / f"report-{device}.png").stat().st_size > 10_000
