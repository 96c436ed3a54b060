"""The briefing pack: recipes, captions from results, the CLI's files, fonts, reproducibility."""

from __future__ import annotations

import json
import re

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
    world = fewpoints.make_world("tiny", seed=3)
    return B.build_briefing(world, seed=3)


def _names():
    return [r for r in B.RECIPES if r.available()]


def test_cli_writes_every_file_and_nothing_else(runs, capsys):
    out = runs[0]
    files = sorted(p.name for p in out.iterdir() if p.name != MANIFEST)
    # the manifest lists exactly what was written, which is what --force may replace
    assert json.loads((out / MANIFEST).read_text())["entries"] == files
    stems = sorted({p.rsplit(".", 1)[0] for p in files} - {"captions", "briefing"})
    assert len(stems) == len(_names())
    expected = sorted(
        [f"{s}.{ext}" for s in stems for ext in ("png", "svg", "pdf")]
        + ["briefing.pdf", "captions.md"]
    )
    assert files == expected
    assert all((out / f).stat().st_size > 1000 for f in files)
    # written through a temporary folder that is gone afterwards
    assert sorted(p.name for p in out.parent.iterdir()) == ["a", "b"]


def test_pdfs_embed_their_fonts_and_svgs_keep_text(runs):
    for pdf in runs[0].glob("*.pdf"):
        data = pdf.read_bytes()
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
    assert f"single out {B._pct(curve.loc[4, 'unicity'])} of phones" in by["how-few-points"].title
    assert f"Two points already single out {B._pct(curve.loc[2, 'unicity'])}" in (
        by["how-few-points"].caption
    )
    pop = by["population"].result
    far = pop.extrapolation.iloc[-1]
    assert f"gives {B._pct(far['model'])} at" in by["population"].caption
    naming = by["naming"].result
    best = naming.loc[naming["share_named"].idxmax()]
    assert f"link {B._pct(best['share_named'])} of the people who post" in by["naming"].title
    pu = by["what-protects"].result
    safest = pu["unicity"].min()
    assert f"at least {B._pct(safest)} of phones" in by["what-protects"].title
    for row in pu[pu["unicity"].isna()].itertuples():
        assert (
            f"{row.utility_error:.2f} at epsilon = {row.epsilon:g}" in by["what-protects"].caption
        )
    story = by["one-week"].result
    assert f"phone {story.device_id}" in by["one-week"].caption
    if len(story.sensitive):  # the caption names the place the map stars
        starred = fewpoints.figures.top_sensitive_place(story.sensitive)["name"]
        assert f"the starred one being {starred}," in by["one-week"].caption
    table = by["home-work"].result
    hw = table[(table["measure"] == "home/work") & table["share_unique"].notna()].iloc[0]
    assert f"single out {B._pct(hw['share_unique'])} of phones" in by["home-work"].title
    sweep = by["coarsening"].result.table
    # Call records are coarsened by merged antennas (v antennas x h hours), never squares.
    assert sweep["cell_km"].isna().all()
    mid = sweep[(sweep["merge_v"] == 2.0) & (sweep["h"] == 2.0) & (sweep["n_points"] == 4)]
    assert f"single out {B._pct(mid['unicity'].iloc[0])} of phones with 4 points" in (
        by["coarsening"].title
    )
    assert "groups of 2 antennas" in by["coarsening"].title
    assert "merging neighbouring antennas" in by["coarsening"].caption


def test_briefing_pdf_has_cover_figures_and_methods(runs, figs):
    data = (runs[0] / "briefing.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages == len(figs) + 2  # cover, one page per figure, methods and references


def test_existing_output_is_refused_without_force(tmp_path, capsys):
    out = tmp_path / "pack"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["briefing", "--preset", "tiny", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err and "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_force_replaces_the_folder(tmp_path, figs):
    out = tmp_path / "pack"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(fewpoints.FewpointsError, match="not empty"):
        B.write_briefing(figs[:1], out)
    written = B.write_briefing(figs[:1], out, force=True)
    assert not (out / "old.txt").exists()
    assert sorted(p.name for p in written) == sorted(
        [f"{figs[0].name}.{e}" for e in ("png", "svg", "pdf")] + ["briefing.pdf", "captions.md"]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]  # no temporary folder left


def test_unknown_preset_is_one_line(tmp_path, capsys):
    assert main(["briefing", "--preset", "nope", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown preset" in err[0]
    assert not (tmp_path / "x").exists()


def test_recipes_needing_missing_modules_are_skipped(figs):
    missing = B.Recipe("later", lambda ctx: None, needs=("fewpoints.no_such_module",))
    assert not missing.available()
    world = fewpoints.make_world("tiny", seed=3)
    assert B.build_briefing(world, seed=3, recipes=[missing]) == []


def test_write_briefing_refuses_nothing_to_write(tmp_path):
    with pytest.raises(fewpoints.FewpointsError, match="no figures"):
        B.write_briefing([], tmp_path / "empty")
    assert not (tmp_path / "empty").exists()
