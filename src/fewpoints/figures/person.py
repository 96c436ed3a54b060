"""Figures of the person behind a pseudonym: home and work as a fingerprint, a name, one week.

:func:`plot_anonymity_sets` draws the share of phones that their top places
(or home and work) single out, by location precision; :func:`plot_naming`
the share of posters whose phone is named from their geotagged posts;
:func:`plot_device_week` one device's week on a map as a buyer of the data
sees it, starring the sensitive place it visited most
(:func:`fewpoints.attacks.sensitive.top_sensitive_place`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from fewpoints.attacks.sensitive import top_sensitive_place
from fewpoints.figures.labels import (
    annotate_headline,
    band_curve,
    error_bars,
    need_columns,
    percent_axis,
    source_line,
)
from fewpoints.figures.style import CYCLE, FAINT, OKABE_ITO, OURS, new_axes

# ---------------------------------------------------------------------------
# 4. home and work are a fingerprint
# ---------------------------------------------------------------------------


#: How the measures of ``anonymity_table`` read on a chart.
MEASURE_WORDS = {
    "top-1": "most visited place",
    "top-2": "top 2 places, in order",
    "top-3": "top 3 places, in order",
    "top-3 (any order)": "top 3 places, any order",
    "home/work": "home and work",
}


#: Line style and marker of each measure of :func:`plot_anonymity_sets` (greyscale-safe).
_MEASURE_LOOK = {
    "top-1": (":", "v"),
    "top-2": ("-.", "s"),
    "top-3": ("--", "^"),
    "top-3 (any order)": ((0, (1, 1, 4, 1)), "D"),
    "home/work": ("-", "o"),
}
_LOOKS = list(_MEASURE_LOOK.values())


def plot_anonymity_sets(table: pd.DataFrame, *, ax=None) -> Axes:
    """Share of phones that their top places (or home and work) single out, by location precision.

    Parameters
    ----------
    table : DataFrame
        From ``fewpoints.attacks.anonymity_table``: ``measure``, ``granularity``,
        ``share_unique``, ``ci_low``, ``ci_high``, ``median_set_size``; rows in
        order from the finest granularity to the coarsest.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    table = need_columns(
        table,
        ["measure", "granularity", "share_unique", "ci_low", "ci_high", "median_set_size"],
        "plot_anonymity_sets",
    )
    ax = new_axes(ax)
    grans = list(dict.fromkeys(table["granularity"]))
    measures = list(dict.fromkeys(table["measure"]))
    pos = {g: i for i, g in enumerate(grans)}
    m = len(measures)
    for i, measure in enumerate(measures):
        g = table[table["measure"] == measure]
        x = g["granularity"].map(pos).to_numpy(float) + (i - (m - 1) / 2) * 0.07
        colour = CYCLE[i % len(CYCLE)]
        # Dash and marker as well as colour: four lines stay apart in greyscale.
        line, marker = _MEASURE_LOOK.get(measure, _LOOKS[i % len(_LOOKS)])
        ax.errorbar(
            x,
            g["share_unique"],
            yerr=error_bars(g, "share_unique"),
            marker=marker,
            ls=line,
            ms=6,
            color=colour,
            capsize=0,
            elinewidth=1.2,
            label=MEASURE_WORDS.get(measure, measure),
            lw=2.2 if measure == "home/work" else 1.5,
            zorder=5 if measure == "home/work" else 4,
            gid=f"measure-{measure}",
        )
    ax.set_xticks(range(len(grans)))
    ax.set_xticklabels(grans)
    ax.set_xlim(-0.4, len(grans) - 0.6)
    # Headroom above 100% for the headline and the legend below the axes: with
    # four curves that may run anywhere from 0% to 100%, no corner inside the
    # axes is sure to be free (a headline or legend there can hide a curve).
    percent_axis(ax, top=1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_xlabel("Location precision (finest on the left)")
    ax.set_ylabel("Phones singled out")
    key = "home/work" if "home/work" in measures else measures[0]
    rows = table[(table["measure"] == key) & table["share_unique"].notna()]
    row = rows.iloc[0]
    text = f"{MEASURE_WORDS.get(key, key).capitalize()}: {row['share_unique']:.0%} singled out"
    text += (
        "\nwith locations as recorded"
        if str(row["granularity"]).startswith("as recorded")
        else f"\nat {row['granularity']} precision"
    )
    if key == "home/work":
        k = f"{row['median_set_size']:,.0f}"
        text += f" (median {k} phone{'' if k == '1' else 's'} per pair)"
    x = pos[row["granularity"]] + (measures.index(key) - (m - 1) / 2) * 0.07
    annotate_headline(
        ax, text, (x, row["share_unique"]), (0.015, 0.985), coords="axes fraction", va="top"
    )
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncols=2,
        title="What the buyer knows",
        title_fontsize=8.5,
        frameon=False,
    )
    source_line(ax)
    return ax


