"""Posts to traces: the devices whose trace passes near each of a person's geotagged posts.

Each post is a named point; a record near it in space and time matches it
(by distance, or at the post's serving antenna), and the devices near every
one of a name's first posts are that name's anonymity set
(:func:`link_posts`). The matching is shared by the directory linkage (its
second clue) and by the naming curve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.attacks.index import location_codes
from fewpoints.common import device_codes, renamed
from fewpoints.schema import FewpointsError, validate, validate_traces

#: Default ``(max_km, max_minutes)`` for matching a post to a trace, by kind of
#: traces. Call records sit at the serving antenna, hundreds of metres to a
#: couple of kilometres from the caller, so a post is matched to the records
#: at its nearest antenna (``serving``), and ``max_km`` only caps how far that
#: antenna may be; app pings are GPS fixes within tens of metres, and posts
#: are geotagged as precisely, hence 50 m. Both kinds come a few times a day
#: (pings up to hundreds), and a person usually stays an hour or more where
#: they post, so a record of the same visit can come hours before or after
#: the post: 4 hours either way. Chosen on the classroom world (seed 2013)
#: as the tolerances that name the most posters; README "Named".
POST_TOLERANCES = {"cdr": (2.0, 240.0), "pings": (0.05, 240.0)}


#: Candidate (post, record) pairs examined per chunk (bounds memory).
_CHUNK = 1 << 23


#: Largest anonymity set whose devices are listed in ``device_ids``.
MAX_LISTED = 100


def traces_kind(traces: pd.DataFrame) -> str:
    """``"cdr"`` when records carry an antenna, else ``"pings"``."""
    return "cdr" if "antenna_id" in traces.columns else "pings"


def check_tolerance(value, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise FewpointsError(f"{what} must be a number, got {value!r}") from None
    if not (v > 0 and np.isfinite(v)):
        raise FewpointsError(f"{what} must be a positive number, got {value!r}")
    return v


def tolerances(traces, max_km, max_minutes, serving) -> tuple[float, float, bool]:
    kind = traces_kind(traces)
    default_km, default_min = POST_TOLERANCES[kind]
    km = check_tolerance(default_km if max_km is None else max_km, "max_km")
    minutes = check_tolerance(default_min if max_minutes is None else max_minutes, "max_minutes")
    return km, minutes, kind == "cdr" if serving is None else bool(serving)


def _seconds(s: pd.Series) -> np.ndarray:
    return s.to_numpy().astype("datetime64[s]").view(np.int64)


def first_posts(posts: pd.DataFrame, n_posts: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Each name's first ``n_posts`` posts, with ``name_code`` and ``rank`` (0 = first), and the names."""
    validate(posts, "posts")
    if len(posts) == 0:
        raise FewpointsError("the posts table is empty: there is nothing to link")
    df = posts[["name", "time", "x_km", "y_km"]].sort_values(["name", "time"], kind="stable")
    rank = df.groupby("name", sort=False).cumcount().to_numpy()
    df = df[rank < n_posts].assign(rank=rank[rank < n_posts])
    codes, names = pd.factorize(df["name"], sort=True)
    return df.assign(name_code=codes).reset_index(drop=True), np.asarray(names, dtype=object)


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort and a mask: faster than ``np.unique`` here)."""
    a = np.sort(a)
    if a.size:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a


def grid(x, y, qx, qy, cell_km):
    """Square-cell codes of points and queries (from 1, leaving room for a neighbour), and the grid size."""
    x0, y0 = min(x.min(), qx.min()), min(y.min(), qy.min())
    cx, cy, gx, gy = (
        np.floor((v - v0) / cell_km).astype(np.int64) + 1
        for v, v0 in ((x, x0), (y, y0), (qx, x0), (qy, y0))
    )
    return cx, cy, gx, gy, int(max(cx.max(), gx.max())) + 2, int(max(cy.max(), gy.max())) + 2


def nearest_location(px, py, lx, ly, max_km) -> np.ndarray:
    """Index of the nearest of the locations ``(lx, ly)`` to each post; -1 beyond ``max_km``."""
    out = np.empty(len(px), dtype=np.int64)
    step = max(1, (1 << 22) // max(len(lx), 1))
    for i in range(0, len(px), step):
        d2 = (px[i : i + step, None] - lx[None]) ** 2 + (py[i : i + step, None] - ly[None]) ** 2
        j = np.argmin(d2, axis=1)
        far = d2[np.arange(len(j)), j] > max_km * max_km * (1 + 1e-9)
        out[i : i + step] = np.where(far, -1, j)
    return out


def post_matches(
    traces: pd.DataFrame, posts: pd.DataFrame, max_km: float, max_minutes: float, serving: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique (post row, device code) pairs: the device has a record near the post.

    By distance (``serving=False``): records and posts are binned into square
    cells of ``max_km`` and time bins of ``max_minutes``; a record within
    tolerance of a post lies in the 3 x 3 cells around the post's and the 3
    bins around its, which are 9 runs of consecutive keys in the records
    sorted by (cell, bin); those candidates are then checked exactly.

    By serving antenna (``serving=True``): each post is given the record
    location (antenna) nearest to it, if within ``max_km``; the records at
    that location in the 3 bins around the post's are one run of keys.

    Returns ``(post_rows, device_codes, device_labels)``.
    """
    dev, labels = device_codes(traces["device_id"])
    n_dev = len(labels)
    x = traces["x_km"].to_numpy(dtype=np.float64)
    y = traces["y_km"].to_numpy(dtype=np.float64)
    t = _seconds(traces["time"])
    px = posts["x_km"].to_numpy(dtype=np.float64)
    py = posts["y_km"].to_numpy(dtype=np.float64)
    pt = _seconds(posts["time"])
    max_s = max_minutes * 60.0
    width = max(int(np.ceil(max_s)), 1)
    t0 = min(t.min(), pt.min())
    # +1 leaves room for the bin before the first.
    tb = (t - t0) // width + 1
    qb = (pt - t0) // width + 1
    n_t = int(max(tb.max(), qb.max())) + 2
    if serving:
        loc, lx, ly = location_codes(x, y)
        qloc = nearest_location(px, py, lx, ly, max_km)
        key = loc.astype(np.int64) * n_t + tb
        base = (qloc * n_t + qb)[:, None]
        base[qloc < 0] = -10
        offsets = [0]
    else:
        cx, cy, qx, qy, n_x, n_y = grid(x, y, px, py, max_km)
        if float(n_x) * n_y * n_t >= 2**62:
            raise FewpointsError("max_km or max_minutes is too small for the extent of the data")
        key = (cx * n_y + cy) * n_t + tb
        base = ((qx * n_y + qy) * n_t + qb)[:, None]
        offsets = [(dx * n_y + dy) * n_t for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    order = np.argsort(key, kind="stable")
    skey = key[order]
    del key
    query = base + np.asarray(offsets, dtype=np.int64)[None, :]
    lo = np.searchsorted(skey, (query - 1).ravel(), side="left")
    hi = np.searchsorted(skey, (query + 1).ravel(), side="right")
    del skey, query
    owner = np.repeat(np.arange(len(posts), dtype=np.int64), len(offsets))
    keep = hi > lo
    lo, hi, owner = lo[keep], hi[keep], owner[keep]
    lengths = hi - lo

    tol_km = max_km * (1 + 1e-9)
    found = []
    cum = np.cumsum(lengths)
    cuts = np.unique(np.searchsorted(cum, np.arange(_CHUNK, cum[-1] if len(cum) else 0, _CHUNK)))
    for part in np.split(np.arange(len(lengths)), cuts):
        if part.size == 0:
            continue
        ln = lengths[part]
        total = int(ln.sum())
        start = np.repeat(lo[part] - np.concatenate(([0], np.cumsum(ln)[:-1])), ln)
        rec = order[start + np.arange(total)]
        post = np.repeat(owner[part], ln)
        near = np.abs(t[rec] - pt[post]) <= max_s
        if not serving:
            near &= np.hypot(x[rec] - px[post], y[rec] - py[post]) <= tol_km
        found.append(_unique(post[near] * n_dev + dev[rec[near]]))
    pairs = _unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    return pairs // n_dev, pairs % n_dev, labels


def check_n_posts(n_posts, name: str = "n_points") -> int:
    if isinstance(n_posts, bool) or not isinstance(n_posts, (int, np.integer)) or n_posts < 1:
        raise FewpointsError(f"{name} must be a whole number of at least 1, got {n_posts!r}")
    return int(n_posts)


def anonymity_sets(firsts, names, pairs, labels, n, max_listed) -> pd.DataFrame:
    """Per name: the devices near every one of its first ``n`` posts."""
    post_rows, devs = pairs
    n_dev = len(labels)
    name_code = firsts["name_code"].to_numpy()
    rank = firsts["rank"].to_numpy()
    n_names = len(names)
    used = np.minimum(np.bincount(name_code, minlength=n_names), n)
    sel = rank[post_rows] < n
    key = name_code[post_rows[sel]].astype(np.int64) * n_dev + devs[sel]
    # Each (post, device) pair is unique, so a (name, device) key occurs once
    # per post of that name the device was near.
    ukey, count = np.unique(key, return_counts=True)
    nm = ukey // n_dev
    member = count == used[nm]
    nm, dv = nm[member], ukey[member] % n_dev
    size = np.bincount(nm, minlength=n_names)
    listed = size[nm] <= max_listed
    split = np.cumsum(np.bincount(nm[listed], minlength=n_names))[:-1]
    groups = np.split(labels[dv[listed]], split)
    device_ids = [tuple(g) if s <= max_listed else None for g, s in zip(groups, size, strict=True)]
    return pd.DataFrame(
        {
            "name": pd.array(names, dtype="str"),
            "n_posts": used.astype(np.int64),
            "anonymity_set_size": size.astype(np.int64),
            "device_ids": pd.Series(device_ids, dtype=object),
        }
    )


@renamed(n_posts="n_points")
def link_posts(
    traces: pd.DataFrame,
    posts: pd.DataFrame,
    *,
    max_km: float | None = None,
    max_minutes: float | None = None,
    serving: bool | None = None,
    n_points: int = 3,
    max_listed: int = MAX_LISTED,
) -> pd.DataFrame:
    """The devices whose trace passes near each of a person's first posts.

    Parameters
    ----------
    traces : DataFrame
        The broker's ``traces`` (``device_id, time, x_km, y_km``).
    posts : DataFrame
        Public geotagged posts: ``name, time, x_km, y_km``.
    max_km, max_minutes : float, optional
        How near (distance and time, both inclusive) a record must be to a
        post to match it. Defaults (:data:`POST_TOLERANCES`) depend on the
        traces: call records (with ``antenna_id``) 240 minutes at the
        post's nearest antenna (if within 2 km); app pings 0.05 km and 240
        minutes. Widen them for coarsened or noisy traces.
    serving : bool, optional
        Match by serving antenna: a record matches a post when it is at the
        recorded location nearest the post (and within ``max_km`` of it).
        Default: True for traces with ``antenna_id``, else False (distance).
    n_points : int, default 3
        Known points per name, the posts: its first ``n_points`` by time (all
        of them for names with fewer). ``n_posts=`` is its deprecated name.
    max_listed : int, default 100
        Largest anonymity set whose devices are listed in ``device_ids``.

    Returns
    -------
    DataFrame
        One row per name, sorted by name: ``name``, ``n_posts`` (posts used),
        ``anonymity_set_size`` (devices near every one of them; 0 when no
        trace passes near them all), ``device_ids`` (tuple of those devices,
        or None for a set larger than ``max_listed``).

    Notes
    -----
    This is unicity with named points: each post says where a named person
    was at a moment, and a set of size 1 names a device, so its whole trace,
    with every clinic or place of worship in it, now carries a name. Matching
    is strict: a device is in the set only if it has a record near every
    post, so a sparse trace (a phone that seldom calls) can miss its owner's
    posts and leave an empty set; wider tolerances find the owner more often
    but in larger sets. Two people with the same name share one feed here,
    as they would to an attacker who knows only the name.

    References
    ----------
    .. [1] Culnane, C., Rubinstein, B. I. P., Teague, V. (2019). Stop the
       clock: privacy of Melbourne's public transport data (Myki). A couple
       of known trips re-identified travellers, one from his own posts.

    Examples
    --------
    >>> from fewpoints import examples
    >>> world = examples.tiny_clinic()
    >>> traces, places = world["traces"], world["places"]

    >>> posts = world["posts"]
    >>> links = link_posts(traces, posts)
    >>> links["name"].tolist(), links["anonymity_set_size"].tolist(), links["device_ids"].tolist()
    (['Bo'], [1], [('b',)])
    """
    validate_traces(traces)
    n = check_n_posts(n_points)
    max_km, max_minutes, serving = tolerances(traces, max_km, max_minutes, serving)
    firsts, names = first_posts(posts, n)
    *pairs, labels = post_matches(traces, firsts, max_km, max_minutes, serving)
    return anonymity_sets(firsts, names, pairs, labels, n, int(max_listed))
