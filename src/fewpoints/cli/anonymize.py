"""``fewpoints anonymize``: the chosen transforms applied in a fixed order to a world
folder or a traces file, written in the same format, with unicity before and after.
"""

from __future__ import annotations

import sys

import numpy as np

from fewpoints.cli import loader
from fewpoints.cli.errors import EXIT_OK
from fewpoints.cli.options import deprecated_alias, positive_int, seed
from fewpoints.schema import FewpointsError

#: The steps of ``fewpoints anonymize``, in the order they are applied.
ANONYMIZE_ORDER = (
    "merge-antennas",
    "noise",
    "geo-ind",
    "coarsen-space",
    "coarsen-time",
    "subsample",
    "rotate",
    "suppress-rare",
)


def _length_km(text: str, option: str, default_unit: str) -> float:
    """``1km``, ``500m`` or a bare number in ``default_unit`` -> kilometres (positive)."""
    import re

    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(km|m)?\s*", str(text))
    try:
        value = float(m.group(1)) if m else float("nan")
    except ValueError:
        value = float("nan")
    if m is None or not np.isfinite(value):
        raise FewpointsError(f"--{option}: expected a length like 500m or 1km, got {text!r}")
    if value <= 0:
        raise FewpointsError(f"--{option}: must be positive, got {text!r}")
    unit = m.group(2) or default_unit
    return value if unit == "km" else value / 1000.0


def _add_anonymize(sub) -> None:
    from fewpoints.synth.world import OBSERVATION_MODELS

    p = sub.add_parser(
        "anonymize",
        help="apply common anonymizations to traces and show how little unicity moves",
        description=(
            "Apply the chosen transforms to the traces of a world folder (or a traces "
            "file), write the result in the same format, and print the share of devices "
            "that 4 known points single out before and after. Steps run in this fixed "
            "order: " + ", ".join(ANONYMIZE_ORDER) + ". A world folder in gives a world "
            "folder out with the transformed traces and the public tables (places, "
            "antennas, directory, posts), never the ground truth."
        ),
    )
    p.add_argument(
        "source", metavar="IN", help="world folder or traces file (CSV, CSV.gz, Parquet)"
    )
    p.add_argument("--out", required=True, help="output folder (world in) or file (file in)")
    p.add_argument("--merge-antennas", metavar="V", help="merge about V neighbouring antennas")
    p.add_argument(
        "--noise", metavar="SIGMA", help="Gaussian noise per axis, e.g. 100m (default unit m)"
    )
    p.add_argument("--geo-ind", metavar="EPS", help="planar Laplace noise, epsilon per km")
    p.add_argument(
        "--coarsen-space", metavar="SIZE", help="square cells, e.g. 1km (default unit km)"
    )
    p.add_argument("--coarsen-time", metavar="BIN", help="time bins, e.g. 4h, 1D")
    p.add_argument("--subsample", metavar="SHARE", help="keep this share of records, in (0, 1]")
    p.add_argument("--rotate", metavar="PERIOD", help="new random device IDs every period, e.g. 1D")
    p.add_argument("--suppress-rare", metavar="K", help="drop points fewer than K devices share")
    p.add_argument(
        "--observe",
        choices=OBSERVATION_MODELS,
        help="with a world folder: transform only these traces (default: every model)",
    )
    deprecated_alias(p, "--model", "--observe", choices=OBSERVATION_MODELS)
    p.add_argument(
        "--targets",
        type=positive_int,
        default=10_000,
        help="devices sampled to measure unicity before and after (default: 10000)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed for every random step (default: 0)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the output if it exists (a folder: only what fewpoints wrote there)",
    )
    loader.add_reading(p)


