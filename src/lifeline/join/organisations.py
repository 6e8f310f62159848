"""Organisations: identity users' memberships joined with their organisations.

An organisation's members live in any key group of the parties step, so the
join runs keyed by organisation: this step keeps, per organisation, its row
and its memberships, and turns a change of either into *entries*, one per
member it concerns (the organisation's fields and the member's role). Each
entry goes, as a :class:`~lifeline.join.parties.PartyPiece`, to the key group
of the member's party, which keeps its entries and emits the party again.

Retraction: a membership deleted, or its organisation deleted, withdraws that
member's entry. A membership seen before its organisation's row gives an
entry with the org id and role only; the row fills it in when it arrives, as
it does for every member after an organisation's update. Changes reach this
step deduplicated and in source order per row (:mod:`lifeline.join.latest`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from lifeline.decode.change import Row
from lifeline.delta_dict import DeltaDict
from lifeline.join.cause import Cause
from lifeline.join.latest import RowChange
from lifeline.join.parties import PartyPiece
from lifeline.join.shards import group_by_key_group
from lifeline.settings import Settings

MembershipKey = tuple[str, str]  # (org id, user id)

ROLE = "role"
"""The key a membership piece's row carries the member's role under."""


@dataclass(frozen=True, slots=True)
class OrganisationJoin:
    """Where the organisation join reads its rows, and what an entry holds."""

    system: str
    organisations: str  # the organisations' table
    id_column: str
    fields: Mapping[str, str]  # entry field -> organisation column
    memberships: str  # the memberships' table
    user_column: str
    org_column: str
    role_column: str
    party_table: str  # the members' party table


def sample_organisation_join(settings: Settings) -> OrganisationJoin:
    """The organisation join of the sample identity schema."""
    return OrganisationJoin(
        system=settings.topics.identity_prefix,
        organisations="organisations",
        id_column="id",
        fields={
            "name": "name",
            "domain": "domain",
            "tax_id": "tax_id",
            "country": "country",
        },
        memberships="memberships",
        user_column="user_id",
        org_column="org_id",
        role_column="role",
        party_table="users",
    )


class OrganisationPiece(NamedTuple):
    """What one row change says about one organisation (routed by its id).

    ``user_id`` is empty for the organisation's own row; ``row`` is None
    when the row was deleted. ``cause`` names the organisations or
    memberships row that changed, at its position and commit time.
    """

    org_id: str
    user_id: str
    row: Row | None
    cause: Cause


@dataclass(slots=True)
class OrganisationState:
    """The organisations and memberships of one key group.

    ``organisations`` holds None for an organisation deleted while members
    were left. The members of each organisation are derived from
    ``roles`` and rebuilt, not pickled, when a snapshot is restored.
    """

    organisations: DeltaDict[str, Row | None] = field(default_factory=DeltaDict)
    roles: DeltaDict[MembershipKey, str | None] = field(default_factory=DeltaDict)
    members: dict[str, set[str]] = field(default_factory=dict)

    def __getstate__(self) -> tuple[Any, ...]:
        return self.organisations, self.roles

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.organisations, self.roles = state
        self.members = {}
        for org_id, user_id in self.roles:
            self.members.setdefault(org_id, set()).add(user_id)

    def apply(self, piece: OrganisationPiece) -> list[MembershipKey]:
        """Apply ``piece``; return the memberships whose entry it may change."""
        org_id, user_id = piece.org_id, piece.user_id
        if user_id:
            key = (org_id, user_id)
            if piece.row is None:
                self.roles.pop(key, None)
                self._leave(org_id, user_id)
            else:
                self.roles[key] = _text(piece.row.get(ROLE))
                self.members.setdefault(org_id, set()).add(user_id)
            return [key]
        members = self.members.get(org_id)
        if piece.row is not None:
            self.organisations[org_id] = piece.row
        elif members:
            self.organisations[org_id] = None  # members wait for a new row
        else:
            self.organisations.pop(org_id, None)
        return [(org_id, user) for user in sorted(members or ())]

    def _leave(self, org_id: str, user_id: str) -> None:
        members = self.members.get(org_id, set())
        members.discard(user_id)
        if not members:
            self.members.pop(org_id, None)
            if org_id in self.organisations and self.organisations[org_id] is None:
                del self.organisations[org_id]  # deleted, and no member waits

    def entry(self, join: OrganisationJoin, key: MembershipKey) -> Row | None:
        """The entry of membership ``key``; None: it has none (withdrawn)."""
        org_id, user_id = key
        if key not in self.roles:
            return None
        row = self.organisations.get(org_id, {})
        if row is None:
            return None  # the organisation was deleted
        entry: dict[str, Any] = {"org_id": org_id, "user_id": user_id}
        entry["role"] = self.roles[key]
        for name, column in join.fields.items():
            entry[name] = _text(row.get(column))
        return entry


def route_organisations(
    changes: Iterable[RowChange], join: OrganisationJoin
) -> list[tuple[str, list[OrganisationPiece]]]:
    """Organisation pieces of ``changes``, grouped by their org id's key group."""
    pieces: list[OrganisationPiece] = []
    for change in changes:
        if change.system != join.system:
            continue
        if change.table == join.organisations:
            pieces.extend(_organisation_pieces(change, join))
        elif change.table == join.memberships:
            pieces.extend(_membership_pieces(change, join))
    return group_by_key_group(pieces, lambda piece: piece.org_id)


