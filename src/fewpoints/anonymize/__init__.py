"""Transforms a data broker might call "anonymization": ``traces`` in, new ``traces`` out.

Every function returns a new table with the same columns (less any column
that would give a finer value away, such as ``antenna_id`` after moving a
point) and never changes its input. The attacks accept raw and transformed
tables alike, so the effect of a transform is measured by running the same
attack on its output.

- identities: :func:`pseudonymize` (new IDs, optionally rotated every period)
- space: :func:`coarsen_space` (square cells), :func:`merge_antennas`
  (neighbouring antennas merged), :func:`add_noise` (Gaussian),
  :func:`geo_indistinguishable` (planar Laplace)
- time: :func:`coarsen_time`, :func:`truncate`
- less data: :func:`subsample` (records), :func:`sample_devices` (devices),
  :func:`suppress_rare` (points fewer than k devices share)

A setting too weak to change anything raises :class:`WeakTransformWarning`
with the reason.

One module per family: ``coarsen`` (cells, merged antennas, time bins),
``noise``, ``identities``, ``records`` (less data); ``weak`` holds the
warning and its checks, ``encodings`` the integer codes they share.
"""

from fewpoints.anonymize.coarsen import coarsen_space, coarsen_time, merge_antennas
from fewpoints.anonymize.identities import pseudonymize
from fewpoints.anonymize.noise import add_noise, geo_indistinguishable
from fewpoints.anonymize.records import sample_devices, subsample, suppress_rare, truncate
from fewpoints.anonymize.weak import WeakTransformWarning

__all__ = [
    "WeakTransformWarning",
    "add_noise",
    "coarsen_space",
    "coarsen_time",
    "geo_indistinguishable",
    "merge_antennas",
    "pseudonymize",
    "sample_devices",
    "subsample",
    "suppress_rare",
    "truncate",
]
