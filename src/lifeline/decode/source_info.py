"""Reading Debezium's ``source`` block: the position and the snapshot marker."""

from __future__ import annotations

from typing import Any

import orjson

from lifeline.decode.position import (
    BinlogPosition,
    PostgresPosition,
    SourcePosition,
    SqlServerPosition,
)
from lifeline.errors import RecordError

SNAPSHOT_MARKERS = frozenset(
    {
        "true",
        "first",
        "first_in_data_collection",
        "last_in_data_collection",
        "last",
        "incremental",
    }
)


def position_from_source(
    connector: str, source: dict[str, Any], op: str
) -> SourcePosition:
    """The position of the change described by a ``source`` block.

    ``op`` breaks ties at one log position (see :mod:`lifeline.decode.position`).
    Raises RecordError (``missing_field``, ``bad_position``,
    ``unknown_connector``) when the block does not hold a usable position.
    """
    if connector == "postgresql":
        lsn, tx_id = source.get("lsn"), source.get("txId")
        if lsn is None and source.get("snapshot") == "incremental":
            read_at = _incremental_read_lsn(source.get("sequence"))
            return PostgresPosition(read_at, read_at, None, op)
        if type(lsn) is not int or lsn < 0:
            lsn = _required_int(source, "lsn")
        if tx_id is not None and (type(tx_id) is not int or tx_id < 0):
            tx_id = _int(source, "txId")
        commit = _last_commit_lsn(source.get("sequence"))
        return PostgresPosition(lsn, commit, tx_id, op)
    if connector in ("mysql", "mariadb"):
        return _binlog_position(source, op)
    if connector == "sqlserver":
        return _sqlserver_position(source, op)
    raise RecordError(
        "unknown_connector", f"source.connector '{connector}' is not supported"
    )


def _binlog_position(source: dict[str, Any], op: str) -> BinlogPosition:
    file = source.get("file")
    if type(file) is not str:
        raise RecordError("missing_field", "source.file is missing")
    gtid = source.get("gtid")
    return BinlogPosition(
        file,
        _required_int(source, "pos"),
        _int(source, "row") or 0,
        op,
        gtid if type(gtid) is str else None,
        _int(source, "server_id"),
    )


def _sqlserver_position(source: dict[str, Any], op: str) -> SqlServerPosition:
    commit_lsn, change_lsn = source.get("commit_lsn"), source.get("change_lsn")
    if not isinstance(commit_lsn, str):
        raise RecordError("missing_field", "source.commit_lsn is missing")
    if change_lsn is not None and not isinstance(change_lsn, str):
        raise RecordError("bad_position", "source.change_lsn is not a string")
    serial = _int(source, "event_serial_no") or 0
    return SqlServerPosition(commit_lsn, change_lsn, serial, op)


def snapshot_marker(value: Any) -> str | None:
    """``source.snapshot`` normalised: None when streaming, else the marker.

    Markers: ``true``, ``first``, ``first_in_data_collection``,
    ``last_in_data_collection``, ``last``, ``incremental``; older connectors
    wrote booleans. An unknown marker raises RecordError (``bad_field``).
    """
    if value == "false" or value is None or value is False:
        return None
    if value is True:
        return "true"
    if isinstance(value, str):
        marker = value.lower()
        if marker in SNAPSHOT_MARKERS:
            return marker
        if marker == "false":
            return None
    raise RecordError("bad_field", "source.snapshot is not a known snapshot marker")


def _int(source: dict[str, Any], name: str) -> int | None:
    value = source.get(name)
    if value is None:
        return None
    if type(value) is not int or value < 0:
        raise RecordError("bad_position", f"source.{name} is not a whole number")
    whole: int = value
    return whole


def _required_int(source: dict[str, Any], name: str) -> int:
    value = _int(source, name)
    if value is None:
        raise RecordError("missing_field", f"source.{name} is missing")
    return value


def _incremental_read_lsn(sequence: Any) -> int:
    """Where an incremental snapshot read stands in the WAL.

    Debezium's PostgreSQL connector sends such reads with ``source.lsn``
    null; ``source.sequence`` then holds the last LSN streamed when the chunk
    was read (its second element, or its first), which serves as both the
    commit and the change LSN. A change streamed after the read has a higher
    LSN and so stays newer than the read. With no LSN at
    all the read takes position 0: it fills a row never seen and never
    overwrites one that was.
    """
    if sequence is None:
        return 0
    try:
        parts = orjson.loads(sequence) if isinstance(sequence, str) else None
    except orjson.JSONDecodeError:
        parts = None
    if not isinstance(parts, list) or len(parts) != 2:
        raise RecordError("bad_position", "source.sequence is not a pair of LSNs")
    for part in reversed(parts):
        if part is None:
            continue
        try:
            lsn = int(part)
        except (TypeError, ValueError) as exc:
            msg = "source.sequence holds a non-LSN"
            raise RecordError("bad_position", msg) from exc
        if lsn < 0:
            raise RecordError("bad_position", "source.sequence holds a negative LSN")
        return lsn
    return 0


def _last_commit_lsn(sequence: Any) -> int | None:
    """The first element of PostgreSQL's ``source.sequence`` (a JSON text).

    The text is ``["<lsn>","<lsn>"]`` or ``[null,"<lsn>"]``; those two shapes
    are read directly, anything else through the JSON parser.
    """
    if sequence is None:
        return None
    if type(sequence) is str:
        if sequence.startswith("[null,"):
            return None
        end = sequence.find('"', 2)
        digits = sequence[2:end]
        if sequence.startswith('["') and digits.isdigit() and digits.isascii():
            return int(digits)
    return _parsed_commit_lsn(sequence)


def _parsed_commit_lsn(sequence: Any) -> int | None:
    try:
        parts = orjson.loads(sequence) if isinstance(sequence, str) else None
    except orjson.JSONDecodeError:
        parts = None
    if not isinstance(parts, list) or len(parts) != 2:
        raise RecordError("bad_position", "source.sequence is not a pair of LSNs")
    first = parts[0]
    if first is None:
        return None
    try:
        commit = int(first)
    except (TypeError, ValueError) as exc:
        raise RecordError("bad_position", "source.sequence holds a non-LSN") from exc
    if commit < 0:
        raise RecordError("bad_position", "source.sequence holds a negative LSN")
    return commit
