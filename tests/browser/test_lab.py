"""The notebooks as a student meets them: JupyterLab in headless Chromium, all cells run.

``make test-browser`` runs this (it is left out of ``make test``). It starts ``jupyter lab``
on 127.0.0.1 with a token and a free port, on copies of the notebooks (so nothing is
saved into the repository), opens each notebook, runs all cells, waits until every code
cell has run and the kernel is idle (the app's own state and the server's
``/api/sessions``), checks that no cell failed and that the figures were drawn, that
every prediction cell is still empty and every answer still hidden (only its **Show the
answer** button shows), then clicks the first button and checks that its answer appears.
Screenshots go to ``build/screenshots/``: ``NAME.png`` (the whole notebook after Run
All, answers hidden), ``NAME-figure.png`` (the first figure, one screen) and
``NAME-revealed.png`` (the first exercise after its button was clicked).

Chromium is Debian's package (``/usr/bin/chromium``, or ``FEWPOINTS_CHROMIUM``), driven by
Playwright's Python API; Playwright's own browser download is not used.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
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
BUDGET_S = float(os.environ.get("FEWPOINTS_NOTEBOOK_TIMEOUT", "300"))
# JupyterLab settings for the test: every cell rendered (no windowing, so figures far down
# the page exist in the page), no news or update pop-ups.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "scrollPastEnd": False,
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab on copies of the notebooks: (base URL, token)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (.ci/install-chromium installs it)")
    home = tmp_path_factory.mktemp("lab")
    work = home / "notebooks"
    work.mkdir()
    for nb in NOTEBOOKS:
        shutil.copy(nb, work / nb.name)
    settings = home / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    env.pop("MPLBACKEND", None)
    port, token = _free_port(), secrets.token_hex(16)
    log = (home / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited: {(home / 'lab.log').read_text()[-2000:]}")
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        else:
            pytest.fail("jupyter lab did not start within 60 s")
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


NOTEBOOK_STATE = """(name) => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    if (!panel || !panel.context || panel.context.path !== name || !panel.model) return null;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    // Empty cells (the students' prediction cells) are never given an execution count.
    const cells = Array.from(panel.model.cells).filter(
        (c) => c.type === 'code' && c.sharedModel.getSource().trim() !== '');
    const errors = [], stderr = [];
    for (const c of cells) {
        for (const o of c.outputs.toJSON()) {
            if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
            if (o.output_type === 'stream' && o.name === 'stderr') stderr.push(String(o.text));
        }
    }
    return {
        status: kernel ? kernel.status : 'none',
        executed: cells.filter((c) => c.executionCount !== null).length,
        cells: cells.length,
        errors, stderr,
    };
}"""

EXERCISES = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = Array.from(panel.model.cells);
    const tagged = (tag) => cells.filter((c) => (c.getMetadata('tags') || []).includes(tag));
    const text = (c) => c.outputs.toJSON().map((o) => JSON.stringify(o.text || (o.data && o.data['text/plain']) || '')).join('');
    const answers = Array.from(panel.content.node.querySelectorAll('.fewpoints-answer'));
    return {
        predictions: tagged('prediction').map((c) => ({source: c.sharedModel.getSource(), outputs: c.outputs.length})),
        solutions: tagged('solution').map((c) => ({kinds: c.outputs.toJSON().map((o) => o.output_type), text: text(c)})),
        buttons: panel.content.node.querySelectorAll('.fewpoints-reveal').length,
        answerText: answers.map((a) => a.innerText.trim()),
        debrief: panel.content.node.innerText.includes('Debrief.'),
    };
}"""

IMAGES = """() => Array.from(document.querySelectorAll('.jp-OutputArea-output img'))
    .map((img) => ({ok: img.complete && img.naturalWidth > 0, w: img.naturalWidth}))"""


SCROLLER = """() => { const p = window.jupyterapp.shell.currentWidget.content.node;
    const s = p.querySelector('.jp-WindowedPanel-outer') || p; """
SCROLL_TO_FIRST_FIGURE = """() => {
    const img = document.querySelector('.jp-OutputArea-output img');
    img.closest('.jp-Cell').scrollIntoView({block: 'start'});
}"""


def _server_idle(base: str, token: str, name: str) -> bool:
    sessions = _get(f"{base}/api/sessions?token={token}")
    states = [s["kernel"]["execution_state"] for s in sessions if s["path"].endswith(name)]
    return states == ["idle"]


