"""Deliveries dataflow: lifecycle events -> the SaaS webhook targets.

Needs ``config/targets.yaml`` (see ``config/targets.example.yaml``). Run it
with ``lifeline flow start --name deliveries`` or directly::

    python -m bytewax.run dataflows/deliveries.py:flow
"""

from lifeline.flows.deliveries import build_delivery_flow
from lifeline.settings import Settings

flow = build_delivery_flow(Settings())
