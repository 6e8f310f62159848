"""A first joined customer view: every source row that shares one email.

ERP customers and identity users are joined on their normalised email
(trimmed, lower case). When a row's email changes it leaves the old view and
joins the new one; a delete withdraws it; a view with no member left is
removed. This is the walking-skeleton join; identity resolution proper lives
in a later stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lifeline.decode.change import Row
from lifeline.join.latest import RowChange
from lifeline.join.shards import group_by_key_group

# (system, table) -> the column holding the email
EmailColumns = Mapping[tuple[str, str], str]


def normalise_email(value: object) -> str | None:
    """Trimmed, lower-case email; None when there is no usable address."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    return email if "@" in email else None


@dataclass(frozen=True, slots=True)
class Contribution:
    """A source row entering (``row`` set) or leaving (None) an email view."""

    email: str
    member: str  # "system:table:row id"
    row: Row | None


@dataclass(frozen=True, slots=True)
class ViewChange:
    """The members of one email view after a change (empty: view removed)."""

    email: str
    members: dict[str, Row]


def contributions(
    changes: Iterable[RowChange], columns: EmailColumns
) -> list[Contribution]:
    """What each row change adds to or withdraws from the email views."""
    out: list[Contribution] = []
    for change in changes:
        column = columns.get((change.system, change.table))
        if column is None:
            continue
        member = f"{change.system}:{change.table}:{change.row_id}"
        old = normalise_email(change.old.get(column)) if change.old else None
        new = normalise_email(change.row.get(column)) if change.row else None
        if old is not None and old != new:
            out.append(Contribution(old, member, None))
        if new is not None:
            out.append(Contribution(new, member, change.row))
    return out


def route_contributions(
    changes: list[RowChange], columns: EmailColumns
) -> list[tuple[str, list[Contribution]]]:
    """Contributions grouped by the key group of their email."""
    return group_by_key_group(contributions(changes, columns), lambda c: c.email)


def email_view_step(
    state: dict[str, dict[str, Row]] | None, batch: list[Contribution]
) -> tuple[dict[str, dict[str, Row]], list[list[ViewChange]]]:
    """Bytewax ``stateful_flat_map`` mapper over one key group's views."""
    views = state if state is not None else {}
    touched: dict[str, None] = {}
    for contribution in batch:
        members = views.setdefault(contribution.email, {})
        if contribution.row is None:
            members.pop(contribution.member, None)
        else:
            members[contribution.member] = contribution.row
        touched[contribution.email] = None
    changes = []
    for email in touched:
        members = views.get(email, {})
        if not members:
            views.pop(email, None)
        changes.append(ViewChange(email, dict(members)))
    return views, [changes] if changes else []
