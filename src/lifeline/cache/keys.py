"""The Redis key layout of the golden-record cache (documented in docs/cache.md).

Every key starts with a configurable prefix (``ll`` by default). The Lua
script in :mod:`lifeline.cache.script` builds the same keys from the same
segments; a test checks that both agree.

Golden ids must not contain ``:`` or whitespace, so that a key of one golden
id can never be a key of another under a longer layout. Source ids are
``<system>:<id>``; the system has no ``:`` and neither part is empty.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

DEFAULT_PREFIX = "ll"

_EMAIL_HASH = re.compile(r"[0-9a-f]{64}")
_GOLDEN_ID = re.compile(r"[^:\s]+")
_SOURCE_ID = re.compile(r"[^:\s]+:.+", re.DOTALL)


def email_hash(email: str) -> str:
    """SHA-256 hex of the trimmed, lower-cased email: how emails are keyed."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def is_golden_id(text: str) -> bool:
    """Tell whether ``text`` is usable as a golden id (non-empty, no ``:``)."""
    return _GOLDEN_ID.fullmatch(text) is not None


def is_source_id(text: str) -> bool:
    """Tell whether ``text`` has the ``<system>:<id>`` shape."""
    return _SOURCE_ID.fullmatch(text) is not None


def is_email_hash(text: str) -> bool:
    """Tell whether ``text`` is a lower-case SHA-256 hex digest."""
    return _EMAIL_HASH.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class CacheKeys:
    """Builds every key of the layout under one prefix."""

    prefix: str = DEFAULT_PREFIX

    def golden(self, golden_id: str) -> str:
        """Hash of the golden record and its parts: ``<p>:golden:<gid>``."""
        return f"{self.prefix}:golden:{golden_id}"

    def source_index(self, source_id: str) -> str:
        """String holding the golden id of a source id: ``<p>:idx:src:<sys>:<id>``."""
        return f"{self.prefix}:idx:src:{source_id}"

    def email_index(self, hashed_email: str) -> str:
        """Set of the golden ids sharing an email: ``<p>:idx:email:<sha256>``."""
        return f"{self.prefix}:idx:email:{hashed_email}"

    def tombstone(self, golden_id: str) -> str:
        """String holding a deleted record's version: ``<p>:tomb:<gid>``."""
        return f"{self.prefix}:tomb:{golden_id}"

    def redirect(self, golden_id: str) -> str:
        """JSON ``{"survivor", "version"}`` of a merged id: ``<p>:merged:<gid>``."""
        return f"{self.prefix}:merged:{golden_id}"
