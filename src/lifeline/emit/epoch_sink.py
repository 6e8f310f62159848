"""Kafka sinks that wait for the broker once per epoch, not once per batch.

A sink that flushes its producer in every ``write_batch`` stops the worker
for a broker round trip per Bytewax batch, and at a live rate batches are
small: sampled in the latency bench at 2,000 changes/s, the golden flow's
thread spent 43% of its time waiting in the lifecycle and audit flushes
while it fell behind using half a core.

Bytewax calls a stateful sink partition's ``snapshot`` at the end of every
epoch it wrote in, after that epoch's writes and before the epoch can be
committed to the recovery store. Flushing there keeps the guarantee the
per-batch flush gave: an epoch whose records the broker has not
acknowledged is never committed, so a crash replays it (and consumers drop
the repeats by their derived ids). Records leave as soon as the producer's
linger allows; only the wait moved.

The sinks are :class:`~bytewax.outputs.FixedPartitionedSink` sinks over the
golden step's keyed output. A process opens one producer per sink, shared by
the partitions it owns (Confluent's producer is thread-safe), so the
partitions' snapshots after the first find nothing left to wait for.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from lifeline.errors import RetryableError

X = TypeVar("X")

PARTS: Final = 16
"""Partitions per sink: how the golden step's key groups spread over workers."""

PRODUCER_DEFAULTS: Final = {"enable.idempotence": "true", "linger.ms": "50"}
"""Producer settings of the epoch-flushed sinks; the broker config may override.

Nothing waits for a record before the epoch ends, so a longer linger costs
the topic's readers at most 50 ms and sends the broker fewer, larger
requests.
"""

Headers = dict[str, str | bytes | None]
OutRecord = tuple[bytes | None, bytes, Headers]
"""Key, value and headers of one record to produce."""


class Outbox:
    """One sink's producer in this process: produce now, settle later.

    The epoch-flushed sinks settle at each epoch's end; the dead-letter and
    late-line sinks, whose records are rare, after each batch.

    ``what`` names the records in errors ("lifecycle events").
    """

    __slots__ = ("_failed", "_lock", "_producer", "_timeout", "_topic", "_what")

    def __init__(
        self, producer: Producer, topic: str, what: str, flush_timeout: float
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._what = what
        self._timeout = flush_timeout
        self._failed: list[KafkaError] = []
        self._lock = threading.Lock()

    def send(self, records: Iterable[OutRecord]) -> None:
        """Hand ``records`` to the producer; delivery is checked by :meth:`settle`."""
        try:
            for key, value, headers in records:
                self._produce(key, value, headers)
        except (KafkaException, BufferError) as exc:
            msg = f"topic {self._topic}: cannot produce {self._what}: {exc}"
            raise RetryableError(msg) from exc
        self._producer.poll(0)

    def settle(self) -> None:
        """Wait until every record sent so far is acknowledged, or raise."""
        remaining = self._producer.flush(self._timeout)
        with self._lock:
            failed, self._failed = self._failed, []
        if remaining or failed:
            problem = failed[0] if failed else f"none in {self._timeout:.0f}s"
            msg = (
                f"topic {self._topic}: {remaining + len(failed)} {self._what} "
                f"not acknowledged: {problem}"
            )
            raise RetryableError(msg)

    def _produce(self, key: bytes | None, value: bytes, headers: Headers) -> None:
        try:
            self._producer.produce(
                self._topic, value, key, headers=headers, on_delivery=self._acked
            )
        except BufferError:
            # The local queue is full: let deliveries drain, then try once more.
            self._producer.poll(1.0)
            self._producer.produce(
                self._topic, value, key, headers=headers, on_delivery=self._acked
            )

    def _acked(self, error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            with self._lock:
                self._failed.append(error)


@dataclass(frozen=True, slots=True)
class Encoded:
    """An item's records, encoded where the item was made.

    The golden flow encodes before the exchange to the partition's worker, so
    with several workers only bytes cross between processes, not the models.
    """

    records: tuple[OutRecord, ...]


class EpochFlushedSink(FixedPartitionedSink[X | Encoded, None], Generic[X]):
    """A Kafka sink of keyed items whose partitions settle at each epoch's end.

    Subclasses open the process's :class:`Outbox` and encode items into
    records; an item may come encoded already (:meth:`keyed`). Partitions
    keep no resume state: what an epoch wrote is acknowledged before the
    epoch commits, and a replay writes it again.
    """

    def __init__(self) -> None:
        self._outbox: Outbox | None = None
        self._opening = threading.Lock()

    @abstractmethod
    def open(self) -> Outbox:
        """Open the sink's producer of this process."""

    @abstractmethod
    def encode(self, item: X) -> tuple[OutRecord, ...]:
        """The records of one item (on any worker of any process)."""

    def keyed(self, pair: tuple[str, X]) -> tuple[str, Encoded]:
        """``(key, item)`` with the item encoded: a step to put before the sink."""
        return pair[0], Encoded(self.encode(pair[1]))

    def records(self, items: list[X | Encoded]) -> Iterator[OutRecord]:
        """The records of a batch of items, in order."""
        for item in items:
            if isinstance(item, Encoded):
                yield from item.records
            else:
                yield from self.encode(item)

    def list_parts(self) -> list[str]:
        """Every partition, on every worker (Bytewax assigns each one owner)."""
        return [str(part) for part in range(PARTS)]

    def build_part(
        self, step_id: str, for_part: str, resume_state: None
    ) -> EpochPartition[X | Encoded]:
        """A partition writing through the process's shared outbox."""
        with self._opening:
            if self._outbox is None:
                self._outbox = self.open()
        return EpochPartition(self._outbox, self.records)


class EpochPartition(StatefulSinkPartition[X, None], Generic[X]):
    """Produces each batch at once; waits for acknowledgements at snapshot."""

    __slots__ = ("_outbox", "_records")

    def __init__(
        self, outbox: Outbox, records: Callable[[list[X]], Iterable[OutRecord]]
    ) -> None:
        self._outbox = outbox
        self._records = records

    def write_batch(self, values: list[X]) -> None:
        """Send the batch's records without waiting for the broker."""
        self._outbox.send(self._records(values))

    def snapshot(self) -> None:
        """The epoch ends: everything written must be acknowledged first."""
        self._outbox.settle()

    def close(self) -> None:
        """Settle what is still in flight."""
        self._outbox.settle()
