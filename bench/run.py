"""``make bench``: Lifeline's five benchmark parts on a stack of the bench's own.

1. throughput: realistic Debezium change events loaded into the broker, then
   timed through the raw ceiling (a bare consumer loop), a naive per-message
   Bytewax flow and the real golden flow on one worker;
2. latency: row changes committed into both databases at a fixed rate,
   commit -> visible in the cache, through Debezium and the golden flow;
3. recovery: kill -9 of the golden flow under load, time to catch up,
   effects lost and duplicated;
4. memory: resident memory of the flow holding the golden records;
5. scale: the throughput load on two worker processes against one.

Prints a table and writes ``bench/results.json``. The stack (broker, Redis,
PostgreSQL, MariaDB, Connect) runs on free ports with its state under
``state/bench`` and is torn down at the end, also on failure or Ctrl-C.

    .venv/bin/python -m bench.run            # everything (~15 minutes)
    .venv/bin/python -m bench.run --quick    # a smoke run with small sizes
    .venv/bin/python -m bench.run --only latency --only recovery
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from bench.live_parts import LiveSetup, latency_part, recovery_part, start_live
from bench.report import GOALS, goals, machine, render, table_rows
from bench.stack import BenchStack
from bench.throughput import Throughput, run_throughput

PARTS = ("throughput", "latency", "recovery", "memory", "scale")
RESULTS = Path(__file__).with_name("results.json")
MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class Plan:
    """The sizes of one bench run."""

    events: int  # the load the yardsticks are timed on
    flow_events: int  # the load the golden flow is timed on
    partitions: int
    pool: int  # rows per database the latency and recovery loads update
    latency_rate: float  # row changes per second, both databases together
    latency_seconds: float
    rows_per_commit: int
    drain_seconds: float  # how long the cache may lag after a load ends
    recovery_seconds: float
    kill_after: float
    recovery_rate: float | None  # None: the latency rate if the flow kept up


FULL = Plan(MILLION, 150_000, 2, 6_000, 2000, 60, 20, 60, 30, 10, None)
QUICK = Plan(20_000, 20_000, 2, 2_000, 2000, 10, 20, 30, 15, 5, None)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke sizes")
    parser.add_argument("--only", action="append", choices=PARTS, help="run this part")
    parser.add_argument("--events", type=int, help="yardstick load (default 1M)")
    parser.add_argument("--flow-events", type=int, help="golden flow load")
    parser.add_argument("--latency-rate", type=float, help="changes/s (default 2000)")
    parser.add_argument("--recovery-rate", type=float, help="changes/s during kill -9")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def plan_of(args: argparse.Namespace) -> Plan:
    """The sizes: full or quick, with command-line overrides."""
    base = QUICK if args.quick else FULL
    changes: dict[str, Any] = {}
    for name in ("events", "flow_events", "latency_rate", "recovery_rate"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if "events" in changes and "flow_events" not in changes:
        changes["flow_events"] = min(base.flow_events, changes["events"])
    values = asdict(base) | changes
    return Plan(**values)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Run the parts asked for; 0 when they all ran (goals met or not), else 1."""
    args = parse_args(argv)
    parts = set(args.only or PARTS)
    plan = plan_of(args)
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(message)s")
    logging.getLogger("bench").setLevel(logging.INFO)
    signal.signal(signal.SIGTERM, _terminate)
    began = time.monotonic()
    results: dict[str, Any] = {"machine": machine(), "plan": asdict(plan), "parts": {}}
    notes: list[str] = []
    failed: dict[str, str] = {}
    stack = BenchStack(plan.partitions)
    try:
        for group, run in (
            ({"throughput", "memory", "scale"}, _throughput),
            ({"latency", "recovery"}, _live),
        ):
            if parts & group:
                try:
                    run(stack, plan, parts, results["parts"], notes)
                except Exception as exc:  # the other parts still run
                    logging.getLogger("bench").exception(
                        "event=part_failed parts=%s", group
                    )
                    failed[", ".join(sorted(parts & group))] = repr(exc)
    finally:
        stack.close()
    results["failed"] = failed
    results["total_seconds"] = round(time.monotonic() - began, 1)
    results["machine"]["load_average_end"] = os.getloadavg()[0]
    _machine_note(results, notes)
    results["goals"] = goals(*_figures(results))
    results["notes"] = notes
    results["table"] = table_rows(results)
    args.output.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(render(results["table"]))
    for note in notes:
        print(f"\n* {note}")
    for names, error in failed.items():
        print(f"\n! {names} failed: {error}")
    print(f"\nwrote {args.output}")
    return 1 if failed else 0


