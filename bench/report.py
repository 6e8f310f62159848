"""bench/results.json and the table printed from it.

Every figure sits in ``parts`` under its part; ``goals`` compares the
headline figures with the issue's goals (``ratio`` is value / goal, so a
``>=`` goal is met at 1.0 or more and a ``<=`` goal at 1.0 or less); ``table``
is what ``make bench`` prints, row for row.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

GIB = 1024**3
# figure -> (comparison, goal, how the goal reads)
GOALS: dict[str, tuple[str, float, str]] = {
    "lifeline_events_per_s": (">=", 50_000, ">= 50,000 events/s"),
    "lifeline_ratio_to_raw": (">=", 0.5, ">= 0.5 x raw"),
    "latency_p99_ms": ("<=", 500, "<= 500 ms"),
    "recovery_caught_up_s": ("<=", 10, "<= 10 s"),
    "recovery_lost": ("<=", 0, "0 lost"),
    "memory_1m_golden_bytes": ("<=", 2 * GIB, "<= 2 GiB"),
    "scale_2w_over_1w": (">=", 1.8, ">= 1.8 x"),
    "total_seconds": ("<=", 900, "<= 15 min"),
}


def machine() -> dict[str, Any]:
    """Facts about where the figures were measured."""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_bytes": mem_kb * 1024,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "commit": _commit(),
        "load_average_start": os.getloadavg()[0],
    }


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{'+changes' if dirty else ''}"


def goals(
    figures: dict[str, float | None], failed: set[str]
) -> dict[str, dict[str, Any]]:
    """Each goal with its figure, the ratio to the goal and whether it is met.

    A goal in ``failed`` has no figure because the run never reached it (a
    flow that never caught up): it is not met.
    """
    out = {}
    for name, (cmp, goal, text) in GOALS.items():
        value = figures.get(name)
        met = False if name in failed else None
        ratio = None
        if value is not None:
            met = value >= goal if cmp == ">=" else value <= goal
            ratio = round(value / goal, 3) if goal else None
        out[name] = {"value": value, "goal": text, "ratio": ratio, "met": met}
    return out


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    elif isinstance(value, int | float):
        text = f"{value:,.0f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f} MiB"


def _bounded(figures: dict[str, Any], name: str) -> str:
    """A latency percentile, marked ``>=`` when it is only a lower bound."""
    bound = ">= " if name in figures.get("lower_bound", []) else ""
    return bound + _fmt(figures[name], "ms")


Row = tuple[str, str, str]  # figure, value, goal name ("" for none)


def _throughput_rows(t: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, load in t["loads"].items():
        text = f"{_fmt(load['events'])} events in {_fmt(load['seconds'])} s"
        rows.append((f"load ({name})", text, ""))
    for name, run in t["runs"].items():
        rate = f"{_fmt(run['events_per_s'])} events/s"
        per_cpu = f"{_fmt(run['events_per_cpu_s'])}/CPU-s"
        goal = "lifeline_events_per_s" if name == "lifeline_1w" else ""
        rows.append((_RUN_LABELS.get(name, name), f"{rate} ({per_cpu})", goal))
        if name == "lifeline_1w" and run["second_half_events_per_s"]:
            second = f"{_fmt(run['second_half_events_per_s'])} events/s"
            rows.append(("  ... its second half", second, ""))
    for name, ratio in t["ratios"].items():
        goal = "lifeline_ratio_to_raw" if name.endswith("(same load)") else ""
        rows.append((name, _fmt(ratio), goal))
    if t.get("extrapolated_1m_seconds"):
        text = f"{_fmt(t['extrapolated_1m_seconds'])} s"
        rows.append(("Lifeline, 1M events (extrapolated)", text, ""))
    return rows


def _latency_rows(lat: dict[str, Any]) -> list[Row]:
    load = f"{_fmt(lat['achieved_changes_per_s'])} changes/s"
    rows: list[Row] = [
        ("load achieved", f"{load}, {lat['rows_per_commit']}/commit", "")
    ]
    for q in ("p50", "p95", "p99"):
        goal = "latency_p99_ms" if q == "p99" else ""
        rows.append(
            (f"commit -> row cached {q}", _bounded(lat["rows"], f"{q}_ms"), goal)
        )
    rows.append(("commit -> golden record p99", _bounded(lat["golden"], "p99_ms"), ""))
    if lat.get("capture", {}).get("seen"):
        split = (("capture", "commit -> in Kafka"), ("flow", "in Kafka -> row"))
        for part, label in split:
            for q in ("p50", "p99"):
                rows.append((f"  {label} {q}", _bounded(lat[part], f"{q}_ms"), ""))
    made = f"no: {_fmt(lat['visible_changes_per_s'])} changes/s made visible"
    rows.append(("changes kept up", "yes" if lat["kept_up"] else made, ""))
    return rows


def _recovery_rows(rec: dict[str, Any]) -> list[Row]:
    caught = rec["caught_up_s"]
    lost = f"{rec['lost_rows']} / {rec['lost_golden']}"
    duplicates = f"{rec['duplicate_events']} of {rec['lifecycle_events']}"
    return [
        ("load during kill -9", f"{_fmt(rec['achieved_changes_per_s'])} changes/s", ""),
        (
            "kill -9 -> caught up",
            "never" if caught is None else _fmt(caught, "s"),
            "recovery_caught_up_s",
        ),
        (
            "  ... lag allowed (p99 before the kill)",
            _fmt(rec["allowed_lag_ms"], "ms"),
            "",
        ),
        ("lost (rows / golden fields)", lost, "recovery_lost"),
        ("duplicate lifecycle events", duplicates, ""),
    ]


def _memory_rows(m: dict[str, Any]) -> list[Row]:
    holding = f"RSS holding {_fmt(m['golden_records'])} golden records"
    return [
        (holding, _mib(m["resumed_bytes"]), ""),
        ("RSS per golden record (over idle)", _fmt(m["bytes_per_golden"], "B"), ""),
        (
            "1M golden records (extrapolated)",
            _mib(m["extrapolated_1m_bytes"]),
            "memory_1m_golden_bytes",
        ),
        ("peak RSS while loading", _mib(m["loaded_peak_bytes"]), ""),
    ]


def _scale_rows(s: dict[str, Any]) -> list[Row]:
    return [
        ("2 workers", f"{_fmt(s['events_per_s_2w'])} events/s", ""),
        ("2 workers / 1 worker", _fmt(s["ratio"]), "scale_2w_over_1w"),
    ]


_PART_ROWS = {
    "throughput": ("1 throughput", _throughput_rows),
    "latency": ("2 latency", _latency_rows),
    "recovery": ("3 recovery", _recovery_rows),
    "memory": ("4 memory", _memory_rows),
    "scale": ("5 scale", _scale_rows),
}


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    """Part, figure, value, goal, verdict: the printed table."""
    wall = ("make bench wall time", _fmt(results["total_seconds"], "s"))
    sections = [
        (label, rows(results["parts"][name]))
        for name, (label, rows) in _PART_ROWS.items()
        if name in results["parts"]
    ]
    sections.append(("all", [(*wall, "total_seconds")]))
    table = []
    for label, rows in sections:
        for figure, value, goal in rows:
            verdict = results["goals"][goal] if goal else None
            table.append([label, figure, value, *_verdict(verdict)])
    return table


def _verdict(goal: dict[str, Any] | None) -> list[str]:
    if goal is None:
        return ["", ""]
    met = {True: "met", False: "NOT met", None: ""}[goal["met"]]
    return [goal["goal"], met]


_RUN_LABELS = {
    "raw": "raw ceiling (full load)",
    "naive": "naive Bytewax (full load)",
    "raw_flow": "raw ceiling (flow load)",
    "lifeline_1w": "Lifeline golden flow, 1 worker",
}


def render(rows: list[list[str]]) -> str:
    """The rows as an aligned text table."""
    header = ["part", "figure", "value", "goal", ""]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()
    ]
    lines.append("  ".join("-" * w for w in widths).rstrip())
    for r in rows:
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        )
    return "\n".join(lines)
