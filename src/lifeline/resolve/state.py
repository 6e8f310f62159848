"""Cluster membership and golden ids: the resolver's bookkeeping.

Plain maps keyed by ref or golden id, holding strings, ints and tuples
only (no per-record objects for the garbage collector to walk, compact to
pickle): a record's keys, when it was first seen, its golden id; a
cluster's members and when it was born. A logical clock orders everything: each
record gets ``seen`` when it first arrives (an update keeps it, a re-insert
after a delete gets a new one) and each cluster gets ``born`` when its id is
issued.

Golden ids are ``g-`` + 16 hex digits of BLAKE2b over the founding record's
``system:id``: a replay of the same changes yields the same ids, and adding
members never changes one. An id is never issued to a second cluster while
it is live, and an id absorbed by a merge is never issued again (a suffix
``-1``, ``-2`` ... is added instead).

Survivor rule on merge: the cluster born first (lowest ``born``; the lower
id on a tie, which the clock rules out) keeps its id. Split rule: the part
holding the earliest-seen member keeps the id; every other part gets a new
id founded by its own earliest-seen member.
"""

from __future__ import annotations

import hashlib

from lifeline.delta_dict import DeltaDict
from lifeline.resolve.record import RecordKeys

_State = tuple[
    dict[str, RecordKeys],
    dict[str, int],
    dict[str, str],
    dict[str, tuple[str, ...]],
    dict[str, int],
    set[str],
    int,
]


def golden_id_for(ref: str) -> str:
    """The base golden id a cluster founded by ``ref`` gets."""
    return "g-" + hashlib.blake2b(ref.encode(), digest_size=8).hexdigest()


class ClusterState:
    """Records and clusters; every mutation keeps both sides consistent.

    ``keys`` maps each live ref to its keys; treat it as read-only.
    """

    __slots__ = ("_absorbed", "_born", "_clock", "_golden", "_members", "_seen", "keys")

    def __init__(self) -> None:
        # DeltaDicts: a snapshot pickles what changed since the last one.
        self.keys: dict[str, RecordKeys] = DeltaDict()
        self._seen: dict[str, int] = DeltaDict()
        self._golden: dict[str, str] = DeltaDict()
        self._members: dict[str, tuple[str, ...]] = DeltaDict()
        self._born: dict[str, int] = DeltaDict()
        self._absorbed: set[str] = set()
        self._clock = 0

    def golden_of(self, ref: str) -> str | None:
        """The golden id of the live record ``ref``."""
        return self._golden.get(ref)

    def members(self, golden_id: str) -> tuple[str, ...]:
        """The member refs of a live cluster; empty when it is not live."""
        return self._members.get(golden_id, ())

    def assignments(self) -> dict[str, str]:
        """Every live ref and its golden id (a copy)."""
        return dict(self._golden)

    def cluster_count(self) -> int:
        """The number of live clusters."""
        return len(self._members)

    def found(self, keys: RecordKeys) -> str:
        """Start a new cluster with the new record ``keys`` alone."""
        ref = keys.ref
        self._enter(keys)
        golden = self._issue(ref)
        self._members[golden] = (ref,)
        self._born[golden] = self._tick()
        self._golden[ref] = golden
        return golden

    def join(self, golden_id: str, keys: RecordKeys) -> None:
        """Add the new record ``keys`` to a live cluster."""
        self._enter(keys)
        self._members[golden_id] += (keys.ref,)
        self._golden[keys.ref] = golden_id

    def update(self, keys: RecordKeys) -> None:
        """Replace the keys of the live record ``keys.ref``."""
        self.keys[keys.ref] = keys

    def merge(self, goldens: list[str]) -> tuple[str, list[str]]:
        """Fold clusters into the oldest one; ``(survivor, absorbed)``."""
        survivor = min(goldens, key=lambda g: (self._born[g], g))
        absorbed = [g for g in goldens if g != survivor]
        for gone in absorbed:
            moved = self._members.pop(gone)
            del self._born[gone]
            self._absorbed.add(gone)
            for ref in moved:
                self._golden[ref] = survivor
            self._members[survivor] += moved
        return survivor, absorbed

    def split_off(self, golden_id: str, part: list[str]) -> str:
        """Move ``part`` (some members of a cluster) into a new cluster."""
        leaving = set(part)
        founder = min(part, key=self._seen.__getitem__)
        new = self._issue(founder)
        self._members[golden_id] = tuple(
            ref for ref in self._members[golden_id] if ref not in leaving
        )
        self._members[new] = tuple(part)
        self._born[new] = self._tick()
        for ref in part:
            self._golden[ref] = new
        return new

    def leave(self, ref: str) -> str:
        """Drop the live record ``ref``; returns the golden id it had.

        A cluster left empty is no longer live (its id may be issued again
        to a cluster founded by the same record).
        """
        del self.keys[ref]
        del self._seen[ref]
        golden = self._golden.pop(ref)
        rest = tuple(other for other in self._members[golden] if other != ref)
        if rest:
            self._members[golden] = rest
        else:
            del self._members[golden]
            del self._born[golden]
        return golden

    def earliest(self, refs: list[str]) -> int:
        """The lowest first-seen time among ``refs``."""
        return min(self._seen[ref] for ref in refs)

    def _enter(self, keys: RecordKeys) -> None:
        self.keys[keys.ref] = keys
        self._seen[keys.ref] = self._tick()

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def _issue(self, founder: str) -> str:
        base = golden_id_for(founder)
        candidate, suffix = base, 0
        while candidate in self._members or candidate in self._absorbed:
            suffix += 1
            candidate = f"{base}-{suffix}"
        return candidate

    def __getstate__(self) -> _State:
        return (
            self.keys,
            self._seen,
            self._golden,
            self._members,
            self._born,
            self._absorbed,
            self._clock,
        )

    def __setstate__(self, state: _State) -> None:
        (
            self.keys,
            self._seen,
            self._golden,
            self._members,
            self._born,
            self._absorbed,
            self._clock,
        ) = state
