"""The metrics endpoint of a dataflow process, and its start-up.

A dataflow module (``dataflows/<flow>.py``) calls :func:`start_observing`
once, before building its flow: logs go out as key=value lines and the
process serves ``/metrics`` on the flow's port (``metrics.port`` plus the
flow's offset, on ``metrics.host``, 127.0.0.1 by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from lifeline.errors import FatalError
from lifeline.observe import metrics
from lifeline.observe.logs import configure_logging
from lifeline.settings import MetricsSettings, Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """A running metrics endpoint."""

    host: str
    port: int
    server: WSGIServer

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()


def serve_metrics(settings: MetricsSettings, flow: str) -> Endpoint | None:
    """Serve ``/metrics`` for ``flow`` in a daemon thread.

    None when metrics are off (``port`` 0) or the flow has no port offset.
    Raises FatalError naming the address when the port cannot be bound.
    """
    port = settings.port_for(flow)
    metrics.FLOW_INFO.labels(flow).set(1)
    if port is None:
        logger.warning("event=metrics_off flow=%s metrics_port=%d", flow, settings.port)
        return None
    try:
        server, _ = start_http_server(port, addr=settings.host)
    except OSError as exc:
        msg = (
            f"flow {flow}: cannot serve metrics on {settings.host}:{port} ({exc}); "
            "set LIFELINE_METRICS__PORT to a free base port, or 0 to turn "
            "metrics off"
        )
        raise FatalError(msg) from exc
    return Endpoint(settings.host, port, server)


def start_observing(
    settings: Settings, flow: str, *, watch_slots: bool = False
) -> None:
    """Key=value logs and the metrics endpoint for the flow of this process.

    ``watch_slots`` also refreshes the replication-slot lag gauges every
    ``metrics.slot_lag_interval`` seconds (one flow per deployment should).
    """
    configure_logging(settings.log_level, catch_uncaught=True)
    endpoint = serve_metrics(settings.metrics, flow)
    interval = settings.metrics.slot_lag_interval
    if watch_slots and endpoint is not None and interval > 0:
        from lifeline.capture.slots import SlotLagWatcher

        SlotLagWatcher(settings, interval).start()
    logger.info(
        "event=flow_process_started flow=%s metrics=%s",
        flow,
        "off" if endpoint is None else f"{endpoint.host}:{endpoint.port}",
    )
