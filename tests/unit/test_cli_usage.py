"""A usage error of a subcommand shows that subcommand's usage, not the top level's."""

from __future__ import annotations

import pytest

from lifeline.cli import main


@pytest.mark.parametrize(
    ("argv", "usage", "error"),
    [
        (["lookup", "a", "b"], "lifeline lookup", "unrecognized arguments: b"),
        (["lookup", "--json", "x"], "lifeline lookup", "arguments: --json"),
        (
            ["preflight", "postgres", "--bogus"],
            "lifeline preflight postgres",
            "unrecognized arguments: --bogus",
        ),
        (["lookup"], "lifeline lookup", "required: key"),
    ],
)
def test_a_subcommand_error_shows_its_own_usage(
    argv: list[str], usage: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)

    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: {usage} [-h]")
    assert f"{usage}: error: " in err
    assert error in err


def test_an_unknown_subcommand_shows_the_top_level_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["nope"])

    assert capsys.readouterr().err.startswith("usage: lifeline [-h] [-v]")
