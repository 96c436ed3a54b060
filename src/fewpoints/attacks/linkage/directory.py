"""Directory to devices: candidate names for each device, the listed adults living where it sleeps.

A device's inferred home is matched to the addresses of a public directory
(by distance for GPS, by serving antenna for call records); each listed
adult at a candidate address is a candidate name (:func:`link_directory`),
ranked with the posts as a second clue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.attacks.index import location_codes
from fewpoints.attacks.linkage.posts import (
    check_tolerance,
    first_posts,
    grid,
    nearest_location,
    post_matches,
    tolerances,
    traces_kind,
)
from fewpoints.common import check_count
from fewpoints.schema import FewpointsError, validate, validate_traces

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
    cx, cy, qx, qy, _, n_y = grid(ax, ay, hx, hy, max_km)
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

    Examples
    --------
    >>> from fewpoints import examples
    >>> world = examples.tiny_homes()
    >>> traces, places, directory = world["traces"], world["places"], world["directory"]

    Each phone sleeps at one listed address with one listed adult:

    >>> links = link_directory(traces, directory, places)
    >>> links[["device_id", "name", "score", "rank"]].values.tolist()
    [['a', 'Al', 1.0, 1], ['b', 'Bo', 1.0, 1]]
    """
    from fewpoints.attacks.top_locations import home_work

    validate_traces(traces)
    book = _addresses(directory, places)
    if serving is None:
        serving = traces_kind(traces) == "cdr"
    km = check_tolerance(
        (2.0 if serving else HOME_TOLERANCES[0]) if max_km is None else max_km, "max_km"
    )
    scale = check_tolerance(HOME_TOLERANCES[1] if scale_km is None else scale_km, "scale_km")
    check_count(max_candidates, "max_candidates")
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
        addr_loc = nearest_location(ax, ay, lx, ly, km)
        home_loc = nearest_location(hx, hy, lx, ly, 1e-6)
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
            firsts, names = first_posts(named, int(clue_posts))
            km_p, min_p, serve_p = tolerances(traces, None, None, None)
            post_rows, devs, labels = post_matches(traces, firsts, km_p, min_p, serve_p)
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