def _wait(page, base, token, name, *, ran: bool) -> dict:
    """Poll until the kernel is ready (``ran=False``) or every code cell has run and all is idle."""
    deadline = time.monotonic() + BUDGET_S
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(NOTEBOOK_STATE, name)
        if state and state["status"] == "idle" and _server_idle(base, token, name):
            if not ran or state["executed"] == state["cells"] or state["errors"]:
                return state
        page.wait_for_timeout(500)
    pytest.fail(f"{name}: not done within {BUDGET_S:.0f} s (last state {state})")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(path, lab, browser):
    base, token = lab
    name = path.name
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{base}/lab/tree/{name}?token={token}&reset", wait_until="domcontentloaded")
        _wait(page, base, token, name, ran=False)
        page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); }")
        start = time.monotonic()
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_timeout(1000)
        state = _wait(page, base, token, name, ran=True)
        elapsed = time.monotonic() - start
        assert not state["errors"], f"{name}: {state['errors']}"
        assert state["executed"] == state["cells"]
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.jp-OutputArea-output img'))"
            ".every((img) => img.complete)"
        )
        images = page.evaluate(IMAGES)
        assert images and all(i["ok"] for i in images), f"{name}: figures not drawn: {images}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate(SCROLL_TO_FIRST_FIGURE)
        page.wait_for_timeout(300)
        page.screenshot(path=SHOTS / f"{path.stem}-figure.png")
        height = page.evaluate(SCROLLER + "return s.scrollHeight; }")
        page.set_viewport_size({"width": 1280, "height": min(int(height) + 150, 30_000)})
        page.evaluate(SCROLLER + "s.scrollTop = 0; }")
        page.wait_for_timeout(500)
        page.screenshot(path=SHOTS / f"{path.stem}.png")

        # Predict, then reveal: after Run All, no answer is shown, no prediction is written.
        ex = page.evaluate(EXERCISES)
        assert ex["predictions"] and all(
            p == {"source": "", "outputs": 0} for p in ex["predictions"]
        ), f"{name}: prediction cells not empty: {ex['predictions']}"
        assert len(ex["solutions"]) == len(ex["predictions"]) == ex["buttons"]
        for s in ex["solutions"]:
            assert s["kinds"] == ["execute_result"] and "is hidden" in s["text"], s
        assert ex["answerText"] == [""] * ex["buttons"], (
            f"{name}: an answer shows: {ex['answerText']}"
        )
        assert not ex["debrief"], f"{name}: the teacher's debrief is in the student's edition"

        page.set_viewport_size({"width": 1280, "height": 900})
        button = page.locator(".fewpoints-reveal").first
        button.scroll_into_view_if_needed()
        button.click()
        answer = page.locator(".fewpoints-answer").first
        # The answer's code shows at once; wait for what it prints (or draws) after it.
        printed = '[data-mime-type="application/vnd.jupyter.stdout"], img'
        answer.locator(printed).first.wait_for(timeout=BUDGET_S * 1000)
        # The answer runs inside the button's callback, where the kernel's status is not a
        # reliable signal: wait until what it shows has stopped growing for 3 s.
        deadline, last, steady = time.monotonic() + BUDGET_S, None, 0
        while steady < 3 and time.monotonic() < deadline:
            now = answer.inner_text()
            steady = steady + 1 if now == last else 0
            last = now
            page.wait_for_timeout(1000)
        _wait(page, base, token, name, ran=True)
        shown = answer.locator(printed).first.inner_text()
        assert "reveal" not in shown and re.search(r"\d", shown), (
            f"{name}: no answer shown: {shown!r}"
        )
        assert not page.evaluate(NOTEBOOK_STATE, name)["errors"], f"{name}: the answer failed"
        page.locator(".fewpoints-reveal").first.evaluate(
            "(b) => b.closest('.jp-Cell').previousElementSibling.previousElementSibling.scrollIntoView({block: 'start'})"
        )
        page.wait_for_timeout(300)
        page.screenshot(path=SHOTS / f"{path.stem}-revealed.png")
        print(
            f"{name}: ran in {elapsed:.1f} s in the browser; {len(images)} figures; "
            f"{ex['buttons']} answers hidden until clicked"
        )
    finally:
        page.close()
