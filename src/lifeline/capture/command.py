"""``lifeline connectors ACTION [NAME]``: the Debezium connectors' lifecycle.

Actions act on every template in ``connectors/``, or on the connector NAME:

* ``apply`` - create the CDC topics, create or update the connector, wait
  until it and its tasks run;
* ``validate`` - ask the worker's plugin whether the rendered config is
  valid (Debezium also logs in to the database); errors are listed per key;
* ``status`` - state of each connector and its tasks, with the first lines of
  a failed one's trace (connectors on the cluster without a template too); a
  NAME that is neither a template nor on the cluster is an error;
* ``restart`` - restart only what FAILED, then wait until it runs;
* ``pause`` / ``resume`` - and wait until the state is reached;
* ``delete`` - remove the connector (asks first unless ``--yes``); its
  offsets stay in Connect, and a PostgreSQL slot stays in the database.

Secrets in the templates are resolved from the settings, the environment or
files only when a config is sent, and are never printed. Exit codes: 0 done,
1 ``validate`` found an invalid config, 2 an error (from the ``lifeline``
command).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any

from lifeline.capture.apply import Applied, _differs, apply_connectors
from lifeline.capture.catalog import captured_tables
from lifeline.capture.connect_client import (
    FAILED,
    PAUSED,
    ConnectClient,
    ConnectorState,
    Validation,
)
from lifeline.capture.templates import ConnectorTemplate, load_templates, redact, render
from lifeline.errors import ConnectorError, FatalError
from lifeline.settings import Settings
from lifeline.stack.broker import create_topics
from lifeline.table import render_table
from lifeline.wording import counted

EXIT_OK, EXIT_INVALID = 0, 1
# How long a restarted task may still show its old FAILED state.
_RESTART_GRACE = 10.0
POSTGRES_CLASS = "io.debezium.connector.postgresql.PostgresConnector"
Action = Callable[[ConnectClient, argparse.Namespace, Settings], int]


def add_parser(subparsers: Any) -> None:
    """Register ``connectors`` on the ``lifeline`` command's subparsers."""
    parser = subparsers.add_parser(
        "connectors",
        help="Debezium connectors on Kafka Connect",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=sorted(_ACTIONS))
    parser.add_argument(
        "name", nargs="?", help="one connector (default: every template)"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for a state"
    )
    parser.add_argument(
        "--trace-lines",
        type=int,
        default=6,
        help="status: lines of a failed trace to show (frames left out)",
    )
    parser.add_argument("--yes", action="store_true", help="delete without asking")
    parser.set_defaults(handler=run_connectors)