def _throughput(
    stack: BenchStack,
    plan: Plan,
    parts: set[str],
    out: dict[str, Any],
    notes: list[str],
) -> None:
    workers = (1, 2) if "scale" in parts else (1,)
    result = run_throughput(
        stack,
        plan.events,
        plan.flow_events,
        plan.partitions,
        yardsticks="throughput" in parts,
        workers=workers,
    )
    runs = {name: run.to_json() for name, run in result.runs.items()}
    one = result.runs["lifeline_1w"]
    if "throughput" in parts:
        out["throughput"] = _throughput_figures(result, runs, plan, notes)
    if "scale" in parts:
        two = result.runs["lifeline_2w"]
        out["scale"] = {
            "events": one.events,
            "events_per_s_1w": round(one.rate, 1),
            "events_per_s_2w": round(two.rate, 1),
            "ratio": round(two.rate / one.rate, 3) if one.rate else None,
            "cpu_seconds_1w": round(one.cpu_seconds, 1),
            "cpu_seconds_2w": round(two.cpu_seconds, 1),
            "runs": {
                "lifeline_1w": runs["lifeline_1w"],
                "lifeline_2w": runs["lifeline_2w"],
            },
            "rows_cached": {
                k: v for k, v in result.rows.items() if k.startswith("lifeline")
            },
        }
    if "memory" in parts and result.memory is not None:
        out["memory"] = _memory_figures(result, notes)


def _throughput_figures(
    result: Throughput, runs: dict[str, Any], plan: Plan, notes: list[str]
) -> dict[str, Any]:
    loads = {"yardsticks": _load_json(result.loads["yardsticks"])}
    if result.loads["flow"] is not result.loads["yardsticks"]:
        loads["flow"] = _load_json(result.loads["flow"])
    rates = {name: run.rate for name, run in result.runs.items()}
    per_cpu = {name: run.cpu_rate for name, run in result.runs.items()}
    same = "raw_flow" if "raw_flow" in rates else "raw"
    ratios = {
        "naive / raw": _ratio(rates["naive"], rates["raw"]),
        "naive / raw, per CPU-s": _ratio(per_cpu["naive"], per_cpu["raw"]),
        "lifeline_1w / raw (same load)": _ratio(rates["lifeline_1w"], rates[same]),
        "lifeline_1w / raw, per CPU-s": _ratio(per_cpu["lifeline_1w"], per_cpu[same]),
    }
    expected = {
        name: result.loads[
            "flow" if name.startswith(("lifeline", "raw_flow")) else "yardsticks"
        ].rows_alive
        for name in result.rows
    }
    figures: dict[str, Any] = {
        "loads": loads,
        "runs": {k: v for k, v in runs.items() if not k.startswith("lifeline_2")},
        "ratios": ratios,
        "rows_cached": result.rows,
        "rows_expected": expected,
    }
    one = result.runs["lifeline_1w"]
    if plan.flow_events < plan.events and one.finished:
        tail = one.second_half_rate or one.rate
        seconds = one.seconds + (MILLION - one.events) / tail
        figures["extrapolated_1m_seconds"] = round(seconds, 1)
        notes.append(
            f"The golden flow was timed on {one.events:,} events of the same mix, "
            f"not {plan.events:,}: its whole run at that rate would not fit the "
            f"15 minutes of `make bench`. It made {one.rate:,.0f} events/s over "
            f"the run and {one.second_half_rate:,.0f} in its second half; the 1M "
            f"time (about {seconds:,.0f} s) assumes the second half's rate for the "
            "rest, which flatters it if the flow keeps slowing as its state grows."
        )
    for name, count in result.rows.items():
        if count != expected[name]:
            notes.append(
                f"{name} left {count:,} rows in Redis, {expected[name]:,} expected."
            )
    return figures


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _load_json(loaded: Any) -> dict[str, Any]:
    return {
        "events": loaded.events,
        "markers": loaded.markers,
        "seconds": round(loaded.seconds, 1),
        "mb": round(loaded.bytes / 1e6, 1),
        "duplicates": loaded.counts.duplicates,
        "tombstones": loaded.counts.tombstones,
        "parties": loaded.counts.parties,
        "per_topic": dict(loaded.counts.events),
        "rows_alive": loaded.rows_alive,
    }


def _memory_figures(result: Throughput, notes: list[str]) -> dict[str, Any]:
    memory = result.memory
    assert memory is not None
    loaded = result.loads["flow"]
    per = (memory.resumed_bytes - memory.idle_bytes) / max(memory.golden_records, 1)
    notes.append(
        f"Memory: the one-worker golden flow restarted from its last snapshot holds "
        f"{memory.golden_records:,} golden records (built from {loaded.rows_alive:,} "
        "source rows, whose latest versions it keeps too); its RSS is read once it "
        "is idle, so the consumers' prefetch buffers of the catch-up are not "
        "counted (the peak while loading is listed apart). The 1M figure is the "
        "per-record growth over the idle flow, extrapolated linearly."
    )
    return {
        "golden_records": memory.golden_records,
        "source_rows": loaded.rows_alive,
        "idle_bytes": memory.idle_bytes,
        "resumed_bytes": memory.resumed_bytes,
        "resume_seconds": round(memory.resume_seconds, 1),
        "loaded_peak_bytes": memory.loaded_peak_bytes,
        "bytes_per_golden": round(per),
        "extrapolated_1m_bytes": round(memory.idle_bytes + per * MILLION),
    }


