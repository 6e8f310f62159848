"""Masking personal data and secrets in text meant for people (logs, reasons).

Lifeline's own messages name keys, positions and kinds, never row values;
this is the last line of defence for text that comes from elsewhere: an
exception from a driver, a server's error message, a validation error that
quotes its input. It replaces

* email addresses with ``email#<first 12 hex of the SHA-256 of the trimmed,
  lower-case address>`` (the hash the cache keys emails by, so an operator
  can still find the record);
* the value after ``password``, ``passwd``, ``pwd``, ``secret``, ``token``,
  ``api_key``, ``authorization`` and ``credentials`` (``=`` or ``:``), the
  password of a URL (``scheme://user:password@host``) and the input pydantic
  quotes in its errors (``input_value=...``) with ``***``.

Names cannot be recognised in free text; they must never be put there.
"""

from __future__ import annotations

import hashlib
import re

MASK = "***"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_MASKED_NAMES = (
    r"(?:[\w.-]*[_.-])?(?:password|passwd|pwd|secret|token|api[_-]?key"
    r"|authorization|credentials|input_value)"
)
_SECRET_KEY = re.compile(rf"(?i){_MASKED_NAMES}")
_SECRET_VALUE = re.compile(
    rf"(?i)\b({_MASKED_NAMES}[\"']?\s*[=:]\s*)"
    r"((?:(?:bearer|basic|digest)\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s\"',;]+))"
)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@")


def email_tag(email: str) -> str:
    """``email#<12 hex>``: a stable, non-reversible stand-in for an address."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"email#{digest[:12]}"


def is_secret_key(key: str) -> bool:
    """True when a value under ``key`` (``password``, ``sasl.password``) is secret."""
    return _SECRET_KEY.fullmatch(key) is not None


def redact_secrets(text: str) -> str:
    """``text`` with secret values and URL passwords masked (emails kept)."""
    text = _URL_PASSWORD.sub(rf"\1{MASK}@", text)
    return _SECRET_VALUE.sub(rf"\1{MASK}", text)


def redact(text: str) -> str:
    """``text`` with emails hashed and secret values masked."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(rf"\1{MASK}@", text)
    text = _SECRET_VALUE.sub(rf"\1{MASK}", text)
    return _EMAIL.sub(lambda match: email_tag(match.group(0)), text)
