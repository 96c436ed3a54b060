"""Linkage: from a pseudonymous device to a person's name, with public data.

Unicity says a few points single a device out; linkage says whose device it
is. Two kinds of public auxiliary data are enough:

* ``posts``: geotagged posts under a person's name. Each post is a named
  point; the devices whose trace passes near every one of a person's first
  few posts form that person's **anonymity set** (:func:`link_posts`). When
  it holds one device, the person is named.
* ``directory``: names and home addresses of listed adults (think voter
  roll). A device's night-time place is its owner's home; the listed adults
  living there are its candidate names (:func:`link_directory`).

The attacks read only what is released or public (``traces``, ``places``,
``directory``, ``posts``). :func:`linkage_score` and :func:`naming_curve`
compare their output with the ground truth (``people``) to measure how well
they work; no attack ever reads it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from fewpoints.attacks.index import location_codes
from fewpoints.attacks.result import wilson_interval
from fewpoints.common import device_codes
from fewpoints.schema import FewpointsError, validate, validate_traces

__all__ = [
    "POST_TOLERANCES",
    "link_directory",
    "link_posts",
    "linkage_score",
    "naming_curve",
]

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


def _traces_kind(traces: pd.DataFrame) -> str:
    """``"cdr"`` when records carry an antenna, else ``"pings"``."""
    return "cdr" if "antenna_id" in traces.columns else "pings"


def _check_tolerance(value, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise FewpointsError(f"{what} must be a number, got {value!r}") from None
    if not (v > 0 and np.isfinite(v)):
        raise FewpointsError(f"{what} must be a positive number, got {value!r}")
    return v


def _tolerances(traces, max_km, max_minutes, serving) -> tuple[float, float, bool]:
    kind = _traces_kind(traces)
    default_km, default_min = POST_TOLERANCES[kind]
    km = _check_tolerance(default_km if max_km is None else max_km, "max_km")
    minutes = _check_tolerance(default_min if max_minutes is None else max_minutes, "max_minutes")
    return km, minutes, kind == "cdr" if serving is None else bool(serving)


def _seconds(s: pd.Series) -> np.ndarray:
    return s.to_numpy().astype("datetime64[s]").view(np.int64)


def _first_posts(posts: pd.DataFrame, n_posts: int) -> tuple[pd.DataFrame, np.ndarray]:
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


def _grid(x, y, qx, qy, cell_km):
    """Square-cell codes of points and queries (from 1, leaving room for a neighbour), and the grid size."""
    x0, y0 = min(x.min(), qx.min()), min(y.min(), qy.min())
    cx, cy, gx, gy = (
        np.floor((v - v0) / cell_km).astype(np.int64) + 1
        for v, v0 in ((x, x0), (y, y0), (qx, x0), (qy, y0))
    )
    return cx, cy, gx, gy, int(max(cx.max(), gx.max())) + 2, int(max(cy.max(), gy.max())) + 2


def _nearest_location(px, py, lx, ly, max_km) -> np.ndarray:
    """Index of the nearest of the locations ``(lx, ly)`` to each post; -1 beyond ``max_km``."""
    out = np.empty(len(px), dtype=np.int64)
    step = max(1, (1 << 22) // max(len(lx), 1))
    for i in range(0, len(px), step):
        d2 = (px[i : i + step, None] - lx[None]) ** 2 + (py[i : i + step, None] - ly[None]) ** 2
        j = np.argmin(d2, axis=1)
        far = d2[np.arange(len(j)), j] > max_km * max_km * (1 + 1e-9)
        out[i : i + step] = np.where(far, -1, j)
    return out


def _post_matches(
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
        qloc = _nearest_location(px, py, lx, ly, max_km)
        key = loc.astype(np.int64) * n_t + tb
        base = (qloc * n_t + qb)[:, None]
        base[qloc < 0] = -10
        offsets = [0]
    else:
        cx, cy, qx, qy, n_x, n_y = _grid(x, y, px, py, max_km)
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


def _check_n_posts(n_posts) -> int:
    if isinstance(n_posts, bool) or not isinstance(n_posts, (int, np.integer)) or n_posts < 1:
        raise FewpointsError(f"n_posts must be a whole number of at least 1, got {n_posts!r}")
    return int(n_posts)


def _anonymity_sets(firsts, names, pairs, labels, n, max_listed) -> pd.DataFrame:
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


def link_posts(
    traces: pd.DataFrame,
    posts: pd.DataFrame,
    *,
    max_km: float | None = None,
    max_minutes: float | None = None,
    serving: bool | None = None,
    n_posts: int = 3,
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
    n_posts : int, default 3
        Posts used per name: its first ``n_posts`` by time (all of them for
        names with fewer).
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
    """
    validate_traces(traces)
    n = _check_n_posts(n_posts)
    max_km, max_minutes, serving = _tolerances(traces, max_km, max_minutes, serving)
    firsts, names = _first_posts(posts, n)
    *pairs, labels = _post_matches(traces, firsts, max_km, max_minutes, serving)
    return _anonymity_sets(firsts, names, pairs, labels, n, int(max_listed))


