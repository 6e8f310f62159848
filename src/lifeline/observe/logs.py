"""Key=value log lines, one per record, with personal data and secrets masked.

A line reads ``ts=... level=INFO logger=lifeline.flows.runner
event=flow_started flow=golden workers=1``. Messages are written as
``"event=<what> key=%s ..."`` (or ``"<what in words> key=%s ..."``, whose
leading words become the event); each ``%``-argument is rendered as its
key's value and quoted when it holds spaces, quotes, ``=`` or line breaks,
so a value can never forge another pair or another line. Any other
message becomes ``msg="..."``. Every value, message and traceback goes
through :func:`~lifeline.observe.redact.redact` first, and the value of a
secret-named key (``password=%s``) is masked whole.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

from lifeline.observe.redact import MASK, is_secret_key, redact

_PAIR = re.compile(
    r"(?P<key>[A-Za-z_][\w.]*)=(?P<spec>%[#0\- +]*\d*(?:\.\d+)?[a-zA-Z])(?P<tail>\S*)"
)
_PERCENT = re.compile(r"%%|%")
_LEAD = re.compile(r"^[A-Za-z][\w ,.-]*?(?=\s+[A-Za-z_][\w.]*=|$)")
_LITERAL = re.compile(r"(?:[A-Za-z][\w ,.-]*)?(?:\s*[A-Za-z_][\w.]*=[^\s=\"]+)*")
_NEEDS_QUOTES = re.compile(r"[\s\"=\\]|^$")


def quote(value: str) -> str:
    """``value`` as a logfmt value: bare when safe, else a JSON string."""
    if _NEEDS_QUOTES.search(value) or not value.isprintable():
        return json.dumps(value, ensure_ascii=False)
    return value


class KeyValueFormatter(logging.Formatter):
    """Formats records as ``key=value`` lines (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        """One line: time, level, logger, the message's pairs, the exception."""
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        line = (
            f"ts={stamp} level={record.levelname} logger={record.name} {_pairs(record)}"
        )
        if record.exc_info:
            line += f" exc={quote(redact(self.formatException(record.exc_info)))}"
        return line


def _pairs(record: logging.LogRecord) -> str:
    """The message as pairs; ``msg="..."`` when it does not have that shape."""
    template = str(record.msg)
    args = record.args if isinstance(record.args, tuple) else ()
    pairs = list(_PAIR.finditer(template))
    placeholders = sum(m.group(0) == "%" for m in _PERCENT.finditer(template))
    if placeholders != len(pairs) or len(pairs) != len(args):
        return f"msg={quote(redact(record.getMessage()))}"
    if not pairs and not _LITERAL.fullmatch(template):
        return f"msg={quote(redact(template))}"
    parts: list[str] = []
    start = 0
    for match, arg in zip(pairs, args, strict=True):
        parts.append(template[start : match.start()])
        key = match.group("key")
        value = _render(match.group("spec"), arg) + match.group("tail")
        value = MASK if is_secret_key(key) else redact(value)
        parts.append(f"{key}={quote(value)}")
        start = match.end()
    parts.append(template[start:])
    return _with_event("".join(parts).strip())


def _render(spec: str, arg: Any) -> str:
    try:
        return spec % (arg,)
    except (TypeError, ValueError):
        return str(arg)


def _with_event(text: str) -> str:
    """Turn leading words (``dead letter stage=..``) into ``event=dead_letter``."""
    if text.startswith("event="):
        return text
    lead = _LEAD.match(text)
    if lead is None or not lead.group(0).strip():
        return text
    words = re.sub(r"[^\w]+", "_", lead.group(0).strip().lower()).strip("_")
    rest = text[lead.end() :].strip()
    return f"event={words} {rest}".strip()


KAFKA_LOGGER = logging.getLogger("lifeline.kafka")
"""Where the Kafka clients' own logs go (their ``logger`` setting).

librdkafka logs every failed connection attempt, several a second while a
broker is down. A flow keeps them (at WARNING); the CLI raises this logger
to CRITICAL unless ``--verbose``, since every command that reads or writes
Kafka reports a failure itself, in one line.
"""


def kafka_logging(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with the Kafka client's logs routed to :data:`KAFKA_LOGGER`."""
    return {**config, "logger": KAFKA_LOGGER}


class _KeyValueHandler(logging.StreamHandler[TextIO]):
    """The stderr handler :func:`configure_logging` installs (and replaces)."""


def configure_logging(level: str = "INFO", *, catch_uncaught: bool = False) -> None:
    """Send log records to stderr as key=value lines at ``level``.

    Idempotent: a handler installed by an earlier call is replaced, other
    handlers are left alone. ``catch_uncaught`` (for a flow process) also
    reports uncaught exceptions, in threads too, through the same formatter,
    so a crash's text is masked like any log line.
    """
    handler = _KeyValueHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _KeyValueHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    if catch_uncaught:
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_thread_uncaught


def _log_uncaught(
    kind: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> None:
    logging.getLogger("lifeline").critical(
        "event=uncaught_exception error=%s", kind.__name__, exc_info=(kind, exc, tb)
    )


def _log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    logging.getLogger("lifeline").critical(
        "event=uncaught_exception thread=%s error=%s",
        args.thread.name if args.thread is not None else "?",
        args.exc_type.__name__,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
