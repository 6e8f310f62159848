"""``lifeline lookup``: JSON on stdout and its exit codes."""

from __future__ import annotations

import argparse
import socket

import orjson
import pytest

from lifeline.cache import GoldenCacheWriter
from lifeline.cache.command import add_parser
from lifeline.settings import Settings
from tests.cache.helpers import email, upsert, version


def _run(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="lifeline")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["lookup", *argv])
    code: int = args.handler(args, settings)
    return code


def _settings(base: Settings, prefix: str, **redis: object) -> Settings:
    return base.model_copy(
        update={
            "cache_prefix": prefix,
            "redis": base.redis.model_copy(update=redis),
        }
    )


def test_found_prints_one_json_object_per_record(
    writer: GoldenCacheWriter,
    cache_settings: Settings,
    prefix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    writer.apply(
        [
            upsert("g1", version(1), source_ids=["erp:C-1"], email_hashes=[email(1)]),
            upsert("g2", version(1), email_hashes=[email(1)]),
        ]
    )
    settings = _settings(cache_settings, prefix)
    assert _run(settings, "erp:C-1") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [orjson.loads(line)["golden_id"] for line in lines] == ["g1"]
    assert _run(settings, "person1@example.com") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [orjson.loads(line)["golden_id"] for line in lines] == ["g1", "g2"]
    assert _run(settings, "g2", "--pretty") == 0
    assert orjson.loads(capsys.readouterr().out)["golden_id"] == "g2"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("erp:C-404", "no golden record for source id erp:C-404"),
        (" nobody@example.com ", "no golden record for email nobody@example.com"),
        ("g-404", "no golden record with golden id g-404"),
    ],
)
def test_not_found_exits_1_naming_the_key_as_read(
    cache_settings: Settings,
    prefix: str,
    capsys: pytest.CaptureFixture[str],
    key: str,
    message: str,
) -> None:
    assert _run(_settings(cache_settings, prefix), key) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"lifeline lookup: {message}\n"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "empty key"),
        ("  ", "empty key"),
        ("identity:", "source id 'identity:' has no id after the ':'"),
        (":u-9", "source id ':u-9' has no system before the ':'"),
        ("anna@", "email 'anna@' has no domain after the '@'"),
        ("@example.com", "email '@example.com' has no name before the '@'"),
    ],
)
def test_an_empty_key_or_key_part_is_a_usage_error(
    cache_settings: Settings,
    capsys: pytest.CaptureFixture[str],
    key: str,
    problem: str,
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _run(cache_settings, key)
    assert exit_info.value.code == 2
    assert f"lifeline lookup: error: argument key: {problem}" in capsys.readouterr().err


def test_an_unreachable_redis_exits_2(
    cache_settings: Settings, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings = _settings(cache_settings, prefix, port=closed_port)
    assert _run(settings, "g1") == 2
    err = capsys.readouterr().err
    assert err.startswith("lifeline lookup: redis cache")
