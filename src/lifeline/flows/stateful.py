"""A keyed stateful map whose snapshots are pickles, not deep copies.

Bytewax's ``stateful_flat_map`` snapshots a key's state with
``copy.deepcopy`` at every epoch the key was touched. Lifeline's steps keep
large states per key (a key group's rows, the resolver), and deep-copying
them was half of the golden flow's run time. ``pickle.dumps`` gives the same
guarantee (an immutable copy; Bytewax pickles snapshots anyway) several times
faster, and the resume state is the same pickle.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import bytewax.operators as op
from bytewax.operators import KeyedStream, StatefulLogic

S = TypeVar("S")
V = TypeVar("V")
W = TypeVar("W")

Mapper = Callable[[S | None, V], tuple[S, Iterable[W]]]


class _PickledLogic(StatefulLogic[V, W, bytes], Generic[S, V, W]):
    def __init__(self, mapper: Mapper[S, V, W], state: S | None) -> None:
        self._mapper = mapper
        self._state = state

    def on_item(self, value: V) -> tuple[Iterable[W], bool]:
        self._state, emit = self._mapper(self._state, value)
        return emit, StatefulLogic.RETAIN

    def snapshot(self) -> bytes:
        return pickle.dumps(self._state, protocol=pickle.HIGHEST_PROTOCOL)


def stateful_flat_map(
    step_id: str, up: KeyedStream[V], mapper: Mapper[S, V, W]
) -> KeyedStream[W]:
    """Like ``bytewax.operators.stateful_flat_map``, with pickled snapshots.

    ``mapper(state, value)`` returns the new state and the items to emit;
    the state is never discarded.
    """

    def build(resume: bytes | None) -> _PickledLogic[S, V, W]:
        state: S | None = None if resume is None else pickle.loads(resume)  # noqa: S301 - our own snapshot
        return _PickledLogic(mapper, state)

    return op.stateful(step_id, up, build)
