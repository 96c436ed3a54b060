"""What an audit measures and what it returns: its sizes, its thresholds and the :class:`Audit`.

:class:`AuditSizes` says how much work each analysis does; :class:`Audit`
holds everything measured on one file, with the evidence behind each
number; :data:`FEW`, :data:`MIN_DEVICES` and :data:`GPS_KM` are the
thresholds every analysis and every page of the report share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from fewpoints.common import OneRow
from fewpoints.compat import DictAccess

#: A release singles out "few" devices below this share (the coarsening table's target).
FEW = 0.10


#: Fewest devices an audit measures (with fewer, nobody can hide among others).
MIN_DEVICES = 10


#: Radius of a GPS stay point and of "near a place" (km): the attacks' defaults.
GPS_KM = 0.05


@dataclass(frozen=True)
class RawShare(OneRow, DictAccess):
    """The file's share singled out by 4 random points, as recorded (:attr:`Audit.raw4`).

    Attributes
    ----------
    unicity : float
        Share of the sampled devices that 4 random points of their own trace single out.
    ci_low, ci_high : float
        Its 95% Wilson interval.
    n_targets : int
        Devices sampled.

    Notes
    -----
    It used to be a dict: ``audit.raw4["unicity"]`` still works for one
    release, with a :class:`~fewpoints.common.FewpointsDeprecationWarning`;
    read ``audit.raw4.unicity`` (``.to_frame()``: the same as a one-row table).
    """

    unicity: float
    ci_low: float
    ci_high: float
    n_targets: int


@dataclass(frozen=True)
class AuditSizes:
    """How much work each analysis of the audit does (more targets: narrower intervals).

    The unicity curve, the coarsening table and the per-device risk sample
    the same number of devices; the curve's 4-point test and the coarsening
    table's "as recorded" row start from the same random state, so the
    file's share at 4 points is one number wherever the report states it.
    """

    n_targets: int = 10_000
    curve_points: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10)
    #: Square cells (km) of the coarsening table; None keeps the recorded locations.
    sweep_cells: tuple[float | None, ...] = (None, 0.5, 1.0, 2.0, 5.0, 10.0)
    #: Time slots of the coarsening table; None keeps the recorded times. Slots no longer
    #: than the file's own time step are left out (they change nothing).
    sweep_bins: tuple[str | None, ...] = (None, "1h", "4h", "12h", "1D")
    sweep_points: int = 4
    population_targets: int = 5_000
    risk_points: int = 10
    #: Square cells (km) of the home/work and top-n anonymity sets (plus the recorded
    #: locations when they are antennas or cells).
    granularities: tuple[float, ...] = (0.1, 0.5, 2.0)

    def curve_order(self) -> list[int]:
        """The curve's numbers of points in the order they are drawn: 4 first (see above)."""
        ps = list(self.curve_points)
        return [4, *(p for p in ps if p != 4)] if 4 in ps else ps

    def bins_for(self, step_s: int) -> list[str | None]:
        """The time slots of the coarsening table longer than the file's time step ``step_s``."""
        return [b for b in self.sweep_bins if b is None or pd.Timedelta(b).total_seconds() > step_s]


@dataclass
class Audit:
    """Everything an audit measured on one file, with the evidence behind each number.

    Attributes
    ----------
    source : str
        How the report names the file (its name as given).
    about : dict
        The file as read: ``n_records``, ``n_devices``, ``first``, ``last``,
        ``days``, ``locations`` (what a location is), ``time_step`` (seconds),
        and ``reading`` (which column was which, how times were read, the
        time zone, the projection).
    curve : DataFrame
        Unicity against the number of known points: ``n_points, unicity,
        ci_low, ci_high, n_targets, median_anonymity_set, knowledge``.
    sweep : ResolutionSweep
        Unicity with 4 points at every square cell x time slot tried.
    release : dict or None
        The finest setting tried whose 95% interval lies below :data:`FEW`,
        with what it costs (``cell_km``, ``time_bin``, ``unicity``,
        ``ci_low``, ``ci_high``, ``moved_km``, ``shifted_minutes``); None if
        no setting tried gets there (``coarsest`` says how far it got).
    home_work : dict
        Homes and workplaces inferred: ``n_devices``, ``homes``, ``works``,
        ``both``, ``median_home_support``, ``median_work_support``.
    anonymity : DataFrame
        :func:`fewpoints.attacks.anonymity_table` of the file.
    population : PopulationCurve
        Unicity in random subsets of the devices, the model and the lower bound.
    risk : DataFrame
        :func:`per_device_risk`: how many devices the fewest points single out.
    sensitive : DataFrame or None
        :func:`sensitive_exposure`, when a places file was given.
    seconds : dict
        How long each step took.
    """

    source: str
    about: dict
    curve: pd.DataFrame
    sweep: object
    release: dict | None
    coarsest: dict
    home_work: dict
    anonymity: pd.DataFrame
    population: object
    risk: pd.DataFrame
    sensitive: pd.DataFrame | None = None
    #: What each coarsening costs: ``moved_km`` by square size (0 as recorded) and
    #: ``shifted_minutes`` by time slot ("" as recorded), means over the records.
    costs: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    engine: str = "memory"
    seed: int = 0
    sizes: AuditSizes = field(default_factory=AuditSizes)

    @property
    def raw4(self) -> RawShare:
        """The file's share singled out by 4 random points (the number the summary leads with)."""
        row = self.curve.set_index("n_points").loc[4]
        return RawShare(
            **{k: float(row[k]) for k in ("unicity", "ci_low", "ci_high")},
            n_targets=int(row["n_targets"]),
        )

    def __repr__(self) -> str:
        r = self.raw4
        return (
            f"Audit({self.source}: {self.about['n_devices']:,} devices, "
            f"{self.about['n_records']:,} records; 4 points single out {r.unicity:.1%})"
        )
