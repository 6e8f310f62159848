"""Deliveries dataflow: lifecycle events -> the SaaS webhook targets.

Needs ``config/targets.yaml`` (see ``config/targets.example.yaml``). Run it
with ``lifeline flow start --name deliveries`` or directly::

    python -m bytewax.run dataflows/deliveries.py:flow

The process logs key=value lines and serves Prometheus metrics on the
flow's port (``LIFELINE_METRICS__PORT`` plus an offset; see
docs/streaming-engineers.md).
"""

from lifeline.flows.deliveries import build_delivery_flow
from lifeline.observe.server import start_observing
from lifeline.settings import Settings

settings = Settings()
start_observing(settings, "deliveries")
flow = build_delivery_flow(settings)
