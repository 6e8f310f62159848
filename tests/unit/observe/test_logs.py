"""Key=value log lines with personal data and secrets masked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, ValidationError

from lifeline.observe.logs import KeyValueFormatter, configure_logging, quote
from lifeline.observe.redact import email_tag, redact


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(KeyValueFormatter())
    logger = logging.getLogger("lifeline.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def body(out: io.StringIO) -> str:
    """The last line without its time, level and logger."""
    line = out.getvalue().splitlines()[-1]
    assert line.startswith("ts=")
    return line.split(" logger=lifeline.test.logs ", 1)[1]


def test_leading_words_become_the_event(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    logger.info("flow started flow=%s pid=%d workers=%d", "golden", 42, 1)
    assert body(out) == "event=flow_started flow=golden pid=42 workers=1"
    logger.info("event=flow_started flow=%s", "skeleton")
    assert body(out) == "event=flow_started flow=skeleton"


def test_values_are_quoted_so_they_cannot_forge_pairs_or_lines(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    logger.warning("bad thing what=%s wait=%.1fs", "a b\nevent=fake x=1", 0.25)
    assert len(out.getvalue().splitlines()) == 1
    assert body(out) == 'event=bad_thing what="a b\\nevent=fake x=1" wait=0.2s'


def test_other_messages_become_msg(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = log
    logger.info("Starting new HTTP connection (%d): %s", 1, "127.0.0.1:8083")
    assert body(out) == 'msg="Starting new HTTP connection (1): 127.0.0.1:8083"'


def test_emails_and_secrets_never_reach_the_line(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    logger.warning("party rejected ref=%s reason=%s", "erp:C-1", "Jane@Example.com")
    logger.info("connect dsn=%s password=%s", "host=db password=hunter2", "s3cret")
    logger.info("redis url=%s", "redis://lifeline:hunter2@cache:6379/0")
    logger.info("call header=%s", "Authorization: Bearer tok-123")
    text = out.getvalue()
    for secret in ("Jane@Example.com", "hunter2", "s3cret", "tok-123"):
        assert secret not in text
    assert email_tag("jane@example.com") in text
    assert "password=***" in text


def test_exceptions_are_one_masked_line(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    class Person(BaseModel):
        age: int

    logger, out = log
    try:
        Person.model_validate({"age": "mia@example.org"})
    except ValidationError:
        logger.exception("step failed step=%s", "golden")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert "event=step_failed step=golden exc=" in lines[0]
    assert "mia@example.org" not in lines[0]
    assert "ValidationError" in lines[0]


def test_redact_keeps_ordinary_text() -> None:
    text = "assign topic=erp.erp.customers partition=0 offset=41 tokens=3"
    assert redact(text) == text


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("plain", "plain"), ("", '""'), ("a=b", '"a=b"'), ('say "hi"', '"say \\"hi\\""')],
)
def test_quote(value: str, quoted: str) -> None:
    assert quote(value) == quoted


def test_configure_logging_replaces_only_its_own_handler() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    other = logging.NullHandler()
    root.addHandler(other)
    try:
        configure_logging("INFO")
        configure_logging("DEBUG")
        ours = [h for h in root.handlers if isinstance(h.formatter, KeyValueFormatter)]
        assert len(ours) == 1
        assert other in root.handlers
        assert root.level == logging.DEBUG
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
