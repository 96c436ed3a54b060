"""One device's story in plain words: how few points single it out, where it sleeps and works, whose it is, where it went.

:func:`explain` chains the attacks on one pseudonymous device, using only
what a buyer of the data and the public have (the traces, the map, the
directory, the posts), and returns a :class:`DeviceStory`: a few sentences
for a notebook or a briefing, and the tables behind every sentence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fewpoints.attacks.index import PointIndex
from fewpoints.common import renamed
from fewpoints.schema import FewpointsError, validate_traces

__all__ = ["DeviceStory", "explain"]

#: Public tables :func:`explain` may read from a world or a dict of tables.
PUBLIC_TABLES = ("places", "antennas", "directory", "posts")


@dataclass
class DeviceStory:
    """What the released and public data say about one device.

    Attributes
    ----------
    device_id : str
        The pseudonym.
    trace : DataFrame
        The device's records (its rows of ``traces``).
    points_to_unique : int or None
        Fewest random points of its trace that single it out (unique in at
        least half of the draws), or None if ``max_points`` do not.
    home, work : dict or None
        ``x_km, y_km, support`` of the inferred home and work (see
        :func:`~fewpoints.attacks.top_locations.home_work`), None if unknown.
    name : str or None
        The best guess of :func:`~fewpoints.attacks.linkage.link_directory`
        (None without a directory, or when no listed address fits).
    sensitive : DataFrame
        Its rows of :func:`~fewpoints.attacks.inference.sensitive_visits`.
    unicity : DataFrame
        ``n_points, n_draws, share_unique, median_set_size``: the draws behind
        ``points_to_unique``.
    candidates : DataFrame
        Its rows of ``link_directory`` (every candidate name, ranked).
    n_devices : int
        Devices in the traces it was singled out among.
    synthetic : bool
        Whether the data are synthetic (said in the story).
    resolution : str
        The resolution of the points drawn, in words.
    """

    device_id: str
    trace: pd.DataFrame
    points_to_unique: int | None
    home: dict | None
    work: dict | None
    name: str | None
    sensitive: pd.DataFrame
    unicity: pd.DataFrame = field(repr=False)
    candidates: pd.DataFrame = field(repr=False)
    n_devices: int = 0
    synthetic: bool = True
    resolution: str = "place and time as recorded"

    def __repr__(self) -> str:
        return (
            f"DeviceStory({self.device_id!r}, {len(self.trace):,} records, "
            f"points_to_unique={self.points_to_unique}, name={self.name!r}, "
            f"sensitive visits={len(self.sensitive)})"
        )

    def __str__(self) -> str:
        tr = self.trace
        days = tr["time"].dt.normalize().nunique()
        label = " (synthetic data)" if self.synthetic else ""
        lines = [f"Device {self.device_id}{label}: {len(tr):,} records on {days} days."]
        if self.points_to_unique is None:
            top = int(self.unicity["n_points"].max()) if len(self.unicity) else 0
            lines.append(f"Up to {top} random points of its trace do not single it out.")
        else:
            p = self.points_to_unique
            row = self.unicity[self.unicity["n_points"] == p].iloc[0]
            lines.append(
                f"{p} random point{'s' if p > 1 else ''} ({self.resolution}) of its trace "
                "single it out among "
                f"{self.n_devices:,} devices (in {row['share_unique']:.0%} of "
                f"{int(row['n_draws'])} draws)."
            )
        if self.home:
            lines.append(
                f"It spends its nights near ({self.home['x_km']:.2f}, {self.home['y_km']:.2f}) km "
                f"({self.home['support']:.0%} of its night hours): its home."
            )
        else:
            lines.append("It has no night-time record, so its home is not inferred.")
        if self.work:
            lines.append(
                f"On weekdays 09:00-17:00 it is most often near ({self.work['x_km']:.2f}, "
                f"{self.work['y_km']:.2f}) km ({self.work['support']:.0%} of those hours): its work."
            )
        if self.name is not None:
            best = self.candidates.iloc[0]
            k = int(best["address_adults"])
            parts = [f"score {best['score']:.2f}, best of {len(self.candidates)} candidates"]
            if k > 1:
                parts.append(f"{k} adults are listed at that address")
            if best["posts_matched"] > 0:
                parts.append(
                    f"{int(best['posts_matched'])} of their posts were made where the device was"
                )
            lines.append(
                f"The public directory suggests it belongs to {self.name} ({'; '.join(parts)})."
            )
        else:
            lines.append("No listed address matches its home, so no name is guessed.")
        if len(self.sensitive):
            lines.append(f"Its trace shows {len(self.sensitive)} visit(s) to sensitive places:")
            for _, v in self.sensitive.head(5).iterrows():
                when = pd.Timestamp(v["start"]).strftime("%a %d %b %H:%M")
                how = (
                    f"{v['minutes']:.0f} min"
                    if v["minutes"] >= 1
                    else f"{v['n_records']} record(s)"
                )
                lines.append(f"  {v['name']} ({v['kind']}), {when}, {how}")
            if len(self.sensitive) > 5:
                lines.append(f"  ... and {len(self.sensitive) - 5} more")
            if "accuracy_m" not in self.trace.columns:
                lines.append(
                    "  (call records: each is a record at the antenna nearest the place, "
                    "a lead rather than proof of a visit)"
                )
        else:
            lines.append("Its trace shows no visit to a sensitive place.")
        lines.append("Each of these is an inference from the data, not a fact about a person.")
        return "\n".join(lines)


def _tables(world_or_tables, model: str | None):
    """The traces and the public tables, from a World or a dict; never the ground truth."""
    if isinstance(world_or_tables, dict):
        tables = world_or_tables
        traces_by_model = {
            k[len("traces_") :]: v for k, v in tables.items() if k.startswith("traces_")
        }
        if "traces" in tables:
            traces_by_model = {"traces": tables["traces"], **traces_by_model}
        public = {k: tables.get(k) for k in PUBLIC_TABLES}
        synthetic = bool(tables.get("synthetic", False))
    else:
        traces_by_model = dict(world_or_tables.observations)
        public = {k: getattr(world_or_tables, k, None) for k in PUBLIC_TABLES}
        synthetic = True
    if not traces_by_model:
        raise FewpointsError("no traces given: pass a World or a dict with 'traces'")
    if model is None:
        model = next(iter(traces_by_model))
    if model not in traces_by_model:
        raise FewpointsError(f"no {model} traces; there are {', '.join(traces_by_model)}")
    if public["places"] is None:
        raise FewpointsError("explain needs the public places map")
    return traces_by_model[model], public, synthetic


def _unicity_draws(traces, trace, max_points, n_draws, rng) -> pd.DataFrame:
    """Random draws of 1..max_points of the target's points, and how many devices hold each draw."""
    t_all = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    t_own = trace["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    # Only records at one of the target's own moments can share its points.
    sub = traces[np.isin(t_all, np.unique(t_own))]
    index = PointIndex.from_traces(sub)
    target = int(np.flatnonzero(index.device_ids == str(trace["device_id"].iloc[0]))[0])
    _, points = index.device_points(np.array([target]))
    rows = []
    for p in range(1, min(max_points, len(points)) + 1):
        items = np.stack([rng.choice(points, size=p, replace=False) for _ in range(n_draws)])
        sizes = index.points.anonymity_sets(items)
        rows.append(
            {
                "n_points": p,
                "n_draws": n_draws,
                "share_unique": float(np.mean(sizes == 1)),
                "median_set_size": float(np.median(sizes)),
            }
        )
        if np.mean(sizes == 1) >= 0.5:
            break
    return pd.DataFrame(
        rows, columns=["n_points", "n_draws", "share_unique", "median_set_size"]
    ).astype({"n_points": np.int64, "n_draws": np.int64})


@renamed(model="observe")
def explain(
    world_or_tables,
    device_id,
    *,
    observe: str | None = None,
    time_bin: str | None = "1h",
    max_points: int = 10,
    n_draws: int = 20,
    rng=None,
) -> DeviceStory:
    """Tell one device's story: how few points single it out, its home and work, its name, its visits.

    Parameters
    ----------
    world_or_tables : World or dict of DataFrame
        A world (only its released traces and public tables are read), or a
        dict with ``traces`` (or ``traces_cdr``, ``traces_pings``) and
        ``places``, optionally ``antennas``, ``directory``, ``posts``.
    device_id : str
        The pseudonym to explain.
    observe : str, optional
        Which traces of a world, by observation model (``"cdr"``, ``"pings"``;
        default: its first). ``model=`` is its deprecated name.
    time_bin : str or None, default "1h"
        Time resolution of the points drawn to single the device out (as in
        "Unique in the Crowd": place and hour); None for times as recorded.
    max_points : int, default 10
        Most random points tried.
    n_draws : int, default 20
        Random draws of each number of points.
    rng : int, Generator or None
        Randomness for the draws.

    Returns
    -------
    DeviceStory
        Printing it gives the plain-language account; its attributes hold
        the tables behind each sentence.

    Raises
    ------
    FewpointsError
        If the device is not in the traces, or a table is missing.

    Notes
    -----
    This is the broker's file on one person, read the way an attacker
    reads it: a handful of points make the pseudonym unique, the nights
    give the home, the directory gives candidate names for that home, and
    the rest of the trace says where that person went. Each step is an
    inference (a wrong antenna, a shared household, an unlisted tenant can
    mislead it); the story says how strong each one is.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.

    Examples
    --------
    >>> from fewpoints import examples
    >>> world = examples.tiny_homes()

    >>> story = explain(world, "b", rng=0)
    >>> story.name, float(story.home["x_km"])
    ('Bo', 1.0)
    >>> print(str(story).splitlines()[0])
    Device b: 2 records on 2 days.
    """
    from fewpoints.attacks.inference import sensitive_visits
    from fewpoints.attacks.linkage import empty_links, link_directory
    from fewpoints.attacks.top_locations import home_work

    rng = np.random.default_rng(rng)
    for value, what in ((max_points, "max_points"), (n_draws, "n_draws")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise FewpointsError(f"{what} must be a whole number of at least 1, got {value!r}")
    traces, public, synthetic = _tables(world_or_tables, observe)
    validate_traces(traces)
    device_id = str(device_id)
    ids = traces["device_id"]
    # A categorical compares with a scalar without copying its labels.
    ids = ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype(str)
    mask = (ids == device_id).to_numpy()
    if not mask.any():
        raise FewpointsError(f"device {device_id!r} is not in the traces")
    trace = traces[mask].sort_values("time", kind="stable").reset_index(drop=True)
    if isinstance(trace["device_id"].dtype, pd.CategoricalDtype):
        trace["device_id"] = trace["device_id"].astype(str)

    if time_bin is None:
        binned, resolution = traces, "place and time as recorded"
    else:
        from fewpoints.anonymize import WeakTransformWarning, coarsen_time

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakTransformWarning)
            binned = coarsen_time(traces, time_bin=time_bin)
        # GPS fixes are points to the metre, not antennas: say so, or "one point singles it
        # out" reads as contradicting the antenna-level unicity of "Unique in the Crowd".
        where = "GPS position as recorded" if "accuracy_m" in traces.columns else "place"
        resolution = f"{where} and {time_bin} time bin"
    own = binned[mask]
    if isinstance(own["device_id"].dtype, pd.CategoricalDtype):
        own = own.assign(device_id=own["device_id"].astype(str))
    draws = _unicity_draws(binned, own, int(max_points), int(n_draws), rng)
    unique_at = draws.loc[draws["share_unique"] >= 0.5, "n_points"]
    points_to_unique = int(unique_at.iloc[0]) if len(unique_at) else None

    hw = home_work(trace)
    home = work = None
    if len(hw) and pd.notna(hw["home_x_km"].iloc[0]):
        r = hw.iloc[0]
        home = {"x_km": r["home_x_km"], "y_km": r["home_y_km"], "support": r["home_support"]}
        if pd.notna(r["work_x_km"]):
            work = {"x_km": r["work_x_km"], "y_km": r["work_y_km"], "support": r["work_support"]}

    candidates = empty_links()
    if public["directory"] is not None and home is not None:
        candidates = link_directory(
            traces, public["directory"], public["places"], posts=public["posts"], homes=hw
        )
    name = str(candidates["name"].iloc[0]) if len(candidates) else None

    gps = "accuracy_m" in traces.columns
    on_map = public["antennas"] is not None or gps
    sens = sensitive_visits(
        trace if on_map else traces, public["places"], antennas=public["antennas"]
    )
    sens = sens[sens["device_id"].astype(str) == device_id].reset_index(drop=True)
    return DeviceStory(
        device_id=device_id,
        trace=trace,
        points_to_unique=points_to_unique,
        home=home,
        work=work,
        name=name,
        sensitive=sens,
        unicity=draws,
        candidates=candidates.reset_index(drop=True),
        n_devices=int(traces["device_id"].nunique()),
        synthetic=synthetic,
        resolution=resolution,
    )
