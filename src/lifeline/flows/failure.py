"""What a dead flow's log says killed it, as one readable line.

A flow process logs an uncaught exception as one key=value line whose
``exc`` value is the whole traceback, JSON-quoted (``lifeline.observe.logs``);
an error raised before logging is set up, or by Bytewax's runtime, is a plain
Python traceback, perhaps after a Rust backtrace. In both the cause is the
last exception line of the chain, leaving out Bytewax's wrappers (``(src/
operators.rs:..): error calling ...``), which only say where it was caught.
"""

from __future__ import annotations

import json
import re

# An exception line of a traceback: ``pkg.mod.SomeError: message``.
_EXCEPTION = re.compile(r"^(?:[a-z_]\w*\.)*(?P<line>[A-Z]\w*(?::\s.*)?)$")
_BYTEWAX_WRAPPER = re.compile(r"^BytewaxRuntimeError: \(src/\S+\)")
_ERROR_RECORD = re.compile(r"\blevel=(?:ERROR|CRITICAL) logger=\S+ (?P<pairs>.*)$")
_EXC_PAIR = ' exc="'
_MAX_CHARS = 400


def failure_cause(log: str) -> str:
    """The last meaningful error line of ``log``; "" when the log is empty."""
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    wrapper = ""
    for line in reversed(lines):
        if (record := _ERROR_RECORD.search(line)) is not None:
            return _shorten(_record_cause(record.group("pairs")))
        if (exception := _exception_line(line)) is None:
            continue
        if not _BYTEWAX_WRAPPER.match(exception):
            return _shorten(exception)
        wrapper = wrapper or exception
    return _shorten(wrapper or (lines[-1].strip() if lines else ""))


def _record_cause(pairs: str) -> str:
    """The cause in an ERROR record: its traceback's, else its own pairs."""
    start = pairs.find(_EXC_PAIR)
    if start < 0:
        return pairs
    try:
        traceback, _ = json.JSONDecoder().raw_decode(pairs, start + len(_EXC_PAIR) - 1)
    except json.JSONDecodeError:
        return pairs[:start]
    return _traceback_cause(str(traceback)) or pairs[:start]


def _traceback_cause(text: str) -> str:
    """The last exception line of a traceback chain that is not a wrapper."""
    found = [
        exception
        for line in text.splitlines()
        if (exception := _exception_line(line.rstrip())) is not None
    ]
    causes = [line for line in found if not _BYTEWAX_WRAPPER.match(line)]
    return (causes or found or [""])[-1]


def _exception_line(line: str) -> str | None:
    """``SomeError: message`` when ``line`` is a traceback's exception line."""
    match = _EXCEPTION.match(line)
    return None if match is None else match.group("line")


def _shorten(line: str) -> str:
    if len(line) <= _MAX_CHARS:
        return line
    return line[: _MAX_CHARS - 3] + "..."
