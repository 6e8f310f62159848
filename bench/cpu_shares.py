"""Where a 2-core machine's CPU went during a run, by program.

The latency part drives the whole capture path at once (databases, Kafka
Connect, the broker, Redis, the golden flow and the bench's own drivers and
watcher), so a change that waits may be waiting for a core, not for any one
component. This reads every process's CPU time from ``/proc`` before and
after a run and reports each program's share of one core.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")

CpuTimes = dict[int, tuple[str, float]]


def cpu_times() -> CpuTimes:
    """Each live process: its program name and CPU seconds so far."""
    times: CpuTimes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        times[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / _TICKS)
    return times


def shares(
    before: CpuTimes, after: CpuTimes, seconds: float, names: dict[int, str]
) -> dict[str, float]:
    """Share of one core per program over ``seconds``, busiest first.

    ``names`` relabels some pids (the flow among the Python processes).
    Processes that ended during the run are not counted.
    """
    used: dict[str, float] = {}
    for pid, (name, total) in after.items():
        start = before.get(pid, (name, 0.0))[1]
        label = names.get(pid, name)
        used[label] = used.get(label, 0.0) + max(total - start, 0.0)
    busy = {k: round(v / seconds, 2) for k, v in used.items() if v / seconds >= 0.01}
    return dict(sorted(busy.items(), key=lambda kv: -kv[1]))
