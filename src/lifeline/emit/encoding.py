"""JSON encoding of rows, lossless: the same rendering as ``lifeline decode``."""

from __future__ import annotations

from typing import Any

import orjson

from lifeline.decode.render import render_value


def _default(value: Any) -> Any:
    # orjson handles str, numbers, datetimes, dates, times and UUIDs itself.
    return render_value(value)


def dumps(value: Any) -> bytes:
    """Encode ``value``: decimals as strings, datetimes RFC 3339, bytes base64."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
