"""Walking-skeleton dataflow: CDC topics -> latest rows + email views in Redis.

Run it with ``lifeline flow start`` (background, with recovery) or directly::

    python -m bytewax.run dataflows.skeleton:flow
"""

from lifeline.flows.skeleton import build_flow
from lifeline.settings import Settings

flow = build_flow(Settings())
