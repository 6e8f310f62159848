"""Masking of personal data in reconciliation examples.

Examples show ids in full (source ids, golden ids) but every field value
masked: an email keeps the first letter of its local part and of its domain
and the top-level domain (``jane.doe@example.com`` -> ``j***@e***.com``),
any other value its first character (``Jane`` -> ``J***``). Enough to tell
which value an operator is looking at in the source, not enough to read it.
"""

from __future__ import annotations

from typing import Any

HIDDEN = "***"


def mask(value: Any) -> Any:
    """The value as an example may show it (None and booleans as they are)."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value)
    if not text.strip():
        return text  # empty or blank: nothing personal, and worth seeing
    if "@" in text:
        return mask_email(text)
    return _head(text)


def mask_email(text: str) -> str:
    """``jane.doe@example.com`` -> ``j***@e***.com``."""
    local, _, domain = text.strip().rpartition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        return f"{_head(local)}@{_head(domain)}"
    return f"{_head(local)}@{_head(name)}.{tld}"


def _head(text: str) -> str:
    return text.strip()[:1] + HIDDEN
