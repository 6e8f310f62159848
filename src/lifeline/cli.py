"""The ``lifeline`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar, overload

from confluent_kafka import KafkaException
from pydantic import ValidationError
from pydantic_settings import SettingsError

from lifeline.argtypes import whole_number
from lifeline.errors import FatalError, LifelineError
from lifeline.observe.logs import KAFKA_LOGGER, configure_logging
from lifeline.observe.redact import redact_secrets
from lifeline.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]
_N = TypeVar("_N")


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: an argument it does not know is its usage error.

    argparse hands a subcommand's unknown arguments back to the top-level
    parser, whose error would show the top-level usage, not the subcommand's.
    """

    @overload
    def parse_known_args(
        self, args: Sequence[str] | None = None, namespace: None = None
    ) -> tuple[argparse.Namespace, list[str]]: ...
    @overload
    def parse_known_args(
        self, args: Sequence[str] | None, namespace: _N
    ) -> tuple[_N, list[str]]: ...
    @overload
    def parse_known_args(self, *, namespace: _N) -> tuple[_N, list[str]]: ...
    def parse_known_args(
        self, args: Sequence[str] | None = None, namespace: object = None
    ) -> tuple[object, list[str]]:
        """Parse as argparse does; exit with this parser's usage on leftovers."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def _stack(args: argparse.Namespace, settings: Settings) -> int:
    from lifeline.demo import status_table
    from lifeline.flows.runner import FlowProcess
    from lifeline.observe.status import flow_names
    from lifeline.stack.manager import Stack

    stack = Stack(settings)
    if args.action == "up":
        statuses = stack.up()
    elif args.action == "down":
        statuses = stack.down(purge=args.purge)
    else:
        statuses = stack.status()
    statuses.extend(FlowProcess(settings, name).status() for name in flow_names())
    print(status_table(statuses))
    return 0


def _seed(args: argparse.Namespace, settings: Settings) -> int:
    from lifeline.samples import schema, seed

    schema.apply_schemas(settings)
    data = seed.generate(args.customers, seed=args.seed)
    loaded = seed.load(settings, data)
    print(seed.load_report(len(data.parties), args.seed, loaded))
    return 0


def _flow(args: argparse.Namespace, settings: Settings) -> int:
    """Start the named flow (skeleton if none); stop or show it, or every flow."""
    from lifeline.demo import status_table
    from lifeline.flows.runner import FlowProcess
    from lifeline.observe.status import flow_names

    known = flow_names()
    if args.name is not None and args.name not in known:
        msg = (
            f"no flow {args.name!r} in dataflows/; the flows are "
            f"{', '.join(known) or 'none'}"
        )
        raise FatalError(msg)
    if args.name is None and args.action != "start":
        names = known
    else:
        names = [args.name or "skeleton"]
    flows = [FlowProcess(settings, name, workers=args.workers) for name in names]
    for flow in flows:
        if args.action == "start":
            flow.start()
        elif args.action == "stop":
            flow.stop()
    print(status_table([flow.status() for flow in flows]))
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from lifeline.demo import run_demo

    return run_demo(settings, sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="lifeline",
        description="Change-data-capture processing of customer lifecycle data.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO")
    # Nested subcommands (preflight postgres) inherit the parser class.
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_CommandParser
    )

    stack = sub.add_parser("stack", help="the local stack on 127.0.0.1")
    stack.add_argument("action", choices=["up", "down", "status"])
    stack.add_argument("--purge", action="store_true", help="with down: delete data")
    stack.set_defaults(handler=_stack)

    seed = sub.add_parser(
        "seed", help="create the sample schemas and load fake customers"
    )
    seed.add_argument(
        "--customers",
        type=whole_number(0),
        default=1000,
        help="real-world customers to generate",
    )
    seed.add_argument("--seed", type=int, default=7)
    seed.set_defaults(handler=_seed)

    flow = sub.add_parser("flow", help="run a dataflow of dataflows/ in the background")
    flow.add_argument("action", choices=["start", "stop", "status"])
    flow.add_argument(
        "--name",
        help="a flow of dataflows/; start: skeleton unless given, "
        "stop and status: every flow unless given",
    )
    flow.add_argument(
        "--workers", type=whole_number(1), default=1, help="Bytewax worker threads"
    )
    flow.set_defaults(handler=_flow)

    from lifeline.audit import command as audit_command
    from lifeline.cache import command as lookup_command
    from lifeline.capture import command as connectors_command
    from lifeline.capture import slots_command, snapshot_command
    from lifeline.decode import command as decode_command
    from lifeline.observe import command as status_command
    from lifeline.preflight import command as preflight_command
    from lifeline.reconcile import command as reconcile_command
    from lifeline.resolve import command as resolve_command
    from lifeline.targets import command as replay_command

    connectors_command.add_parser(sub)
    snapshot_command.add_parser(sub)
    slots_command.add_parser(sub)
    preflight_command.add_parser(sub)
    decode_command.add_parser(sub)
    lookup_command.add_parser(sub)
    audit_command.add_parser(sub)
    resolve_command.add_parser(sub)
    replay_command.add_parser(sub)
    reconcile_command.add_parser(sub)
    status_command.add_parser(sub)

    demo = sub.add_parser("demo", help="stack up, seed, CDC, live changes into Redis")
    demo.set_defaults(handler=_demo)
    return parser


def _load_settings() -> Settings:
    """Settings from the environment; a FatalError naming what is wrong."""
    if "LIFELINE_CONNECTORS_DIR" not in os.environ and not Path("connectors").is_dir():
        msg = (
            f"no connectors/ folder in {Path.cwd()}: run lifeline from a Lifeline "
            "checkout, or set LIFELINE_CONNECTORS_DIR and LIFELINE_STATE_DIR"
        )
        raise FatalError(msg)
    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        msg = f"invalid settings: {_settings_problem(exc)}"
        raise FatalError(msg) from exc


def _settings_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"LIFELINE_{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
    cause = exc.__cause__
    return f"{exc} ({cause})" if cause is not None else str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lifeline`` console script."""
    args = build_parser().parse_args(argv)
    configure_logging("INFO" if args.verbose else "WARNING")
    if not args.verbose:
        # Commands report a Kafka failure themselves, in one line.
        KAFKA_LOGGER.setLevel("CRITICAL")
    try:
        settings = _load_settings()
        handler: Handler = args.handler
        return handler(args, settings)
    except LifelineError as exc:
        print(f"lifeline {args.command}: {redact_secrets(str(exc))}", file=sys.stderr)
        return 2
    except KafkaException as exc:  # e.g. an unknown LIFELINE_BROKER__CLIENT_CONFIG key
        problem = redact_secrets(str(exc.args[0] if exc.args else exc))
        print(f"lifeline {args.command}: Kafka client: {problem}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (``| head``): stop quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
