"""Audit trail: every golden-record change with the causes and rules behind it.

The golden step builds one :class:`AuditEntry` per change (:mod:`.build`),
the golden flow appends them to the audit topic
(:mod:`lifeline.emit.audit_sink`), and ``lifeline audit`` reads a record's
lineage back (:mod:`.reader`, :mod:`.timeline`). Entries hold ids, rule
names and value digests, never field values. See ``docs/golden-record.md``.
"""

from lifeline.audit.entry import (
    SCHEMA_VERSION,
    AuditDecodeError,
    AuditEntry,
    FieldDecision,
    MatchDecision,
    SourceChange,
    decode_entry,
    derive_audit_id,
    encode_entry,
    value_digest,
)

__all__ = [
    "SCHEMA_VERSION",
    "AuditDecodeError",
    "AuditEntry",
    "FieldDecision",
    "MatchDecision",
    "SourceChange",
    "decode_entry",
    "derive_audit_id",
    "encode_entry",
    "value_digest",
]
