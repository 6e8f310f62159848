"""String similarity on normalised keys, in [0, 1] (1 = equal).

Pure Python, tuned for the short strings names are: equal strings return at
once, and recent pairs are cached because real customer data repeats the
same family names and company words over and over.
"""

from __future__ import annotations

from functools import lru_cache

_PREFIX_SCALE = 0.1
_MAX_PREFIX = 4


@lru_cache(maxsize=1 << 16)
def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity; 0.0 when either string is empty."""
    if a == b:
        return 1.0 if a else 0.0
    if not a or not b:
        return 0.0
    if (len(a), a) > (len(b), b):  # one order for both calls: symmetric
        a, b = b, a
    jaro = _jaro(a, b)
    prefix = 0
    for x, y in zip(a[:_MAX_PREFIX], b, strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * _PREFIX_SCALE * (1.0 - jaro)


def _jaro(short: str, long: str) -> float:
    window = max(len(long) // 2 - 1, 0)
    taken = [False] * len(long)
    short_matches: list[str] = []
    for i, ch in enumerate(short):
        hi = min(len(long), i + window + 1)
        j = long.find(ch, max(0, i - window), hi)
        while j != -1 and taken[j]:
            j = long.find(ch, j + 1, hi)
        if j != -1:
            taken[j] = True
            short_matches.append(ch)
    matches = len(short_matches)
    if not matches:
        return 0.0
    long_matches = [ch for ch, hit in zip(long, taken, strict=True) if hit]
    half_swaps = sum(x != y for x, y in zip(short_matches, long_matches, strict=True))
    return (
        matches / len(short)
        + matches / len(long)
        + (matches - half_swaps / 2) / matches
    ) / 3.0


@lru_cache(maxsize=1 << 15)
def token_similarity(a: str, b: str) -> float:
    """Similarity of two space-separated word lists, order-insensitive.

    Each word is matched to its most similar word on the other side and the
    scores are averaged, in both directions; the result is the mean of the
    two directions, so an extra or missing word costs, but not everything.
    """
    if a == b:
        return 1.0 if a else 0.0
    left, right = a.split(), b.split()
    if not left or not right:
        return 0.0
    there = sum(max(jaro_winkler(x, y) for y in right) for x in left) / len(left)
    back = sum(max(jaro_winkler(y, x) for x in left) for y in right) / len(right)
    return (there + back) / 2.0
