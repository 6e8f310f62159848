"""The pure parts of preflight: DSNs, grants, include lists, sizes, fixes."""

from __future__ import annotations

import io

import pytest

from lifeline.errors import FatalError
from lifeline.preflight.command import recheck
from lifeline.preflight.dsn import mask, parse_mysql_dsn, postgres_display
from lifeline.preflight.fixer import apply_fixes
from lifeline.preflight.mysql_facts import parse_grant
from lifeline.preflight.report import (
    Fix,
    FixMode,
    Report,
    Result,
    failed,
    passed,
    render_report,
    warned,
)
from lifeline.preflight.scope import Scope, select_tables
from lifeline.preflight.units import format_size, parse_size


def test_mysql_dsn_is_parsed_and_never_shows_its_password() -> None:
    dsn = parse_mysql_dsn("mysql://deb%40zium:p%3Ass@db.internal:3307/erp")

    assert (dsn.user, dsn.password, dsn.host, dsn.port, dsn.database) == (
        "deb@zium",
        "p:ss",
        "db.internal",
        3307,
        "erp",
    )
    assert "p:ss" not in repr(dsn)
    assert dsn.display == "deb@zium@db.internal:3307/erp"


def test_mysql_dsn_password_may_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MYSQL_PWD", "from-env")

    assert parse_mysql_dsn("mariadb://cdc@127.0.0.1/erp").password == "from-env"


@pytest.mark.parametrize(
    "text", ["postgres://u:Secret-1@h/db", "mysql://:Secret-1@h/db", "Secret-1"]
)
def test_bad_mysql_dsn_errors_do_not_repeat_it(text: str) -> None:
    with pytest.raises(FatalError) as caught:
        parse_mysql_dsn(text)

    assert "Secret-1" not in str(caught.value)


def test_postgres_display_leaves_the_password_out() -> None:
    shown = postgres_display("postgresql://cdc:Secret-2@db1:6543/identity")

    assert shown == "cdc@db1:6543/identity"
    assert mask("auth failed for Secret-2", ["Secret-2", None]) == (
        "auth failed for ********"
    )


def test_grant_lines_give_privileges_and_target_only() -> None:
    line = (
        "GRANT SELECT, RELOAD, REPLICATION SLAVE ON *.* TO `debezium`@`%` "
        "IDENTIFIED BY PASSWORD '*9A6A327AAD02A999D3D87D94ECA40EA6F02D9E92'"
    )
    grant = parse_grant(line)

    assert grant is not None
    assert grant.privileges == {"SELECT", "RELOAD", "REPLICATION SLAVE"}
    assert (grant.database, grant.table) == ("*", "*")
    database = parse_grant("GRANT ALL PRIVILEGES ON `e``rp`.* TO `x`@`%`")
    assert database is not None
    assert database.privileges == {"ALL"} and database.database == "e`rp"
    column = parse_grant("GRANT SELECT (a, b), INSERT ON `erp`.`t` TO `x`@`%`")
    assert column is not None and column.privileges == {"INSERT"}
    assert parse_grant("GRANT `reader` TO `x`@`%`") is None


def test_include_lists_are_anchored_case_insensitive_regexes() -> None:
    available = [("public", "users"), ("public", "users_old"), ("audit", "Users")]
    scope = Scope(None, ("public.users", "audit\\..*", "public.gone"), ("public",))

    selected, unmatched = select_tables(available, scope)

    assert selected == [("public", "users")]
    assert unmatched == ["audit\\..*", "public.gone"]
    everything = select_tables(available, Scope(None, (), ()))
    assert everything == (sorted(available), [])


def test_sizes_read_and_print_in_powers_of_1024() -> None:
    assert parse_size("64KB") == 65536
    assert parse_size("1.5 GiB") == 3 * (1 << 29)
    assert format_size(3 * (1 << 29)) == "1.5 GiB"
    assert format_size(12) == "12 B"
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_exit_code_follows_the_worst_result() -> None:
    fix = Fix(("GRANT x;",))
    assert Report("t", "s", (passed("a", "ok"),)).exit_code == 0
    assert Report("t", "s", (passed("a", "ok"), warned("b", "hm", fix))).exit_code == 1
    both = Report("t", "s", (warned("b", "hm", fix), failed("c", "no", fix)))
    assert both.exit_code == 2
    assert both.result_of("c") is Result.FAIL


def test_only_online_fixes_run_and_each_is_shown_first() -> None:
    report = Report(
        "t",
        "s",
        (
            failed("a", "no", Fix(("GRANT a;", "GRANT b;"))),
            failed("w", "no", Fix(("ALTER SYSTEM x;",), FixMode.RESTART, "restart")),
            warned("s", "hm", Fix(("DROP slot;",), FixMode.MANUAL)),
            passed("p", "ok"),
        ),
    )
    ran: list[str] = []
    out = io.StringIO()

    applied = apply_fixes(report, ran.append, lambda s: s != "GRANT b;", out, "adm")

    assert applied == 1 and ran == ["GRANT a;"]
    text = out.getvalue()
    assert text.index("  GRANT a;") < text.index("    applied")
    assert "  GRANT b;\n    skipped" in text
    assert "[restart] ALTER SYSTEM x; -- restart" in text
    assert "[manual] DROP slot;" in text
    rendered = render_report(report)
    assert "        fix: GRANT a; GRANT b;" in rendered
    assert rendered.endswith("2 fail, 1 warn, 1 pass: exit 2")


def test_checks_run_again_only_when_a_fix_was_applied(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = Report("t", "s", (warned("b", "hm", Fix(("GRANT b;",))),))
    after = Report("t", "s", (passed("b", "ok"),))
    checked: list[Report] = []

    def check() -> Report:
        checked.append(after)
        return after

    assert recheck(before, 0, check) == 1
    assert checked == []
    assert (
        capsys.readouterr().out == "no fix applied: the report above stands (exit 1)\n"
    )
    assert recheck(before, 1, check) == 0
    assert checked == [after]
    assert capsys.readouterr().out == render_report(after) + "\n"