# ---------------------------------------------------------------------------
# 5. from pseudonym to name
# ---------------------------------------------------------------------------


def plot_naming(curve: pd.DataFrame, *, ax=None) -> Axes:
    """Share of posters whose phone is named, against the number of their geotagged posts known.

    Parameters
    ----------
    curve : DataFrame
        From ``fewpoints.attacks.naming_curve``: ``n_posts``, ``share_named``,
        ``ci_low``, ``ci_high`` (and ``median_set_size``, ``n_names``).
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    curve, ax, k = band_curve(
        curve,
        "n_posts",
        "share_named",
        "plot_naming",
        ax,
        color=OKABE_ITO["vermillion"],
        alpha=0.2,
        gid="share_named",
    )
    last = curve.loc[curve["share_named"].idxmax()]  # the best the buyer does
    annotate_headline(
        ax,
        f"{last['share_named']:.0%} named\nfrom {int(last['n_posts'])} posts",
        (last["n_posts"], last["share_named"]),
        (-40, 45),
        ha="right",
    )
    percent_axis(ax, top=1.04)
    ax.set_xticks(k)
    ax.set_xlim(k.min() - 0.4, k.max() + 0.4)
    ax.set_xlabel("Geotagged public posts known about a person")
    ax.set_ylabel("Phones linked to the person's name")
    ax.legend(loc="lower right")
    source_line(ax)
    return ax


# ---------------------------------------------------------------------------
# 6. one synthetic person's week
# ---------------------------------------------------------------------------


def _get(obj, key):
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def plot_device_week(story, *, places=None, days: int = 7, ax=None) -> Axes:
    """A map of one device's week as a buyer of the data sees it: points, home, work, a sensitive place.

    Parameters
    ----------
    story : DeviceStory
        From ``fewpoints.attacks.explain``: ``device_id``, ``trace``
        (``time``, ``x_km``, ``y_km``), ``home`` and ``work`` (dicts with
        ``x_km``, ``y_km`` or None), ``sensitive`` (visits with ``name``,
        ``kind``, ``x_km``, ``y_km``, ``minutes``), ``name`` (or None).
    places : DataFrame, optional
        The public map (``x_km``, ``y_km``), drawn faintly as a backdrop.
    days : int, default 7
        Days drawn: from the Monday before the first visit to the most
        visited sensitive place (else from the trace's first day).
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    trace = need_columns(
        _get(story, "trace"), ["time", "x_km", "y_km"], "plot_device_week"
    ).sort_values("time")
    n_days = int((trace["time"].max().normalize() - trace["time"].min().normalize()).days) + 1
    ax = new_axes(ax, figsize=(6.3, 5.4))
    home, work = _get(story, "home"), _get(story, "work")
    sens = _get(story, "sensitive")
    marks = [(d["x_km"], d["y_km"]) for d in (home, work) if d]
    top_sens = None
    start = trace["time"].min().normalize()
    if sens is not None and len(sens):
        top_sens = top_sensitive_place(sens)
        marks.append((top_sens["x_km"], top_sens["y_km"]))
        # The week drawn starts on the Monday before the first visit to that place.
        at = sens[sens["name"] == top_sens["name"]]
        if "start" in at:
            first = pd.Timestamp(at["start"].min()).normalize()
            start = max(start, first - pd.Timedelta(days=first.weekday()))
    week = trace[(trace["time"] >= start) & (trace["time"] < start + pd.Timedelta(days=days))]
    end = start + pd.Timedelta(days=days - 1)
    xs, ys = week["x_km"].to_numpy(float), week["y_km"].to_numpy(float)
    allx = np.concatenate([xs, [m[0] for m in marks]])
    ally = np.concatenate([ys, [m[1] for m in marks]])
    # Frame the points the buyer holds (the middle 96%, so one day trip does not shrink the map).
    x0, x1 = np.quantile(allx, [0.01, 0.99]) if len(allx) > 50 else (allx.min(), allx.max())
    y0, y1 = np.quantile(ally, [0.01, 0.99]) if len(ally) > 50 else (ally.min(), ally.max())
    for mx, my in marks:
        x0, x1, y0, y1 = min(x0, mx), max(x1, mx), min(y0, my), max(y1, my)
    span = max(x1 - x0, y1 - y0, 2.0) * 1.3
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax.set_xlim(cx - span / 2, cx + span / 2)
    ax.set_ylim(cy - span / 2, cy + span / 2)
    if places is not None and len(places):
        inside = places[
            places["x_km"].between(cx - span / 2, cx + span / 2)
            & places["y_km"].between(cy - span / 2, cy + span / 2)
        ]
        ax.scatter(
            inside["x_km"],
            inside["y_km"],
            s=1.5 if len(inside) < 2000 else 0.6,  # a dense city stays a faint backdrop
            color=FAINT,
            alpha=1.0 if len(inside) < 2000 else 0.5,
            lw=0,
            zorder=1,
        )
    ax.plot(xs, ys, color=OURS, lw=0.5, alpha=0.35, zorder=2)
    ax.scatter(
        xs,
        ys,
        s=14,
        color=OURS,
        alpha=0.6,
        lw=0,
        zorder=3,
        label=f"{len(week):,} records, {start:%a %d %b} to {end:%a %d %b}",
    )
    style = {"s": 110, "edgecolor": "white", "linewidths": 1.2, "zorder": 5}
    anchors = (
        (home, "^", "orange", "inferred home (where it sleeps)"),
        (work, "s", "green", "inferred work (weekday daytime)"),
    )
    for spot, marker, colour, label in anchors:
        if spot:
            ax.scatter(
                spot["x_km"],
                spot["y_km"],
                marker=marker,
                color=OKABE_ITO[colour],
                label=label,
                **style,
            )
    if top_sens is not None:
        ax.scatter(
            top_sens["x_km"],
            top_sens["y_km"],
            marker="*",
            s=260,
            color=OKABE_ITO["vermillion"],
            edgecolor="white",
            linewidths=1.0,
            zorder=6,
            label=f"sensitive place: {top_sens['kind']}",
        )
        minutes = f", {top_sens['sum']:,.0f} min in all" if top_sens["sum"] >= 1 else ""
        right, upper = top_sens["x_km"] > cx, top_sens["y_km"] > cy
        ax.annotate(
            f"{top_sens['name']}\n{int(top_sens['count'])} visit"
            f"{'' if top_sens['count'] == 1 else 's'} in {n_days} days{minutes}",
            (top_sens["x_km"], top_sens["y_km"]),
            xytext=(-12 if right else 12, -10 if upper else 10),
            textcoords="offset points",
            fontsize=8,
            va="top" if upper else "bottom",
            ha="right" if right else "left",
            color="#222222",
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.85},
            zorder=7,
        )
    name = _get(story, "name")
    lines = [f"Advertising ID {_get(story, 'device_id')}"]
    if name:
        lines.append(f"linked to: {name} (synthetic)")
    found = [w for w, d in (("home", home), ("work", work)) if d]
    if found:
        lines.append(f"{' and '.join(found)} found from the trace alone")
    # Above the map, not over it: who the buyer now knows this pseudonym to be.
    ax.annotate(
        "\n".join(lines),
        (0, 1),
        xycoords="axes fraction",
        xytext=(0, 6),
        textcoords="offset points",
        ha="left",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        gid="headline",
    )
    ax.set_aspect("equal", adjustable="box")
    ax.grid(False)
    ax.set_xlabel("West to east (km)")
    ax.set_ylabel("South to north (km)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8)
    source_line(ax)
    return ax