def _live(
    stack: BenchStack,
    plan: Plan,
    parts: set[str],
    out: dict[str, Any],
    notes: list[str],
) -> None:
    setup: LiveSetup = start_live(stack, plan.pool)
    rate = plan.recovery_rate
    if "latency" in parts:
        latency = latency_part(
            setup,
            plan.latency_rate,
            plan.latency_seconds,
            plan.rows_per_commit,
            plan.drain_seconds,
        )
        out["latency"] = latency
        if not latency["kept_up"]:
            notes.append(
                f"At {plan.latency_rate:,.0f} changes/s the changes fell behind "
                f"(only {latency['visible_changes_per_s']:,.0f} changes/s became "
                f"visible; the flow used {latency['flow_cpu_share']:.0%} of a core): "
                "the latencies measure a growing backlog, not a steady state. "
                + _whose_backlog(latency)
                + " Changes not yet visible when the watcher stopped count at their "
                "lower bound (>=)."
            )
        busy = latency.get("cpu_share_by_program")
        if busy:
            used = ", ".join(f"{name} {share:.2f}" for name, share in busy.items())
            notes.append(
                "CPU while the latency load ran and drained, in cores (2 on this "
                f"machine): {used}."
            )
        if rate is None and not latency["kept_up"]:
            rate = max(50.0, round(latency["visible_changes_per_s"] / 2, -1))
            notes.append(
                f"The recovery load was {rate:,.0f} changes/s, half of what the flow "
                f"sustained, not {plan.latency_rate:,.0f}: a kill -9 at steady state "
                "needs a load the flow keeps up with."
            )
    if "recovery" in parts:
        if rate is None and "latency" not in parts:
            notes.append(
                f"The recovery load was {plan.latency_rate:,.0f} changes/s (no latency "
                "part to tell whether the flow keeps up with it; see --recovery-rate)."
            )
        out["recovery"] = recovery_part(
            setup,
            rate or plan.latency_rate,
            plan.recovery_seconds,
            plan.rows_per_commit,
            plan.kill_after,
            plan.drain_seconds,
        )


def _machine_note(results: dict[str, Any], notes: list[str]) -> None:
    facts = results["machine"]
    busiest = max(facts["load_average_start"], facts["load_average_end"])
    if busiest > (facts["cpu_count"] or 1):
        notes.append(
            f"The machine was shared: load average up to {busiest:.1f} on "
            f"{facts['cpu_count']} CPUs. Wall-clock rates are depressed; events per "
            "CPU-second are the steadier figure, and ratios measured side by side "
            "mean more than absolute numbers."
        )


def _figures(results: dict[str, Any]) -> tuple[dict[str, float | None], set[str]]:
    parts = results["parts"]
    figures: dict[str, float | None] = dict.fromkeys(GOALS)
    failed = set()
    if "throughput" in parts:
        t = parts["throughput"]
        figures["lifeline_events_per_s"] = t["runs"]["lifeline_1w"]["events_per_s"]
        figures["lifeline_ratio_to_raw"] = t["ratios"]["lifeline_1w / raw (same load)"]
    if "latency" in parts:
        figures["latency_p99_ms"] = parts["latency"]["rows"]["p99_ms"]
    if "recovery" in parts:
        rec = parts["recovery"]
        figures["recovery_caught_up_s"] = rec["caught_up_s"]
        if rec["caught_up_s"] is None:
            failed.add("recovery_caught_up_s")
        figures["recovery_lost"] = rec["lost_rows"] + rec["lost_golden"]
    if "memory" in parts:
        figures["memory_1m_golden_bytes"] = parts["memory"]["extrapolated_1m_bytes"]
    if "scale" in parts:
        figures["scale_2w_over_1w"] = parts["scale"]["ratio"]
    figures["total_seconds"] = results["total_seconds"]
    return figures, failed


def _whose_backlog(latency: dict[str, Any]) -> str:
    """Which side the backlog grew on: the capture path or the flow."""
    capture, flow = latency.get("capture", {}), latency.get("flow", {})
    if not capture.get("seen") or flow.get("p99_ms") is None:
        return ""
    return (
        f"Split at the CDC topic, commit -> in Kafka (database log, Debezium, "
        f"broker) took p50 {capture['p50_ms']:,.0f} ms / p99 "
        f"{capture['p99_ms']:,.0f} ms and in Kafka -> row cached (the golden flow) "
        f"p50 {flow['p50_ms']:,.0f} ms / p99 {flow['p99_ms']:,.0f} ms."
    )


if __name__ == "__main__":
    raise SystemExit(main())
