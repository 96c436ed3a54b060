"""The one writer of output folders and files: atomic, a manifest, --force that keeps what is not ours.

Reproducers of issue 15 about outputs (``--force`` deleting unrelated files and a
``.NAME.old`` sibling, symlinked ``--out``, leftovers of killed runs, 0700 folders, the
format of ``anonymize FILE --out X``, gzip bytes that changed between runs, a full disk)
and the fault test: generate, anonymize and briefing killed with SIGINT, SIGTERM and
SIGKILL at random moments never damage an existing complete output, and a rerun succeeds.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import fewpoints
from fewpoints import io as fio
from fewpoints.io import MANIFEST, OutputError, atomic_folder, clean_leftovers, write_traces
from fewpoints.schema import FewpointsError


def cli(*args, cwd=None, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "fewpoints", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.endswith((".partial", ".replaced")))


# --- --force replaces only what fewpoints wrote --------------------------------------------------


def test_force_never_deletes_unrelated_files_or_a_dot_old_sibling(tmp_path):
    # mkdir w2; echo n > w2/notes.txt; mkdir .w2.old; echo k > .w2.old/keep.txt;
    # fewpoints generate --preset tiny --out w2 --force
    (tmp_path / "w2").mkdir()
    (tmp_path / "w2" / "notes.txt").write_text("n\n")
    (tmp_path / ".w2.old").mkdir()
    (tmp_path / ".w2.old" / "keep.txt").write_text("k\n")
    result = cli("generate", "--preset", "tiny", "--out", "w2", "--force", "--quiet", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "w2 holds 1 file(s) fewpoints did not write (notes.txt)" in result.stderr
    assert (tmp_path / "w2" / "notes.txt").read_text() == "n\n"
    (tmp_path / "w2" / "notes.txt").unlink()
    result = cli("generate", "--preset", "tiny", "--out", "w2", "--force", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    again = cli("generate", "--preset", "tiny", "--out", "w2", "--force", "--quiet", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / ".w2.old" / "keep.txt").read_text() == "k\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".w2.old", "w2"]


def test_the_manifest_lists_what_was_written_and_force_refuses_anything_else(tiny_world, tmp_path):
    out = tmp_path / "w"
    written = tiny_world.write(out)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["entries"] == sorted(p.name for p in written)
    tiny_world.write(out, force=True)
    (out / "sub").mkdir()
    with pytest.raises(OutputError, match=r"fewpoints did not write \(sub/\)"):
        tiny_world.write(out, force=True)
    (out / "sub" / "mine.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"fewpoints did not write \(sub/, sub/mine.txt\)"):
        tiny_world.write(out, force=True)
    assert (out / "sub" / "mine.txt").read_text() == "mine"


def test_a_folder_from_before_manifests_is_replaced_only_if_it_holds_our_names(
    tiny_world, tmp_path
):
    out = tmp_path / "w"
    tiny_world.write(out)
    (out / MANIFEST).unlink()  # as written by an older fewpoints
    tiny_world.write(out, force=True)
    assert (out / MANIFEST).exists()
    (out / MANIFEST).unlink()
    (out / "report.docx").write_text("someone's report")
    with pytest.raises(OutputError, match=r"did not write \(report.docx\)"):
        tiny_world.write(out, force=True)
    assert (out / "report.docx").exists()


def test_a_symlinked_output_is_followed_and_the_link_kept(tiny_world, tmp_path):
    target = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)  # dangling at first
    for _ in range(3):
        tiny_world.write(link, force=True)
        assert link.is_symlink() and (target / "world.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]
    assert fewpoints.read_world(link).params == tiny_world.params


def test_folders_are_made_with_the_usual_permissions(tiny_world, tmp_path):
    umask = os.umask(0o022)
    try:
        tiny_world.write(tmp_path / "w")
    finally:
        os.umask(umask)
    assert (tmp_path / "w").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "w" / "world.json").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("out", [".", "..", "/"])
def test_the_current_folder_its_parents_and_the_root_are_refused(tmp_path, monkeypatch, out):
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    with pytest.raises(OutputError, match="current folder or holds it|root of the file system"):
        fio.check_output_folder(out, force=True)


def test_an_unwritable_place_is_refused_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        fio.check_output_folder(tmp_path / "file" / "out")
    with pytest.raises(OutputError, match="cannot write in /proc"):
        fio.check_output_folder("/proc/fewpoints-test/out")


# --- what killed runs leave behind ---------------------------------------------------------------


def test_leftovers_of_a_killed_run_are_cleaned_on_the_next_run_and_live_ones_kept(
    tiny_world, tmp_path
):
    out = tmp_path / "w"
    tiny_world.write(out)
    stale = tmp_path / ".w.0123456789abcdef.partial"
    stale.mkdir()
    (stale / "places.csv.gz").write_text("half")
    live = tmp_path / ".w.fedcba9876543210.partial"
    live.mkdir()
    lock = fio.output._lock(live)  # a run still writing holds its lock
    try:
        tiny_world.write(out, force=True)
        assert not stale.exists() and live.exists()
    finally:
        os.close(lock)
    clean_leftovers(out)
    assert leftovers(tmp_path) == []


def test_a_kill_between_the_two_renames_is_undone_on_the_next_run(
    tiny_world, tmp_path, monkeypatch
):
    out = tmp_path / "w"
    tiny_world.write(out)
    before = snapshot(out)
    monkeypatch.setattr(fio.output, "_exchange", lambda a, b: False)  # a system without renameat2
    real_rename = os.rename
    calls = []

    def killed_after_first(src, dst):
        calls.append((src, dst))
        real_rename(src, dst)
        if len(calls) == 1:
            raise SystemExit("killed")  # stands for SIGKILL: no cleanup runs after it

    monkeypatch.setattr(fio.output, "_remove", lambda path: None)  # nor any removal
    monkeypatch.setattr(os, "rename", killed_after_first)
    with pytest.raises(SystemExit):
        tiny_world.write(out, force=True)
    monkeypatch.undo()
    assert not out.exists() and any(n.endswith(".replaced") for n in leftovers(tmp_path))
    clean_leftovers(out)  # the next run into the same place puts the old output back
    assert snapshot(out) == before and leftovers(tmp_path) == []
    tiny_world.write(out, force=True)
    assert snapshot(out) == before


def test_an_error_at_the_swap_leaves_the_old_output(tiny_world, tmp_path, monkeypatch):
    out = tmp_path / "w"
    tiny_world.write(out)
    before = snapshot(out)

    def failing(a, b):
        raise OSError(5, "Input/output error", str(b))

    monkeypatch.setattr(fio.output, "_exchange", failing)
    with pytest.raises(
        FewpointsError, match=r"could not write it \(input/output error\); nothing was written"
    ):
        tiny_world.write(out, force=True)
    assert snapshot(out) == before and leftovers(tmp_path) == []


# --- files in the format their name says, the same bytes for the same table --------------------


@pytest.mark.parametrize(
    ("name", "magic"),
    [
        ("rel.csv", b"devi"),
        ("rel.csv.gz", b"\x1f\x8b"),
        ("rel.parquet", b"PAR1"),
        ("rel.tsv", b"devi"),
    ],
)
def test_anonymize_writes_the_format_its_out_names(tiny_world, tmp_path, name, magic):
    src = tmp_path / "in.csv"
    write_traces(tiny_world.traces, src)
    result = cli(
        "anonymize", src, "--out", tmp_path / name, "--coarsen-time", "1h", "--targets", "50"
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / name
    assert out.read_bytes().startswith(magic)
    back = fewpoints.read_traces(out)
    assert len(back) == len(tiny_world.traces)
    assert (back["time"].dt.minute == 0).all()
    first = out.read_bytes()
    again = cli(
        "anonymize", src, "--out", out, "--coarsen-time", "1h", "--targets", "50", "--force"
    )
    assert again.returncode == 0 and out.read_bytes() == first  # byte-identical per seed
    assert leftovers(tmp_path) == []


def test_gzip_output_carries_no_name_or_time(tiny_world, tmp_path):
    write_traces(tiny_world.traces, tmp_path / "a.csv.gz")
    time.sleep(1.1)
    write_traces(tiny_world.traces, tmp_path / "b.csv.gz")
    a, b = (tmp_path / "a.csv.gz").read_bytes(), (tmp_path / "b.csv.gz").read_bytes()
    assert a == b
    assert a[3] & 0x08 == 0  # no FNAME field
    assert a[4:8] == b"\x00\x00\x00\x00"  # MTIME zero
    assert gzip.decompress(a).startswith(b"device_id,time,x_km,y_km")


def test_an_unknown_output_extension_is_refused_before_any_work(tmp_path):
    with pytest.raises(OutputError, match=r"name the output's format by its extension"):
        fio.output_format(tmp_path / "rel.xlsx")
    result = cli(
        "anonymize",
        "synthetic_data/classroom/nope.csv",
        "--out",
        tmp_path / "x.json",
        "--coarsen-time",
        "1h",
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1


# --- a full disk -----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KB tmpfs, where the machine lets us mount one (root, Linux); skipped elsewhere."""
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full-disk test needs root on Linux to mount a small tmpfs")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_is_one_line_and_leaves_the_old_output(small_disk):
    out = small_disk / "w"
    first = cli(
        "generate", "--preset", "tiny", "--days", "1", "--people", "60", "--out", out, "--quiet"
    )
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    full = cli(
        "generate", "--preset", "tiny", "--people", "400", "--out", out, "--force", "--quiet"
    )
    assert full.returncode == 2
    assert full.stderr.count("\n") == 1 and "Traceback" not in full.stderr
    assert "could not write it (no space left on device); nothing was written" in full.stderr
    assert snapshot(out) == before and leftovers(small_disk) == []
    big = pd.concat([fewpoints.read_world(out).traces] * 400, ignore_index=True)
    with pytest.raises(FewpointsError, match="no space left on device"):
        write_traces(big, small_disk / "big.csv")
    assert sorted(p.name for p in small_disk.iterdir()) == ["w"]