def run_connectors(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``args.action``; the exit code. Errors leave as LifelineError."""
    return _ACTIONS[args.action](ConnectClient(settings.connect.url), args, settings)


def _templates(name: str | None) -> list[ConnectorTemplate]:
    templates = load_templates()
    if name is None:
        return templates
    chosen = [template for template in templates if template.name == name]
    if not chosen:
        known = ", ".join(t.name for t in templates) or "none"
        msg = f"no connector template named {name} (templates: {known})"
        raise FatalError(msg)
    return chosen


def _names(args: argparse.Namespace) -> list[str]:
    """NAME, or the names of every template."""
    return [args.name] if args.name else [t.name for t in load_templates()]


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret value replaced by asterisks."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def _secrets(settings: Settings, templates: Iterable[ConnectorTemplate]) -> list[str]:
    """Secret values of the templates that render here, for masking output."""
    found = []
    for template in templates:
        try:
            config = render(template, settings)
        except FatalError:
            continue
        hidden = redact(config)
        found += [value for key, value in config.items() if hidden[key] != value]
    return found


# --- apply and validate ---------------------------------------------------


def _apply(client: ConnectClient, args: argparse.Namespace, settings: Settings) -> int:
    if args.name is None:
        results = apply_connectors(settings, timeout=args.timeout)
    else:
        template = _templates(args.name)[0]
        results = [_apply_one(client, template, settings, args.timeout)]
    for applied in results:
        verb = "created" if applied.created else "updated"
        verb = verb if applied.changed else "unchanged"
        tasks = counted(len(applied.state.tasks), "task")
        print(f"{applied.name}: {verb}, connector and {tasks} RUNNING")
    return EXIT_OK


def _apply_one(
    client: ConnectClient,
    template: ConnectorTemplate,
    settings: Settings,
    timeout: float,
) -> Applied:
    """What :func:`apply_connectors` does, for one template."""
    # TODO(apply.py is not this change's): give apply_connectors a names
    # argument and drop this copy of its loop body.
    topics = [table.topic for table in captured_tables(settings, [template])]
    create_topics(
        settings,
        [*topics, settings.topics.dead_letter, settings.topics.notifications],
        partitions=settings.topics.partitions,
    )
    if settings.connect.managed:
        (settings.state_path / "connect" / "history").mkdir(parents=True, exist_ok=True)
    config = render(template, settings)
    current = client.config(template.name)
    changed = current is None or _differs(current, config)
    created = client.put_config(template.name, config) if changed else False
    state = client.wait_running(template.name, timeout=timeout)
    return Applied(template.name, created, changed, state)


def _validate(
    client: ConnectClient, args: argparse.Namespace, settings: Settings
) -> int:
    invalid = 0
    for template in _templates(args.name):
        config = render(template, settings)
        result = client.validate({**config, "name": template.name})
        secrets = _secrets(settings, [template])
        print(_validation_text(template.name, result, secrets))
        invalid += 0 if result.valid else 1
    return EXIT_INVALID if invalid else EXIT_OK


def _validation_text(name: str, result: Validation, secrets: list[str]) -> str:
    if result.valid:
        return f"{name}: valid for {result.plugin}"
    lines = [f"{name}: {counted(result.error_count, 'error')} from {result.plugin}"]
    for field in result.fields:
        lines += [f"  {field.name}: {mask(error, secrets)}" for error in field.errors]
    return "\n".join(lines)


# --- status ----------------------------------------------------------------


def _status(client: ConnectClient, args: argparse.Namespace, settings: Settings) -> int:
    names = _names(args)
    if args.name is None:
        names += [name for name in client.connectors() if name not in names]
    else:
        _check_known(client, args.name)
    states = {name: client.status(name) for name in names}
    rows = [(name, *_state_cells(state)) for name, state in states.items()]
    print(render_table(["connector", "state", "tasks"], rows))
    secrets = _secrets(settings, load_templates())
    for name, state in states.items():
        for line in _failures(name, state, args.trace_lines):
            print(mask(line, secrets))
    return EXIT_OK


def _check_known(client: ConnectClient, name: str) -> None:
    """FatalError when ``name`` is neither a template nor on the cluster."""
    templates = [template.name for template in load_templates()]
    if name in templates:
        return
    deployed = client.connectors()
    if name in deployed:
        return
    others = [other for other in deployed if other not in templates]
    msg = (
        f"no connector template or connector named {name} "
        f"(templates: {', '.join(templates) or 'none'}; "
        f"other connectors on the cluster: {', '.join(others) or 'none'})"
    )
    raise FatalError(msg)


def _state_cells(state: ConnectorState | None) -> tuple[str, str]:
    if state is None:
        return "absent", "-"
    return state.state, ",".join(t.state for t in state.tasks) or "none"


def _failures(name: str, state: ConnectorState | None, lines: int) -> list[str]:
    """A heading and the trace summary of the connector or each FAILED task."""
    if state is None:
        return []
    out = []
    if state.state == FAILED:
        out += [f"{name} FAILED on {state.worker_id}:", *_trace(state.trace, lines)]
    for task in state.tasks:
        if task.state == FAILED:
            out.append(f"{name} task {task.task_id} FAILED on {task.worker_id}:")
            out += _trace(task.trace, lines)
    return out


def _trace(trace: str, lines: int) -> list[str]:
    """The first ``lines`` lines of a Java trace that are not stack frames."""
    kept = [
        line.strip()
        for line in trace.splitlines()
        if line.strip() and not line.startswith(("\tat ", "\t... "))
    ]
    return [f"    {line}" for line in kept[:lines]]


# --- restart, pause, resume, delete ----------------------------------------


def _restart(
    client: ConnectClient, args: argparse.Namespace, settings: Settings
) -> int:
    for name in _names(args):
        state = _existing(client, name)
        failed = state.failed_tasks
        if state.state != FAILED and not failed:
            print(f"{name}: nothing FAILED ({state.summary}); left alone")
            continue
        client.restart_failed(name)
        running = client.wait_running(
            name, timeout=args.timeout, failed_grace=_RESTART_GRACE
        )
        what = [f"task {task}" for task in failed]
        if state.state == FAILED:
            what.insert(0, "connector")
        print(
            f"{name}: restarted {', '.join(what)}; "
            f"{counted(len(running.tasks), 'task')} RUNNING"
        )
    return EXIT_OK


def _pause(client: ConnectClient, args: argparse.Namespace, settings: Settings) -> int:
    for name in _names(args):
        client.pause(name)
        state = client.wait_state(name, PAUSED, timeout=args.timeout)
        print(f"{name}: PAUSED, with {counted(len(state.tasks), 'task')}")
    return EXIT_OK


def _resume(client: ConnectClient, args: argparse.Namespace, settings: Settings) -> int:
    for name in _names(args):
        client.resume(name)
        state = client.wait_running(name, timeout=args.timeout)
        print(f"{name}: RUNNING, with {counted(len(state.tasks), 'task')}")
    return EXIT_OK


def _delete(client: ConnectClient, args: argparse.Namespace, settings: Settings) -> int:
    names = _names(args)
    if not args.yes and not _confirm(f"delete {', '.join(names)}? [y/N] "):
        print("nothing deleted")
        return EXIT_OK
    for name in names:
        config = client.config(name) or {}
        if not client.delete(name):
            print(f"{name}: not on the cluster")
            continue
        client.wait_gone(name, timeout=args.timeout)
        print(f"{name}: deleted; its offsets stay in Connect, so apply resumes there")
        if config.get("connector.class") == POSTGRES_CLASS:
            slot = config.get("slot.name", "debezium")
            print(
                f"  replication slot {slot} stays and keeps WAL; once this "
                f"connector will not come back: "
                f"SELECT pg_drop_replication_slot('{slot}');"
            )
    return EXIT_OK


def _existing(client: ConnectClient, name: str) -> ConnectorState:
    state = client.status(name)
    if state is None:
        raise ConnectorError(name, "unknown to the Connect cluster; apply it first")
    return state


def _confirm(question: str) -> bool:
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


_ACTIONS: dict[str, Action] = {
    "apply": _apply,
    "validate": _validate,
    "status": _status,
    "restart": _restart,
    "pause": _pause,
    "resume": _resume,
    "delete": _delete,
}
