"""Golden-record dataflow: CDC topics -> golden customers, lifecycle events.

Run it with ``lifeline flow start --name golden`` (background, with recovery)
or directly::

    python -m bytewax.run dataflows/golden.py:flow

The process logs key=value lines and serves Prometheus metrics on the
flow's port (``LIFELINE_METRICS__PORT`` plus an offset; see
docs/streaming-engineers.md).
"""

from lifeline.flows.collector import tune_collector
from lifeline.flows.golden import build_golden_flow
from lifeline.observe.server import start_observing
from lifeline.settings import Settings

tune_collector()
settings = Settings()
start_observing(settings, "golden", watch_slots=True)
flow = build_golden_flow(settings)
