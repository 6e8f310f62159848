"""Golden-record dataflow: CDC topics -> golden customers, lifecycle events.

Run it with ``lifeline flow start --name golden`` (background, with recovery)
or directly::

    python -m bytewax.run dataflows/golden.py:flow
"""

from lifeline.flows.golden import build_golden_flow
from lifeline.settings import Settings

flow = build_golden_flow(Settings())
