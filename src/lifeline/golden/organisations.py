"""The golden ``organisations`` field: a source derived by a join.

``config/ownership.yaml`` lists it as the source ``identity.user_organisations``:
not a captured table but the organisation entries the golden flow joins to
each identity user (:mod:`lifeline.join.organisations`), carried by the
user's :class:`~lifeline.join.clusters.Member`. A golden record takes the
entries of all its members of one system together, by org id then user id,
at the newest of those members' positions. No entries leave the field null.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lifeline.decode.change import Row
from lifeline.golden.ownership import Conflict, FieldSources, OwnershipRules
from lifeline.join.clusters import Member

JOINED_TABLE: Final = "user_organisations"
"""The table name the join's rows have in the ownership file's ``sources``."""

JOINED_COLUMN: Final = "organisations"
"""The column of the joined row that holds the entries."""


def fold_organisations(
    rules: OwnershipRules,
    sources: FieldSources,
    members: Iterable[Member],
    changed: set[str],
    conflicts: list[Conflict],
) -> None:
    """Fold the members' organisation entries into ``sources``, per system.

    Conflicts go to ``conflicts`` when a member in ``changed`` contributed.
    """
    joined: dict[str, tuple[str, list[Row], bool]] = {}
    for member in members:
        if not member.organisations:
            continue
        position, entries, touched = joined.get(member.system, ("", [], False))
        joined[member.system] = (
            max(position, member.position.encode()),
            [*entries, *member.organisations],
            touched or member.ref in changed,
        )
    for system, (position, entries, touched) in joined.items():
        row = {JOINED_COLUMN: tuple(sorted(entries, key=_entry_order))}
        values = rules.candidates(system, JOINED_TABLE, row)
        if values:
            found = conflicts if touched else None
            rules.fold(sources, system, position, values, found)


def _entry_order(entry: Row) -> tuple[str, str]:
    return str(entry.get("org_id")), str(entry.get("user_id"))
