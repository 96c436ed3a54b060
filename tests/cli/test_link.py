"""The link command: scores labelled synthetic, with or without posts."""

from __future__ import annotations

from fewpoints.attacks.linkage import naming_curve
from fewpoints.cli import main


def test_link_command_reports_scores_labelled_synthetic(world_dir, tiny_world, capsys):
    assert main(["link", str(world_dir), "--points", "2", "--observe", "pings"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "ground truth" in out
    assert "From the directory" in out and "From geotagged posts" in out
    curve = naming_curve(tiny_world.observations["pings"], tiny_world.posts, tiny_world.people)
    row = curve[curve["n_posts"] == 2].iloc[0]
    assert f"{row['share_named']:.1%}" in out


def test_link_with_a_directory_but_no_posts(tmp_path, tiny_world, capsys):
    import dataclasses

    no_posts = dataclasses.replace(tiny_world, posts=tiny_world.posts.iloc[:0])
    no_posts.write(tmp_path / "np")
    assert main(["link", str(tmp_path / "np")]) == 0
    out = capsys.readouterr().out
    assert "From the directory" in out and "From geotagged posts" not in out
