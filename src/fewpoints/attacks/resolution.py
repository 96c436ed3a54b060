"""Resolution: how little coarsening space and time buys (de Montjoye et al. 2013).

The same table is coarsened on a grid of spatial and temporal resolutions,
unicity is measured at each, and the power law ``epsilon = alpha - (v*h)**beta``
of "Unique in the Crowd" is fitted to the result. Space is coarsened by
merging neighbouring antennas (as in the paper) when the data are located at
antennas (call records), else by square cells (GPS pings, or when asked).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from fewpoints.attacks.index import PointIndex
from fewpoints.attacks.result import curve_row
from fewpoints.attacks.unicity import unicity_on_index
from fewpoints.common import check_points, check_targets, renamed
from fewpoints.schema import FewpointsError

__all__ = ["ResolutionSweep", "antenna_map", "fit_resolution_law", "resolution_sweep"]


@dataclass
class ResolutionSweep:
    """Unicity over spatial x temporal coarsening, with the power-law fit of de Montjoye et al.

    Attributes
    ----------
    table : DataFrame
        One row per (space, bin, p): ``cell_km`` (square cells; NaN: not
        used), ``merge_v`` (antennas per merged cluster asked for; NaN: not
        used; both NaN: as recorded), ``time_bin`` (None: as recorded), ``v``
        (original locations merged per coarse location, measured),
        ``h`` (hours per time bin),
        ``n_points``, ``unicity``, ``ci_low``, ``ci_high``, ``n_targets``,
        ``fitted``.
    fit : DataFrame
        One row per p: ``n_points``, ``alpha``, ``beta``, ``rmse``, and
        ``halving_drop`` (predicted relative loss of unicity when both
        resolutions are halved from the finest measured, i.e. v*h x 4).
    """

    table: pd.DataFrame
    fit: pd.DataFrame

    def __repr__(self) -> str:
        fits = ", ".join(
            f"p={r.n_points}: alpha={r.alpha:.3f}, beta={r.beta:.3f}" for r in self.fit.itertuples()
        )
        return f"ResolutionSweep({len(self.table)} rows; fit {fits})"


def fit_resolution_law(vh, eps) -> tuple[float, float, float]:
    """Least-squares fit of ``eps = alpha - (v*h)**beta``; returns (alpha, beta, rmse).

    For each beta on a grid (then a finer grid around the best), alpha has a
    closed form (the mean of ``eps + (vh)**beta``); the pair with the
    smallest squared error wins. NaN when fewer than 2 distinct ``v*h``.
    """
    vh = np.asarray(vh, dtype=float)
    eps = np.asarray(eps, dtype=float)
    if len(np.unique(vh)) < 2:
        return float("nan"), float("nan"), float("nan")
    best = None
    grid = np.linspace(-1.0, 1.0, 2001)
    for _ in range(2):
        powers = vh[None, :] ** grid[:, None]
        alpha = (eps[None, :] + powers).mean(axis=1)
        sse = ((alpha[:, None] - powers - eps[None, :]) ** 2).sum(axis=1)
        i = int(np.argmin(sse))
        best = (float(alpha[i]), float(grid[i]), float(np.sqrt(sse[i] / len(vh))))
        step = grid[1] - grid[0]
        grid = np.linspace(grid[i] - step, grid[i] + step, 201)
    return best


def _hours(time_bin) -> float:
    return pd.Timedelta(time_bin).total_seconds() / 3600.0


def _native_hours(point_time: np.ndarray) -> float:
    """The data's own time resolution in hours: the largest step all its times are multiples of."""
    t = np.unique(point_time)
    if len(t) < 2:
        return 1.0
    step = int(np.gcd.reduce(t - t[0]))
    return max(step, 1) / 3600.0


