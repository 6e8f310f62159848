"""Key groups: many keys share one Bytewax state key to amortise its cost.

Bytewax keeps state per key and routes keys to workers by hashing; sending
one item per key group per Kafka batch (instead of one per event) lets a
stateful step handle many events per call. The hash must be stable across
processes (Python's ``hash`` of a str is not), so recovery finds its state.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_KEY_GROUPS = 64


def key_group(key: str, groups: int = DEFAULT_KEY_GROUPS) -> str:
    """The key group of ``key``, as Bytewax state keys are strings."""
    return str(zlib.crc32(key.encode()) % groups)


def group_by_key_group(
    items: Iterable[T], key: Callable[[T], str], groups: int = DEFAULT_KEY_GROUPS
) -> list[tuple[str, list[T]]]:
    """Split ``items`` into (key group, items in input order) pairs."""
    grouped: dict[str, list[T]] = defaultdict(list)
    for item in items:
        grouped[key_group(key(item), groups)].append(item)
    return list(grouped.items())


def group_rows_broadcasting(
    items: Iterable[T],
    key: Callable[[T], str],
    broadcast: Callable[[T], bool],
    groups: int = DEFAULT_KEY_GROUPS,
) -> list[tuple[str, list[T]]]:
    """Group like :func:`group_by_key_group`; broadcast items go to every group.

    A table truncate concerns rows in every key group; it is placed in each
    group's list at its place in the input order.
    """
    grouped: dict[str, list[T]] = defaultdict(list)
    for item in items:
        if broadcast(item):
            for group in range(groups):
                grouped[str(group)].append(item)
        else:
            grouped[key_group(key(item), groups)].append(item)
    return list(grouped.items())
