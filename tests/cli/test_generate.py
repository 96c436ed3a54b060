"""``fewpoints generate``: what it writes and prints, and how it refuses bad input."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

import fewpoints
from fewpoints.cli import Progress, main


def test_generate_writes_a_world_and_says_what_it_wrote(tmp_path, capsys):
    out = tmp_path / "world"
    status = main(
        ["generate", "--preset", "tiny", "--seed", "4", "--out", str(out), "--days", "2", "--quiet"]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "no real person is in it" in printed
    assert "traces_cdr.csv.gz" in printed and f"to {out}/" in printed
    world = fewpoints.read_world(out)
    assert world.params.days == 2 and world.params.seed == 4
    expected = fewpoints.make_world("tiny", rng=4, days=2)
    assert world.traces.shape == expected.traces.shape


def test_generate_observe_and_people_overrides(tmp_path):
    out = tmp_path / "w"
    assert (
        main(
            [
                "generate",
                "--preset",
                "tiny",
                "--out",
                str(out),
                "--people",
                "50",
                "--observe",
                "pings",
                "--quiet",
            ]
        )
        == 0
    )
    world = fewpoints.read_world(out)
    assert len(world.people) == 50
    assert list(world.observations) == ["pings"]
    assert not (out / "traces_cdr.csv.gz").exists()


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "fewpoints", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "megacity"], "unknown preset 'megacity'"),
        (["--people", "0"], "must be positive, got 0"),
        (["--days", "-3"], "must be positive"),
        (["--days", "two"], "expected a whole number, got 'two'"),
        (["--observe", "radar"], "unknown observation model 'radar'"),
        (["--people", "50000000"], "GB of memory but only"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, args, message):
    out = tmp_path / "w"
    result = run_cli("generate", "--preset", "tiny", "--out", str(out), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "error" in line]) == 1
    assert not out.exists(), "nothing is written on bad input"


def test_a_non_empty_output_folder_is_refused_without_force(tmp_path):
    out = tmp_path / "w"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    result = run_cli("generate", "--preset", "tiny", "--out", str(out), "--quiet")
    assert result.returncode == 2
    assert "exists and is not empty; use --force" in result.stderr
    assert (out / "keep.txt").read_text() == "precious"
    # --force replaces only what fewpoints wrote: a file of the user's is named, never deleted
    forced = run_cli("generate", "--preset", "tiny", "--out", str(out), "--force", "--quiet")
    assert forced.returncode == 2
    assert "fewpoints did not write (keep.txt)" in forced.stderr
    assert (out / "keep.txt").read_text() == "precious" and not (out / "world.json").exists()


def test_progress_goes_to_stderr_a_line_per_stage_off_a_terminal(tmp_path):
    result = run_cli("generate", "--preset", "tiny", "--out", str(tmp_path / "w"), "--days", "1")
    assert result.returncode == 0
    assert "moving people ..." in result.stderr and "writing files ..." in result.stderr
    assert "moving people" not in result.stdout


def test_progress_bar_redraws_in_place_on_a_terminal():
    class Tty:
        def __init__(self):
            self.text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

        def isatty(self):
            return True

    tty = Tty()
    bar = Progress(tty, width=10)
    bar("moving people", 0.0)
    bar("moving people", 1.0)
    bar.close()
    assert "\r  moving people" in tty.text
    assert "[##########] 100%" in tty.text
    assert tty.text.endswith("\n")


def test_progress_names_a_stage_once_off_a_terminal_when_two_threads_alternate():
    log = io.StringIO()
    bar = Progress(log)
    for stage, fraction in [("observing (cdr)", 0.0), ("ground truth", 0.0),
                            ("observing (cdr)", 0.5), ("ground truth", 1.0),
                            ("observing (cdr)", 1.0)]:  # fmt: skip
        bar(stage, fraction)
    assert log.getvalue() == "  observing (cdr) ...\n  ground truth ...\n"


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0 and fewpoints.__version__ in result.stdout
    result = run_cli("generate", "--help")
    assert result.returncode == 0 and "--preset" in result.stdout
