"""The audit report: its files, measured on the file (never synthetic), each number once, no device listed."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from fewpoints import audit as A

# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(tiny_audits, tmp_path_factory):
    out = tmp_path_factory.mktemp("audit") / "report"
    files = A.write_audit(tiny_audits["pings"], out, command="fewpoints audit tiny-pings.csv")
    return out, files


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.srcs, self.text, self.style = [], [], [], False

    def handle_endtag(self, tag):
        self.style = self.style and tag != "style"

    def handle_starttag(self, tag, attrs):
        self.style = tag == "style"
        attrs = dict(attrs)
        if tag == "img":
            self.imgs.append(attrs)
        for k in ("src", "href"):
            if k in attrs:
                self.srcs.append(attrs[k])

    def handle_data(self, data):
        if not self.style:
            self.text.append(data)


def test_report_files(report):
    out, files = report
    names = sorted(f.name for f in files)
    stems = [
        "1-how-few-points", "2-coarsening", "3-home-work", "4-population",
        "5-per-device-risk", "6-sensitive-places",
    ]  # fmt: skip
    expected = sorted(
        [f"{s}.{e}" for s in stems for e in ("png", "svg", "pdf")]
        + ["audit.json", "captions.md", "report.html", "report.pdf"]
    )
    assert names == expected
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == expected
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_report_says_measured_on_the_file_never_synthetic(report):
    out, _ = report
    page = _Page()
    page.feed((out / "report.html").read_text())
    text = " ".join(page.text)
    assert "Measured on tiny-pings.csv" in text
    assert not re.search(r"synthetic", text, re.I)
    for stem in ("1-how-few-points", "2-coarsening", "5-per-device-risk"):
        svg = (out / f"{stem}.svg").read_text()
        assert "Measured on tiny-pings.csv - fewpoints audit" in svg
        assert "ynthetic" not in svg
    captions = (out / "captions.md").read_text()
    assert "ynthetic" not in captions
    # every picture inline, with alt text; nothing fetched from the network
    assert len(page.imgs) == 6 and all(len(i.get("alt", "")) > 80 for i in page.imgs)
    assert all(s.startswith(("data:", "#")) for s in page.srcs)
    # the limits are named
    assert "What this report cannot tell" in text
    assert "A sample of a larger release" in text and "Clock and accuracy errors" in text


def test_report_states_each_number_once(report, tiny_audits):
    out, _ = report
    a = tiny_audits["pings"]
    data = json.loads((out / "audit.json").read_text())
    assert data["measured_on"] == "tiny-pings.csv" and data["synthetic"] is False
    raw = data["unicity"][[r["n_points"] for r in data["unicity"]].index(4)]["unicity"]
    summary = data["summary"][0]
    assert summary["value"] == raw == a.raw4.unicity
    row = data["coarsening"]["table"][0]
    assert row["cell_km"] is None and row["time_bin"] is None and row["unicity"] == raw
    facts = [f["facts"].get("as recorded, 4 points") for f in data["figures"]]
    assert [f["unicity"] for f in facts if f] == [raw, raw]
    # the captions print the same share
    from fewpoints.briefing import pct

    cap = (out / "captions.md").read_text()
    assert f"four single out {pct(raw)}" in cap and f"4 points single out {pct(raw)}" in cap


def test_report_lists_no_device(report, tiny_world):
    out, _ = report
    ids = set(tiny_world.observations["pings"]["device_id"].astype(str))
    for f in out.iterdir():
        if f.suffix in (".json", ".md", ".html", ".svg"):
            text = f.read_text()
            found = [d for d in ids if re.search(rf"\b{re.escape(d)}\b", text)]
            assert not found, (f.name, found[:3])
