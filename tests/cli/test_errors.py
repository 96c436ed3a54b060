"""Every error of the command line is one line and exit status 2, found before the work starts.

The command-line reproducers of issue 15: argument errors without the usage block, corrupt
world.json files and tables in every command that reads a world, junk and unreadable files,
negative seeds, unwritable outputs checked first, a closed pipe, late checks, and the bad
numeric parameters (``--geo-ind 1e-300``, ``link`` without ground truth, ``link --points
1000``, ``--cdr-time-bin 1ms``).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys

import pytest

import fewpoints
from fewpoints import cli
from fewpoints.cli import main
from fewpoints.schema import FewpointsError, InputError


def run(*args, capsys) -> tuple[int, str, str]:
    """main() in process: status, stdout, stderr (SystemExit from argparse included)."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as exc:
        status = exc.code
    out = capsys.readouterr()
    return status, out.out, out.err


def one_line(status, err, message=None):
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err and "usage:" not in err, err
    if message is not None:
        assert message in err, err


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "w"
    fewpoints.make_world("tiny", rng=3, days=2).write(out)
    return out


def copy_of(world, tmp_path):
    return shutil.copytree(world, tmp_path / "w")


def test_the_device_id_reproducer_counts_two_devices(tmp_path, capsys):
    path = tmp_path / "ids.csv"
    path.write_text(
        "device_id,time,x_km,y_km\n01,2026-03-02 08:00:00,0,0\n1,2026-03-02 09:00:00,1,1\n"
    )
    status, out, _ = run("unicity", path, "--points", "1", capsys=capsys)
    assert status == 0 and "2 devices" in out


# --- the argument parser ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["unicity", "tiny", "--points", "0"],
            "argument --points: points must be between 1 and 50",
        ),
        (["unicity", "tiny", "--targets", "-5"], "argument --targets: must be positive, got -5"),
        (["generate", "--out", "x", "--people", "0"], "argument --people: must be positive, got 0"),
        (
            ["generate", "--out", "x", "--seed", "-1"],
            "argument --seed: must be zero or more, got -1",
        ),
        (["unicity", "tiny", "--seed", "-1"], "argument --seed: must be zero or more"),
        (["anonymize", "w", "--out", "x", "--seed", "-3"], "argument --seed: must be zero or more"),
        (["link", "tiny", "--seed", "-1"], "argument --seed: must be zero or more"),
        (["explain", "tiny", "abc", "--seed", "-1"], "argument --seed: must be zero or more"),
        (["briefing", "--out", "x", "--seed", "-1"], "argument --seed: must be zero or more"),
        (["audit", "f.csv", "--out", "x", "--seed", "-1"], "argument --seed: must be zero or more"),
        (
            ["audit", "f.csv", "--out", "x", "--seed", "abc"],
            "argument --seed: expected a whole number, got 'abc'",
        ),
        (["link", "tiny", "--examples", "-1"], "argument --examples: must be zero or more"),
        (["unicity"], "the following arguments are required: PATH_OR_PRESET"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
        (["unicity", "tiny", "--knowledge", "psychic"], "argument --knowledge: invalid choice"),
    ],
)
def test_argument_errors_are_one_line_not_the_usage_block(capsys, args, message):
    status, _, err = run(*args, capsys=capsys)
    one_line(status, err, message)
    assert "--help" in err


def test_make_world_refuses_a_negative_seed():
    with pytest.raises(FewpointsError, match="rng must be a whole number, zero or more"):
        fewpoints.make_world("tiny", rng=-1)


# --- checked before the work starts --------------------------------------------------------------


