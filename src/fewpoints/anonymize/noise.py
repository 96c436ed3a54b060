"""Noise on the locations: Gaussian (:func:`add_noise`) or planar Laplace (geo-indistinguishable).

:func:`add_noise` draws Gaussian noise, :func:`geo_indistinguishable` planar
Laplace noise. Every record is moved by an independent random displacement;
``antenna_id`` is dropped and ``accuracy_m`` widened by the noise's 68% radius.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.anonymize.weak import warn_if_below_resolution
from fewpoints.common import positive, renamed, within_earth
from fewpoints.schema import validate_traces


def _km(metres):
    """An old ``sigma_m`` in km (a value that is not a number is left for the check to name)."""
    number = isinstance(metres, (int, float, np.number)) and not isinstance(metres, bool)
    return metres / 1000.0 if number else metres


@renamed(sigma_m=("sigma_km", _km))
def add_noise(traces: pd.DataFrame, *, sigma_km: float, rng=None) -> pd.DataFrame:
    """Move every location by independent Gaussian noise of ``sigma_km`` per axis.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    sigma_km : float
        Standard deviation of the noise on each coordinate, in km (0.2 is
        200 m). ``sigma_m=`` (in metres) is its deprecated name.
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        A copy with noisy ``x_km, y_km``; ``antenna_id`` dropped (it would
        give the true location away); ``accuracy_m``, when present, widened
        to the 68% radius of the recorded error plus the noise.

    Warns
    -----
    WeakTransformWarning
        When ``sigma_km`` is under a tenth of the data's own resolution (the
        median ``accuracy_m`` of GPS pings, or the median spacing of the
        antennas of antenna-located data): a point still names its place.

    Notes
    -----
    Noise blurs each point, but every visit to the same place is blurred
    independently: averaging a device's nightly points finds its home again
    to within ``sigma_km`` divided by the square root of the number of
    nights. The exact-match attack of this package finds every noisy point
    unique (no two are equal), so noise is measured after coarsening to
    cells, as an attacker would do.

    References
    ----------
    .. [1] Krumm, J. (2007). Inference attacks on location tracks. Pervasive
       Computing, LNCS 4480, 127-143.
    """
    validate_traces(traces)
    sigma_km = positive(sigma_km, "sigma_km")
    within_earth(sigma_km, f"sigma_km {sigma_km!r}", "a standard deviation of")
    sigma = sigma_km * 1000.0  # metres, the unit of accuracy_m
    rng = np.random.default_rng(rng)
    # stacklevel 4: the user's line, past the wrapper that keeps sigma_m= working.
    warn_if_below_resolution(traces, sigma, f"Gaussian noise of {sigma:g} m", stacklevel=4)
    # float32 draws: half the memory traffic, and 0.1 m of noise is still exact to a micrometre.
    dx = rng.standard_normal(len(traces), dtype=np.float32)
    dx *= np.float32(sigma_km)
    dy = rng.standard_normal(len(traces), dtype=np.float32)
    dy *= np.float32(sigma_km)
    return _moved(traces, dx, dy, _GAUSS_68 * sigma)


def geo_indistinguishable(traces: pd.DataFrame, *, epsilon_per_km: float, rng=None) -> pd.DataFrame:
    """Planar Laplace noise (geo-indistinguishability): a uniform direction, a Gamma(2, 1/epsilon) distance.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    epsilon_per_km : float
        Privacy parameter per kilometre: two places ``d`` km apart are
        ``exp(epsilon_per_km * d)``-indistinguishable for one report. The
        mean displacement is ``2 / epsilon_per_km`` km.
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        A copy with displaced ``x_km, y_km``; ``antenna_id`` dropped;
        ``accuracy_m``, when present, widened by the noise's 68% radius
        (``2.35 / epsilon_per_km`` km).

    Warns
    -----
    WeakTransformWarning
        When the mean displacement is under a tenth of the data's own
        resolution.

    Notes
    -----
    The guarantee holds for one report. A trace is many reports of the same
    few places, and the privacy costs add up: n reports of home cost
    ``n * epsilon``, and averaging the nightly reports finds the home again.
    It protects a single check-in, not a month of pings.

    References
    ----------
    .. [1] Andres, M. E., Bordenabe, N. E., Chatzikokolakis, K., Palamidessi, C.
       (2013). Geo-indistinguishability: differential privacy for
       location-based systems. CCS '13, 901-914.
    """
    validate_traces(traces)
    eps = positive(epsilon_per_km, "epsilon_per_km")
    within_earth(2.0 / eps, f"epsilon_per_km {epsilon_per_km!r}", "a mean displacement of")
    rng = np.random.default_rng(rng)
    warn_if_below_resolution(
        traces,
        2000.0 / eps,
        f"planar Laplace noise with epsilon {eps:g}/km (mean {2000 / eps:g} m)",
    )
    # float32 draws and trigonometry (a 1 km displacement is exact to well under
    # a millimetre; float64 sin/cos of 100M angles alone took most of the time).
    theta = rng.random(len(traces), dtype=np.float32)
    theta *= np.float32(2.0 * np.pi)
    r = rng.standard_gamma(2.0, len(traces), dtype=np.float32)
    r /= np.float32(eps)
    return _moved(traces, r * np.cos(theta), r * np.sin(theta), _LAPLACE_68 * 1000.0 / eps)


#: 68% radius of a 2-D Gaussian, in units of its per-axis sigma.
_GAUSS_68 = 1.5096


#: 68% radius of the planar Laplace distribution, in units of 1/epsilon.
_LAPLACE_68 = 2.3457


def _moved(traces: pd.DataFrame, dx_km, dy_km, radius68_m: float) -> pd.DataFrame:
    # No deep copy: the unchanged columns are shared (copy-on-write) and the moved
    # ones are new arrays, so the input is never written to.
    out = traces.drop(columns=["antenna_id"], errors="ignore")
    out["x_km"] = np.add(traces["x_km"].to_numpy(dtype=np.float64), dx_km, dtype=np.float64)
    del dx_km
    out["y_km"] = np.add(traces["y_km"].to_numpy(dtype=np.float64), dy_km, dtype=np.float64)
    if "accuracy_m" in out.columns:
        acc = traces["accuracy_m"].to_numpy(dtype=np.float64)
        out["accuracy_m"] = np.round(np.hypot(acc, radius68_m), 1)
    return out
