"""The briefing pack: recipes, captions from results, the CLI's files, fonts, reproducibility."""

from __future__ import annotations

import json
import re
import zlib
from html.parser import HTMLParser

import matplotlib
import pytest

import fewpoints
import fewpoints.figures
from fewpoints import briefing as B
from fewpoints.cli import main
from fewpoints.io import MANIFEST

matplotlib.use("Agg")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The CLI run twice on the tiny preset with one seed (about 10 s each)."""
    root = tmp_path_factory.mktemp("briefing")
    outs = []
    for run in ("a", "b"):
        out = root / run
        assert (
            main(["briefing", "--preset", "tiny", "--seed", "3", "--out", str(out), "--quiet"]) == 0
        )
        outs.append(out)
    return outs


@pytest.fixture(scope="module")
def figs():
    world = fewpoints.make_world("tiny", rng=3)
    return B.build_briefing(world, rng=3)


def _names():
    return [r for r in B.RECIPES if r.available()]


def test_cli_writes_every_file_and_nothing_else(runs, capsys):
    out = runs[0]
    files = sorted(p.name for p in out.iterdir() if p.name != MANIFEST)
    # the manifest lists exactly what was written, which is what --force may replace
    assert json.loads((out / MANIFEST).read_text())["entries"] == files
    stems = sorted({p.rsplit(".", 1)[0] for p in files} - {"captions", "briefing", "results"})
    assert len(stems) == len(_names())
    expected = sorted(
        [f"{s}.{ext}" for s in stems for ext in ("png", "svg", "pdf")]
        + ["briefing.pdf", "briefing.html", "captions.md", "results.json"]
    )
    assert files == expected
    assert all((out / f).stat().st_size > 1000 for f in files)
    # written through a temporary folder that is gone afterwards
    assert sorted(p.name for p in out.parent.iterdir()) == ["a", "b"]


def _pdf_text(path) -> bytes:
    """A PDF's bytes with every Flate stream (object streams included) decompressed."""
    data = path.read_bytes()
    out = [data]
    for m in re.finditer(rb"stream\r?\n", data):
        try:
            out.append(zlib.decompressobj().decompress(data[m.end() : m.end() + 10_000_000]))
        except zlib.error:
            pass
    return b"".join(out)


def test_pdfs_embed_their_fonts_and_svgs_keep_text(runs):
    for pdf in runs[0].glob("*.pdf"):
        data = _pdf_text(pdf)
        assert b"/FontFile2" in data, pdf.name  # TrueType (Type 42) embedded
        assert b"/Type3" not in data, pdf.name
    for svg in runs[0].glob("*.svg"):
        text = svg.read_text()
        assert "<text" in text and "Synthetic data - fewpoints" in text


def test_same_seed_same_png_and_svg_bytes(runs):
    a, b = runs
    for f in sorted(a.glob("*.png")) + sorted(a.glob("*.svg")):
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name
    assert (a / "captions.md").read_text().replace("/a", "/b") == (b / "captions.md").read_text()


def test_captions_md_has_every_title_caption_and_alt_text(runs, figs):
    md = (runs[0] / "captions.md").read_text()
    assert len(re.findall(r"^## Figure \d+\. ", md, flags=re.M)) == len(figs)
    for fig in figs:
        assert fig.title in md and fig.caption in md and f"**Alt text.** {fig.alt}" in md
        assert f"![{fig.alt}]({fig.name}.png)" in md


def test_every_figure_has_a_caption_alt_text_and_the_synthetic_caveat(figs):
    assert [f.name.split("-", 1)[1] for f in figs] == [r.name for r in _names()]
    for fig in figs:
        assert fig.title.endswith(".") and len(fig.title) < 200
        assert B.SYNTHETIC in fig.caption
        assert len(fig.alt) > 80 and any(c.isdigit() for c in fig.alt)
        assert any(c.isdigit() for c in fig.headline)