# --- the fault test: killed at random moments ---------------------------------------------------

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)


def _kill_at_random(commands, rng, *, within):
    """Start every command at once; send each its signal at a random moment in ``within``."""
    procs = [
        (
            subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE),
            sig,
            rng.uniform(*within),
        )
        for cmd, sig in commands
    ]
    t0 = time.monotonic()
    for proc, sig, at in sorted(procs, key=lambda p: p[2]):
        time.sleep(max(0.0, at - (time.monotonic() - t0)))
        if proc.poll() is None:
            proc.send_signal(sig)
    return [(proc, sig, proc.communicate(timeout=120)[1].decode()) for proc, sig, _ in procs]


def _complete(folder: Path) -> bool:
    mine = json.loads((folder / MANIFEST).read_text())["entries"]
    return sorted(e for e in fio.output._entries(folder)) == sorted(mine) and all(
        (folder / e).stat().st_size > 0 for e in mine if not e.endswith("/")
    )


@pytest.mark.slow
def test_generate_and_anonymize_killed_at_random_moments_never_damage_an_output(tmp_path):
    seed = int(os.environ.get("FEWPOINTS_FAULT_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    why = f"(FEWPOINTS_FAULT_SEED={seed})"
    fp = [sys.executable, "-m", "fewpoints"]
    tiny = ["--preset", "tiny", "--days", "1", "--people", "80"]

    # generate and anonymize: an existing output each, one copy per signal
    world = tmp_path / "world"
    t0 = time.monotonic()
    assert cli("generate", *tiny, "--seed", "1", "--out", world, "--quiet").returncode == 0
    run_time = time.monotonic() - t0
    released = tmp_path / "released"
    assert (
        cli(
            "anonymize", world, "--out", released, "--coarsen-time", "1h", "--targets", "50"
        ).returncode
        == 0
    )
    jobs, olds = [], {}
    for sig in SIGNALS:
        g, a = tmp_path / f"g-{sig.name}", tmp_path / f"a-{sig.name}"
        shutil.copytree(world, g)
        shutil.copytree(released, a)
        olds[g], olds[a] = snapshot(world), snapshot(released)
        jobs.append(
            ([*fp, "generate", *tiny, "--seed", "2", "--out", g, "--force", "--quiet"], sig)
        )
        jobs.append(
            (
                [
                    *fp,
                    "anonymize",
                    world,
                    "--out",
                    a,
                    "--coarsen-time",
                    "4h",
                    "--targets",
                    "50",
                    "--force",
                ],
                sig,
            )
        )
    _kill_at_random(jobs, rng, within=(0.0, 1.5 * run_time + 0.5))
    # each folder is the old output or a complete new one, never anything in between
    for folder, old in olds.items():
        assert folder.is_dir(), f"{folder.name} is gone {why}"
        now = snapshot(folder)
        assert now == old or _complete(folder), f"{folder.name} damaged {why}"
    # a rerun into each place succeeds, cleans what the kill left, and gives the new output
    rerun_g = cli(
        "generate", *tiny, "--seed", "2", "--out", tmp_path / "g-SIGKILL", "--force", "--quiet"
    )
    rerun_a = cli(
        "anonymize",
        world,
        "--out",
        tmp_path / "a-SIGKILL",
        "--coarsen-time",
        "4h",
        "--targets",
        "50",
        "--force",
    )
    assert rerun_g.returncode == 0 and rerun_a.returncode == 0, rerun_g.stderr + rerun_a.stderr
    for folder in olds:
        clean_leftovers(folder)
    assert leftovers(tmp_path) == [], why
    new_g = snapshot(tmp_path / "g-SIGKILL")
    for sig in SIGNALS:
        assert snapshot(tmp_path / f"g-{sig.name}") in (olds[tmp_path / f"g-{sig.name}"], new_g), (
            why
        )


@pytest.mark.slow
def test_briefing_killed_at_random_moments_leaves_the_existing_output(tmp_path):
    """Killed while it computes, while it writes its figures, briefing.html, results.json and
    briefing.pdf, or as it swaps the folder in; then run again (the tiny pack takes about 15 s,
    10 of them writing)."""
    from fewpoints.briefing import pack_files

    seed = int(os.environ.get("FEWPOINTS_FAULT_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    why = f"(FEWPOINTS_FAULT_SEED={seed})"
    fp = [sys.executable, "-m", "fewpoints"]
    # how long a whole run takes here, so the kills fall anywhere in one
    t0 = time.monotonic()
    first = cli("briefing", "--preset", "tiny", "--out", tmp_path / "first", "--quiet")
    run_time = time.monotonic() - t0
    assert first.returncode == 0, first.stderr
    files = pack_files()
    assert sorted(p.name for p in (tmp_path / "first").iterdir() if p.name != MANIFEST) == files
    # the existing output: a folder fewpoints wrote before
    briefs = {}
    for sig in SIGNALS:
        b = tmp_path / f"b-{sig.name}"
        with atomic_folder(b) as tmp:
            (tmp / "captions.md").write_text("an earlier briefing\n")
            (tmp / "briefing.pdf").write_bytes(b"%PDF-1.4 earlier")
        briefs[b] = snapshot(b)
    jobs = [
        ([*fp, "briefing", "--preset", "tiny", "--out", b, "--force", "--quiet"], sig)
        for b, sig in zip(briefs, SIGNALS, strict=True)
    ]
    # three runs share the machine, so each takes longer than the first did alone
    procs = _kill_at_random(jobs, rng, within=(0.3, 1.5 * run_time))
    for (proc, sig, err), (b, old) in zip(procs, briefs.items(), strict=True):
        now = snapshot(b)
        new_pack = _complete(b) and sorted(n for n in now if n != MANIFEST) == files
        if proc.returncode == 0:  # finished before its signal: the whole new pack
            assert new_pack, why
        else:
            # Killed: the earlier briefing as it was, or (a signal held while the folder
            # was swapped in, delivered just after) the whole new pack; never a mix.
            assert now == old or new_pack, f"{b.name} damaged {why}"
        if sig != signal.SIGKILL and proc.returncode in (130, 143):
            assert err.count("\n") == 1 and "no output was left half-written" in err, err
    rerun = cli(
        "briefing", "--preset", "tiny", "--out", tmp_path / "b-SIGKILL", "--force", "--quiet"
    )
    assert rerun.returncode == 0, rerun.stderr
    done = tmp_path / "b-SIGKILL"
    assert _complete(done) and sorted(p.name for p in done.iterdir() if p.name != MANIFEST) == files
    assert (done / "briefing.pdf").stat().st_size > 10_000
    for b in briefs:
        clean_leftovers(b)
    assert leftovers(tmp_path) == [], why


def test_sigterm_is_handled_as_ctrl_c(tmp_path):
    out = tmp_path / "w"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fewpoints", "generate", "--preset", "classroom", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stderr.readline()  # the first progress line: the handlers are in place
    assert "..." in first
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 143
    lines = [line for line in rest.splitlines() if "..." not in line]
    assert lines == ["fewpoints generate: terminated (SIGTERM); no output was left half-written"]
    assert not out.exists() and leftovers(tmp_path) == []
