"""Blocking: which records are worth comparing with a record at all.

Every record gets a few block keys; only records sharing one are compared.
The keys are exactly the evidence a link needs, so blocking loses nothing:

* exact keys - normalised email, tax id without prefix, the ``system:id``
  refs a record links to (looked up both ways) - find every deterministic
  link;
* anchor keys - phone, postal code with house number, a company's own email
  domain - find every fuzzy link, because a fuzzy link needs at least one
  of them to agree (:mod:`lifeline.resolve.rules`).

Name-based keys (a family name's sound with the postal code, say) would
only add pairs that can never link: a name alone is not enough.

A bucket larger than its limit is skipped when looking for candidates: an
anchor key shared by more than ``max_block_size`` records (a switchboard
number, an office tower) narrows nothing down, and an exact key shared by
more than ``max_key_size`` is junk (a placeholder address). Within the
limits the candidates of a record are exactly the records sharing a key
with it, whatever the arrival order.

Buckets hold a single ref as a plain string, a few as a tuple, many as a
list: most keys belong to one record, and immutable buckets cost the
garbage collector nothing.
"""

from __future__ import annotations

from collections.abc import Hashable

from lifeline.resolve.config import ResolutionConfig
from lifeline.resolve.normalise import tax_body
from lifeline.resolve.record import RecordKeys

EMAIL, TAX, CLAIM, PHONE, ADDRESS, DOMAIN = range(6)
_KINDS = 6
_EXACT = frozenset({EMAIL, TAX, CLAIM})
_TUPLE_MAX = 16

Bucket = str | tuple[str, ...] | list[str]
BlockKey = tuple[int, Hashable]  # (kind, value)


def block_keys(keys: RecordKeys) -> list[BlockKey]:
    """The record's block keys, exact keys first."""
    out: list[BlockKey] = []
    if keys.email:
        out.append((EMAIL, keys.email))
    if keys.tax:
        out.append((TAX, tax_body(keys.tax)))
    out.extend((CLAIM, ref) for ref in keys.links)
    if keys.phone:
        out.append((PHONE, keys.phone))
    if keys.postal and keys.house:
        out.append((ADDRESS, (keys.postal, keys.house)))
    if keys.domain:
        out.append((DOMAIN, keys.domain))
    return out


class BlockIndex:
    """Block key -> refs of the records that have it; one map per key kind.

    Not thread-safe; owned by one resolver. Picklable.
    """

    __slots__ = ("_limits", "_maps")

    def __init__(self, config: ResolutionConfig) -> None:
        self._maps: tuple[dict[Hashable, Bucket], ...] = tuple(
            {} for _ in range(_KINDS)
        )
        self._limits = tuple(
            config.max_key_size if kind in _EXACT else config.max_block_size
            for kind in range(_KINDS)
        )

    def __len__(self) -> int:
        return sum(len(m) for m in self._maps)

    def add(self, ref: str, blocks: list[BlockKey]) -> None:
        """Index ``ref`` under each of ``blocks``."""
        for kind, value in blocks:
            bucket_map = self._maps[kind]
            bucket = bucket_map.get(value)
            if bucket is None:
                bucket_map[value] = ref
            elif isinstance(bucket, str):
                bucket_map[value] = (bucket, ref)
            elif isinstance(bucket, tuple):
                grown = (*bucket, ref)
                bucket_map[value] = grown if len(grown) <= _TUPLE_MAX else list(grown)
            else:
                bucket.append(ref)

    def remove(self, ref: str, blocks: list[BlockKey]) -> None:
        """Take ``ref`` out of each of ``blocks`` (as given to :meth:`add`)."""
        for kind, value in blocks:
            bucket_map = self._maps[kind]
            bucket = bucket_map[value]
            if isinstance(bucket, str):
                del bucket_map[value]
                continue
            rest = [other for other in bucket if other != ref]
            if len(rest) == 1:
                bucket_map[value] = rest[0]
            else:
                bucket_map[value] = tuple(rest) if len(rest) <= _TUPLE_MAX else rest

    def candidates(self, keys: RecordKeys, blocks: list[BlockKey]) -> list[str]:
        """Refs sharing a usable block with the record; no duplicates, not it.

        Records that link to it come first, then exact keys, then anchors.
        The records it links to itself are not here: look them up directly.
        """
        seen = {keys.ref}
        out: list[str] = []
        maps, limits = self._maps, self._limits
        for kind, value in ((CLAIM, keys.ref), *blocks):
            bucket = maps[kind].get(value)
            if bucket is None:
                continue
            if isinstance(bucket, str):
                bucket = (bucket,)
            elif len(bucket) > limits[kind]:
                continue
            for other in bucket:
                if other not in seen:
                    seen.add(other)
                    out.append(other)
        return out

    def __getstate__(
        self,
    ) -> tuple[tuple[dict[Hashable, Bucket], ...], tuple[int, ...]]:
        return self._maps, self._limits

    def __setstate__(
        self, state: tuple[tuple[dict[Hashable, Bucket], ...], tuple[int, ...]]
    ) -> None:
        self._maps, self._limits = state
