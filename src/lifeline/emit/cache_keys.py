"""The Redis key layout of the lookup cache (documented in the README)."""

from __future__ import annotations

from lifeline.cache.keys import email_hash


def row_key(prefix: str, system: str, table: str, row_id: str) -> str:
    """Key of one source row: ``<prefix>:row:<system>:<table>:<row id>``."""
    return f"{prefix}:row:{system}:{table}:{row_id}"


def row_tombstone_key(prefix: str, system: str, table: str, row_id: str) -> str:
    """Key remembering a deleted row's position: ``<prefix>:gone:...``."""
    return f"{prefix}:gone:{system}:{table}:{row_id}"


def email_view_key(prefix: str, email: str) -> str:
    """Key of the customer view of an email: ``<prefix>:email:<sha256>``."""
    return f"{prefix}:email:{email_hash(email)}"
