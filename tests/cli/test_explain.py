"""The explain command (and the errors of link and explain): one line, exit status 2."""

from __future__ import annotations

import pytest

from fewpoints.cli import main


def test_explain_command(world_dir, tiny_world, capsys):
    device = str(tiny_world.traces["device_id"].iloc[5])
    assert main(["explain", str(world_dir), device]) == 0
    out = capsys.readouterr().out
    assert f"Device {device} (synthetic data)" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["explain", "{w}", "no-such-device"], "not in the traces"),
        (["link", "{w}/places.csv.gz"], "needs a world folder"),
        (["link", "no/such/world"], "no such world folder or preset"),
    ],
)
def test_cli_errors_are_one_line_exit_2(world_dir, argv, message, capsys):
    assert main([a.format(w=world_dir) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon"])
def test_bad_tolerance_exits_2(world_dir, value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["link", str(world_dir), "--max-minutes", value])
    assert exc.value.code == 2
    assert "--max-minutes" in capsys.readouterr().err.strip().splitlines()[-1]


def test_world_without_directory_or_posts(tmp_path, tiny_world, capsys):
    import dataclasses

    bare = dataclasses.replace(
        tiny_world, directory=tiny_world.directory.iloc[:0], posts=tiny_world.posts.iloc[:0]
    )
    bare.write(tmp_path / "bare")
    assert main(["link", str(tmp_path / "bare")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "fewpoints link: error: this world has no directory and no posts: nothing to link with"
    ]
