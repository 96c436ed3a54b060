"""The three population-wide marginals of Farzanehfar et al. (2021), fitted to a traces table.

:class:`Marginals` holds activity (points per person), frequency (the mean
rank-frequency curve of each person's top locations) and the circadian
rhythm (points per hour of the period); :func:`fit_marginals` estimates
them in memory or partition by partition on the Dask engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.common import OneRow
from fewpoints.compat import DictAccess
from fewpoints.scale import is_dask_frame
from fewpoints.schema import FewpointsError

#: Antennas in each synthetic person's cluster, and ranks kept in the frequency marginal
#: ("each person's top 10 locations", Farzanehfar et al. 2021).
CLUSTER_SIZE = 10


@dataclass(frozen=True)
class MarginalsSummary(OneRow, DictAccess):
    """A few numbers that describe fitted marginals (:meth:`Marginals.summary`).

    Attributes
    ----------
    people : int
        People the marginals were estimated on.
    hours : int
        Hours of the period (the circadian rhythm's length).
    points_mean : float
        Mean distinct points (a location and an hour) per person.
    points_median, points_p99 : int
        Median and 99th percentile of the points per person.
    top1_share, top2_share, top3_share : float
        Mean share of a person's points at their most visited location, at
        their second, and at their top three together.

    Notes
    -----
    :meth:`Marginals.summary` used to return a dict; ``s["people"]`` still
    reads ``s.people`` until the next release, warning each time.
    """

    people: int
    hours: int
    points_mean: float
    points_median: int
    points_p99: int
    top1_share: float
    top2_share: float
    top3_share: float


@dataclass
class Marginals:
    """The three population-wide marginal distributions of Farzanehfar et al. (2021).

    Attributes
    ----------
    activity : ndarray
        ``activity[a]``: share of people with ``a`` distinct points
        (a location and an hour), a = 0, 1, ...
    frequency : ndarray
        ``frequency[r]``: the mean share of a person's points at their
        ``r + 1``-th most visited location, over the top locations
        (renormalised to sum to 1).
    circadian : ndarray
        ``circadian[h]``: share of all points in hour ``h`` of the period
        (hours since the first hour of the data), so the day's and the
        week's rhythms are both in it.
    n_people : int
        People the marginals were estimated on.
    """

    activity: np.ndarray
    frequency: np.ndarray
    circadian: np.ndarray
    n_people: int = 0

    @property
    def n_hours(self) -> int:
        return int(self.circadian.size)

    def summary(self) -> MarginalsSummary:
        """A few numbers that describe the marginals (for tables and captions).

        Returns
        -------
        MarginalsSummary
            ``people``, ``hours``, the points per person (``points_mean``,
            ``points_median``, ``points_p99``) and the shares of the top
            locations (``top1_share``, ``top2_share``, ``top3_share``);
            ``.to_frame()`` gives them as a one-row table.

        Examples
        --------
        >>> import numpy as np
        >>> m = Marginals(activity=np.array([0.0, 0.5, 0.5]), frequency=np.array([0.75, 0.25]),
        ...               circadian=np.full(24, 1 / 24), n_people=2)
        >>> s = m.summary()
        >>> s.people, s.hours, s.points_mean, s.points_median, s.top1_share, s.top3_share
        (2, 24, 1.5, 1, 0.75, 1.0)
        """
        a = np.arange(self.activity.size)
        cum = np.cumsum(self.activity)
        return MarginalsSummary(
            people=int(self.n_people),
            hours=self.n_hours,
            points_mean=float((a * self.activity).sum()),
            points_median=int(np.searchsorted(cum, 0.5)),
            points_p99=int(np.searchsorted(cum, 0.99)),
            top1_share=float(self.frequency[0]),
            top2_share=float(self.frequency[1]) if self.frequency.size > 1 else 0.0,
            top3_share=float(self.frequency[:3].sum()),
        )


def _marginal_counts(df: pd.DataFrame, top: int) -> dict:
    """Unnormalised marginals of one table (or partition) in which every device is whole.

    Points are distinct (location, hour) pairs of a device, whatever the
    table's own time resolution.
    """
    from fewpoints.attacks.index import location_codes
    from fewpoints.scale import factorize_devices, partition_columns

    if len(df) == 0:
        return {"activity": np.zeros(1), "frequency": np.zeros(top), "n": 0, "h0": 0,
                "hours": np.zeros(0)}  # fmt: skip
    dev, x, y, t = partition_columns(df)
    dcode, ids = factorize_devices(dev)
    loc, loc_x, _ = location_codes(x, y)
    del x, y
    hour = t // 3600
    h0 = int(hour.min())
    hour -= h0
    n_h = int(hour.max()) + 1
    n_loc = len(loc_x)
    key = (dcode * n_loc + loc) * n_h + hour
    key = np.unique(key)
    d, lh = key // (n_loc * n_h), key % (n_loc * n_h)
    loc, hour = lh // n_h, lh % n_h
    n_dev = len(ids)
    per_dev = np.bincount(d, minlength=n_dev)
    # Points per (device, location), then each device's locations ranked by them.
    dl = d * n_loc + loc  # sorted, as key is
    first = np.r_[True, dl[1:] != dl[:-1]]
    run_dev = d[first]
    run_n = np.diff(np.r_[np.flatnonzero(first), dl.size])
    order = np.lexsort((-run_n, run_dev))
    run_dev, run_n = run_dev[order], run_n[order]
    start = np.searchsorted(run_dev, np.arange(n_dev))
    rank = np.arange(run_dev.size) - start[run_dev]
    keep = rank < top
    share = run_n[keep] / per_dev[run_dev[keep]]
    return {
        "activity": np.bincount(per_dev).astype(float),
        "frequency": np.bincount(rank[keep], weights=share, minlength=top),
        "n": n_dev,
        "h0": h0,
        "hours": np.bincount(hour).astype(float),
    }


def _combine_marginals(parts: list[dict], top: int) -> Marginals:
    parts = [q for q in parts if q["n"] > 0]
    if not parts:
        raise FewpointsError("the traces table is empty")
    n = sum(q["n"] for q in parts)
    activity = np.zeros(max(q["activity"].size for q in parts))
    frequency = np.zeros(top)
    h0 = min(q["h0"] for q in parts)
    hours = np.zeros(max(q["h0"] - h0 + q["hours"].size for q in parts))
    for q in parts:
        activity[: q["activity"].size] += q["activity"]
        frequency += q["frequency"]
        at = q["h0"] - h0
        hours[at : at + q["hours"].size] += q["hours"]
    return Marginals(
        activity=activity / activity.sum(),
        frequency=frequency / frequency.sum(),
        circadian=hours / hours.sum(),
        n_people=int(n),
    )


def fit_marginals(traces, *, top: int = CLUSTER_SIZE, progress=None) -> Marginals:
    """Estimate the three marginals of Farzanehfar et al. (2021) from a traces table.

    Parameters
    ----------
    traces : DataFrame or dask DataFrame
        Records located at antennas (or cells); times are taken to the hour.
        A Dask table is read once, partition by partition (each device must
        be in one partition, as ``generate --chunk-people`` writes them).
    top : int, default 10
        Locations per person kept in the frequency marginal.

    Returns
    -------
    Marginals

    Notes
    -----
    As the paper's summary puts it, the model takes "into account three
    population-wide marginal distributions" [1]_: how many points people
    have (activity), how their points spread over their most visited
    locations (the mean rank-frequency curve of each person's top 10
    locations), and when points happen (the distribution of points over the
    hours of the period).

    References
    ----------
    .. [1] Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk
       of re-identification remains high even in country-scale location
       datasets. Patterns 2(3):100204.
    """
    if is_dask_frame(traces):
        from fewpoints.scale import dask_map, select_columns

        parts = dask_map(
            select_columns(traces), _marginal_counts, top, stage="marginals", progress=progress
        )
        return _combine_marginals(parts, top)
    return _combine_marginals([_marginal_counts(traces, top)], top)