def _sweep_rows(traces, levels, time_bins, ps, n_targets, knowledge, rng, via_index) -> list:
    """One row per (space, time bin, p), drawing from ``rng`` in a fixed order.

    With ``via_index`` every coarse index is made by coarsening the index of
    the table (``PointIndex.coarsen``); otherwise by indexing the coarsened
    table. Both give the same indexes, hence the same rows for the same seed.
    """
    from fewpoints.anonymize import coarsen_time

    base = PointIndex.from_traces(traces)
    native_h = _native_hours(base.point_time)
    rows = []
    for cell, mv, on_table, on_index in levels:
        if via_index:
            spaced = base if on_index is None else on_index(base)
        else:
            spaced = traces if on_table is None else on_table(traces)
        finer, finer_s = spaced, None
        for tb in time_bins:
            if via_index:
                # Coarsen from the previous bin when it nests in this one
                # (fewer pairs to merge); the index is the same either way.
                step = None if tb is None else pd.Timedelta(tb).total_seconds()
                if tb is None:
                    index = spaced
                elif finer_s is not None and step % finer_s == 0:
                    index = _coarsen_nested(finer, spaced, tb, step)
                else:
                    index = spaced.coarsen(time_bin=tb)
                if step is not None:
                    finer, finer_s = index, step
            else:
                coarse = spaced if tb is None else coarsen_time(spaced, time_bin=tb)
                index = PointIndex.from_traces(coarse)
            h = native_h if tb is None else _hours(tb)
            for p in ps:
                res = unicity_on_index(index, p, n_targets, knowledge, rng)
                rows.append(
                    {
                        "cell_km": cell,
                        "merge_v": mv,
                        "time_bin": tb,
                        "v": base.n_locations / index.n_locations,
                        "h": h,
                        **curve_row(res),
                    }
                )
    return rows


def _coarsen_nested(finer: PointIndex, spaced: PointIndex, time_bin, step) -> PointIndex:
    """``spaced.coarsen(time_bin=...)`` made from ``finer``, a finer bin that nests in it.

    Warns as coarsening ``spaced`` would: only when the bin changes no time of
    ``spaced`` itself.
    """
    from fewpoints.anonymize import WeakTransformWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        index = finer.coarsen(time_bin=time_bin)
    if (spaced.point_time % int(step) == 0).all():
        warnings.warn(
            f"every time is already a multiple of {time_bin}; coarsening time changed nothing",
            WeakTransformWarning,
            stacklevel=3,
        )
    return index


def _records_at_antennas(traces: pd.DataFrame, antennas: pd.DataFrame) -> bool:
    """True when every record has a mapped antenna_id and sits at its antenna's coordinates.

    Then a location is an antenna, and merging antennas can be done on the
    index's locations instead of on every record.
    """
    ax = antennas["x_km"].to_numpy(dtype=np.float64) + 0.0
    ay = antennas["y_km"].to_numpy(dtype=np.float64) + 0.0
    if not pd.MultiIndex.from_arrays([ax, ay]).is_unique:
        return False
    aid = traces["antenna_id"]
    if aid.isna().any():
        return False
    ids = pd.Index(antennas["antenna_id"].to_numpy(dtype=np.int64))
    row = ids.get_indexer(aid.to_numpy().astype(np.int64))
    if (row < 0).any():
        return False
    return bool(
        (ax[row] == traces["x_km"].to_numpy(dtype=np.float64)).all()
        and (ay[row] == traces["y_km"].to_numpy(dtype=np.float64)).all()
    )


def _merge_index(index: PointIndex, *, antennas: pd.DataFrame, v: float, rng) -> PointIndex:
    """``merge_antennas`` applied to an index whose every location is an antenna."""
    from fewpoints.anonymize import merge_antennas

    ax = antennas["x_km"].to_numpy(dtype=np.float64) + 0.0
    ay = antennas["y_km"].to_numpy(dtype=np.float64) + 0.0
    at = pd.MultiIndex.from_arrays([ax, ay]).get_indexer(
        pd.MultiIndex.from_arrays([index.loc_x, index.loc_y])
    )
    # One record per location, at its antenna: merge_antennas draws its
    # clusters from the antennas and rng only, so the clusters are the ones
    # the table would get.
    locations = pd.DataFrame(
        {
            "device_id": "location",
            "time": np.zeros(index.n_locations, dtype="datetime64[s]"),
            "x_km": index.loc_x,
            "y_km": index.loc_y,
            "antenna_id": antennas["antenna_id"].to_numpy(dtype=np.int64)[at],
        }
    )
    return index.coarsen(locations=merge_antennas(locations, antennas, merge_v=v, rng=rng))