def test_caption_numbers_come_from_the_result(figs):
    by = {f.name.split("-", 1)[1]: f for f in figs}
    curve = by["how-few-points"].result.set_index("n_points")
    assert f"single out {B.pct(curve.loc[4, 'unicity'])} of phones" in by["how-few-points"].title
    assert f"Two points already single out {B.pct(curve.loc[2, 'unicity'])}" in (
        by["how-few-points"].caption
    )
    pop = by["population"]
    far = pop.result.curve.extrapolation.iloc[-1]
    assert f"{B.pct(far['model'])} (a convex curve fitted to the subsets)" in pop.caption
    measured, model = fewpoints.attacks.population.scale_tables()
    rows = measured.query("axis == 'subsets' and n_points == 4").sort_values("n_devices")
    small, big = rows.iloc[0], rows.iloc[-1]
    # The title states the shipped measurements, and says "falls" only if they fall.
    count = fewpoints.figures.fmt_round(big["n_devices"])
    assert f"{B.pct(big['unicity'])} of {count} phones" in pop.title
    drop, high = small["unicity"] - big["unicity"], big["unicity"] >= 1 - B.FEW
    assert pop.title.startswith("A bigger crowd barely hides anyone") == (high and drop < B.FLAT)
    assert pop.title.startswith("Unicity falls") == (not high or drop >= 2 * B.FLAT)
    assert f"{drop * 100:.1f} points lower" in pop.caption
    paper = model.query("n_points == 4 and n_devices == 6e7")["unicity"].iloc[0]
    assert f"{B.pct(paper)} (the published model of Farzanehfar et al." in pop.caption
    # Its last live point is the whole world: figure 1's 4-point test, the same number.
    raw = by["how-few-points"].facts["raw data, 4 points"]
    assert pop.result.live["unicity"].iloc[-1] == raw["unicity"]
    assert pop.facts["raw data, 4 points"] == raw
    naming = by["naming"].result
    best = naming.loc[naming["share_named"].idxmax()]
    assert f"link {B.pct(best['share_named'])} of the people who post" in by["naming"].title
    pu = by["what-protects"].result
    for row in pu[pu["unicity"].isna()].itertuples():
        assert (
            f"{B._err(row.utility_error)} at epsilon = {row.epsilon:g}"
            in by["what-protects"].caption
        )
    story = by["one-week"].result
    assert f"phone {story.device_id}" in by["one-week"].caption
    if len(story.sensitive):  # the caption names the place the map stars
        starred = fewpoints.figures.top_sensitive_place(story.sensitive)["name"]
        assert f"the starred one being {starred}," in by["one-week"].caption
    table = by["home-work"].result
    hw = table[(table["measure"] == "home/work") & table["share_unique"].notna()].iloc[0]
    assert f"single out {B.pct(hw['share_unique'])} of phones" in by["home-work"].title
    sweep = by["coarsening"].result.table
    # Call records are coarsened by merged antennas (v antennas x h hours), never squares.
    assert sweep["cell_km"].isna().all()
    mid = sweep[(sweep["merge_v"] == 2.0) & (sweep["h"] == 2.0) & (sweep["n_points"] == 4)]
    assert f"single out {B.pct(mid['unicity'].iloc[0])} of phones with 4 points" in (
        by["coarsening"].title
    )
    assert "groups of 2 antennas" in by["coarsening"].title
    assert "merging neighbouring antennas" in by["coarsening"].caption


def test_briefing_pdf_is_tagged_with_pages_bookmarks_and_alt_text(runs, figs):
    data = _pdf_text(runs[0] / "briefing.pdf")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    # cover, summary, one page per figure (and the release table), methods and references
    assert pages >= len(figs) + 3
    assert b"/StructTreeRoot" in data and b"/MarkInfo" in data  # tagged (PDF/UA)
    assert b"/Outlines" in data  # bookmarks from the headings
    assert data.count(b"/Alt") >= len(figs)  # alt text attached to each figure, not printed
    assert b"(fewpoints contributors)" in data or b"fewpoints contributors" in data


class _Page(HTMLParser):
    """What the accessibility checks need from briefing.html."""

    def __init__(self):
        super().__init__()
        self.lang, self.imgs, self.headings, self.refs = None, [], [], []
        self.print_css = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "img":
            self.imgs.append(a)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        for key in ("src", "href"):
            if key in a and tag in ("img", "script", "link", "source", "iframe"):
                self.refs.append(a[key])

    def handle_data(self, data):
        if "@media print" in data:
            self.print_css = True


def test_briefing_html_is_one_offline_accessible_page(runs, figs):
    page = (runs[0] / "briefing.html").read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(page)
    assert parsed.lang == "en" and parsed.print_css
    assert len(parsed.imgs) == len(figs)
    for img, fig in zip(parsed.imgs, figs, strict=True):
        assert img["alt"] == fig.alt  # the figure's alt text, attached to its image
        assert img["src"].startswith("data:image/")  # inline: the file works offline
    assert all(r.startswith("data:") for r in parsed.refs)  # nothing loaded from elsewhere
    h = parsed.headings
    assert h[0] == 1 and h.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(h, h[1:], strict=False))  # no level skipped
    assert "<script" not in page
    for fig in figs:
        assert f">{fig.title}<".replace("'", "&#x27;").replace('"', "&quot;") in page


