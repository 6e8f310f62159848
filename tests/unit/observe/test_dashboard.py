"""The Grafana dashboard charts Lifeline's metrics, and only those."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lifeline.observe.metrics import exposed_names

DASHBOARD = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "lifeline.json"
NAME = re.compile(r"\blifeline_[a-z0-9_]+\b")
SELECTOR = re.compile(r"\b(lifeline_[a-z0-9_]+)\{([^}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
PARTS = re.compile(r"_(bucket|sum|count)$")


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) of every panel target and template variable."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets") or []:
            yield panel["title"], target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield f"variable {variable['name']}", variable["definition"]


def problems(found: Iterable[tuple[str, str]]) -> list[str]:
    """Unknown metrics, labels a metric lacks, and metrics no query shows."""
    known = exposed_names()
    out: list[str] = []
    charted: set[str] = set()
    for title, query in found:
        names = NAME.findall(query)
        charted.update(PARTS.sub("", name) for name in names)
        if not names:
            out.append(f"{title}: no Lifeline metric")
        unknown = sorted(set(names) - set(known))
        out += [f"{title}: unknown metric {name}" for name in unknown]
        labels = {label for name in names for label in known.get(name, ())}
        for name, matchers in SELECTOR.findall(query):
            for label in MATCHER.findall(matchers):
                if label not in known.get(name, ()):
                    out.append(f"{title}: {name} has no label {label}")
        for grouping in GROUPING.findall(query):
            for label in filter(None, (p.strip() for p in grouping.split(","))):
                if label not in labels:
                    out.append(f"{title}: grouped by {label}, which no metric has")
    missing = sorted({PARTS.sub("", name) for name in known} - charted)
    out += [f"no panel shows {name}" for name in missing]
    return out


def test_the_dashboard_charts_every_metric_with_known_names_and_labels() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert problems(queries(dashboard)) == []


def test_the_check_finds_typos_wrong_labels_and_missing_panels() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    good = list(queries(dashboard))
    bad = [
        ("typo", "rate(lifeline_change_total[5m])"),
        ("label", 'sum by (target) (rate(lifeline_changes_total{tenant="x"}[5m]))'),
    ]
    found = problems(
        [q for q in good if "lifeline_redis_outages_total" not in q[1]] + bad
    )
    assert "typo: unknown metric lifeline_change_total" in found
    assert "label: lifeline_changes_total has no label tenant" in found
    assert "label: grouped by target, which no metric has" in found
    assert "no panel shows lifeline_redis_outages_total" in found
