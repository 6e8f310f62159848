"""JSON encoding of rows: lossless for decimals, dates and timestamps."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return value.hex()
    msg = f"cannot encode {type(value).__name__} as JSON"
    raise TypeError(msg)


def dumps(value: Any) -> bytes:
    """Encode ``value``: decimals as strings, datetimes as RFC 3339."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
