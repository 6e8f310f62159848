"""A keyed stateful step that sees whole batches and snapshots by pickle.

Two costs of Bytewax's ``stateful_flat_map`` dominate Lifeline's flows, and
this module removes both:

- It calls the mapper once per item. Lifeline's items are already lists (a
  Kafka batch's changes of one key group), and several of them reach one key
  in each Bytewax batch (the single resolver key gets one per key group), so
  :func:`stateful_flat_map` concatenates the lists a key receives in one
  batch and calls the mapper once: per-call overhead is paid per batch.
- It snapshots a key's state with ``copy.deepcopy`` at every epoch the key
  was touched. ``pickle.dumps`` gives the same guarantee (an immutable copy;
  Bytewax pickles snapshots anyway) several times faster, and the resume
  state is the same pickle. The big maps of Lifeline's states are
  :class:`~lifeline.delta_dict.DeltaDict`, whose pickle carries the
  entries changed since the previous one, not all of them.

A mapper must therefore treat ``step(s, a + b)`` like ``step(step(s, a), b)``
up to how its output is grouped; every Lifeline step does.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import bytewax.operators as op
from bytewax.operators import KeyedStream, StatefulBatchLogic

S = TypeVar("S")
X = TypeVar("X")
W = TypeVar("W")

Mapper = Callable[[S | None, list[X]], tuple[S, Iterable[W]]]


class _PickledLogic(StatefulBatchLogic[list[X], W, bytes], Generic[S, X, W]):
    def __init__(self, mapper: Mapper[S, X, W], state: S | None) -> None:
        self._mapper = mapper
        self._state = state

    def on_batch(self, values: list[list[X]]) -> tuple[Iterable[W], bool]:
        items = values[0] if len(values) == 1 else [x for v in values for x in v]
        self._state, emit = self._mapper(self._state, items)
        return emit, StatefulBatchLogic.RETAIN

    def snapshot(self) -> bytes:
        return pickle.dumps(self._state, protocol=pickle.HIGHEST_PROTOCOL)


def stateful_flat_map(
    step_id: str, up: KeyedStream[list[X]], mapper: Mapper[S, X, W]
) -> KeyedStream[W]:
    """Like ``bytewax.operators.stateful_flat_map``, one call per key and batch.

    ``mapper(state, items)`` returns the new state and the items to emit;
    ``items`` joins every list the key received in the batch, in order. The
    state is never discarded.
    """

    def build(resume: bytes | None) -> _PickledLogic[S, X, W]:
        state: S | None = None if resume is None else pickle.loads(resume)  # noqa: S301 - our own snapshot
        return _PickledLogic(mapper, state)

    return op.stateful_batch(step_id, up, build)
