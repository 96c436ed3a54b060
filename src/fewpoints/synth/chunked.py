"""Worlds larger than memory: people generated in chunks, written as a partitioned Parquet dataset.

A country-sized world (ten million people make about a billion call
records) does not fit in a laptop's memory, but each chunk of it does. The
city is built once, for the whole population; then the people are made
chunk by chunk, each chunk from its own random streams, and each chunk's
tables are written to their own Parquet file before the next chunk starts::

    <out>/world.json                      metadata (see below)
    <out>/places.parquet                  the public map, one file each
    <out>/antennas.parquet
    <out>/traces_cdr/part-00000.parquet   the broker's dataset, one file per chunk
    <out>/traces_pings/part-00000.parquet (when pings are observed)
    <out>/people/part-00000.parquet       ground truth, one file per chunk
    <out>/stays/part-00000.parquet        (unless stays=False: the largest table)
    <out>/directory/part-00000.parquet    public auxiliary data, one file per chunk
    <out>/posts/part-00000.parquet

Each traces part holds every record of its devices and no other device's
(a device never spans two files, nor two row groups of a file), sorted by
``device_id`` then ``time``; ``world.json`` says so under
``"chunked"`` so that an engine working part by part (Dask) can rely on it.
Read it with ``dask.dataframe.read_parquet(<out>/traces_cdr/)``, or, while it
fits in memory, with :func:`fewpoints.read_world`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fewpoints.common import OneRow
from fewpoints.compat import DictAccess
from fewpoints.io import (
    PART_NAME,
    atomic_folder,
    available_memory,
    check_output_folder,
    require_pyarrow,
    write_part,
)
from fewpoints.schema import FewpointsError, validate
from fewpoints.synth.params import WorldParams, resolve_params, world_metadata
from fewpoints.synth.world import (
    STREAMS,
    ProgressFn,
    build_city,
    estimate_memory,
    populate_city,
    summarize,
)

__all__ = ["ChunkedEstimate", "ChunkedWorld", "estimate_chunked", "write_world_chunked"]

#: Tables written as one Parquet file per chunk (plus ``traces_<model>``).
PER_CHUNK = ("people", "stays", "directory", "posts")
#: Bytes on disk per row of each table, measured on the crowd world (zstd Parquet), with a margin.
DISK_BYTES_PER_ROW = {
    "traces": 5.0,
    "stays": 12.0,
    "people": 40.0,
    "directory": 30.0,
    "posts": 25.0,
}
#: Bytes of memory per person of the whole population: the city, and the shared per-person arrays.
CITY_BYTES_PER_PERSON = 200


class ChunkedWorld:
    """What :func:`write_world_chunked` wrote: the folder, its ``world.json`` and a summary.

    Attributes
    ----------
    path : Path
        The world folder.
    metadata : dict
        The contents of ``world.json``.
    summary : str
        A few lines describing the world, as :meth:`World.summary` gives.
    """

    def __init__(self, path: Path, metadata: dict, summary: str):
        self.path = path
        self.metadata = metadata
        self.summary = summary

    def __repr__(self) -> str:
        c = self.metadata["chunked"]
        return f"ChunkedWorld({str(self.path)!r}, {c['n_chunks']} chunks of {c['chunk_people']:,} people)"


def chunk_streams(seed: int, chunk: int) -> dict[str, np.random.SeedSequence]:
    """The random streams of one chunk: chunk ``k`` draws the same numbers however many chunks follow.

    They descend from the world's seed on a branch of their own (spawn key
    ``(len(STREAMS), k)``), apart from the world's stage streams.
    """
    root = np.random.SeedSequence(seed, spawn_key=(len(STREAMS), chunk))
    return dict(zip(STREAMS, root.spawn(len(STREAMS)), strict=True))


@dataclass(frozen=True)
class ChunkedEstimate(OneRow, DictAccess):
    """What writing a world in chunks needs (:func:`estimate_chunked`).

    Attributes
    ----------
    memory : int
        Bytes of memory at the peak (one chunk's tables, and the city).
    disk : int
        Bytes on disk, all tables together.

    Notes
    -----
    Formerly a dict: ``need["memory"]`` (deprecated, it warns) is ``need.memory``.
    """

    memory: int
    disk: int


def estimate_chunked(
    params: WorldParams, chunk_people: int, *, stays: bool = True
) -> ChunkedEstimate:
    """Memory (bytes, peak) and disk (bytes, total) that writing ``params`` in chunks needs.

    Parameters
    ----------
    params : WorldParams
        The whole world (``params.n_people`` is the total).
    chunk_people : int
        People per chunk.
    stays : bool, default True
        Whether the ground-truth ``stays`` table is written too.

    Returns
    -------
    ChunkedEstimate
        ``memory`` (bytes, at the peak) and ``disk`` (bytes, in total);
        :func:`write_world_chunked` refuses to start when either is more
        than is free.

    Examples
    --------
    >>> from fewpoints.synth.params import resolve_params
    >>> params = resolve_params("classroom")
    >>> need = estimate_chunked(params, 1_000)
    >>> need.memory < estimate_chunked(params, 5_000).memory  # smaller chunks, less memory
    True
    >>> need.disk > estimate_chunked(params, 1_000, stays=False).disk  # the stays take disk
    True
    """
    n = params.n_people
    chunk = params.replace(n_people=min(chunk_people, n))
    records_per_person = 0.0
    if "cdr" in params.observe:
        records_per_person += params.days * params.cdr_events_per_month / 30.0
    if "pings" in params.observe:
        mean_pings = params.pings_median_per_day * np.exp(params.pings_activity_sigma**2 / 2)
        records_per_person += params.days * mean_pings
    # Writing a part turns device codes into strings (about 24 bytes a record at the peak).
    memory = (
        estimate_memory(chunk)
        + chunk.n_people * records_per_person * 24
        + n * CITY_BYTES_PER_PERSON
    )
    disk = n * records_per_person * DISK_BYTES_PER_ROW["traces"]
    disk += n * DISK_BYTES_PER_ROW["people"] + n * 0.7 * DISK_BYTES_PER_ROW["directory"]
    disk += n * params.poster_share * params.posts_per_week * params.days / 7 * 1.5 * 25.0
    if stays:
        disk += n * params.days * 2.4 * DISK_BYTES_PER_ROW["stays"]
    return ChunkedEstimate(memory=int(memory), disk=int(disk))


def _free_disk(out: Path) -> int | None:
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def write_world_chunked(
    params: WorldParams | str,
    out: str | os.PathLike,
    *,
    chunk_people: int,
    stays: bool = True,
    force: bool = False,
    progress: ProgressFn | None = None,
) -> ChunkedWorld:
    """Generate a world chunk by chunk and write it as a partitioned Parquet dataset.

    Parameters
    ----------
    params : WorldParams or str
        The whole world (as from :func:`resolve_params`, or a preset name
        with seed 0); ``params.n_people`` is the total, and the city is built
        for all of them.
    out : str or Path
        Folder to write; refused if it exists and is not empty, unless ``force``.
    chunk_people : int
        People per chunk (the last chunk may be smaller). Only one chunk's
        tables are in memory at a time.
    stays : bool, default True
        Write the ground-truth ``stays`` table (the largest one after the traces).
    force : bool, default False
        Replace ``out`` if it exists.
    progress : callable, optional
        Called as ``progress(stage, fraction_done)``; stages read
        ``"chunk 3 of 40: moving people"``.

    Returns
    -------
    ChunkedWorld

    Raises
    ------
    FewpointsError
        Before any work: a bad ``chunk_people``, pyarrow missing, an existing
        output, a chunk too large for the free memory, or too little disk.

    Notes
    -----
    Chunk ``k`` draws from its own streams (:func:`chunk_streams`), so it
    is the same whatever the number of chunks after it, and the same seed
    gives identical files. The chunks share the city, the firm sizes, the
    name vocabulary and the homes (dealt out between chunks, so no household
    spans two); person ids run on from chunk to chunk and device ids come from
    one keyed permutation of the person ids, so they never collide. A chunked
    world is statistically the same world as one generated at once, not the
    same draws: its tables differ from ``make_world`` with the same seed.
    """
    from fewpoints.synth import population

    if not isinstance(params, WorldParams):
        params = resolve_params(params)
    if isinstance(chunk_people, bool) or not isinstance(chunk_people, (int, np.integer)):
        raise FewpointsError(f"chunk_people must be a whole number, got {chunk_people!r}")
    if chunk_people <= 0:
        raise FewpointsError(f"chunk_people must be positive, got {chunk_people}")
    require_pyarrow("writing a world in chunks")
    out = check_output_folder(out, force=force)
    need = estimate_chunked(params, chunk_people, stays=stays)
    have = available_memory()
    if have is not None and need.memory > have:
        raise FewpointsError(
            f"a chunk of {min(chunk_people, params.n_people):,} people needs about "
            f"{need.memory / 1e9:.1f} GB of memory but only {have / 1e9:.1f} GB is free; "
            "use fewer people per chunk (--chunk-people)"
        )
    free = _free_disk(out)
    if free is not None and need.disk > free:
        raise FewpointsError(
            f"this world needs about {need.disk / 1e9:.1f} GB of disk but only "
            f"{free / 1e9:.1f} GB is free under {out.parent}; use fewer people or days"
            + ("" if not stays else ", or leave out the stays (--no-stays)")
        )

    report = progress or (lambda stage, fraction: None)
    streams, town = build_city(params, report)
    cohorts = population.make_cohorts(
        params,
        town,
        chunk_people=int(chunk_people),
        rng=np.random.default_rng(streams["population"]),
    )
    n_chunks = len(cohorts)
    names = [
        *(f"traces_{m}" for m in params.observe),
        *(t for t in PER_CHUNK if stays or t != "stays"),
    ]
    part_rows: dict[str, list[int]] = {name: [] for name in names}
    part_devices: dict[str, list[int]] = {f"traces_{m}": [] for m in params.observe}
    per_device: dict[str, list[np.ndarray]] = {m: [] for m in params.observe}

    with atomic_folder(out, force=force) as tmp:
        write_part(town.places, tmp / "places.parquet")
        write_part(town.antennas, tmp / "antennas.parquet")
        for name in names:
            (tmp / name).mkdir()
        for k, cohort in enumerate(cohorts):
            label = f"chunk {k + 1} of {n_chunks}"

            def chunk_report(stage: str, fraction: float, label: str = label) -> None:
                report(f"{label}: {stage}", fraction)

            people, stay, observations, directory, posts = populate_city(
                params,
                town,
                chunk_streams(params.seed, k),
                chunk_report,
                cohort=cohort,
                with_stays=stays,
            )
            tables = {f"traces_{m}": df for m, df in observations.items()}
            del observations
            tables.update(people=people, directory=directory, posts=posts)
            if stays:
                stay["person_id"] += np.int32(cohort.first_person)
                tables["stays"] = stay
            del people, stay, directory, posts
            chunk_report("writing files", 0.0)
            for i, name in enumerate(names):
                df = tables.pop(name)
                traces = name.startswith("traces")
                if not (traces and df.empty):
                    validate(df, "traces" if traces else name)
                write_part(
                    df, tmp / name / PART_NAME.format(k), whole="device_id" if traces else None
                )
                part_rows[name].append(len(df))
                if traces:
                    codes = df["device_id"].cat.codes.to_numpy()
                    counts = np.bincount(codes, minlength=len(df["device_id"].cat.categories))
                    counts = counts[counts > 0].astype(np.int32)
                    part_devices[name].append(int(counts.size))
                    per_device[name.removeprefix("traces_")].append(counts)
                del df
                chunk_report("writing files", (i + 1) / len(names))

        rows = {"places": len(town.places), "antennas": len(town.antennas)}
        rows.update({name: int(sum(r)) for name, r in part_rows.items()})
        command = f" --parquet --chunk-people {int(chunk_people)}" + (
            "" if stays else " --no-stays"
        )
        meta = world_metadata(params, rows, command=command)
        meta["format"] = "parquet"
        meta["chunked"] = {
            "chunk_people": int(chunk_people),
            "n_chunks": n_chunks,
            # Every record of a device is in one part (and one row group of it), sorted by
            # device_id then time within the part: engines may work part by part.
            "whole_devices": True,
            "sorted_by": ["device_id", "time"],
            "part_name": PART_NAME.replace("{:05d}", "NNNNN"),
            "part_rows": part_rows,
            "part_devices": part_devices,
            "stays": bool(stays),
            "time_unit": "ms",
        }
        (tmp / "world.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        counts = {m: np.concatenate(c) if c else np.empty(0) for m, c in per_device.items()}
        summary = summarize(params, town.places, len(town.antennas), rows, counts)
    return ChunkedWorld(out, meta, summary)
