"""The HMAC signature every request carries, and how a receiver checks it.

Lifeline sends ``X-Lifeline-Timestamp: <unix seconds>`` and
``X-Lifeline-Signature: sha256=<hex>``, where hex is the HMAC-SHA256, keyed
with the target's shared secret, of ``<timestamp>.`` followed by the exact
request body bytes. Binding the timestamp lets a receiver refuse replays of
an old captured request; the Idempotency-Key makes a legitimate resend
harmless.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Lifeline-Timestamp"
SIGNATURE_HEADER = "X-Lifeline-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_SCHEME = "sha256="


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Lifeline-Signature`` header value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode() + b"." + body
    return _SCHEME + hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float,
    tolerance: float = 300.0,
) -> bool:
    """True when ``signature`` is valid for ``body`` and ``timestamp`` is fresh.

    ``timestamp`` and ``signature`` are the raw header values; a timestamp
    further than ``tolerance`` seconds from ``now`` fails. Constant-time.
    """
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    expected = sign(secret, int(timestamp), body)
    return hmac.compare_digest(expected.encode(), signature.encode())
