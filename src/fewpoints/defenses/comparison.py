"""Privacy beside utility: each way of releasing the same data, attacked and measured alike.

A :class:`Setting` names one release (a transform of ``fewpoints.anonymize``
with its options, or a DP aggregate); :func:`default_settings` lists the ones
the briefing, notebooks and benchmark compare; :func:`privacy_utility` runs
the same attack and the same utility measure on every one of them.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fewpoints import anonymize
from fewpoints.attacks.index import PointIndex
from fewpoints.attacks.near_unicity import near_unicity
from fewpoints.attacks.unicity import unicity
from fewpoints.common import check_points, check_targets, duration_seconds, positive
from fewpoints.defenses.aggregates import aggregate, dp_aggregate
from fewpoints.defenses.utility import utility_error
from fewpoints.schema import FewpointsError, validate_traces

#: Columns of the table :func:`privacy_utility` returns, in order.
PRIVACY_UTILITY_COLUMNS = (
    "setting",
    "transform",
    "strength",
    "unicity",
    "ci_low",
    "ci_high",
    "epsilon",
    "utility_error",
    "utility_metric",
    "n_targets",
    "n_devices",
)


@dataclass(frozen=True)
class Setting:
    """One named way of releasing the data, for :func:`privacy_utility`.

    Attributes
    ----------
    label : str
        Unique name in plain words (``"coarsened to 2 km x 4 h"``).
    transform : str
        ``"none"``; the name of a function of ``fewpoints.anonymize``
        (``"coarsen_space"``, ``"add_noise"``, ...); ``"coarsen"``
        (``coarsen_space`` with ``cell_km``, then ``coarsen_time`` with
        ``time_bin`` unless the times already fall on that bin: the setting
        names the resolution released); or ``"dp_aggregate"`` (counts, no
        traces).
    strength : str
        The option in plain words (``"2 km x 4 h"``, ``"epsilon = 1"``).
    options : mapping
        Keyword options of the transform.
    match_km : float or None
        For transforms that move points (noise): the attacker knows the
        target's true points and accepts released records within this many
        kilometres of them, at the same time (see :func:`privacy_utility`).
    count_scale : float, default 1.0
        Factor the analyst applies to counts made from the released traces
        (``1 / keep`` for ``sample_devices``).
    """

    label: str
    transform: str
    strength: str
    options: Mapping = field(default_factory=dict)
    match_km: float | None = None
    count_scale: float = 1.0


def default_settings(
    *,
    epsilons: Sequence[float] = (1.0, 10.0),
    max_cells_per_device: int = 50,
) -> list[Setting]:
    """The ten or so settings the briefing, notebooks and benchmark compare.

    Parameters
    ----------
    epsilons : sequence of float, default (1.0, 10.0)
        Privacy budgets of the DP aggregate rows.
    max_cells_per_device : int, default 50
        Contribution cap of the DP aggregate rows.

    Returns
    -------
    list of Setting
        Raw data; coarsening to 1 km x 1 h and 2 km x 4 h; Gaussian noise
        (sigma 200 m, attacked within 500 m); geo-indistinguishability
        (epsilon 5 per km: 400 m on average, attacked within 1 km); half
        the records; half the devices; IDs rotated daily; points shared by
        fewer than 5 devices suppressed; and DP counts per 1 km cell and
        hour at each of ``epsilons``.
    """
    settings = [
        Setting("raw data", "none", "as released"),
        Setting(
            "coarsened to 1 km x 1 h", "coarsen", "1 km x 1 h", {"cell_km": 1.0, "time_bin": "1h"}
        ),
        Setting(
            "coarsened to 2 km x 4 h", "coarsen", "2 km x 4 h", {"cell_km": 2.0, "time_bin": "4h"}
        ),
        Setting(
            "Gaussian noise, 200 m", "add_noise", "sigma = 200 m", {"sigma_km": 0.2}, match_km=0.5
        ),
        Setting(
            "geo-indistinguishability, 5 per km",
            "geo_indistinguishable",
            "epsilon = 5 per km",
            {"epsilon_per_km": 5.0},
            match_km=1.0,
        ),
        Setting("half the records", "subsample", "keep 50%", {"keep": 0.5}),
        Setting("half the devices", "sample_devices", "keep 50%", {"keep": 0.5}, count_scale=2.0),
        Setting("IDs rotated daily", "pseudonymize", "new ID every day", {"rotate": "1D"}),
        Setting("rare points suppressed (k = 5)", "suppress_rare", "k = 5", {"k": 5}),
    ]
    for eps in epsilons:
        settings.append(
            Setting(
                f"DP counts, epsilon = {eps:g}",
                "dp_aggregate",
                f"epsilon = {eps:g}",
                {"epsilon": float(eps), "max_cells_per_device": max_cells_per_device},
            )
        )
    return settings


def apply(setting: Setting, traces: pd.DataFrame, rng) -> pd.DataFrame:
    opts = dict(setting.options)
    if setting.transform == "none":
        return traces
    if setting.transform == "coarsen":
        try:
            cell, time_bin = opts.pop("cell_km"), opts.pop("time_bin")
        except KeyError:
            raise FewpointsError(
                f"setting {setting.label!r}: 'coarsen' needs options cell_km and time_bin"
            ) from None
        out = anonymize.coarsen_space(traces, cell_km=cell)
        # "1 km x 1 h" names the resolution released: on hourly data the clock
        # is already there, and only the space step has work to do.
        step = duration_seconds(time_bin, "time_bin")
        t = out["time"].to_numpy().astype("datetime64[s]").view(np.int64)
        if (t % step == 0).all():
            return out
        return anonymize.coarsen_time(out, time_bin=time_bin)
    func = getattr(anonymize, setting.transform, None)
    if func is None or setting.transform.startswith("_") or not callable(func):
        raise FewpointsError(
            f"setting {setting.label!r}: unknown transform {setting.transform!r} "
            "(not in fewpoints.anonymize)"
        )
    if "rng" in inspect.signature(func).parameters:
        opts["rng"] = rng
    try:
        return func(traces, **opts)
    except TypeError as exc:
        raise FewpointsError(f"setting {setting.label!r}: {exc}") from None


def privacy_utility(
    traces: pd.DataFrame,
    settings: Sequence[Setting] | None = None,
    *,
    n_points: int = 4,
    n_targets: int = 10_000,
    cell_km: float = 1.0,
    time_bin="1h",
    min_count: int = 10,
    rng=None,
) -> pd.DataFrame:
    """Unicity beside utility, for each way of releasing the same data.

    Parameters
    ----------
    traces : DataFrame
        The raw ``traces`` table every setting starts from.
    settings : sequence of Setting, optional
        What to compare; default :func:`default_settings`.
    n_points : int, default 4
        Points the attacker knows about each target (p).
    n_targets : int, default 10_000
        Targets per setting.
    cell_km, time_bin : default 1 km, "1h"
        The grid of the utility measure (and of the DP releases).
    min_count : int, default 10
        Cells with fewer true devices are left out of the relative error.
    rng : int, Generator or None
        Randomness for the transforms, the DP noise and the attack.

    Returns
    -------
    DataFrame
        One row per setting: ``setting``, ``transform``, ``strength``,
        ``unicity``, ``ci_low``, ``ci_high`` (95% Wilson; NaN for DP rows,
        which release no traces), ``epsilon`` (NaN except DP rows),
        ``utility_error`` (the mean relative error of the device counts per
        cell and bin, on cells with at least ``min_count`` true devices),
        ``utility_metric`` (that measure in words), ``n_targets`` and
        ``n_devices`` (targets sampled and the population searched; 0 for
        DP rows, where nobody is searched).

    Notes
    -----
    **Privacy.** Unicity is the same attack as :func:`fewpoints.unicity`,
    run on the released table: p points drawn from a target's released
    trace, unique when exactly one released trace holds all of them. Every
    setting is attacked from the same random state, so the raw row equals
    ``unicity(traces, n_points, n_targets=n_targets, rng=rng)``. Who the
    targets are depends on the release:

    - rotated IDs (``pseudonymize(rotate=...)``): the targets are the
      pseudonyms, and a target is unique when its p points single out one
      pseudonym, i.e. one day (or week) of one phone. That is a lower bound
      on the risk: pseudonyms of the same phone are easy to chain (the same
      home every night), which gives the full trace back.
    - sampled devices (``sample_devices``): the population searched is the
      released devices. A target found unique there is unique in the
      release; the attacker does not know whether the person is in it, but
      whoever is, is exposed as before (Farzanehfar et al. 2021).
    - sampled records (``subsample``): the attacker knows p points that are
      in the release; fewer points per device make fewer eligible targets.
    - noise (settings with ``match_km``): points drawn from the noisy
      release would be points no attacker knows. Instead the attacker
      knows p true points of the target (drawn exactly as for the raw row)
      and looks for released traces with a record at each of those times
      within ``match_km`` of the true place; the target is re-identified
      when it is the only such trace. Noise can push one of its own
      records out of reach, so the attack can miss; a cleverer attacker
      (ranking traces by distance) would miss less, so these rows are a
      lower bound on the risk.

    **Utility.** One measure for every row: how well the release answers
    "how many devices were in each cell during each time bin". Traces are
    counted as released (times ``count_scale``, e.g. 2 for half the
    devices) and compared with the counts of the raw data; DP rows compare
    their noisy release. A release coarser than the grid cannot answer at
    the grid's resolution, and its error says so.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    rng = np.random.default_rng(rng)
    validate_traces(traces)
    p = check_points(n_points)
    n_targets = check_targets(n_targets)
    cell = positive(cell_km, "cell_km")
    step = duration_seconds(time_bin, "time_bin")
    settings = default_settings() if settings is None else list(settings)
    labels = [s.label for s in settings]
    if not settings:
        raise FewpointsError("no settings to compare")
    if len(set(labels)) != len(labels):
        raise FewpointsError("setting labels must be unique")
    attack_state = copy.deepcopy(rng)
    streams = rng.spawn(len(settings))
    metric = (
        f"mean relative error of device counts per {cell:g} km cell and "
        f"{_bin_words(step)} (cells with >= {min_count} devices)"
    )

    truth = aggregate(traces, cell_km=cell, time_bin=time_bin)
    raw_index = PointIndex.from_traces(traces)
    rows = []
    for setting, stream in zip(settings, streams, strict=True):
        attack_rng = copy.deepcopy(attack_state)
        row = {
            "setting": setting.label,
            "transform": setting.transform,
            "strength": setting.strength,
            "epsilon": float("nan"),
            "utility_metric": metric,
        }
        if setting.transform == "dp_aggregate":
            opts = dict(setting.options)
            for name, want in (("cell_km", cell), ("time_bin", time_bin)):
                if name in opts and opts.pop(name) != want:
                    raise FewpointsError(
                        f"setting {setting.label!r}: a DP release is compared on the "
                        f"utility grid; drop its {name} or pass it to privacy_utility"
                    )
            if "epsilon" not in opts:
                raise FewpointsError(f"setting {setting.label!r}: dp_aggregate needs epsilon")
            released = dp_aggregate(traces, cell_km=cell, time_bin=time_bin, rng=stream, **opts)
            row.update(
                unicity=float("nan"),
                ci_low=float("nan"),
                ci_high=float("nan"),
                epsilon=float(opts["epsilon"]),
                n_targets=0,
                n_devices=0,
            )
        else:
            out = apply(setting, traces, stream)
            if setting.match_km is not None:
                value, lo, hi, n, n_dev = near_unicity(
                    raw_index,
                    out,
                    p,
                    n_targets,
                    positive(setting.match_km, "match_km"),
                    attack_rng,
                )
            else:
                index = raw_index if setting.transform == "none" else PointIndex.from_traces(out)
                res = unicity(index, p, n_targets=n_targets, rng=attack_rng)
                value, lo, hi, n, n_dev = (
                    res.value,
                    res.ci_low,
                    res.ci_high,
                    res.n_targets,
                    res.n_devices,
                )
            row.update(unicity=value, ci_low=lo, ci_high=hi, n_targets=n, n_devices=n_dev)
            # The raw release's counts are the truth (counted once, above).
            released = (
                truth
                if setting.transform == "none"
                else aggregate(out, cell_km=cell, time_bin=time_bin)
            )
            if setting.count_scale != 1.0:
                released = released.assign(devices=released["devices"] * float(setting.count_scale))
        row["utility_error"] = utility_error(truth, released, min_count=min_count).mre
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PRIVACY_UTILITY_COLUMNS))


def _bin_words(step: int) -> str:
    if step % 86400 == 0:
        return "day" if step == 86400 else f"{step // 86400} days"
    if step % 3600 == 0:
        return "hour" if step == 3600 else f"{step // 3600} hours"
    return f"{step // 60} minutes" if step % 60 == 0 else f"{step} s"
