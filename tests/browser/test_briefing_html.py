"""briefing.html as a reader meets it: headless Chromium, a full-page screenshot, axe-core.

``make test-browser`` runs this. The briefing pack is written for the tiny preset, its
``briefing.html`` opened from disk with the network cut off (the page must need nothing
else), a full-page screenshot saved to ``build/screenshots/briefing.png`` (and the print
layout to ``briefing-print.png``), and the axe-core accessibility engine (shipped by
``axe-playwright-python``, installed by the ``browser`` extra) run on it: no violation of
serious or critical impact is allowed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright", reason="browser extra")

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("FEWPOINTS_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def page_path(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (.ci/install-chromium installs it)")
    from fewpoints.cli import main

    out = tmp_path_factory.mktemp("pack") / "briefing"
    assert main(["briefing", "--preset", "tiny", "--seed", "3", "--out", str(out), "--quiet"]) == 0
    return out / "briefing.html"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def test_briefing_html_renders_offline_and_passes_axe(page_path, browser):
    context = browser.new_context(viewport={"width": 1000, "height": 900}, offline=True)
    page = context.new_page()
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    assert failed == []  # nothing outside the file was asked for
    # Every figure decoded and laid out at a readable width, with its alt text.
    sizes = page.eval_on_selector_all(
        "figure img", "els => els.map(e => [e.naturalWidth, e.clientWidth, e.alt.length])"
    )
    assert len(sizes) == 7 and all(nw > 0 and cw >= 600 and alt > 80 for nw, cw, alt in sizes)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "briefing.png"), full_page=True)
    results = axe_sync.Axe().run(page)
    bad = [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], results.generate_report()
    page.emulate_media(media="print")
    page.screenshot(path=str(SHOTS / "briefing-print.png"), full_page=True)
    context.close()