def _anonymize_steps(args) -> list[tuple[str, object, str]]:
    """Check every option before any work: (step, callable traces -> traces, description)."""
    from functools import partial

    from fewpoints import anonymize as A
    from fewpoints.common import check_share, duration_seconds, within_earth

    def number(text, option, *, kind=float):
        try:
            return kind(text)
        except ValueError:
            raise FewpointsError(f"--{option}: expected a number, got {text!r}") from None

    rng = np.random.default_rng(args.seed)
    steps = {}
    if args.merge_antennas is not None:
        v = number(args.merge_antennas, "merge-antennas")
        if not (np.isfinite(v) and v >= 1):
            raise FewpointsError(
                f"--merge-antennas: must be at least 1, got {args.merge_antennas!r}"
            )
        steps["merge-antennas"] = (v, f"about {v:g} neighbouring antennas merged")
    if args.noise is not None:
        km = _length_km(args.noise, "noise", "m")
        within_earth(km, f"--noise {args.noise}", "a standard deviation of")
        steps["noise"] = (km, f"Gaussian noise of {km * 1000:g} m per axis")
    if args.geo_ind is not None:
        eps = number(args.geo_ind, "geo-ind")
        if not (np.isfinite(eps) and eps > 0):
            raise FewpointsError(f"--geo-ind: epsilon must be positive, got {args.geo_ind!r}")
        within_earth(2.0 / eps, f"--geo-ind {args.geo_ind}", "a mean displacement of")
        steps["geo-ind"] = (eps, f"planar Laplace noise, epsilon {eps:g} per km")
    if args.coarsen_space is not None:
        km = _length_km(args.coarsen_space, "coarsen-space", "km")
        steps["coarsen-space"] = (km, f"locations snapped to {km:g} km cells")
    if args.coarsen_time is not None:
        duration_seconds(args.coarsen_time, "--coarsen-time")
        steps["coarsen-time"] = (args.coarsen_time, f"times floored to {args.coarsen_time} bins")
    if args.subsample is not None:
        keep = check_share(number(args.subsample, "subsample"), "--subsample")
        steps["subsample"] = (keep, f"{keep:.0%} of records kept at random")
    if args.rotate is not None:
        duration_seconds(args.rotate, "--rotate")
        steps["rotate"] = (args.rotate, f"device IDs replaced, a new one every {args.rotate}")
    if args.suppress_rare is not None:
        k = number(args.suppress_rare, "suppress-rare", kind=int)
        if k < 1:
            raise FewpointsError(f"--suppress-rare: must be at least 1, got {args.suppress_rare!r}")
        steps["suppress-rare"] = (k, f"points shared by fewer than {k} devices dropped")
    if not steps:
        raise FewpointsError(
            "no anonymization chosen; give at least one of --" + ", --".join(ANONYMIZE_ORDER)
        )
    make = {
        "merge-antennas": lambda v, antennas: partial(
            A.merge_antennas, antennas=antennas, merge_v=v, rng=rng
        ),
        "noise": lambda s, _: partial(A.add_noise, sigma_km=s, rng=rng),
        "geo-ind": lambda e, _: partial(A.geo_indistinguishable, epsilon_per_km=e, rng=rng),
        "coarsen-space": lambda c, _: partial(A.coarsen_space, cell_km=c),
        "coarsen-time": lambda b, _: partial(A.coarsen_time, time_bin=b),
        "subsample": lambda k, _: partial(A.subsample, keep=k, rng=rng),
        "rotate": lambda r, _: partial(A.pseudonymize, rotate=r, rng=rng),
        "suppress-rare": lambda k, _: partial(A.suppress_rare, k=k),
    }
    return [(name, make[name], *steps[name]) for name in ANONYMIZE_ORDER if name in steps]


def _unicity_line(traces, n_targets: int, seed: int) -> str:
    from fewpoints.attacks import unicity

    try:
        r = unicity(traces, 4, n_targets=n_targets, rng=seed)
    except FewpointsError:
        return "no device has 4 distinct points left"
    n_dev = traces["device_id"].nunique()
    return (
        f"{r.value:6.1%}  (95% CI {r.ci_low:.1%} to {r.ci_high:.1%}; {r.n_targets:,} targets, "
        f"{n_dev:,} devices, {len(traces):,} records)"
    )


