"""The static site of the lessons (``make site``), as a reader meets it, in headless Chromium.

``make test-browser`` builds the site first, then runs this. The site is served from
``build/site/`` on 127.0.0.1; every page is opened, checked (its figures drawn, its
formulas typeset by the site's own MathJax, every link inside the site answering, no
request leaving the machine) and screenshotted to ``build/screenshots/site-*.png``. The
JupyterLite copy is checked for its files only: its kernel needs a CDN.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "site"
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
STEMS = sorted(p.stem for p in (ROOT / "notebooks" / "source").glob("*.md"))
PAGES = ["index.html", "guide.html", "references.html", *[f"lessons/{s}.html" for s in STEMS]]
#: Pages with LaTeX that MathJax must have typeset.
MATH = {"guide.html", "lessons/02_four_points_are_enough.html", "lessons/06_what_does_protect.html"}


@pytest.fixture(scope="module")
def site():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no site in {SITE}: run `make site` (make test-browser does)")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (.ci/install-chromium installs it)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def test_the_site_holds_every_lesson_and_the_ways_in():
    for page in PAGES:
        assert (SITE / page).is_file(), page
    wheels = list(SITE.glob("fewpoints-*-py3-none-any.whl"))
    assert len(wheels) == 1, "the wheel a lesson's first cell installs in Colab"
    for stem in STEMS:
        assert (SITE / "notebooks" / f"{stem}.ipynb").read_bytes() == (
            ROOT / "notebooks" / f"{stem}.ipynb"
        ).read_bytes()
        pdf = (SITE / "worksheets" / f"{stem}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-") and re.findall(rb"/Count (\d+)", pdf) == [b"1"]
    assert (SITE / "mathjax" / "tex-chtml-full.js").is_file()


def test_jupyterlite_build_is_in_place():
    lite = SITE / "lite"
    assert (lite / "index.html").is_file() and (lite / "lab" / "index.html").is_file()
    for stem in STEMS:
        assert (lite / "files" / f"{stem}.ipynb").is_file(), f"{stem} missing from JupyterLite"
    assert (lite / "extensions" / "@jupyterlite" / "pyodide-kernel-extension").is_dir()
    wheel = next(SITE.glob("fewpoints-*.whl")).name
    assert (lite / "pypi" / wheel).is_file(), "the fewpoints wheel in JupyterLite's package index"
    index = json.loads((lite / "pypi" / "all.json").read_text())
    assert "fewpoints" in index


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_offline(name, site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside, failed = [], []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url) if urlparse(r.url).hostname not in ("127.0.0.1", None) else None
        ),
    )
    page.on("requestfailed", lambda r: failed.append(r.url))
    try:
        response = page.goto(urljoin(site, name), wait_until="networkidle")
        assert response.ok
        images = page.evaluate(
            "() => Array.from(document.images).map((i) => ({src: i.src.slice(0, 60), ok: i.complete && i.naturalWidth > 0}))"
        )
        assert all(i["ok"] for i in images), f"{name}: images not drawn: {images}"
        if name.startswith("lessons/"):
            assert len(images) >= 1, f"{name}: no figure"
            text = page.inner_text("body")
            assert "Debrief." in text or name.endswith("05_bigger_crowds.html")
            assert "google.colab" not in text, "the Colab install cell is left out of the site"
        if name in MATH:
            page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0")
            raw = page.evaluate("() => document.body.innerText.includes('\\\\varepsilon')")
            assert not raw, f"{name}: LaTeX left untypeset"
        links = page.evaluate(
            "() => Array.from(document.querySelectorAll('a[href]')).map((a) => a.href)"
        )
        for link in {urljoin(link, urlparse(link).path) for link in links}:
            if urlparse(link).hostname == "127.0.0.1":
                assert page.request.get(link).ok, f"{name}: broken link {link}"
        assert not outside, f"{name} asked the network for {outside[:3]}"
        assert not failed, f"{name}: requests failed: {failed[:3]}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = "site-" + name.replace("/", "-").removesuffix(".html") + ".png"
        page.screenshot(path=SHOTS / shot, full_page=True)
    finally:
        page.close()