def antenna_map(traces: pd.DataFrame) -> pd.DataFrame | None:
    """The antenna map a table located at antennas carries: each ``antenna_id`` with its position.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.

    Returns
    -------
    DataFrame or None
        ``antenna_id, x_km, y_km``, one row per antenna the table uses, in
        ``antenna_id`` order; None when the table has no ``antenna_id`` column
        (GPS pings, or a table already coarsened).

    Raises
    ------
    FewpointsError
        When some records have no antenna or an antenna sits at several
        positions: the table is not located at antennas, so its map is unknown.
    """
    if "antenna_id" not in traces.columns:
        return None
    aid = traces["antenna_id"]
    if aid.isna().any():
        raise FewpointsError(
            f"{int(aid.isna().sum()):,} records have no antenna_id, so the table does not "
            "hold its antenna map; give antennas= (the map) or cell_km= (square cells)"
        )
    ids = aid.to_numpy().astype(np.int64)
    codes, uniques = pd.factorize(ids, sort=True)
    x = np.full(len(uniques), np.nan)
    y = np.full(len(uniques), np.nan)
    x[codes] = traces["x_km"].to_numpy(dtype=np.float64)
    y[codes] = traces["y_km"].to_numpy(dtype=np.float64)
    if not (
        np.array_equal(x[codes], traces["x_km"].to_numpy(dtype=np.float64))
        and np.array_equal(y[codes], traces["y_km"].to_numpy(dtype=np.float64))
    ):
        raise FewpointsError(
            "some antenna_id sits at several positions, so the records are not located at "
            "their antennas; give antennas= (the map) or cell_km= (square cells)"
        )
    return pd.DataFrame({"antenna_id": uniques, "x_km": x, "y_km": y})


