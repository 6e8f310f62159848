"""Fixtures: a schema registry stand-in per test (see fake_registry)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.registry.fake_registry import FakeRegistry


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    server = FakeRegistry()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def secured_registry() -> Iterator[FakeRegistry]:
    server = FakeRegistry(auth=("lifeline", "registry-pw"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
