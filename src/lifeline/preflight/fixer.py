"""``--fix``: apply a report's online fixes, one shown statement at a time.

Only fixes of mode ONLINE are ever run. Fixes that need a restart, and those
that need a person's judgement (such as dropping a replication slot), are
printed and left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from lifeline.preflight.report import FixMode, Report

Execute = Callable[[str], None]
Confirm = Callable[[str], bool]


def apply_fixes(
    report: Report, execute: Execute, confirm: Confirm, out: TextIO, runs_as: str
) -> int:
    """Show each online fix statement, ask ``confirm``, run it with ``execute``.

    ``execute`` raises (a LifelineError) on the first statement that fails,
    which stops the run: later statements may depend on it. Returns how many
    statements ran. Restart and manual fixes are listed, never run.
    """
    statements = [s for fix in report.fixes(FixMode.ONLINE) for s in fix.statements]
    applied = 0
    if statements:
        out.write(f"fixes, run as {runs_as}:\n")
    else:
        out.write("nothing that --fix may apply\n")
    for statement in statements:
        out.write(f"  {statement}\n")
        out.flush()
        if not confirm(statement):
            out.write("    skipped\n")
            continue
        execute(statement)
        applied += 1
        out.write("    applied\n")
    _list(out, report, FixMode.RESTART, "not applied, take effect after a restart:")
    _list(out, report, FixMode.MANUAL, "not applied, need a decision:")
    return applied


def _list(out: TextIO, report: Report, mode: FixMode, title: str) -> None:
    fixes = report.fixes(mode)
    if not fixes:
        return
    out.write(f"{title}\n")
    for fix in fixes:
        out.write(f"  {fix.describe()}\n")


def ask(statement: str) -> bool:
    """Ask on the terminal whether to run ``statement``; EOF means no."""
    try:
        answer = input("    apply? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
