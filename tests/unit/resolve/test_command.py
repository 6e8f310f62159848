"""``lifeline resolve`` from the outside: JSON lines in, golden ids out."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from lifeline.errors import RecordError
from lifeline.resolve import Resolver, SourceRecord
from lifeline.resolve.command import add_parser, parse_line, run
from lifeline.resolve.state import golden_id_for
from lifeline.resolve.synthetic import generate

# The subcommand as cli.py registers it, so the test runs it as a process
# with real stdin and stdout.
HARNESS = """
import argparse, sys
from lifeline.resolve.command import add_parser
from lifeline.settings import Settings
parser = argparse.ArgumentParser(prog="lifeline")
add_parser(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.handler(args, Settings()))
"""

LINES = [
    {
        "system": "erp",
        "id": "C-1",
        "fields": {"name": "Anna Müller", "email": "Anna@Example.com "},
    },
    {
        "system": "identity",
        "id": "u-1",
        "fields": {
            "first_name": "Anna",
            "last_name": "Müller",
            "email": "anna@example.com",
            "links": ["erp:C-1"],
        },
    },
    {
        "system": "billing",
        "id": 7,
        "fields": {"name": "Lukas Becker", "postal_code": 10115},
    },
]


def jsonl(lines: list[object]) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def resolve_cli(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", HARNESS, "resolve", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_the_command_writes_a_golden_id_per_record() -> None:
    done = resolve_cli(jsonl(list(LINES)))
    assert done.returncode == 0, done.stderr
    out = [orjson.loads(line) for line in done.stdout.splitlines()]
    anna = golden_id_for("erp:C-1")
    assert out == [
        {"system": "erp", "id": "C-1", "golden_id": anna},
        {"system": "identity", "id": "u-1", "golden_id": anna},
        {"system": "billing", "id": "7", "golden_id": golden_id_for("billing:7")},
    ]
    assert done.stderr == b""


def test_bad_lines_are_reported_by_number_and_the_rest_resolved() -> None:
    stdin = b"".join(
        [
            jsonl([LINES[0]]),
            b"{not json\n",
            b"\n",
            jsonl([{"system": "erp", "fields": {}}]),
            jsonl([{"system": "erp", "id": "C-9", "fields": {"emial": "x@y.example"}}]),
            jsonl([{"system": "erp", "id": "C-8", "fields": {"phone": ["1"]}}]),
            jsonl([{"system": "erp", "id": "C-7", "fields": {"links": ["nocolon"]}}]),
            jsonl([[1, 2]]),
            jsonl([LINES[1]]),
        ]
    )
    done = resolve_cli(stdin)
    assert done.returncode == 1
    errors = done.stderr.decode().splitlines()
    assert errors == [
        "lifeline resolve: line 2: not valid JSON",
        "lifeline resolve: line 4: id must be a non-empty string or integer",
        "lifeline resolve: line 5: unknown field(s) emial",
        "lifeline resolve: line 6: field phone must be a string or an integer,"
        " not a list",
        'lifeline resolve: line 7: field links must hold "system:id" strings',
        "lifeline resolve: line 8: expected a JSON object",
    ]
    out = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [(o["id"], o["golden_id"]) for o in out] == [
        ("C-1", golden_id_for("erp:C-1")),
        ("u-1", golden_id_for("erp:C-1")),
    ]


def test_explain_and_deletes() -> None:
    stdin = jsonl([*LINES[:2], {"system": "erp", "id": "C-1", "deleted": True}])
    out = io.StringIO()
    assert run(io.BytesIO(stdin), out, io.StringIO(), explain=True) == 0
    erp, user, deleted = (orjson.loads(line) for line in out.getvalue().splitlines())
    assert erp["golden_id"] is None  # deleted by the last line
    assert user["rule"] == "explicit_link"
    assert user["matched_keys"] == ["links"]
    assert user["matched_with"] == "erp:C-1"
    assert user["golden_id"] == golden_id_for("erp:C-1")
    assert deleted == {
        "system": "erp",
        "id": "C-1",
        "golden_id": None,
        "rule": "deleted",
        "matched_keys": [],
        "score": 0.0,
        "matched_with": None,
    }


def test_a_config_file_changes_the_thresholds(tmp_path: Path) -> None:
    lines = jsonl(
        [
            {
                "system": "erp",
                "id": "C-1",
                "fields": {"name": "Anna Müller", "phone": "+49 30 5551234"},
            },
            {
                "system": "billing",
                "id": "B-1",
                "fields": {"name": "Anna Müller", "phone": "+49305551234"},
            },
        ]
    )
    strict = tmp_path / "strict.yaml"
    strict.write_text("link_threshold: 0.95\n", encoding="utf-8")
    default = [orjson.loads(x)["golden_id"] for x in resolve_cli(lines).stdout.split()]
    stricter = resolve_cli(lines, "--config", str(strict)).stdout.split()
    assert default[0] == default[1]
    assert len({orjson.loads(x)["golden_id"] for x in stricter}) == 2


def test_an_invalid_config_is_fatal_and_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("link_threshold: 3\n", encoding="utf-8")
    done = resolve_cli(b"", "--config", str(bad))
    assert done.returncode != 0
    assert b"link_threshold" in done.stderr


@pytest.mark.parametrize("size", ["0", "-5", "ten"])
def test_a_batch_size_below_one_is_a_usage_error(
    size: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="lifeline")
    add_parser(parser.add_subparsers(dest="command", required=True))
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["resolve", "--batch-size", size])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"--batch-size: expected a whole number of at least 1, got '{size}'" in err


def test_same_code_as_the_flow_on_a_synthetic_sample() -> None:
    labeled = generate(300, seed=4)
    stdin = jsonl([r.line() for r in labeled])
    out = io.StringIO()
    assert run(io.BytesIO(stdin), out, io.StringIO(), batch_size=64) == 0
    golden = {
        f"{o['system']}:{o['id']}": o["golden_id"]
        for o in map(orjson.loads, out.getvalue().splitlines())
    }
    resolver = Resolver()
    resolver.resolve(
        [SourceRecord.from_fields(r.system, r.id, r.fields) for r in labeled]
    )
    assert golden == resolver.assignments()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"system": "erp:x", "id": "1"}', "system must not contain ':'"),
        (b'{"system": "erp", "id": "1", "deleted": "yes"}', "deleted must be true"),
        (b'{"system": "erp", "id": "1", "fields": []}', "fields must be a JSON object"),
        (b'{"system": "erp", "id": "1", "extra": 1}', "unknown key(s) extra"),
    ],
)
def test_parse_line_rejects(line: bytes, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse_line(line)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"email": 123}, "field email must be a string, not a number"),
        ({"name": True}, "field name must be a string, not a boolean"),
        ({"tax_id": 1.5}, "field tax_id must be a string or an integer, not a number"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(
    fields: dict[str, object], error: str
) -> None:
    with pytest.raises(RecordError) as caught:
        parse_line(orjson.dumps({"system": "erp", "id": "C-1", "fields": fields}))
    assert caught.value.reason == error


def test_numeric_identifiers_may_be_integers() -> None:
    record = parse_line(
        orjson.dumps({"system": "erp", "id": 7, "fields": {"phone": 4912}})
    )
    assert isinstance(record, SourceRecord)
