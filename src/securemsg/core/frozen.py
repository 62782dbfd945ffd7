"""A base for small frozen value classes written by hand.

The conventions ask for ``@dataclass(frozen=True, slots=True)``; the classes on
the import path of ``securemsg whoami`` (card, profile, identity, COSE, key file)
are written by hand instead, on this base: importing :mod:`dataclasses` costs
about 9 ms (inspect, copy) and each decorated class about half a millisecond
more, against a start-up budget of a few milliseconds (docs/performance.md,
target 4).

A subclass lists its fields, in order (not sorted), as ``__slots__`` and writes its own
``__init__``: validate, then store each field with :func:`_set`. The base gives
what the dataclass gave: assignment and deletion raise
:class:`FrozenInstanceError` (an ``AttributeError``); equality is "same class
and equal fields"; the hash is the hash of the fields; ``repr`` is
``Name(field=value, ...)`` without the fields named in ``_hidden``; fields named
in ``_not_compared`` take no part in equality and the hash; copy and
pickle rebuild through ``__init__`` (so through its checks).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar, cast

_set = object.__setattr__
"""Store a field from ``__init__`` (plain assignment raises)."""


class FrozenInstanceError(AttributeError):
    """A field of a frozen value was assigned or deleted."""


class Frozen:
    __slots__ = ()
    _hidden: ClassVar[frozenset[str]] = frozenset()
    _not_compared: ClassVar[frozenset[str]] = frozenset()  # field(compare=False)

    def _names(self) -> tuple[str, ...]:
        """The fields: the ``__slots__`` of the class, after those of its bases."""
        names: tuple[str, ...] = ()
        for klass in reversed(type(self).__mro__):
            names += cast(tuple[str, ...], klass.__dict__.get("__slots__", ()))
        return names

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._names())

    def _compared(self) -> tuple[Any, ...]:
        """The fields equality and the hash look at (all but ``_not_compared``)."""
        skip = self._not_compared
        return tuple(getattr(self, name) for name in self._names() if name not in skip)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frozen) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        shown = (
            f"{name}={getattr(self, name)!r}" for name in self._names() if name not in self._hidden
        )
        return f"{type(self).__qualname__}({', '.join(shown)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._fields())


_T = TypeVar("_T")


def replace(obj: _T, **changes: Any) -> _T:
    """A copy of ``obj`` with some fields changed, rebuilt through ``__init__`` (so
    through its checks), as :func:`dataclasses.replace` does for a dataclass (and
    does here for one: callers need not know which of the two a value is)."""
    if not isinstance(obj, Frozen):
        import dataclasses  # a dataclass value: not on the start-up path

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    names = obj._names()
    unknown = set(changes) - set(names)
    if unknown:
        raise TypeError(f"{type(obj).__qualname__} has no field {sorted(unknown)[0]!r}")
    return type(obj)(**{name: changes.get(name, getattr(obj, name)) for name in names})
