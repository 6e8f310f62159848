"""Walking-skeleton dataflow: CDC topics -> latest rows + email views in Redis.

Run it with ``lifeline flow start`` (background, with recovery) or directly::

    python -m bytewax.run dataflows.skeleton:flow

The process logs key=value lines and serves Prometheus metrics on the
flow's port (``LIFELINE_METRICS__PORT`` plus an offset; see
docs/streaming-engineers.md).
"""

from lifeline.flows.collector import tune_collector
from lifeline.flows.skeleton import build_flow
from lifeline.observe.server import start_observing
from lifeline.settings import Settings

tune_collector()
settings = Settings()
start_observing(settings, "skeleton")
flow = build_flow(settings)