def _organisation_pieces(
    change: RowChange, join: OrganisationJoin
) -> list[OrganisationPiece]:
    def org_id(row: Row | None) -> str | None:
        return None if row is None else _text(row.get(join.id_column))

    old, new = org_id(change.old), org_id(change.row)
    cause = Cause.of(change)
    out = []
    if old is not None and old != new:
        out.append(OrganisationPiece(old, "", None, cause))
    if new is not None:
        out.append(OrganisationPiece(new, "", change.row, cause))
    return out


def _membership_pieces(
    change: RowChange, join: OrganisationJoin
) -> list[OrganisationPiece]:
    def key(row: Row | None) -> MembershipKey | None:
        if row is None:
            return None
        org_id, user_id = (
            _text(row.get(join.org_column)),
            _text(row.get(join.user_column)),
        )
        return None if org_id is None or user_id is None else (org_id, user_id)

    old, new = key(change.old), key(change.row)
    cause = Cause.of(change)
    out = []
    if old is not None and old != new:
        out.append(OrganisationPiece(*old, None, cause))
    if new is not None and change.row is not None:
        role = {ROLE: change.row.get(join.role_column)}
        out.append(OrganisationPiece(*new, role, cause))
    return out


def organisation_step(
    join: OrganisationJoin,
) -> Callable[
    [OrganisationState | None, list[OrganisationPiece]],
    tuple[OrganisationState, list[list[tuple[str, list[PartyPiece]]]]],
]:
    """A Bytewax ``stateful_flat_map`` mapper: pieces in, members' entries out.

    Emits, per batch, the party pieces grouped by their party's key group
    (one per membership the batch touched, caused by the newest change that
    touched it): ``org`` with the entry, or ``unorg`` to withdraw it.
    """

    def step(
        state: OrganisationState | None, pieces: list[OrganisationPiece]
    ) -> tuple[OrganisationState, list[list[tuple[str, list[PartyPiece]]]]]:
        orgs = state if state is not None else OrganisationState()
        touched: dict[MembershipKey, OrganisationPiece] = {}
        for piece in pieces:
            for key in orgs.apply(piece):
                last = touched.get(key)
                if last is None or last.cause.position < piece.cause.position:
                    touched[key] = piece
        out = [
            _party_piece(join, key, orgs.entry(join, key), last)
            for key, last in touched.items()
        ]
        grouped = group_by_key_group(out, lambda piece: piece.ref)
        return orgs, [grouped] if grouped else []

    return step


def _party_piece(
    join: OrganisationJoin,
    key: MembershipKey,
    entry: Row | None,
    last: OrganisationPiece,
) -> PartyPiece:
    org_id, user_id = key
    return PartyPiece(
        ref=f"{join.system}:{user_id}",
        table=join.party_table,
        kind="unorg" if entry is None else "org",
        row=entry,
        link="",
        link_key=org_id,
        position=last.cause.position,
        ts_ms=last.cause.ts_ms,
        cause=last.cause,
    )


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
