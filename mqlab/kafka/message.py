"""Records as the client sees them: ``Message`` and ``TopicPartition``, shaped like confluent-kafka's.

``Message`` has the confluent-kafka accessors: ``topic()``, ``partition()``, ``offset()``,
``key()``, ``value()``, ``headers()``, ``timestamp()`` (a ``(type, milliseconds)`` pair,
``TIMESTAMP_CREATE_TIME`` or ``TIMESTAMP_LOG_APPEND_TIME``), ``error()`` (``None`` for a record,
a :class:`KafkaError` for an event such as ``_PARTITION_EOF``), ``latency()`` and
``delivery_count()`` (share consumers). It is an immutable tuple underneath, so that a
consumer can build thousands per millisecond; the ``set_*`` mutators of confluent-kafka
are therefore not provided (a simplification).

Timestamps are milliseconds of virtual time (``sim.now * 1000``), as Kafka's are
milliseconds since the epoch.
"""

from __future__ import annotations

from typing import Any

from mqlab.kafka.errors import KafkaError

__all__ = [
    "OFFSET_BEGINNING",
    "OFFSET_END",
    "OFFSET_INVALID",
    "OFFSET_STORED",
    "TIMESTAMP_CREATE_TIME",
    "TIMESTAMP_LOG_APPEND_TIME",
    "TIMESTAMP_NOT_AVAILABLE",
    "Message",
    "TopicPartition",
]

# Values as in confluent_kafka (checked against 2.16).
TIMESTAMP_NOT_AVAILABLE = 0
TIMESTAMP_CREATE_TIME = 1
TIMESTAMP_LOG_APPEND_TIME = 2
OFFSET_BEGINNING = -2
OFFSET_END = -1
OFFSET_STORED = -1000
OFFSET_INVALID = -1001

Headers = list[tuple[str, bytes | None]]


class Message(tuple):  # type: ignore[type-arg]
    """One record (or one error event) returned by ``poll``/``consume`` or given to ``on_delivery``.

    Layout: ``(topic, partition, offset, key, value, headers, timestamp_type, timestamp_ms,
    error, delivery_count, latency)``.
    """

    __slots__ = ()

    def topic(self) -> str | None:
        return self[0]  # type: ignore[no-any-return]

    def partition(self) -> int | None:
        return self[1]  # type: ignore[no-any-return]

    def offset(self) -> int | None:
        return self[2]  # type: ignore[no-any-return]

    def key(self) -> Any:
        return self[3]

    def value(self) -> Any:
        return self[4]

    def headers(self) -> Headers | None:
        return self[5]  # type: ignore[no-any-return]

    def timestamp(self) -> tuple[int, int]:
        return (self[6], self[7])

    def error(self) -> KafkaError | None:
        return self[8]  # type: ignore[no-any-return]

    def delivery_count(self) -> int | None:
        return self[9]  # type: ignore[no-any-return]

    def latency(self) -> float | None:
        return self[10]  # type: ignore[no-any-return]

    def __len__(self) -> int:  # confluent-kafka: len(msg) is the value's length
        value = self[4]
        return 0 if value is None else len(value)

    def __repr__(self) -> str:
        if self[8] is not None:
            return f"<Message error={self[8].name()} {self[0]}[{self[1]}]>"
        return f"<Message {self[0]}[{self[1]}]@{self[2]} key={self[3]!r}>"


_new = tuple.__new__


def make_message(topic: str | None, partition: int | None, offset: int | None, key: Any, value: Any,
                 headers: Headers | None = None, ts_type: int = TIMESTAMP_NOT_AVAILABLE, ts: int = -1,
                 error: KafkaError | None = None, delivery_count: int | None = None,
                 latency: float | None = None) -> Message:
    return _new(Message, (topic, partition, offset, key, value, headers, ts_type, ts, error, delivery_count,
                          latency))


def error_message(error: KafkaError, topic: str | None = None, partition: int | None = None,
                  offset: int | None = None) -> Message:
    """A Message carrying an error event, as poll() returns for consumer errors."""
    return make_message(topic, partition, offset, None, error.str().encode(), error=error)


class TopicPartition:
    """A topic, a partition and an offset (or timestamp, for ``offsets_for_times``).

    Equality and hashing use ``(topic, partition)``, as in confluent-kafka.
    """

    __slots__ = ("topic", "partition", "offset", "metadata", "leader_epoch", "error")

    def __init__(self, topic: str, partition: int = -1, offset: int = OFFSET_INVALID,
                 metadata: str | None = None, leader_epoch: int | None = None) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.metadata = metadata
        self.leader_epoch = leader_epoch
        self.error: KafkaError | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TopicPartition):
            return NotImplemented
        return (self.topic, self.partition) == (other.topic, other.partition)

    def __lt__(self, other: TopicPartition) -> bool:
        return (self.topic, self.partition) < (other.topic, other.partition)

    def __hash__(self) -> int:
        return hash((self.topic, self.partition))

    def __repr__(self) -> str:
        error = f",error={self.error!r}" if self.error is not None else ""
        return f"TopicPartition{{topic={self.topic},partition={self.partition},offset={self.offset}{error}}}"
