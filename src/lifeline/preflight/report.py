"""The outcome of a preflight: checks, their fixes, the table and the exit code.

Every check ends as ``pass``, ``warn`` (Debezium works, but something will
hurt the database or the data) or ``fail`` (Debezium cannot work, or the
database will break). A check that is not ``pass`` carries the fix: SQL that
``--fix`` may apply, or a setting that only takes effect after a restart, or
a decision a person has to make; the last two are shown and never applied.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from lifeline.table import render_table

EXIT_PASS, EXIT_WARN, EXIT_FAIL = 0, 1, 2
_FIX_INDENT = " " * 8


class Result(enum.Enum):
    """How one check came out, in rising order of severity."""

    PASS = "pass"  # noqa: S105 - a check result, not a password
    WARN = "warn"
    FAIL = "fail"


_SEVERITY = {Result.PASS: 0, Result.WARN: 1, Result.FAIL: 2}


class FixMode(enum.Enum):
    """Whether ``--fix`` may apply a fix."""

    ONLINE = "online"  # SQL that takes effect at once: applied by --fix
    RESTART = "restart"  # a server setting read at start: shown, never applied
    MANUAL = "manual"  # needs a person's judgement (e.g. dropping a slot)


@dataclass(frozen=True, slots=True)
class Fix:
    """What makes a check pass: SQL statements and/or a note on what to do."""

    statements: tuple[str, ...]
    mode: FixMode = FixMode.ONLINE
    note: str = ""

    def describe(self) -> str:
        """One line for the report: the statements, then the note."""
        prefix = "" if self.mode is FixMode.ONLINE else f"[{self.mode.value}] "
        parts = [*self.statements, *([f"-- {self.note}"] if self.note else [])]
        return prefix + " ".join(parts)


@dataclass(frozen=True, slots=True)
class Check:
    """One finding about the database; ``fix`` is None when it passed."""

    name: str
    result: Result
    finding: str
    fix: Fix | None = None


def summarise(names: Sequence[str], limit: int = 6) -> str:
    """``names`` joined by commas, the tail past ``limit`` counted, not listed."""
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def passed(name: str, finding: str) -> Check:
    """A passing check."""
    return Check(name, Result.PASS, finding)


def warned(name: str, finding: str, fix: Fix | None) -> Check:
    """A check that found something that will hurt, with its fix."""
    return Check(name, Result.WARN, finding, fix)


def failed(name: str, finding: str, fix: Fix | None) -> Check:
    """A check that found something Debezium cannot work with, with its fix."""
    return Check(name, Result.FAIL, finding, fix)


@dataclass(frozen=True, slots=True)
class Report:
    """Every check run against one database, and who was checked."""

    target: str  # user@host:port/database, never with a password
    server: str  # e.g. "PostgreSQL 15.4" or "MariaDB 10.11.6"
    checks: tuple[Check, ...]

    @property
    def worst(self) -> Result:
        """The most severe result (PASS for an empty report)."""
        return max(
            (check.result for check in self.checks),
            key=_SEVERITY.__getitem__,
            default=Result.PASS,
        )

    @property
    def exit_code(self) -> int:
        """0 when every check passed, 1 with warnings only, 2 with any failure."""
        return _SEVERITY[self.worst]

    def result_of(self, name: str) -> Result:
        """The worst result among the checks called ``name``; KeyError if none."""
        found = [check.result for check in self.checks if check.name == name]
        if not found:
            raise KeyError(name)
        return max(found, key=_SEVERITY.__getitem__)

    def fixes(self, mode: FixMode) -> list[Fix]:
        """The fixes of every non-passing check that have the given mode."""
        return [
            check.fix
            for check in self.checks
            if check.fix is not None
            and check.result is not Result.PASS
            and check.fix.mode is mode
        ]


def render_report(report: Report) -> str:
    """The report as a table, each fix on its own line under its check's row."""
    rows: Sequence[Sequence[object]] = [
        (check.result.value, check.name, check.finding) for check in report.checks
    ]
    lines = render_table(["result", "check", "finding"], rows).split("\n")
    out = [f"preflight of {report.target} ({report.server})", *lines[:2]]
    for check, line in zip(report.checks, lines[2:], strict=True):
        out.append(line)
        if check.fix is not None and check.result is not Result.PASS:
            out.append(f"{_FIX_INDENT}fix: {check.fix.describe()}")
    counts = {
        result: sum(1 for check in report.checks if check.result is result)
        for result in Result
    }
    summary = ", ".join(f"{counts[r]} {r.value}" for r in reversed(Result))
    out.append(f"{summary}: exit {report.exit_code}")
    return "\n".join(out)
