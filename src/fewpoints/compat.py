"""Old ways of reading a result that keep working for one release, with a DeprecationWarning.

Results are dataclasses with named fields (``score.precision``); a few used to
be plain dicts (``score["precision"]``). :class:`DictAccess` lets such a
result still be read as the dict it was (``[]``, ``keys()``, ``in``,
``dict(result)``, ``items()``, ``get``), each time with a
:class:`~fewpoints.common.FewpointsDeprecationWarning` (a
:class:`DeprecationWarning`) naming the field to read instead;
:func:`deprecate_attrs` does the same for values a table used to carry in
its ``DataFrame.attrs``.
"""

from __future__ import annotations

import dataclasses
import warnings

from fewpoints.common import DEPRECATED_IN, FewpointsDeprecationWarning


class DictAccess:
    """Mixin for a dataclass result that used to be a dict: ``result["key"]`` still works, deprecated.

    Every read through the old mapping interface warns (a
    :class:`~fewpoints.common.FewpointsDeprecationWarning` pointing at the
    caller's line) and gives the field of the same name.
    """

    def _old_keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def _deprecated(self, how: str) -> None:
        name = type(self).__name__
        warnings.warn(
            f"{name} is no longer a dict ({how} is deprecated since fewpoints {DEPRECATED_IN} "
            f"and goes in the next release): read its fields, e.g. result.{self._old_keys()[0]}",
            FewpointsDeprecationWarning,
            stacklevel=3,
        )

    def __getitem__(self, key: str):
        self._deprecated(f"result[{key!r}]")
        if key not in self._old_keys():
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> list[str]:
        """The field names (deprecated: use :func:`dataclasses.fields` or the attributes)."""
        self._deprecated("result.keys()")
        return self._old_keys()

    def __contains__(self, key) -> bool:
        self._deprecated("'key' in result")
        return key in self._old_keys()

    def __iter__(self):
        self._deprecated("iterating over result")
        return iter(self._old_keys())

    def items(self) -> list[tuple[str, object]]:
        """(name, value) of each field (deprecated: use :func:`dataclasses.asdict`)."""
        self._deprecated("result.items()")
        return [(k, getattr(self, k)) for k in self._old_keys()]

    def values(self) -> list:
        """The field values (deprecated: read the attributes)."""
        self._deprecated("result.values()")
        return [getattr(self, k) for k in self._old_keys()]

    def get(self, key: str, default=None):
        """The field ``key``, or ``default`` (deprecated: read the attribute)."""
        self._deprecated(f"result.get({key!r})")
        return getattr(self, key) if key in self._old_keys() else default


class DeprecatedAttrs(dict):
    """``DataFrame.attrs`` that still hold a result's old values, each read warning.

    For a function that used to hide its parameters in the ``attrs`` of the
    table it returns: the values stay for one release, and reading one
    (``table.attrs["epsilon"]``, ``.get``) warns with ``instead``, the way to
    read it now. Frames derived from the table get a plain copy (pandas
    copies ``attrs``), which no longer warns.
    """

    def __init__(self, values: dict, *, instead: str):
        super().__init__(values)
        self.instead = instead

    def _deprecated(self, key) -> None:
        warnings.warn(
            f"attrs[{key!r}] is deprecated since fewpoints {DEPRECATED_IN} and goes in the "
            f"next release: {self.instead}",
            FewpointsDeprecationWarning,
            stacklevel=3,
        )

    def __getitem__(self, key):
        self._deprecated(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._deprecated(key)
        return super().get(key, default)


def deprecate_attrs(frame, values: dict, *, instead: str) -> None:
    """Set ``frame.attrs`` to ``values``, each read of which warns (see :class:`DeprecatedAttrs`)."""
    # The attrs setter would copy into a plain dict; set the store itself.
    object.__setattr__(frame, "_attrs", DeprecatedAttrs(values, instead=instead))
