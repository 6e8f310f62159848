"""Garbage-collector settings for the flow processes.

CPython starts a young collection every 700 net allocations of container
objects, and whatever survives two of them is promoted; once promoted
objects reach a quarter of the old generation, it collects the old
generation too, walking every object of every step's state. A flow step
allocates tens of containers per change and a Bytewax batch keeps a whole
Kafka batch of them alive until the sinks are done, so with the default
almost all of them are promoted (to be freed by reference counting soon
after) and the old generation is walked again and again: at 60k changes
the collector took a third of the golden flow's CPU time (the flow took
twice as long as with this setting), growing with the state. Lifeline's
states hold no reference cycles, so those walks find nothing.

A young generation of :data:`YOUNG_THRESHOLD` objects lets a batch's
objects die young. Cyclic garbage (from libraries) is still collected, only
later; everything else is freed by reference counting as before.
"""

from __future__ import annotations

import gc
from typing import Final

YOUNG_THRESHOLD: Final = 50_000
"""Net container allocations between young collections (CPython: 700)."""


def tune_collector() -> None:
    """Apply :data:`YOUNG_THRESHOLD`; call once when a flow process starts."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