@renamed(n_points="n_points_range")
def resolution_sweep(
    traces: pd.DataFrame,
    *,
    cell_km: Sequence[float | None] | None = None,
    time_bin: Sequence[str | None] = ("1h", "2h", "4h", "8h"),
    n_points_range: Sequence[int] = (4,),
    n_targets: int = 10_000,
    knowledge: str = "random",
    antennas: pd.DataFrame | None = None,
    merge_v: Sequence[float] | None = None,
    rng=None,
) -> ResolutionSweep:
    """Unicity of the same table coarsened in space and time, and the fitted power law.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table. When it is located at antennas (an ``antenna_id``
        column, as call records are) space is coarsened by merging about
        ``v`` neighbouring antennas (``anonymize.merge_antennas``), the
        coarsening of the published law; otherwise (GPS pings) by square cells.
    cell_km : sequence of float or None, optional
        Square cells instead: the cell sizes to snap locations to
        (``anonymize.coarsen_space``); a None in it keeps the recorded
        locations. Default ``(None, 1.0, 2.0, 4.0)`` for tables not located
        at antennas; giving it asks for square cells on any table.
    time_bin : sequence of str or None
        Time bins to floor times to (``anonymize.coarsen_time``), e.g. ``"1h"``;
        None keeps the recorded times.
    n_points_range : sequence of int, default (4,)
        The numbers of known points p (``n_points=`` is its deprecated name).
    n_targets : int, default 10_000
    knowledge : str, default "random"
    antennas : DataFrame, optional
        The antenna map to merge (``antenna_id, x_km, y_km``). Default: the
        map the table carries (:func:`antenna_map`: each antenna it uses, at
        its records' position).
    merge_v : sequence of float, optional
        Antennas per merged cluster, default ``(1, 2, 4, 8)``; 1 keeps the
        recorded locations. Only for tables located at antennas.
    rng : int, Generator or None

    Returns
    -------
    ResolutionSweep
        ``table`` (tidy, one row per cell x bin x p) and ``fit`` (alpha,
        beta per p).

    Notes
    -----
    De Montjoye et al. found that unicity falls only slowly as data are
    made coarser, about as ``epsilon = alpha - (v*h)**beta`` where ``v``
    is how many antennas are merged and ``h`` the hours per time bin, with
    beta about 0.157 - 0.007 p: halving both resolutions at p = 4 removed
    only about a tenth of the unicity. Here ``v`` is measured on the data:
    the number of distinct recorded locations divided by the number of
    distinct coarse locations (1 when space is not coarsened), and ``h`` is
    the bin length in hours (the table's own time step when not binned).
    The fit is a least-squares grid search (no SciPy). The table is indexed
    once; every coarse index is made from that index
    (:meth:`~fewpoints.attacks.index.PointIndex.coarsen`), which gives the
    same results as indexing each coarsened table, in a fraction of the time.

    How space is coarsened matters, which is why merged antennas are the
    default for call records. Merged antennas give every cluster about the
    same number of antennas, as in the paper. A square cell of 1 km merges
    many antennas downtown, where they are a few hundred metres apart, and
    few in the suburbs, so square cells make coarsening look more protective
    than it is and fit the law more loosely.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd. Scientific Reports 3:1376.

    Examples
    --------
    >>> from fewpoints import examples
    >>> traces = examples.tiny_traces()

    As recorded, two points single out ``b``; in 4 km cells all three phones
    look alike:

    >>> sweep = resolution_sweep(
    ...     traces, cell_km=(None, 4.0), time_bin=(None,), n_points_range=(2,),
    ...     n_targets=3, rng=0,
    ... )
    >>> sweep.table["unicity"].round(3).tolist()
    [0.333, 0.0]
    """
    from fewpoints.anonymize import WeakTransformWarning, coarsen_space, merge_antennas

    rng = np.random.default_rng(rng)
    if not isinstance(traces, pd.DataFrame):
        raise FewpointsError("resolution_sweep needs the traces table itself (it coarsens it)")
    ps = [check_points(p) for p in n_points_range]
    n_targets = check_targets(n_targets)
    # Spatial levels: (cell_km, merge_v, coarsen the table, coarsen the index),
    # NaN for the unused kind; the index is coarsened when that gives the
    # same coarse index as the table (always for cells; for merged antennas
    # when every record sits at its antenna's coordinates).
    if cell_km is not None and (antennas is not None or merge_v is not None):
        raise FewpointsError(
            "give cell_km (square cells) or antennas/merge_v (merged antennas), not both"
        )
    if antennas is None and cell_km is None:
        antennas = antenna_map(traces)
    if antennas is None and merge_v is not None:
        raise FewpointsError(
            "merge_v merges antennas, but the traces are not located at antennas (no "
            "antenna_id column); for GPS pings use square cells (cell_km)"
        )
    if antennas is not None:
        if "antenna_id" not in traces.columns:
            raise FewpointsError(
                "merging antennas needs traces located at antennas (an antenna_id column); "
                "for GPS pings use square cells (cell_km)"
            )
        merge_v = (1, 2, 4, 8) if merge_v is None else merge_v
        at_antenna = _records_at_antennas(traces, antennas)
        levels = [
            (
                np.nan,
                float(v),
                None if v == 1 else partial(merge_antennas, antennas=antennas, merge_v=v, rng=rng),
                None
                if v == 1 or not at_antenna
                else partial(_merge_index, antennas=antennas, v=v, rng=rng),
            )
            for v in merge_v
        ]
        via_index = at_antenna
    else:
        cells = (None, 1.0, 2.0, 4.0) if cell_km is None else cell_km
        levels = [
            (
                np.nan if c is None else float(c),
                np.nan,
                None if c is None else partial(coarsen_space, cell_km=c),
                None if c is None else partial(PointIndex.coarsen, cell_km=c),
            )
            for c in cells
        ]
        via_index = True
    with warnings.catch_warnings():
        # The sweep measures the recorded resolution on purpose (h = the table's own step).
        warnings.simplefilter("ignore", WeakTransformWarning)
        rows = _sweep_rows(traces, levels, time_bin, ps, n_targets, knowledge, rng, via_index)
    table = pd.DataFrame(rows)
    fits, fitted = [], np.full(len(table), np.nan)
    for p in ps:
        sel = (table["n_points"] == p).to_numpy()
        vh = (table["v"] * table["h"]).to_numpy()[sel]
        alpha, beta, rmse = fit_resolution_law(vh, table["unicity"].to_numpy()[sel])
        fitted[sel] = alpha - vh**beta
        base = vh.min()
        drop = ((alpha - base**beta) - (alpha - (4 * base) ** beta)) / (alpha - base**beta)
        fits.append(
            {"n_points": p, "alpha": alpha, "beta": beta, "rmse": rmse, "halving_drop": drop}
        )
    table["fitted"] = fitted
    return ResolutionSweep(table=table, fit=pd.DataFrame(fits))
