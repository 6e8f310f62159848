"""The Redis sink's version guard, against the session's real Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from lifeline.decode.position import MYSQL, SourcePosition
from lifeline.emit.redis_sink import RedisCacheSink
from lifeline.join.latest import RowChange
from lifeline.live import read_rows
from lifeline.settings import Settings

pytestmark = pytest.mark.stack


def change(row_id: str, pos: int, version: int | None) -> RowChange:
    row = None if version is None else {"id": row_id, "version": version}
    return RowChange(
        "erp", "customers", row_id, None, row, SourcePosition(MYSQL, (1, pos, 0)), 0
    )


def test_replayed_and_older_writes_never_regress_a_row(
    stack_settings: Settings,
) -> None:
    prefix = f"guard{uuid.uuid4().hex[:8]}"
    sink = RedisCacheSink(stack_settings.redis, prefix)
    part = sink.build("cache_out", 0, 1)
    client = redis.Redis(**stack_settings.redis.client_kwargs())
    key = f"{prefix}:row:erp:customers:1"

    part.write_batch([[change("1", 300, 3)]])
    part.write_batch([[change("1", 100, 1), change("1", 200, 2), change("1", 300, 3)]])
    (cached,) = read_rows(client, [key])
    assert cached is not None
    assert cached["row"]["version"] == 3

    part.write_batch([[change("1", 400, None)]])  # delete
    part.write_batch([[change("1", 350, 35)]])  # older than the delete
    assert read_rows(client, [key]) == [None]
    assert client.get(f"{prefix}:gone:erp:customers:1") is not None

    part.write_batch([[change("1", 500, 5)]])  # re-created later
    (cached,) = read_rows(client, [key])
    assert cached is not None
    assert cached["row"]["version"] == 5
    assert client.get(f"{prefix}:gone:erp:customers:1") is None
    part.close()
