"""The one line a dead flow's log gives as the cause of its death."""

from __future__ import annotations

import logging
import traceback

from lifeline.errors import FatalError
from lifeline.flows.failure import failure_cause
from lifeline.observe.logs import KeyValueFormatter

REFUSED = "Error 111 connecting to 127.0.0.1:1. Connection refused."
BYTEWAX_CHAIN = f"""\
thread '<unnamed>' panicked at src/operators.rs:198:33:
Box<dyn Any>
stack backtrace:
  33: _PyEval_Vector
             at /tmp/python-build/Python-3.11.7/Python/ceval.c:6434:24
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.

Traceback (most recent call last):
  File "/venv/bytewax/operators/__init__.py", line 2552, in <genexpr>
    return (mapper(x) for x in xs)
            ^^^^^^^^^
  File "/work/dataflows/boom.py", line 7, in f
    raise ConnectionError("{REFUSED}")
ConnectionError: {REFUSED}

The above exception was the direct cause of the following exception:

bytewax.errors.BytewaxRuntimeError: (src/operators.rs:115:28): error while iterating

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "/venv/bytewax/run.py", line 355, in <module>
    cli_main(**kwargs)
bytewax.errors.BytewaxRuntimeError: (src/operators.rs:206:80): error calling `mapper`
"""


def _chained_failure() -> BaseException:
    try:
        try:
            raise OSError(98, "Address already in use")
        except OSError as exc:
            msg = "flow skeleton: cannot serve metrics on 127.0.0.1:30749"
            raise FatalError(msg) from exc
    except FatalError as exc:
        return exc


def _logged(exc: BaseException) -> str:
    """``exc`` as a flow process logs an uncaught exception."""
    record = logging.LogRecord(
        "lifeline",
        logging.CRITICAL,
        __file__,
        1,
        "event=uncaught_exception error=%s",
        (type(exc).__name__,),
        (type(exc), exc, exc.__traceback__),
    )
    return KeyValueFormatter().format(record)


def test_the_cause_in_a_logged_uncaught_exception_is_its_last_exception() -> None:
    startup = "ts=2026-01-01T00:00:00.000+00:00 level=INFO logger=x event=starting"
    log = f"{startup}\n{_logged(_chained_failure())}\n"

    assert failure_cause(log) == (
        "FatalError: flow skeleton: cannot serve metrics on 127.0.0.1:30749"
    )


def test_a_plain_traceback_gives_its_exception_line() -> None:
    exc = _chained_failure()
    log = "".join(traceback.format_exception(exc))

    assert failure_cause(log) == (
        "FatalError: flow skeleton: cannot serve metrics on 127.0.0.1:30749"
    )


def test_bytewax_wrappers_and_rust_backtraces_are_left_out() -> None:
    assert failure_cause(BYTEWAX_CHAIN) == f"ConnectionError: {REFUSED}"


def test_an_error_record_without_traceback_gives_its_pairs() -> None:
    log = "ts=t level=ERROR logger=lifeline.flows event=redis_down host=127.0.0.1\n"

    assert failure_cause(log) == "event=redis_down host=127.0.0.1"


def test_without_an_error_the_last_line_is_the_cause() -> None:
    assert failure_cause("starting\nKilled\n\n") == "Killed"
    assert failure_cause("") == ""


def test_a_long_cause_is_cut() -> None:
    cause = failure_cause(f"ValueError: {'x' * 1000}")

    assert len(cause) == 400
    assert cause.startswith("ValueError: xxx")
    assert cause.endswith("...")


def test_a_later_plain_traceback_wins_over_an_earlier_error_record() -> None:
    log = f"{_logged(_chained_failure())}\n{BYTEWAX_CHAIN}"

    assert failure_cause(log) == f"ConnectionError: {REFUSED}"
