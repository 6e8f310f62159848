"""The metrics endpoint of a flow process, and its ports."""

from __future__ import annotations

import pytest

from lifeline.errors import FatalError
from lifeline.observe.scrape import scrape
from lifeline.observe.server import serve_metrics
from lifeline.settings import MetricsSettings
from tests.ports import free_port


def test_each_flow_has_its_own_port_and_zero_turns_metrics_off() -> None:
    settings = MetricsSettings(port=29500)
    ports = {flow: settings.port_for(flow) for flow in ("skeleton", "golden")}
    assert ports == {"skeleton": 29500, "golden": 29501}
    assert settings.port_for("deliveries") == 29502
    assert settings.url_for("golden") == "http://127.0.0.1:29501/metrics"
    assert settings.port_for("unknown-flow") is None
    assert MetricsSettings(port=0).port_for("golden") is None
    assert MetricsSettings(host="0.0.0.0", port=9100).url_for("skeleton") == (
        "http://127.0.0.1:9100/metrics"
    )


def test_the_endpoint_serves_lifeline_metrics() -> None:
    settings = MetricsSettings(port=free_port())
    endpoint = serve_metrics(settings, "skeleton")
    assert endpoint is not None
    try:
        samples = scrape(f"http://127.0.0.1:{endpoint.port}/metrics")
    finally:
        endpoint.close()
    names = {sample.name for sample in samples}
    assert {"lifeline_flow_info", "process_start_time_seconds"} <= names
    info = [s for s in samples if s.name == "lifeline_flow_info"]
    assert {"flow": "skeleton"} in [s.labels for s in info]


def test_a_taken_port_is_a_clear_error() -> None:
    settings = MetricsSettings(port=free_port())
    first = serve_metrics(settings, "skeleton")
    assert first is not None
    try:
        with pytest.raises(FatalError, match=r"flow skeleton: cannot serve metrics on"):
            serve_metrics(settings, "skeleton")
    finally:
        first.close()


def test_metrics_off_serves_nothing() -> None:
    assert serve_metrics(MetricsSettings(port=0), "golden") is None