def _run_anonymize(args) -> int:
    import warnings
    from pathlib import Path

    from fewpoints.anonymize import WeakTransformWarning
    from fewpoints.io import (
        check_output_file,
        check_output_folder,
        output_format,
        read_traces,
        read_world_tables,
        write_traces,
        write_world_tables,
    )

    steps = _anonymize_steps(args)
    src, out = Path(args.source), Path(args.out)
    if not src.exists():
        raise FewpointsError(f"{src}: no such file or folder")
    if out.resolve() == src.resolve():
        raise FewpointsError("--out must differ from the input")
    loader.check_reading(args, src.is_file())
    names = {step[0] for step in steps}
    if "merge-antennas" in names and src.is_file():
        raise FewpointsError("--merge-antennas needs the antenna map: give a world folder")
    # The output is checked before anything is read or transformed.
    if src.is_dir():
        check_output_folder(out, force=args.force)
    else:
        output_format(out)
        check_output_file(out, force=args.force)
    if src.is_dir():
        tables, meta = read_world_tables(src)
        models = [n for n in tables if n.startswith("traces_")]
        if args.observe is not None:
            if f"traces_{args.observe}" not in tables:
                raise FewpointsError(f"this world has no {args.observe} traces")
            models = [f"traces_{args.observe}"]
        antennas = tables.get("antennas")
        synthetic = bool(meta.get("synthetic"))
        what = f"world {src}"
        public = [n for n in ("places", "antennas", "directory", "posts") if n in tables]
        files = [f"{n}.csv.gz" for n in public + models] + ["world.json"]
        check_output_folder(out, force=args.force, expect=files)
    else:
        if args.observe is not None:
            raise FewpointsError("--observe applies to a world folder, not to a file")
        traces = read_traces(src, **loader.reading(args))
        tables, models, antennas, synthetic = {"traces": traces}, ["traces"], None, False
        what = f"file {src}"

    released = {}
    for name in models:
        traces = tables[name]
        for step, make, value, _ in steps:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", WeakTransformWarning)
                try:
                    traces = make(value, antennas)(traces)
                except FewpointsError as exc:
                    raise FewpointsError(f"{name}, --{step}: {exc}") from None
            for w in caught:
                print(f"fewpoints anonymize: warning: --{step}: {w.message}", file=sys.stderr)
        released[name] = traces

    # Write everything to a temporary path beside the output, then rename: never partial output.
    if src.is_dir():
        public = {n: tables[n] for n in ("places", "antennas", "directory", "posts") if n in tables}
        new_tables = {**public, **released}
        meta = dict(meta)
        meta["tables"] = {n: len(df) for n, df in new_tables.items()}
        meta["anonymized"] = {
            "from": str(src),
            "steps": [desc for *_, desc in steps],
            "order": list(ANONYMIZE_ORDER),
            "seed": args.seed,
            "ground_truth_removed": ["people", "stays"],
        }
        write_world_tables(new_tables, meta, out, force=args.force)
    else:
        # In the format the output's name says (checked above), whatever the input's was.
        write_traces(released["traces"], out, force=args.force)

    label = "SYNTHETIC data (no real person is in it)" if synthetic else "your data"
    print(f"Anonymize -- {label}: {what} -> {out}")
    print("  steps, in order:")
    for *_, desc in steps:
        print(f"    {desc}")
    print()
    print("  unique from 4 known points (place and time, drawn from each released trace):")
    for name in models:
        before = _unicity_line(tables[name], args.targets, args.seed)
        after = _unicity_line(released[name], args.targets, args.seed)
        tag = "" if name == "traces" else f"{name.removeprefix('traces_')}: "
        print(f"    {tag}before {before}")
        print(f"    {tag}after  {after}")
    if "rotate" in names:
        print("  after rotation each piece of a trace (one ID) counts as a device")
    return EXIT_OK


#: The sub-command: (add its parser, run it).
COMMAND = (_add_anonymize, _run_anonymize)