def test_a_bad_time_bin_is_refused_before_a_preset_is_generated(capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the world was generated before the options were checked")

    monkeypatch.setattr(cli.loader, "generate_world", never)
    status, _, err = run("unicity", "classroom", "--time-bin", "banana", capsys=capsys)
    one_line(status, err, "--time-bin is not a duration: 'banana'")
    status, _, err = run("unicity", "unique-in-the-crowd", "--observe", "pings", capsys=capsys)
    one_line(status, err, "--observe pings: preset unique-in-the-crowd observes cdr only")
    status, _, err = run("link", "crowd", "--observe", "pings", capsys=capsys)
    one_line(status, err, "observes cdr only")


@pytest.mark.parametrize("command", ["generate", "briefing"])
def test_an_unwritable_output_is_refused_before_any_work(tmp_path, capsys, monkeypatch, command):
    def never(*args, **kwargs):
        raise AssertionError("work started before the output was checked")

    monkeypatch.setattr(cli.loader, "generate_world", never)
    (tmp_path / "file").write_text("x")
    for out, message in (
        (tmp_path / "file" / "out", "is not a folder"),
        ("/proc/fewpoints-nowhere/out", "cannot write in /proc"),
    ):
        status, _, err = run(command, "--preset", "tiny", "--out", out, capsys=capsys)
        one_line(status, err, message)


def test_an_unwritable_anonymize_output_is_refused_before_reading(world, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the input was read before the output was checked")

    monkeypatch.setattr("fewpoints.io.read_world_tables", never)
    status, _, err = run(
        "anonymize", world, "--out", "/proc/none/rel", "--coarsen-time", "1h", capsys=capsys
    )
    one_line(status, err, "cannot write in /proc")


@pytest.mark.parametrize("out", [".", ".."])
def test_out_dot_and_dot_dot_are_one_line(world, tmp_path, capsys, monkeypatch, out):
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    for args in (
        ["generate", "--preset", "tiny", "--out", out, "--force"],
        ["anonymize", world, "--out", out, "--coarsen-time", "1h", "--force"],
        ["briefing", "--preset", "tiny", "--out", out, "--force"],
    ):
        status, _, err = run(*args, capsys=capsys)
        one_line(status, err, "is the current folder or holds it")


# --- corrupt worlds -----------------------------------------------------------------------------

BAD_WORLD_JSON = [
    ("{not json", "not valid JSON"),
    ("", "is empty"),
    (b"\x89PNG\x00\xff\xfe", "not JSON text (binary data)"),
    ("[1, 2, 3]", "must hold a JSON object, not list"),
    ('{"params": {}}', "has no 'tables'"),
    ('{"params": null, "tables": {"places": 1}}', "'params' must be an object, got None"),
    ('{"params": {}, "tables": {}}', "lists no tables"),
    ('{"params": {}, "tables": {"places": "many"}}', "the size of places must be a count"),
    (
        '{"params": {}, "tables": {"places": 1, "antennas": 1, "directory": 1, "posts": 1, "../../etc/traces_cdr": 1}}',
        "'../../etc/traces_cdr' is not a table name",
    ),
    (
        '{"params": {}, "tables": {"places": 1, "antennas": 1, "directory": 1, "posts": 1, "/tmp/x": 1}}',
        "'/tmp/x' is not a table name",
    ),
]


@pytest.mark.parametrize(("content", "message"), BAD_WORLD_JSON)
def test_a_corrupt_world_json_is_one_line_in_every_command(
    world, tmp_path, capsys, content, message
):
    w = copy_of(world, tmp_path)
    f = w / "world.json"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    for args in (
        ["unicity", w, "--points", "1", "--targets", "20"],
        ["anonymize", w, "--out", tmp_path / "rel", "--coarsen-time", "1h"],
        ["link", w],
        ["explain", w, "abc"],
    ):
        status, _, err = run(*args, capsys=capsys)
        one_line(status, err, message)
    assert not (tmp_path / "rel").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_people": "lots"}, "params.n_people must be int, got 'lots'"),
        ({"days": None}, "params.days must be int, got None"),
        ({"observe": "cdr"}, "params.observe must be a list of names"),
        ({"days": -4}, "params: days must be a positive whole number"),
        ({"seed": -1}, "params: seed must be a whole number, zero or more"),
        ({"worker_share": 3.0}, "worker_share must be between 0 and 1"),
    ],
)
def test_world_json_parameters_are_checked(world, tmp_path, change, message):
    w = copy_of(world, tmp_path)
    meta = json.loads((w / "world.json").read_text())
    meta["params"].update(change)
    (w / "world.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fewpoints.read_world(w)


def test_a_table_outside_the_folder_is_refused(world, tmp_path):
    w = copy_of(world, tmp_path)
    elsewhere = tmp_path / "elsewhere.csv.gz"
    shutil.move(w / "traces_cdr.csv.gz", elsewhere)
    (w / "traces_cdr.csv.gz").symlink_to(elsewhere)
    with pytest.raises(InputError, match="leads outside the world folder"):
        fewpoints.read_world(w)


@pytest.mark.parametrize("damage", ["truncated", "empty", "fewer rows", "junk"])
def test_a_damaged_table_inside_a_world_is_one_line(world, tmp_path, capsys, damage):
    w = copy_of(world, tmp_path)
    f = w / "traces_cdr.csv.gz"
    data = f.read_bytes()
    if damage == "truncated":
        f.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        f.write_bytes(b"")
    elif damage == "fewer rows":
        lines = gzip.decompress(data).splitlines(keepends=True)
        f.write_bytes(gzip.compress(b"".join(lines[:-5])))
    else:
        f.write_bytes(b"\x00\x01 junk " * 100)
    device = fewpoints.read_world(world).traces["device_id"].iloc[0]
    for args in (["explain", w, device], ["unicity", w, "--points", "1", "--targets", "20"]):
        status, _, err = run(*args, capsys=capsys)
        one_line(status, err, "traces_cdr")
    if damage == "fewer rows":
        assert "has 1," in err or "rows but world.json says" in err


# --- files --------------------------------------------------------------------------------------


def test_junk_parquet_and_unreadable_files_are_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 but nothing else")
    status, _, err = run("unicity", tmp_path / "junk.parquet", capsys=capsys)
    one_line(status, err, "not a readable Parquet file")
    path = tmp_path / "t.csv"
    path.write_text("device_id,time,x_km,y_km\na,2026-03-02 08:00,0,0\n")
    real_open = open

    def no_access(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_access)
    status, _, err = run("unicity", path, capsys=capsys)
    one_line(status, err, "cannot read it (permission denied)")


def test_a_file_system_error_anywhere_is_one_line(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", "/somewhere/big.csv.gz")

    monkeypatch.setitem(cli.COMMANDS, "generate", (cli._add_generate, broken))
    status, _, err = run("generate", "--out", tmp_path / "w", capsys=capsys)
    one_line(status, err, "/somewhere/big.csv.gz: no space left on device")


def test_a_closed_pipe_is_one_line(world):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fewpoints",
            "unicity",
            str(world),
            "--points",
            "1-3",
            "--targets",
            "50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # as `| head -1` does once it has its line
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 2
    assert (
        err
        == "fewpoints unicity: error: the output was closed before everything was printed (broken pipe)\n"
    )


def test_the_reader_options_name_the_fix_and_apply_to_files_only(world, tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("device_id,time,x_km,y_km\na,04/03/2026 08:00,0,0\nb,05/03/2026 09:00,1,1\n")
    status, _, err = run("unicity", path, "--points", "1", capsys=capsys)
    one_line(status, err, "--day-first or --month-first")
    status, out, _ = run("unicity", path, "--points", "1", "--day-first", capsys=capsys)
    assert status == 0 and "2 devices" in out
    status, _, err = run("unicity", world, "--time-unit", "s", capsys=capsys)
    one_line(status, err, "--time-unit applies to a traces file")


# --- bad numeric parameters ----------------------------------------------------------------------


def test_bad_numeric_parameters_are_refused(world, tmp_path, capsys):
    status, _, err = run(
        "anonymize", world, "--out", tmp_path / "r", "--geo-ind", "1e-300", capsys=capsys
    )
    one_line(status, err, "more than the Earth's circumference")
    status, _, err = run(
        "anonymize", world, "--out", tmp_path / "r", "--noise", "1e300m", capsys=capsys
    )
    one_line(status, err, "more than the Earth's circumference")
    assert not (tmp_path / "r").exists()
    with pytest.raises(FewpointsError, match="Earth's circumference"):
        fewpoints.anonymize.geo_indistinguishable(
            fewpoints.read_world(world).traces, epsilon_per_km=1e-300
        )
    status, _, err = run(
        "generate",
        "--preset",
        "tiny",
        "--cdr-time-bin",
        "1ms",
        "--out",
        tmp_path / "g",
        capsys=capsys,
    )
    one_line(status, err, "cdr_time_bin must be a whole number of seconds (1s or more), got '1ms'")
    with pytest.raises(FewpointsError, match="whole number of seconds"):
        fewpoints.make_world("tiny", cdr_time_bin="1500ms")


def test_link_refuses_a_world_without_ground_truth_and_impossible_post_counts(
    world, tmp_path, capsys
):
    released = tmp_path / "released"
    status, _, err = run(
        "anonymize", world, "--out", released, "--coarsen-time", "1h", capsys=capsys
    )
    assert status == 0, err
    status, out, err = run("link", released, capsys=capsys)
    one_line(status, err, "has no ground truth (people): it is a released world")
    assert "nan" not in out
    from fewpoints.attacks import link_posts, linkage_score, naming_curve

    rel = fewpoints.read_world(released)
    for score in (
        lambda: linkage_score(link_posts(rel.traces, rel.posts), rel.people),
        lambda: naming_curve(rel.traces, rel.posts, rel.people),
    ):
        with pytest.raises(FewpointsError, match="people is empty: there is no ground truth"):
            score()
    status, out, err = run("link", world, "--points", "1000", capsys=capsys)
    one_line(status, err, "--points 1000: nobody in this world has that many posts (the most is")
    most = int(fewpoints.read_world(world).posts.groupby("name").size().max())
    status, out, err = run("link", world, "--points", most, capsys=capsys)
    assert status == 0, err
    assert "nan" not in out