def test_summary_page_glossary_version_date_and_command(runs, figs):
    page = (runs[0] / "briefing.html").read_text(encoding="utf-8")
    summary = page[page.index('id="summary"') : page.index(f'id="{figs[0].name}"')]
    numbers = B.summary_numbers(figs)
    assert len(numbers) == 3
    for k in numbers:
        assert B.pct(k.value) in summary and k.interval() in summary
    assert "synthetic data" in summary
    for term, _ in B.GLOSSARY:
        assert f"<dt>{term}</dt>" in summary
    for term in (
        "Point",
        "Unique",
        "Anonymity set",
        "Pseudonym",
        "Differential privacy",
        "Epsilon",
    ):
        assert term in summary
    assert fewpoints.__version__ in page
    assert "fewpoints briefing --preset tiny --seed 3" in page
    assert re.search(r"run on \d{4}-\d\d-\d\d", page)
    # "unicity" is defined (glossary) before the cover uses it, or not used there at all
    cover = page[page.index("<body>") : page.index('id="summary"')]
    assert "unicity" not in cover.lower().replace("unicity falls", "")


def test_context_cites_each_fact_and_states_no_open_question_as_settled():
    text = " ".join(B.COVER)
    for key, _, _ in B.CONTEXT_SOURCES:
        assert f"[{key}]" in text  # every context fact carries its source
    assert "Secret Service" in text and "E-Government Act" in text  # what OIG-23-61 covers
    assert "avoids that step" not in text and "has not been decided" in text
    assert "Fourth Amendment Is Not For Sale Act" in text and "Gravy Analytics" in text


# --- one world, one set of numbers ---------------------------------------------------


def _one(values, what):
    values = set(values)
    assert len(values) == 1, f"{what} differs: {sorted(values)}"
    return values.pop()


def test_a_number_stated_twice_is_the_same_number(runs):
    """captions.md and results.json: the share at p = 4, the raw-data share, the coarsened shares."""
    md = (runs[0] / "captions.md").read_text(encoding="utf-8")
    res = json.loads((runs[0] / "results.json").read_text(encoding="utf-8"))
    figures = {f["name"].split("-", 1)[1]: f for f in res["figures"]}
    # The results: every share that several figures state is one number.
    stated = {}
    for f in res["figures"]:
        for key, fact in f["facts"].items():
            if fact:
                stated.setdefault(key, []).append((f["name"], fact["unicity"]))
    for key, where in stated.items():
        _one([v for _, v in where], f"{key} ({', '.join(n for n, _ in where)})")
    raw = stated["raw data, 4 points"]
    assert {n.split("-", 1)[1] for n, _ in raw} >= {
        "how-few-points", "coarsening", "population", "what-protects"
    }  # fmt: skip
    raw4 = raw[0][1]
    # ... the summary page states the same numbers as the figures it cites.
    for k in res["summary"]:
        if k["label"] in stated:
            assert k["value"] == stated[k["label"]][0][1], k["label"]
    assert res["summary"][0]["value"] == raw4
    # ... and so does the text: every sentence that states the raw share says the same.
    sections = re.split(r"^## ", md, flags=re.M)
    by_fig = {sec.split(". ", 1)[0]: sec for sec in sections}
    pct = B.pct(raw4)
    found = [
        *re.findall(r"four single out (\S+%|over 99%)", by_fig["Figure 1"]),
        *re.findall(r"falls from (\S+%|over 99%) as recorded", by_fig["Figure 2"]),
        *re.findall(r"Raw data: (\S+%|over 99%)\.", by_fig["Figure 7"]),
        *re.findall(r"raw data: (\S+%|over 99%) singled out", by_fig["Figure 7"]),
        *re.findall(r"the whole city is (\S+%|over 99%), figure 1", by_fig["Figure 3"]),
        *re.findall(r"^- (\S+%|over 99%) of phones are singled out by 4", md, flags=re.M),
    ]
    assert len(found) >= 6 and _one(found, "the raw share in captions.md") == pct
    # The coarsened and other releases: each share in figure 7's text is its result.
    pu = figures["what-protects"]["facts"]
    alt = by_fig["Figure 7"]
    for setting, value in re.findall(
        r"([a-zA-Z][^:;.]*?): (\S+%|over 99%|under 1%) singled out", alt
    ):
        key = f"release: {setting.strip()}"
        if key in pu:
            assert value == B.pct(pu[key]["unicity"]), setting
    # Figure 2's marked coarsening is stated in its title from the same row.
    cf = figures["coarsening"]["facts"]
    (mid_key,) = [k for k in cf if k != "raw data, 4 points"]
    assert (
        f"single out {B.pct(cf[mid_key]['unicity'])} of phones with 4 points"
        in (by_fig["Figure 2"])
    )
    # The summary's third number is figure 7's row, in words and in value.
    third = res["summary"][-1]
    assert third["value"] == pu[third["label"]]["unicity"]
    assert f"{B.pct(third['value'])})" in md or B.pct(third["value"]) in md


