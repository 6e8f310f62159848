"""Parties: source rows of customer-like tables turned into resolver records.

A *party* is one source system's notion of a customer: an ERP customer, an
identity user. Its resolver record takes its fields from the party's row and
its links (``system:id`` claims such as ``erp:C-1042``) from link rows in
other tables (identity's ``external_ids``). This step keeps, per party, the
current row and links, and emits a :class:`PartyChange` whenever either
changes, so the resolver always sees whole records. It also keeps each
party's organisation entries (:mod:`lifeline.join.organisations`) and emits
the party again when one changes, for the golden record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from lifeline.decode.change import Row
from lifeline.decode.position import SourcePosition
from lifeline.delta_dict import DeltaDict
from lifeline.errors import RecordError
from lifeline.join.cause import Cause
from lifeline.join.latest import RowChange
from lifeline.join.shards import group_by_key_group
from lifeline.resolve import RecordChange, RecordDelete, SourceRecord
from lifeline.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PartyTable:
    """How the rows of one table become resolver records."""

    system: str
    table: str
    id_column: str  # the party's id within its system, e.g. customer_no
    fields: Mapping[str, str]  # resolver field -> column


@dataclass(frozen=True, slots=True)
class LinkTable:
    """A table whose rows make a party claim an id in another system."""

    system: str
    table: str
    party_table: str  # the table of the parties that make the claims
    party_column: str  # the party's id column in this table
    target_system_column: str
    target_id_column: str


@dataclass(frozen=True, slots=True)
class PartyModel:
    """Every party and link table of the source systems."""

    parties: tuple[PartyTable, ...]
    links: tuple[LinkTable, ...]


def sample_party_model(settings: Settings) -> PartyModel:
    """The party model of the sample ERP and identity schemas."""
    erp, identity = settings.topics.erp_prefix, settings.topics.identity_prefix
    customers = PartyTable(
        erp,
        "customers",
        "customer_no",
        {
            "name": "legal_name",
            "tax_id": "tax_id",
            "email": "email",
            "phone": "phone",
            "street": "billing_street",
            "city": "billing_city",
            "postal_code": "billing_postal_code",
            "country": "billing_country",
        },
    )
    users = PartyTable(
        identity,
        "users",
        "id",
        {
            "first_name": "given_name",
            "last_name": "family_name",
            "email": "email",
            "phone": "phone",
        },
    )
    external_ids = LinkTable(
        identity, "external_ids", "users", "user_id", "system", "external_id"
    )
    return PartyModel((customers, users), (external_ids,))


class PartyChange(NamedTuple):
    """A resolver change plus the party's row, for the golden record.

    ``organisations`` are the party's organisation entries, by org id.
    ``causes`` name the source rows behind the change when a link,
    organisation or membership change is among them; empty: the party's
    own row at ``position`` is the only cause.
    """

    change: RecordChange
    table: str
    row: Row | None
    position: SourcePosition
    ts_ms: int
    organisations: tuple[Row, ...] = ()
    causes: tuple[Cause, ...] = ()


class PartyPiece(NamedTuple):
    """What one row change says about one party (routed by the party's ref).

    ``org`` and ``unorg`` set and withdraw an organisation entry (``row``),
    keyed by its org id in ``link_key``. ``cause`` names the row that
    changed when it is not the party's own: the link row behind ``link``
    and ``unlink``, the organisation or membership row behind ``org`` and
    ``unorg``. None: the piece's own change is the party's row.
    """

    ref: str
    table: str  # the party's own table
    kind: str  # "row" | "link" | "unlink" | "gone" | "org" | "unorg"
    row: Row | None
    link: str
    link_key: str
    position: SourcePosition
    ts_ms: int
    cause: Cause | None = None


@dataclass(slots=True)
class PartyState:
    """Rows, links and organisation entries of the parties in one key group.

    A party's entries (org id -> entry) are replaced, never changed in place.
    """

    rows: DeltaDict[str, Row] = field(default_factory=DeltaDict)
    links: dict[str, dict[str, str]] = field(default_factory=dict)
    organisations: DeltaDict[str, Mapping[str, Row]] = field(default_factory=DeltaDict)


def route_parties(
    changes: Iterable[RowChange], model: PartyModel
) -> list[tuple[str, list[PartyPiece]]]:
    """Party pieces of ``changes``, grouped by the key group of their ref."""
    tables = {(p.system, p.table): p for p in model.parties}
    links = {(lt.system, lt.table): lt for lt in model.links}
    pieces: list[PartyPiece] = []
    for change in changes:
        key = (change.system, change.table)
        if key in tables:
            pieces.extend(_party_pieces(change, tables[key]))
        elif key in links:
            pieces.extend(_link_pieces(change, links[key]))
    return group_by_key_group(pieces, lambda piece: piece.ref)


def _party_pieces(change: RowChange, table: PartyTable) -> list[PartyPiece]:
    def ref(row: Row | None) -> str | None:
        value = None if row is None else row.get(table.id_column)
        return None if value in (None, "") else f"{table.system}:{value}"

    old, new = ref(change.old), ref(change.row)
    out = []
    if old is not None and old != new:
        out.append(
            PartyPiece(
                old, table.table, "gone", None, "", "", change.position, change.ts_ms
            )
        )
    if new is not None:
        out.append(
            PartyPiece(
                new,
                table.table,
                "row",
                change.row,
                "",
                "",
                change.position,
                change.ts_ms,
            )
        )
    return out


def _link_pieces(change: RowChange, table: LinkTable) -> list[PartyPiece]:
    def claim(row: Row | None) -> tuple[str, str] | None:
        if row is None or row.get(table.party_column) in (None, ""):
            return None
        target = (
            f"{row.get(table.target_system_column)}:{row.get(table.target_id_column)}"
        )
        return f"{table.system}:{row[table.party_column]}", target

    link_key = f"{change.table}:{change.row_id}"
    old, new = claim(change.old), claim(change.row)
    cause = Cause.of(change)
    out = []
    if old is not None and old != new:
        out.append(
            PartyPiece(
                old[0],
                table.party_table,
                "unlink",
                None,
                old[1],
                link_key,
                change.position,
                change.ts_ms,
                cause,
            )
        )
    if new is not None:
        out.append(
            PartyPiece(
                new[0],
                table.party_table,
                "link",
                None,
                new[1],
                link_key,
                change.position,
                change.ts_ms,
                cause,
            )
        )
    return out


def party_step(
    model: PartyModel,
) -> Callable[
    [PartyState | None, list[PartyPiece]], tuple[PartyState, list[list[PartyChange]]]
]:
    """A Bytewax ``stateful_flat_map`` mapper: pieces in, whole records out."""
    columns = {table.system: table.fields for table in model.parties}

    def step(
        state: PartyState | None, pieces: list[PartyPiece]
    ) -> tuple[PartyState, list[list[PartyChange]]]:
        parties = state if state is not None else PartyState()
        touched: dict[str, PartyPiece] = {}
        gone: set[str] = set()  # a later link or entry must not hide a delete
        causes = _Causes()
        for piece in pieces:
            if _apply_piece(parties, piece):
                touched[piece.ref] = piece
                causes.add(piece)
                if piece.kind == "gone":
                    gone.add(piece.ref)
        changes = []
        for ref, last in touched.items():
            change = _party_change(parties, ref, last, columns, ref in gone)
            if change is not None:
                changes.append(change._replace(causes=causes.of(ref)))
        return parties, [changes] if changes else []

    return step


class _Causes:
    """The causes of each party's change in one batch (see PartyChange)."""

    def __init__(self) -> None:
        self._own: dict[str, PartyPiece] = {}  # the last piece without a cause
        self._joined: dict[str, dict[Cause, None]] = {}  # ordered sets

    def add(self, piece: PartyPiece) -> None:
        if piece.cause is None:
            self._own[piece.ref] = piece
        else:
            self._joined.setdefault(piece.ref, {})[piece.cause] = None

    def of(self, ref: str) -> tuple[Cause, ...]:
        joined = self._joined.get(ref)
        if not joined:
            return ()
        own = self._own.get(ref)
        if own is None:
            return tuple(joined)
        system = ref.partition(":")[0]
        mine = Cause(ref, system, own.table, own.position, own.ts_ms)
        return (mine, *joined)


def _apply_piece(parties: PartyState, piece: PartyPiece) -> bool:
    """Apply ``piece``; False when it changed nothing the party emits."""
    if piece.kind in ("org", "unorg"):
        return _apply_organisation(parties, piece)
    if piece.kind == "row" and piece.row is not None:
        parties.rows[piece.ref] = piece.row
    elif piece.kind == "gone":
        parties.rows.pop(piece.ref, None)
    elif piece.kind == "link":
        parties.links.setdefault(piece.ref, {})[piece.link_key] = piece.link
    else:
        parties.links.get(piece.ref, {}).pop(piece.link_key, None)
    return True


def _apply_organisation(parties: PartyState, piece: PartyPiece) -> bool:
    entries = parties.organisations.get(piece.ref, {})
    if entries.get(piece.link_key) == piece.row:
        return False  # an update of columns the entry does not carry
    changed = {k: v for k, v in entries.items() if k != piece.link_key}
    if piece.row is not None:
        changed[piece.link_key] = piece.row
    if changed:
        parties.organisations[piece.ref] = changed
    else:
        parties.organisations.pop(piece.ref, None)
    return True


def _party_change(
    parties: PartyState,
    ref: str,
    last: PartyPiece,
    columns: Mapping[str, Mapping[str, str]],
    gone: bool,
) -> PartyChange | None:
    system, _, party_id = ref.partition(":")
    row = parties.rows.get(ref)
    if row is None:
        if not gone:
            return None  # links and entries of a party not seen yet wait for it
        delete = RecordDelete(system, party_id)
        return PartyChange(delete, last.table, None, last.position, last.ts_ms)
    fields: dict[str, object] = {
        name: str(row[column])
        for name, column in columns.get(system, {}).items()
        if row.get(column) not in (None, "")
    }
    links = parties.links.get(ref)
    if links:
        fields["links"] = sorted(set(links.values()))
    try:
        record = SourceRecord.from_fields(system, party_id, fields)
    except RecordError as exc:
        logger.warning("party rejected ref=%s kind=%s reason=%s", ref, exc.kind, exc)
        return None
    entries = parties.organisations.get(ref, {})
    organisations = tuple(entries[org_id] for org_id in sorted(entries))
    return PartyChange(
        record, last.table, row, last.position, last.ts_ms, organisations
    )
