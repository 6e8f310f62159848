"""The chaos suite runs last, on the session's stack, with a webhook target.

Scenarios restart components of the shared stack; running them after every
other test keeps those tests clear of the faults, and each scenario leaves
the stack healthy for the next. The deliveries flow runs for the whole
suite, sending to one :class:`~tests.chaos.target.ChaosSaaS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lifeline.flows.runner import FlowProcess
from lifeline.settings import Settings
from tests.chaos.harness import Harness
from tests.chaos.target import start_target

CHAOS_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the chaos scenarios after every other test, keeping their order."""
    chaos = [item for item in items if CHAOS_DIR in item.path.parents]
    if chaos:
        others = [item for item in items if CHAOS_DIR not in item.path.parents]
        items[:] = others + chaos


@pytest.fixture(scope="session")
def harness(
    stack_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    """The session stack with a deliveries flow sending to a chaos target."""
    target, env = start_target(tmp_path_factory.mktemp("chaos-target"))
    flow = FlowProcess(stack_settings, "deliveries", env=env)
    try:
        flow.start()
        yield Harness(stack_settings, target, deliveries_env=env)
    finally:
        flow.stop()
        target.stop()
