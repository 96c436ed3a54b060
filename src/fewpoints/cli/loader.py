"""What a command reads, a traces file, a world folder or a preset generated now: the
options that say how to read a traces file (``--columns``, ``--timezone``,
``--time-unit``, ``--day-first``) and their checks before any work, the check that a
preset observes the model asked for, and the loaders that return the traces (or the
world) with the line that says what was read.
"""

from __future__ import annotations

from fewpoints.cli.progress import Progress
from fewpoints.schema import FewpointsError


def generate_world(preset: str, seed: int, progress: Progress, **overrides):
    """Resolve and check the parameters, refuse a world too big for free memory, then generate it."""
    from fewpoints.synth.world import check_memory, make_world, resolve_params

    params = resolve_params(preset, seed=seed, **overrides)
    check_memory(params)
    return make_world(params=params, progress=progress)


def add_reading(p) -> None:
    """Options that say how to read a traces file (the reader's rules: fewpoints.io.read_traces)."""
    g = p.add_argument_group(
        "reading a traces file",
        "Columns are recognised by the names brokers and researchers ship (device_id, maid, "
        "ad_id, advertiser_id, idfa, gaid, user_id; time, timestamp, datetime, utc_timestamp; "
        "lat/latitude, lon/lng/longitude, projected to km once for the whole file; "
        "horizontal_accuracy, accuracy), or as --columns maps them. Times are read by one rule "
        "for the whole column: ISO 8601 (with a UTC offset, converted to the local time zone, "
        "or without, taken as written), Unix seconds or milliseconds (UTC, converted), or "
        "day/month/year when the dates show which comes first. Device IDs are read as text.",
    )
    g.add_argument(
        "--columns",
        metavar="MAP",
        help="which column is which, for names not recognised, e.g. "
        "device_id=maid,time=ts,lat=y,lon=x,accuracy_m=acc",
    )
    g.add_argument(
        "--timezone",
        metavar="ZONE",
        help="the local time zone (an IANA name such as America/Chicago): Unix times and times "
        "with a UTC offset are read as local times there, which decides what is night and "
        "what is a working day (default: UTC)",
    )
    g.add_argument(
        "--time-unit",
        choices=("s", "ms"),
        help="times are Unix seconds or milliseconds (needed only when the values do not tell)",
    )
    order = g.add_mutually_exclusive_group()
    order.add_argument(
        "--day-first",
        dest="dayfirst",
        action="store_const",
        const=True,
        help="dates like 05/03/2026 are day/month/year (5 March)",
    )
    order.add_argument(
        "--month-first",
        dest="dayfirst",
        action="store_const",
        const=False,
        help="dates like 05/03/2026 are month/day/year (3 May)",
    )


def reading(args) -> dict:
    from fewpoints.io import column_map

    return {
        "time_unit": args.time_unit,
        "dayfirst": args.dayfirst,
        "timezone": args.timezone or "UTC",
        "columns": column_map(args.columns),
    }


def check_reading(args, is_file: bool) -> None:
    from fewpoints.io import column_map

    if not is_file:
        for flag, value in (
            ("--time-unit", args.time_unit),
            ("--day-first", args.dayfirst),
            ("--columns", args.columns),
            ("--timezone", args.timezone),
        ):
            if value is not None:
                flag = "--month-first" if value is False else flag
                raise FewpointsError(f"{flag} applies to a traces file, not to a world or preset")
    column_map(args.columns)  # a bad map is refused before anything is read


def check_model_of_preset(source: str, model: str | None, option: str = "--observe") -> None:
    """Refuse, before generating, a model the preset does not observe."""
    from pathlib import Path

    from fewpoints.synth.world import PRESETS

    if model is None or Path(source).exists() or source not in PRESETS:
        return
    observe = PRESETS[source].observe
    if model not in observe:
        raise FewpointsError(
            f"{option} {model}: preset {source} observes {', '.join(observe)} only"
        )


def _generated(preset: str, seed: int):
    """The preset's world, generated now with a progress bar."""
    progress = Progress()
    try:
        return generate_world(preset, seed, progress)
    finally:
        progress.close()


def load_traces(source: str, *, observe: str | None, seed: int, reading: dict | None = None):
    """Traces and a description line for a file, a world folder or a preset."""
    from pathlib import Path

    from fewpoints.io import read_traces
    from fewpoints.synth.world import PRESETS, read_world

    path = Path(source)
    if path.is_dir():
        world = read_world(path)
        p = world.params
        what = f"world {path} (preset {p.preset}, seed {p.seed})"
    elif path.exists():
        if observe is not None:
            raise FewpointsError("--observe applies to a world folder or a preset, not to a file")
        return read_traces(path, **(reading or {})), f"file {path}", False
    elif source in PRESETS:
        world = _generated(source, seed)
        what = f"preset {source}, seed {seed}"
    else:
        raise FewpointsError(
            f"{source}: no such file, folder or preset (presets: {', '.join(PRESETS)})"
        )
    traces, model = world_traces(world, observe)
    return traces, f"{what}, {model} traces", True


def load_world(source: str, *, seed: int, what: str):
    """A world from a folder written by 'fewpoints generate', or a preset generated now."""
    from pathlib import Path

    from fewpoints.synth.world import PRESETS, read_world

    path = Path(source)
    if path.is_dir():
        world = read_world(path)
        p = world.params
        return world, f"world {path} (preset {p.preset}, seed {p.seed})"
    if source in PRESETS:
        world = _generated(source, seed)
        return world, f"preset {source}, seed {seed}"
    if path.exists():
        raise FewpointsError(
            f"{source} is a file; {what} needs a world folder (traces, places, directory, posts)"
        )
    raise FewpointsError(
        f"{source}: no such world folder or preset (presets: {', '.join(PRESETS)})"
    )


def world_traces(world, model: str | None):
    if model is None:
        model = next(iter(world.observations))
    if model not in world.observations:
        raise FewpointsError(
            f"this world has no {model} traces; it has {', '.join(world.observations)}"
        )
    return world.observations[model], model