# ---------------------------------------------------------------------------
# directory
# ---------------------------------------------------------------------------


#: Default ``(max_km, scale_km)`` for matching an inferred home to addresses
#: (pings): addresses within ``max_km`` are candidates, weighted by a Gaussian
#: of width ``scale_km`` in their distance to the inferred home.
HOME_TOLERANCES = (0.15, 0.03)


def _addresses(directory: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Directory rows with the coordinates of their address and ``adults`` listed there."""
    validate(directory, "directory")
    validate(places, "places")
    if len(directory) == 0:
        raise FewpointsError("the directory is empty: there is nothing to link")
    coords = places.set_index("place_id")[["x_km", "y_km"]]
    missing = ~directory["place_id"].isin(coords.index)
    if missing.any():
        bad = directory.loc[missing, "place_id"].iloc[0]
        raise FewpointsError(f"directory place_id {bad} is not on the places map")
    book = directory[["name", "place_id"]].join(coords, on="place_id")
    book["adults"] = book.groupby("place_id")["name"].transform("size").to_numpy()
    return book.reset_index(drop=True)


def _near_pairs(hx, hy, ax, ay, max_km) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(home row, address row, distance) for every address within ``max_km`` of a home (grid join)."""
    cx, cy, qx, qy, _, n_y = _grid(ax, ay, hx, hy, max_km)
    key = cx * n_y + cy
    order = np.argsort(key, kind="stable")
    skey = key[order]
    rows, cols = [], []
    for dx in (-1, 0, 1):
        q = (qx + dx) * n_y + qy
        lo = np.searchsorted(skey, q - 1, side="left")
        hi = np.searchsorted(skey, q + 1, side="right")
        ln = hi - lo
        rows.append(np.repeat(np.arange(len(hx)), ln))
        cols.append(order[np.repeat(lo - np.cumsum(ln) + ln, ln) + np.arange(int(ln.sum()))])
    r, c = np.concatenate(rows), np.concatenate(cols)
    d = np.hypot(hx[r] - ax[c], hy[r] - ay[c])
    near = d <= max_km * (1 + 1e-9)
    return r[near], c[near], d[near]


def link_directory(
    traces: pd.DataFrame,
    directory: pd.DataFrame,
    places: pd.DataFrame,
    *,
    posts: pd.DataFrame | None = None,
    serving: bool | None = None,
    max_km: float | None = None,
    scale_km: float | None = None,
    max_candidates: int = 10,
    clue_posts: int = 10,
    homes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Candidate names for each device: the listed adults living where it sleeps.

    Parameters
    ----------
    traces : DataFrame
        The broker's ``traces``.
    directory : DataFrame
        Public directory: ``name, address, place_id``.
    places : DataFrame
        Public map (``place_id, x_km, y_km``): where each address is.
    posts : DataFrame, optional
        Public geotagged posts, a second clue: among candidates with the same
        score (a household), those a larger share of whose posts the device
        passed near rank first (matched as in :func:`link_posts`, default
        tolerances).
    serving : bool, optional
        Match by serving antenna: the candidate addresses are those whose
        nearest recorded location (antenna) is the device's home location,
        all equally likely. Default: True for traces with ``antenna_id``
        (call records), False otherwise (GPS).
    max_km, scale_km : float, optional
        GPS traces: addresses within ``max_km`` of the inferred home are
        candidates (default 0.15), weighted by ``exp(-d^2 / (2 scale_km^2))``
        (default 0.03). With ``serving``, ``max_km`` caps the distance from an
        address to its antenna (default 2).
    max_candidates : int, default 10
        Candidate names kept per device (the best ones).
    clue_posts : int, default 10
        Posts per name used as the second clue (each name's first ones).
    homes : DataFrame, optional
        A precomputed ``home_work(traces)`` table (skips computing it).

    Returns
    -------
    DataFrame
        ``device_id, name, score, rank, address_adults, posts_matched``,
        sorted by device then rank; rank 1 is the best guess. ``score`` is
        the attacker's probability that the device is this person's, given
        that its owner is listed and lives at one of the candidate
        addresses: the address's share of the weight, split equally among
        its ``address_adults`` listed adults. ``posts_matched`` counts that
        name's posts the device passed near (0 without ``posts``).

    Notes
    -----
    The home comes from :func:`~fewpoints.attacks.top_locations.home_work`
    (the place seen most at night). A directory lists addresses, not phones:
    when k adults are listed at the address, each gets 1/k, and nothing in
    the directory tells them apart (the attacker picks one, right 1 time
    in k). A second clue does: a post by one of them from a place on the
    device's trace (the directory lists no workplaces, so the inferred work
    enters only through the posts made there). With call records the home is only an antenna, serving
    hundreds of homes, so the directory narrows a device to the listed
    adults of a neighbourhood; with GPS the home is a building.

    References
    ----------
    .. [1] Golle, P., Partridge, K. (2009). On the anonymity of home/work
       location pairs. Pervasive Computing, LNCS 5538, 390-397.
    """
    from fewpoints.attacks.top_locations import home_work

    validate_traces(traces)
    book = _addresses(directory, places)
    if serving is None:
        serving = _traces_kind(traces) == "cdr"
    km = _check_tolerance(
        (2.0 if serving else HOME_TOLERANCES[0]) if max_km is None else max_km, "max_km"
    )
    scale = _check_tolerance(HOME_TOLERANCES[1] if scale_km is None else scale_km, "scale_km")
    if isinstance(max_candidates, bool) or not isinstance(max_candidates, (int, np.integer)):
        raise FewpointsError(f"max_candidates must be a whole number, got {max_candidates!r}")
    if max_candidates < 1:
        raise FewpointsError(f"max_candidates must be at least 1, got {max_candidates}")
    hw = home_work(traces) if homes is None else homes
    hw = hw[hw["home_x_km"].notna()].reset_index(drop=True)
    hx = hw["home_x_km"].to_numpy(dtype=np.float64)
    hy = hw["home_y_km"].to_numpy(dtype=np.float64)
    addr = book.drop_duplicates("place_id").reset_index(drop=True)
    ax = addr["x_km"].to_numpy(dtype=np.float64)
    ay = addr["y_km"].to_numpy(dtype=np.float64)
    if len(hw) == 0:
        return empty_links()
    if serving:
        _, lx, ly = location_codes(traces["x_km"], traces["y_km"])
        addr_loc = _nearest_location(ax, ay, lx, ly, km)
        home_loc = _nearest_location(hx, hy, lx, ly, 1e-6)
        pairs = pd.DataFrame({"h": np.arange(len(hw)), "loc": home_loc}).merge(
            pd.DataFrame({"a": np.arange(len(addr)), "loc": addr_loc}), on="loc"
        )
        pairs = pairs[pairs["loc"] >= 0]
        r, c = pairs["h"].to_numpy(), pairs["a"].to_numpy()
        w = np.ones(len(r))
    else:
        r, c, d = _near_pairs(hx, hy, ax, ay, km)
        w = np.exp(-0.5 * (d / scale) ** 2)
    total = np.bincount(r, weights=w, minlength=len(hw))
    # Expand each candidate address into the adults listed there (integer codes throughout).
    name_code, name_labels = pd.factorize(book["name"].astype(str), sort=True)
    n_names = len(name_labels)
    book_addr = pd.Index(addr["place_id"]).get_indexer(book["place_id"])
    by_addr = np.argsort(book_addr, kind="stable")
    adults = np.bincount(book_addr, minlength=len(addr))
    first = np.concatenate(([0], np.cumsum(adults)[:-1]))
    k = adults[c]
    h = np.repeat(r, k)
    score = np.repeat(w / total[r] / adults[c], k)
    row = by_addr[np.repeat(first[c] - np.cumsum(k) + k, k) + np.arange(int(k.sum()))]
    nm = name_code[row]
    matched = np.zeros(len(h), dtype=np.int64)
    clue = np.zeros(len(h))
    if posts is not None and len(h):
        named = posts[posts["name"].astype(str).isin(name_labels[np.unique(nm)])]
        if len(named):
            firsts, names = _first_posts(named, int(clue_posts))
            km_p, min_p, serve_p = _tolerances(traces, None, None, None)
            post_rows, devs, labels = _post_matches(traces, firsts, km_p, min_p, serve_p)
            post_name = pd.Index(name_labels).get_indexer(names)[firsts["name_code"].to_numpy()]
            dev_row = pd.Index(hw["device_id"].astype(str)).get_indexer(labels.astype(str))
            key = dev_row[devs] * n_names + post_name[post_rows]
            seen, count = np.unique(key[dev_row[devs] >= 0], return_counts=True)
            cand_key = h * n_names + nm
            at = np.minimum(np.searchsorted(seen, cand_key), max(len(seen) - 1, 0))
            hit = (seen[at] == cand_key) if len(seen) else np.zeros(len(h), dtype=bool)
            matched[hit] = count[at[hit]]
            per_name = np.bincount(post_name, minlength=n_names)
            clue = matched / np.maximum(per_name[nm], 1)
    order = np.lexsort((nm, -matched, -clue, -score, h))
    h, nm, score, matched, row = h[order], nm[order], score[order], matched[order], row[order]
    rank = np.arange(len(h)) - np.searchsorted(h, h, side="left") + 1
    keep = rank <= max_candidates
    return pd.DataFrame(
        {
            "device_id": hw["device_id"].astype(str).to_numpy()[h[keep]],
            "name": pd.array(np.asarray(name_labels, dtype=object)[nm[keep]], dtype="str"),
            "score": score[keep],
            "rank": rank[keep].astype(np.int64),
            "address_adults": book["adults"].to_numpy(dtype=np.int64)[row[keep]],
            "posts_matched": matched[keep],
        }
    )


def empty_links() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "device_id": pd.Series([], dtype=object),
            "name": pd.Series([], dtype="str"),
            "score": pd.Series([], dtype=np.float64),
            "rank": pd.Series([], dtype=np.int64),
            "address_adults": pd.Series([], dtype=np.int64),
            "posts_matched": pd.Series([], dtype=np.int64),
        }
    )


# ---------------------------------------------------------------------------
# scores against the ground truth
# ---------------------------------------------------------------------------


def _truth(people: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("name", "device_id") if c not in people.columns]
    if missing:
        raise FewpointsError(f"people misses column(s) {', '.join(missing)}")
    if len(people) == 0:
        raise FewpointsError(
            "people is empty: there is no ground truth to score against (a released world "
            "has none; score on the world the release was made from)"
        )
    return pd.DataFrame(
        {"name": people["name"].astype(str), "device_id": people["device_id"].astype(str)}
    ).drop_duplicates()


def _guesses(links: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The (name, device_id) pairs a links table asserts, and the names it tried."""
    cols = set(links.columns)
    if {"device_id", "name", "rank"} <= cols:
        best = links[links["rank"] == 1]
        guesses = best[["name", "device_id"]]
        tried = links["name"].astype(str).nunique()
    elif {"name", "anonymity_set_size", "device_ids"} <= cols:
        one = links[links["anonymity_set_size"] == 1]
        guesses = pd.DataFrame(
            {"name": one["name"], "device_id": [ids[0] for ids in one["device_ids"]]}
        )
        tried = len(links)
    else:
        raise FewpointsError(
            "links must come from link_directory (device_id, name, score, rank) "
            "or link_posts (name, n_posts, anonymity_set_size, device_ids)"
        )
    guesses = pd.DataFrame(
        {"name": guesses["name"].astype(str), "device_id": guesses["device_id"].astype(str)}
    ).drop_duplicates()
    return guesses, tried


def linkage_score(links: pd.DataFrame, people: pd.DataFrame) -> dict:
    """How well a linkage worked, against the ground truth.

    Parameters
    ----------
    links : DataFrame
        Output of :func:`link_directory` (its rank-1 name per device is the
        guess) or :func:`link_posts` (a set of one device is the guess).
    people : DataFrame
        Ground truth with ``name`` and ``device_id``. Never given to an attack.

    Returns
    -------
    dict
        ``precision`` (share of guesses that are right), ``recall`` (share of
        the names the links tried that are rightly named), ``share_named``
        (share of all people in ``people`` rightly named), and the counts
        ``n_guesses``, ``n_correct``, ``n_tried``, ``n_people``.

    Notes
    -----
    A guess (name, device) is right when some person of that name owns the
    device, so a namesake's device counts as wrong; a device is one person's,
    so ``n_correct`` counts people.
    """
    truth = _truth(people)
    guesses, tried = _guesses(links)
    right = guesses.merge(truth, on=["name", "device_id"], how="inner")
    n_correct = len(right)
    n_guesses = len(guesses)
    n_people = int(people["name"].shape[0])
    return {
        "precision": n_correct / n_guesses if n_guesses else float("nan"),
        "recall": right["name"].nunique() / tried if tried else float("nan"),
        "share_named": n_correct / n_people if n_people else float("nan"),
        "n_guesses": n_guesses,
        "n_correct": int(n_correct),
        "n_tried": int(tried),
        "n_people": n_people,
    }


def naming_curve(
    traces: pd.DataFrame,
    posts: pd.DataFrame,
    people: pd.DataFrame,
    *,
    n_posts: Iterable[int] = (1, 2, 3, 5),
    max_km: float | None = None,
    max_minutes: float | None = None,
    serving: bool | None = None,
) -> pd.DataFrame:
    """Share of posters named by their first n posts, for several n, against the ground truth.

    Parameters
    ----------
    traces, posts : DataFrame
        As for :func:`link_posts`.
    people : DataFrame
        Ground truth (``name``, ``device_id``), used only to score.
    n_posts : iterable of int, default (1, 2, 3, 5)
        Numbers of posts known.
    max_km, max_minutes : float, optional
        Matching tolerances (defaults as in :func:`link_posts`).

    Returns
    -------
    DataFrame
        One row per n: ``n_posts``, ``n_names`` (posters with at least n
        posts), ``share_named`` (share of them whose anonymity set is exactly
        their own device), ``ci_low``, ``ci_high`` (95% Wilson interval),
        ``median_set_size``; the last four are NaN for an n that no poster
        reaches (``n_names`` 0: there is no one to name).

    Notes
    -----
    The posts are matched to the traces once and every n reuses the matches,
    so the sets are nested: more posts never enlarge an anonymity set.
    """
    validate_traces(traces)
    ns = sorted({_check_n_posts(n) for n in n_posts})
    if not ns:
        raise FewpointsError("n_posts must list at least one number of posts")
    max_km, max_minutes, serving = _tolerances(traces, max_km, max_minutes, serving)
    firsts, names = _first_posts(posts, ns[-1])
    *pairs, labels = _post_matches(traces, firsts, max_km, max_minutes, serving)
    truth = _truth(people)
    available = np.bincount(firsts["name_code"].to_numpy(), minlength=len(names))
    rows = []
    for n in ns:
        sets = _anonymity_sets(firsts, names, pairs, labels, n, 1)
        sets = sets[available >= n]
        guesses, _ = _guesses(sets)
        right = guesses.merge(truth, on=["name", "device_id"], how="inner")
        k, total = len(right), len(sets)
        low, high = wilson_interval(k, total) if total else (float("nan"), float("nan"))
        rows.append(
            {
                "n_posts": n,
                "n_names": total,
                "share_named": k / total if total else float("nan"),
                "ci_low": low,
                "ci_high": high,
                "median_set_size": float(sets["anonymity_set_size"].median())
                if total
                else float("nan"),
            }
        )
    return pd.DataFrame(rows)
