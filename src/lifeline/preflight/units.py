"""Byte sizes as people write them: ``512MB``, ``1GB``, ``2.5 GiB``."""

from __future__ import annotations

import re

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes in ``text`` (units are powers of 1024); ValueError when malformed."""
    match = _SIZE.match(text)
    if match is None:
        msg = f"not a size: {text!r} (expected e.g. 512MB or 2GB)"
        raise ValueError(msg)
    number, unit = match.groups()
    return int(float(number) * _UNITS[unit.upper()])


def format_size(size: int) -> str:
    """``size`` bytes in the largest unit that keeps the number at least 1."""
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        scale = _UNITS[unit[0]]
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