def test_no_device_samples_and_the_raw_share_matches_a_direct_unicity(figs):
    world = fewpoints.make_world("tiny", rng=3)
    ctx = B.BriefingContext(world, sizes=B.sizes_for(len(world.people)), seed=3)
    direct = fewpoints.unicity(
        ctx.hourly_index, 4, n_targets=ctx.sizes.n_targets, rng=B.attack_rng(3)
    )
    by = {f.name.split("-", 1)[1]: f for f in figs}
    assert by["how-few-points"].facts["raw data, 4 points"]["unicity"] == direct.value
    pu = by["what-protects"].result
    assert int(pu.loc[pu["transform"] == "none", "n_devices"].iloc[0]) == ctx.hourly_index.n_devices
    assert B.Sizes().max_devices is None and B.sizes_for(100_000).max_devices is None


def test_titles_claim_only_what_was_tried(figs):
    by = {f.name.split("-", 1)[1]: f for f in figs}
    fig = by["what-protects"]
    t = fig.result
    released = t[t["unicity"].notna() & (t["transform"] != "none")]
    assert f"Of the {len(released)} releases" in fig.title or (
        f"Every one of the {len(released)} releases" in fig.title
    )
    few = released[released["unicity"] < B.FEW]
    if len(few):
        assert f"the {len(few)} that single out fewer than" in fig.title
    else:
        assert f"at least {B.pct(released['unicity'].min())}" in fig.title


def test_every_figure_reads_at_print_size(figs):
    """No type under 8 pt in any of the briefing's figures."""
    for fig in figs:
        mfig = fig.figure()
        mfig.canvas.draw()
        sizes = [
            t.get_fontsize() for t in mfig.findobj(matplotlib.text.Text) if t.get_text().strip()
        ]
        matplotlib.pyplot.close(mfig)
        assert min(sizes) >= 8, (fig.name, min(sizes))


def test_existing_output_is_refused_without_force(tmp_path, capsys):
    out = tmp_path / "pack"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["briefing", "--preset", "tiny", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err and "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_force_replaces_what_fewpoints_wrote_and_refuses_anything_else(tmp_path, figs):
    out = tmp_path / "pack"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(fewpoints.FewpointsError, match="not empty"):
        B.write_briefing(figs[:1], out)
    # --force never deletes a file fewpoints did not write: it names it and refuses
    with pytest.raises(fewpoints.FewpointsError, match=r"did not write \(old.txt\)"):
        B.write_briefing(figs[:1], out, force=True)
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    (out / "old.txt").unlink()
    written = B.write_briefing(figs[:1], out, force=True)
    assert sorted(p.name for p in written) == B.pack_files(figs[:1])
    assert sorted(p.name for p in written) == sorted(
        [f"{figs[0].name}.{e}" for e in ("png", "svg", "pdf")]
        + ["briefing.pdf", "briefing.html", "captions.md", "results.json"]
    )
    # a pack of its own is replaced by --force, whatever figures the new one has
    again = B.write_briefing(figs[:2], out, force=True)
    assert sorted(p.name for p in out.iterdir() if p.name != MANIFEST) == B.pack_files(figs[:2])
    assert sorted(p.name for p in again) == B.pack_files(figs[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]  # no temporary folder left


def test_the_pack_files_are_known_before_any_work(figs):
    assert B.pack_files() == B.pack_files(figs)


def test_a_pack_from_before_manifests_is_replaced_and_anything_else_refused_before_work(
    tmp_path, figs, capsys, monkeypatch
):
    out = tmp_path / "pack"
    B.write_briefing(figs[:1], out)
    (out / MANIFEST).unlink()  # as an older fewpoints wrote it
    assert sorted(p.name for p in B.write_briefing(figs[:1], out, force=True)) == B.pack_files(
        figs[:1]
    )
    (out / MANIFEST).unlink()
    (out / "notes.txt").write_text("mine")
    generated = []
    monkeypatch.setattr(
        "fewpoints.cli.loader.generate_world", lambda *a, **k: generated.append(1) or 1 / 0
    )
    assert main(["briefing", "--preset", "tiny", "--out", str(out), "--force", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "did not write (notes.txt)" in err and err.count("\n") == 1
    assert generated == []  # refused before the world was made
    assert (out / "notes.txt").read_text() == "mine"


def test_unknown_preset_is_one_line(tmp_path, capsys):
    assert main(["briefing", "--preset", "nope", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown preset" in err[0]
    assert not (tmp_path / "x").exists()


def test_recipes_needing_missing_modules_are_skipped(figs):
    missing = B.Recipe("later", lambda ctx: None, needs=("fewpoints.no_such_module",))
    assert not missing.available()
    world = fewpoints.make_world("tiny", rng=3)
    assert B.build_briefing(world, rng=3, recipes=[missing]) == []


def test_write_briefing_refuses_nothing_to_write(tmp_path):
    with pytest.raises(fewpoints.FewpointsError, match="no figures"):
        B.write_briefing([], tmp_path / "empty")
    assert not (tmp_path / "empty").exists()
