"""Scores against the ground truth: how well a linkage named people.

:func:`linkage_score` scores one links table, :func:`naming_curve` the
posts linkage for several numbers of posts. Both compare the attacks' output
with ``people``, the synthetic world's ground truth, to measure how well the
attacks work; no attack ever reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.linkage.posts import (
    anonymity_sets,
    check_n_posts,
    first_posts,
    post_matches,
    tolerances,
)
from fewpoints.attacks.result import wilson_interval
from fewpoints.common import OneRow, renamed
from fewpoints.compat import DictAccess
from fewpoints.schema import FewpointsError, validate_traces


@dataclass(frozen=True)
class LinkageScore(OneRow, DictAccess):
    """How well a linkage named people, against the ground truth (:func:`linkage_score`).

    Attributes
    ----------
    precision : float
        Share of the guesses that are right (NaN without a guess).
    recall : float
        Share of the names the links tried that are rightly named.
    share_named : float
        Share of all people in the ground truth rightly named.
    n_guesses : int
        (name, device) pairs the links assert.
    n_correct : int
        Right guesses (a device is one person's, so these are people).
    n_tried : int
        Names the links tried.
    n_people : int
        People in the ground truth.

    Notes
    -----
    It used to be a dict: ``score["precision"]`` still works for one
    release, with a :class:`DeprecationWarning`; read ``score.precision``.
    """

    precision: float
    recall: float
    share_named: float
    n_guesses: int
    n_correct: int
    n_tried: int
    n_people: int


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


def linkage_score(links: pd.DataFrame, people: pd.DataFrame) -> LinkageScore:
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
    LinkageScore
        ``precision`` (share of guesses that are right), ``recall`` (share of
        the names the links tried that are rightly named), ``share_named``
        (share of all people in ``people`` rightly named), and the counts
        ``n_guesses``, ``n_correct``, ``n_tried``, ``n_people``
        (``.to_frame()``: the same as a one-row table).

    Notes
    -----
    A guess (name, device) is right when some person of that name owns the
    device, so a namesake's device counts as wrong; a device is one person's,
    so ``n_correct`` counts people.

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"name": ["Al", "Bo"], "device_id": ["a", "b"]})
    >>> links = pd.DataFrame({
    ...     "device_id": ["a", "b"], "name": ["Al", "Al"], "score": [1.0, 0.5], "rank": [1, 1]
    ... })
    >>> score = linkage_score(links, people)
    >>> score.precision, score.n_correct, score.share_named
    (0.5, 1, 0.5)
    """
    truth = _truth(people)
    guesses, tried = _guesses(links)
    right = guesses.merge(truth, on=["name", "device_id"], how="inner")
    n_correct = len(right)
    n_guesses = len(guesses)
    n_people = int(people["name"].shape[0])
    return LinkageScore(
        precision=n_correct / n_guesses if n_guesses else float("nan"),
        recall=right["name"].nunique() / tried if tried else float("nan"),
        share_named=n_correct / n_people if n_people else float("nan"),
        n_guesses=n_guesses,
        n_correct=int(n_correct),
        n_tried=int(tried),
        n_people=n_people,
    )


@renamed(n_posts="n_points_range")
def naming_curve(
    traces: pd.DataFrame,
    posts: pd.DataFrame,
    people: pd.DataFrame,
    *,
    n_points_range: Iterable[int] = (1, 2, 3, 5),
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
    n_points_range : iterable of int, default (1, 2, 3, 5)
        Numbers of posts known (the known points; ``n_posts=`` is its
        deprecated name).
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
    ns = sorted({check_n_posts(n, "each of n_points_range") for n in n_points_range})
    if not ns:
        raise FewpointsError("n_points_range must list at least one number of posts")
    max_km, max_minutes, serving = tolerances(traces, max_km, max_minutes, serving)
    firsts, names = first_posts(posts, ns[-1])
    *pairs, labels = post_matches(traces, firsts, max_km, max_minutes, serving)
    truth = _truth(people)
    available = np.bincount(firsts["name_code"].to_numpy(), minlength=len(names))
    rows = []
    for n in ns:
        sets = anonymity_sets(firsts, names, pairs, labels, n, 1)
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
