"""A dict whose pickle costs what changed in it, not what it holds.

Stateful steps pickle a key's whole state at every epoch the key was
touched (:mod:`lifeline.flows.stateful`), and at any real rate every key
group and the single resolver key are touched in every epoch: pickling
their big maps (the latest row of every source row, every party's row, the
resolver's members) is O(state) per epoch, about 30 µs per party at 100k
parties, which outgrows the work of the epoch itself long before a million.

A :class:`DeltaDict` keeps the pickle of its contents at some point (its
*base*) and the keys set or deleted since; it pickles as the base bytes
(copied, not encoded again) plus the changed entries. Once the changed keys
pass a quarter of its size, the next pickle takes a new base. A snapshot
thus encodes the entries changed since the base (at most a quarter of the
map) instead of all of them; before its first pickle a DeltaDict tracks
nothing, as that pickle takes a base anyway. Reading is a plain dict's.

Values must be immutable or replaced, never changed in place: a value
changed in place is not seen as a change. The base is kept in memory (about
the size of the pickle) besides the dict.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Any, Final, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")

_REBASE_RATIO: Final = 4
"""A new base when changed keys * ratio exceed the size."""


class _Gone:
    """Marks a key deleted since the base; pickled by reference."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "GONE"


GONE: Final = _Gone()


class DeltaDict(dict[K, V]):
    """A ``dict`` that pickles as a base plus the entries changed since."""

    __slots__ = ("_base", "_changed")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._base: bytes | None = None
        self._changed: set[K] = set()

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        if self._base is not None:  # without a base, the next pickle takes one
            self._changed.add(key)

    def __delitem__(self, key: K) -> None:
        super().__delitem__(key)
        if self._base is not None:
            self._changed.add(key)

    @overload
    def pop(self, key: K, /) -> V: ...

    @overload
    def pop(self, key: K, default: V, /) -> V: ...

    @overload
    def pop(self, key: K, default: Any, /) -> Any: ...

    def pop(self, key: K, /, *default: Any) -> Any:
        """Like ``dict.pop``."""
        if self._base is not None and key in self:
            self._changed.add(key)
        return super().pop(key, *default)

    def popitem(self) -> tuple[K, V]:
        """Like ``dict.popitem``."""
        key, value = super().popitem()
        if self._base is not None:
            self._changed.add(key)
        return key, value

    def setdefault(self, key: K, default: Any = None, /) -> Any:
        """Like ``dict.setdefault`` (do not change the value it returns)."""
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Like ``dict.update``."""
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> DeltaDict[K, V]:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        """Like ``dict.clear``; the next pickle takes a new base."""
        super().clear()
        self._base = None
        self._changed = set()

    def __reduce__(self) -> tuple[Any, ...]:
        if self._base is None or len(self._changed) * _REBASE_RATIO > len(self):
            self._base = pickle.dumps(dict(self), protocol=pickle.HIGHEST_PROTOCOL)
            self._changed = set()
        changes = {key: self.get(key, GONE) for key in self._changed}
        return _restore, (type(self), self._base, changes)


def _restore(
    cls: type[DeltaDict[K, V]], base: bytes, changes: Mapping[K, V | _Gone]
) -> DeltaDict[K, V]:
    """Unpickle: the base, then the changes (still changes since that base)."""
    restored = cls(pickle.loads(base))  # noqa: S301 - our own snapshot
    for key, value in changes.items():
        if isinstance(value, _Gone):
            dict.pop(restored, key, None)
        else:
            dict.__setitem__(restored, key, value)
    restored._base = base
    restored._changed = set(changes)
    return restored
