"""Every old name of the API and the CLI still works, warns once naming the new one, and gives
the same answer as the new name (docs/deprecations.md lists them).

The suite turns :class:`~fewpoints.common.FewpointsDeprecationWarning` into an error
(pyproject.toml), so this is the only file that uses an old name.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fewpoints
from fewpoints import anonymize as A
from fewpoints.attacks import (
    explain,
    link_posts,
    naming_curve,
    resolution_sweep,
    unicity_curve,
)
from fewpoints.attacks.population import population_curve, population_table
from fewpoints.attacks.population.marginals import fit_marginals
from fewpoints.attacks.population.model import marginals_unicity
from fewpoints.cli import main
from fewpoints.common import FewpointsDeprecationWarning, renamed
from fewpoints.synth import names

DOC = Path(__file__).resolve().parents[1] / "docs" / "deprecations.md"


def old(call, name: str, new: str):
    """``call()`` under an old name: exactly one warning, naming the old and the new name."""
    with pytest.warns(FewpointsDeprecationWarning) as seen:
        out = call()
    ours = [w for w in seen if issubclass(w.category, DeprecationWarning)]
    assert len(ours) == 1, [str(w.message) for w in ours]
    message = str(ours[0].message)
    assert name in message and new in message and "0.2.0" in message
    assert ours[0].filename == __file__  # the warning points at the caller's line
    return out


@pytest.fixture(scope="module")
def pings(tiny_world):
    return tiny_world.observations["pings"]


def test_make_world_seed_is_rng(tiny_world):
    world = old(lambda: fewpoints.make_world("tiny", seed=11), "seed=", "rng=")
    assert world.traces.equals(tiny_world.traces)
    assert world.params == tiny_world.params


def test_make_world_takes_a_generator_and_records_the_seed_drawn():
    a = fewpoints.make_world("tiny", rng=np.random.default_rng(5), days=2)
    seed = int(np.random.default_rng(5).integers(2**63))
    assert a.params.seed == seed
    assert a.traces.equals(fewpoints.make_world("tiny", rng=seed, days=2).traces)


def test_curves_and_sweeps_n_points_is_n_points_range(pings):
    new = unicity_curve(pings, n_points_range=[1, 2], n_targets=50, rng=0)
    got = old(
        lambda: unicity_curve(pings, n_points=[1, 2], n_targets=50, rng=0),
        "n_points=",
        "n_points_range=",
    )
    pd.testing.assert_frame_equal(got, new)
    pd.testing.assert_frame_equal(unicity_curve(pings, [1, 2], n_targets=50, rng=0), new)

    kw = dict(cell_km=(None, 2.0), time_bin=("1h",), n_targets=30, rng=1)
    new = resolution_sweep(pings, n_points_range=(2,), **kw)
    got = old(lambda: resolution_sweep(pings, n_points=(2,), **kw), "n_points=", "n_points_range=")
    pd.testing.assert_frame_equal(got.table, new.table)

    new = population_table(pings, [20, 40], n_points_range=2, n_targets=20, rng=2)
    got = old(
        lambda: population_table(pings, [20, 40], n_points=2, n_targets=20, rng=2),
        "n_points=",
        "n_points_range=",
    )
    pd.testing.assert_frame_equal(got.table, new.table)


@pytest.mark.slow
def test_marginals_unicity_n_points_is_n_points_range(tiny_world):
    cdr = tiny_world.observations["cdr"]
    m = fit_marginals(cdr)
    kw = dict(n_targets=200, rng=3)
    new = marginals_unicity(m, tiny_world.antennas, [1_000], n_points_range=(2,), **kw)
    got = old(
        lambda: marginals_unicity(m, tiny_world.antennas, [1_000], n_points=(2,), **kw),
        "n_points=",
        "n_points_range=",
    )
    pd.testing.assert_frame_equal(got.table, new.table)


def test_posts_n_posts_is_n_points(tiny_world, pings):
    new = link_posts(pings, tiny_world.posts, n_points=2)
    got = old(lambda: link_posts(pings, tiny_world.posts, n_posts=2), "n_posts=", "n_points=")
    pd.testing.assert_frame_equal(got, new)
    w = tiny_world
    new = naming_curve(pings, w.posts, w.people, n_points_range=(1, 2))
    got = old(
        lambda: naming_curve(pings, w.posts, w.people, n_posts=(1, 2)),
        "n_posts=",
        "n_points_range=",
    )
    pd.testing.assert_frame_equal(got, new)


def test_space_names(tiny_world, pings):
    cdr = tiny_world.observations["cdr"]
    new = A.merge_antennas(cdr, tiny_world.antennas, merge_v=3, rng=4)
    got = old(lambda: A.merge_antennas(cdr, tiny_world.antennas, v=3, rng=4), "v=", "merge_v=")
    pd.testing.assert_frame_equal(got, new)
    # sigma_m was in metres: 200 m is sigma_km=0.2, the same noise draw for draw.
    new = A.add_noise(pings, sigma_km=0.2, rng=5)
    got = old(lambda: A.add_noise(pings, sigma_m=200, rng=5), "sigma_m=", "sigma_km=")
    pd.testing.assert_frame_equal(got, new)


def test_explain_model_is_observe(tiny_world, pings):
    device = str(pings["device_id"].iloc[0])
    new = explain(tiny_world, device, observe="pings", rng=6)
    got = old(lambda: explain(tiny_world, device, model="pings", rng=6), "model=", "observe=")
    assert str(got) == str(new)


@pytest.mark.slow
def test_build_briefing_and_audit_seed_is_rng(tiny_world):
    from fewpoints.audit import AuditSizes, audit
    from fewpoints.briefing import BriefingFigure, Recipe, build_briefing

    seen = []

    def record(ctx):
        seen.append(ctx.seed)
        return BriefingFigure("seed", "", "", "", "", draw=lambda ax: ax)

    one = [Recipe("seed", record)]
    build_briefing(tiny_world, rng=7, recipes=one)
    old(lambda: build_briefing(tiny_world, seed=7, recipes=one), "seed=", "rng=")
    assert seen == [7, 7]

    cdr = tiny_world.observations["cdr"]
    sizes = AuditSizes(n_targets=50, curve_points=(1, 2), population_targets=50, risk_points=2)
    new = audit(cdr, sizes=sizes, rng=8)
    got = old(lambda: audit(cdr, sizes=sizes, seed=8), "seed=", "rng=")
    assert got.seed == new.seed == 8
    pd.testing.assert_frame_equal(got.curve, new.curve)


def test_dask_names(tmp_path, tiny_world):
    pytest.importorskip("dask")
    pytest.importorskip("pyarrow")
    from fewpoints.scale import dask_unicity, read_traces_dask

    folder = tmp_path / "w"
    tiny_world.write(folder, parquet=True)
    new = read_traces_dask(folder, observe="pings")
    got = old(lambda: read_traces_dask(folder, model="pings"), "model=", "observe=")
    assert len(got) == len(new)
    a, _ = dask_unicity(new, n_points_range=[2], n_targets=20, rng=9)
    b, _ = old(lambda: dask_unicity(new, ps=[2], n_targets=20, rng=9), "ps=", "n_points_range=")
    assert a[0].value == b[0].value
    pd.testing.assert_frame_equal(a[0].targets, b[0].targets)


def test_names_take_rng_last_as_a_keyword():
    for call, name in (
        (lambda g: names.street_names(5, rng=g), "street_names"),
        (lambda g: names.town_names(5, rng=g), "town_names"),
        (lambda g: names.place_names("school", 5, rng=g), "place_names"),
        (lambda g: names.make_vocabulary(n_given=5, n_family=5, rng=g)[1], "make_vocabulary"),
    ):
        new = call(np.random.default_rng(1))
        oldcall = {
            "street_names": lambda g: names.street_names(g, 5),
            "town_names": lambda g: names.town_names(g, 5),
            "place_names": lambda g: names.place_names("school", 5, g),
            "make_vocabulary": lambda g: names.make_vocabulary(g, n_given=5, n_family=5)[1],
        }[name]
        got = old(lambda f=oldcall: f(np.random.default_rng(1)), name, "rng=")
        assert list(got) == list(new)
    vocab = np.array(["Ana", "Ben", "Cy"], dtype=object)
    new = names.draw_names(vocab, 9, rng=np.random.default_rng(2))
    got = old(lambda: names.draw_names(vocab, 9, np.random.default_rng(2)), "draw_names", "rng=")
    assert list(got) == list(new)


def test_both_names_at_once_is_refused():
    @renamed(old_name="new_name")
    def f(*, new_name=0):
        return new_name

    with pytest.raises(TypeError, match="give new_name= only"):
        f(old_name=1, new_name=2)
    with pytest.warns(FewpointsDeprecationWarning):
        assert f(old_name=3) == 3


def _cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory, tiny_world):
    out = tmp_path_factory.mktemp("dep") / "world"
    tiny_world.write(out)
    return out


@pytest.mark.parametrize(
    "new, old_argv",
    [
        (
            ["unicity", "{w}", "--observe", "pings", "--points", "2", "--targets", "20"],
            ["unicity", "{w}", "--model", "pings", "--points", "2", "--targets", "20"],
        ),
        (
            ["link", "{w}", "--points", "2", "--observe", "pings", "--examples", "1"],
            ["link", "{w}", "--posts", "2", "--observe", "pings", "--examples", "1"],
        ),
    ],
)
def test_cli_old_options_say_so_on_one_line(capsys, world_dir, new, old_argv):
    fill = [a.format(w=world_dir) for a in new]
    status, out, err = _cli(capsys, *fill)
    assert status == 0 and "deprecated" not in err
    status_old, out_old, err_old = _cli(capsys, *[a.format(w=world_dir) for a in old_argv])
    assert status_old == 0
    assert out_old == out
    lines = [line for line in err_old.splitlines() if "deprecated" in line]
    flag = next(a for a in old_argv if a in ("--model", "--posts"))
    newflag = {"--model": "--observe", "--posts": "--points"}[flag]
    assert lines == [
        f"fewpoints: {flag} is deprecated since fewpoints 0.2.0; use {newflag} (same result)"
    ]


def test_cli_anonymize_model_is_observe(capsys, world_dir, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    args = ["--subsample", "0.5", "--targets", "20"]
    assert main(["anonymize", str(world_dir), "--out", str(a), "--observe", "cdr", *args]) == 0
    capsys.readouterr()
    assert main(["anonymize", str(world_dir), "--out", str(b), "--model", "cdr", *args]) == 0
    err = capsys.readouterr().err
    assert "fewpoints: --model is deprecated since fewpoints 0.2.0; use --observe" in err
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    assert (a / "traces_cdr.csv.gz").read_bytes() == (b / "traces_cdr.csv.gz").read_bytes()


def test_old_options_are_hidden_from_help(capsys):
    for command in ("unicity", "anonymize", "link"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "--model" not in text and "--posts" not in text


def test_the_deprecations_page_lists_every_old_name_tested_here():
    page = DOC.read_text(encoding="utf-8")
    source = Path(__file__).read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", page, flags=re.M)
    assert len(rows) >= 15
    for old_name, new_name in rows:
        # the old keyword (n_points=), option (--model), or for the names functions their name
        token = re.search(r"(\w+)=|(--[\w-]+)|^(\w+)\(", old_name)
        assert token, old_name
        assert f"{next(g for g in token.groups() if g)}" in source, f"{old_name}: no test here"
        call = old_name.split("(")[0].split()[-1]
        assert call in source, f"{old_name} -> {new_name}: no test here"


def test_plot_resolution_n_points_is_n_points_range(tiny_world):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fewpoints.figures import plot_resolution

    sweep = resolution_sweep(
        tiny_world.observations["cdr"],
        merge_v=(1, 2),
        time_bin=("1h",),
        n_points_range=(2, 3),
        n_targets=20,
        rng=0,
    )
    new = plot_resolution(sweep, n_points_range=(2, 3))
    got = old(lambda: plot_resolution(sweep, n_points=(2, 3)), "n_points=", "n_points_range=")
    for a, b in zip(new.collections, got.collections, strict=True):
        np.testing.assert_array_equal(a.get_offsets(), b.get_offsets())
    plt.close("all")


def test_audit_dask_seed_is_rng(monkeypatch):
    from fewpoints.audit import audit_dask, dask_audit

    monkeypatch.setattr(dask_audit, "_audit_dask", lambda ddf, **kwargs: kwargs)
    assert audit_dask(None, rng=8) == {"rng": 8}
    assert old(lambda: audit_dask(None, seed=8), "seed=", "rng=") == {"rng": 8}


def test_results_that_were_dicts_still_read_as_dicts(tiny_world, pings):
    """Each result that used to be a dict reads as one, each read warning and naming a field."""
    from fewpoints.attacks import linkage_score
    from fewpoints.audit import RawShare
    from fewpoints.defenses import aggregate, dp_aggregate, dp_release, utility_error
    from fewpoints.synth.chunked import estimate_chunked
    from fewpoints.synth.params import resolve_params

    cdr = tiny_world.observations["cdr"]
    links = link_posts(pings, tiny_world.posts, n_points=2)
    counts = aggregate(pings, cell_km=1.0, time_bin="1h")
    results = {
        "precision": linkage_score(links, tiny_world.people),
        "mae": utility_error(counts, counts.assign(devices=counts["devices"] + 1)),
        "a": population_curve(pings, [50, 100, 200], n_targets=30, rng=1).fit,
        "people": fit_marginals(cdr).summary(),
        "memory": estimate_chunked(resolve_params("tiny"), 50),
        # audit(...).raw4, as tests/audit/test_measure.py checks it against the curve
        "unicity": RawShare(unicity=0.5, ci_low=0.4, ci_high=0.6, n_targets=100),
    }
    for first, result in results.items():
        name = type(result).__name__
        fields = dataclasses.asdict(result)
        assert next(iter(fields)) == first
        for key in fields:
            got = old(lambda r=result, k=key: r[k], f"result[{key!r}]", f"result.{first}")
            assert got is getattr(result, key)
        assert old(lambda r=result: r.get("nope", 0), name, f"result.{first}") == 0
        assert old(lambda r=result: "nope" in r, name, "0.2.0") is False
        assert old(lambda r=result: list(r.keys()), name, "0.2.0") == list(fields)
        assert old(lambda r=result: dict(r.items()), name, "0.2.0") == fields
        assert old(lambda r=result: list(r.values()), name, "0.2.0") == list(fields.values())
        assert old(lambda r=result: list(r), name, "0.2.0") == list(fields)
        with pytest.warns(FewpointsDeprecationWarning), pytest.raises(KeyError):
            result["nope"]
        assert result.to_frame().to_dict("records") == [fields]

    # dp_aggregate's old attrs: each read warns, the value is the release's
    release = dp_release(pings, cell_km=1.0, time_bin="1h", epsilon=2.0, rng=3)
    table = dp_aggregate(pings, cell_km=1.0, time_bin="1h", epsilon=2.0, rng=3)
    got = old(lambda: table.attrs["epsilon"], "attrs['epsilon']", "dp_release(...)")
    assert got == release.epsilon == 2.0


def test_old_import_paths_of_the_readers_warn_and_give_the_io_function():
    from fewpoints import io, schema

    with pytest.warns(DeprecationWarning, match="schema.read_traces moved to fewpoints.io") as seen:
        old_read = schema.read_traces
    assert len(seen) == 1 and seen[0].filename == __file__
    assert old_read is io.read_traces
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        schema.nope  # noqa: B018


def test_a_population_curve_built_with_the_old_fit_dict():
    from fewpoints.attacks.population import PopulationCurve, PopulationFit

    table = pd.DataFrame({"n_devices": [100.0, 1000.0], "unicity": [0.9, 0.8]})
    fit = {"a": 0.5, "b": 1e4, "rmse": 0.0, "slope": -1e-5}
    got = old(
        lambda: PopulationCurve(table=table, fit=fit, extrapolation=pd.DataFrame()),
        "PopulationCurve(fit={...})",
        "PopulationFit",
    )
    assert isinstance(got.fit, PopulationFit) and got.fit.slope == -1e-5
    assert np.isnan(got.fit.fit_from)
    new = PopulationCurve(table, PopulationFit(**fit, fit_from=100.0), pd.DataFrame())
    np.testing.assert_array_equal(got.predict([1e4, 1e5]), new.predict([1e4, 1e5]))
    np.testing.assert_allclose(got.lower_bound([1e4]), [0.8 - 1e-5 * 9000])
