"""The producer: ``Producer(cluster, config)`` shaped like ``confluent_kafka.Producer(config)``.

The cluster comes first (it stands in for ``bootstrap.servers``), then the same dict of
Kafka properties::

    producer = Producer(cluster, {"acks": "all", "enable.idempotence": True, "linger.ms": 5})
    producer.produce("rides", key=b"rider-42", value=b"...", on_delivery=report)
    producer.flush()          # at the top level, runs the simulation until everything is delivered

How a record travels: ``produce()`` puts it in the partition's open batch (the partition
is chosen by the ``partitioner``, see :mod:`mqlab.kafka.partitioner`); the batch is sent
after ``linger.ms`` (or at once when it holds ``batch.num.messages`` records, or on
``flush()``); the request reaches the leader after the cluster's ``network_delay``; the
response comes back the same way, after the replication the ``acks`` setting asks for;
a retriable error (``NOT_LEADER_FOR_PARTITION``, ``NOT_ENOUGH_REPLICAS``, a lost response
after ``request.timeout.ms``...) is retried after ``retry.backoff.ms`` until
``message.timeout.ms`` (then ``_MSG_TIMED_OUT``). Delivery reports are queued and handed
to ``on_delivery(err, msg)`` callbacks only from :meth:`poll` and :meth:`flush`, as in
librdkafka. A callback that raises is recorded in ``producer.errors`` and the producer
carries on.

Idempotence (``enable.idempotence=true``): the producer gets a producer id, numbers each
partition's batches, and the leader drops a retried batch it already has (returning the
original offsets), so a lost acknowledgement never writes a record twice; a retry older than
the five batches the leader remembers is answered ``DUPLICATE_SEQUENCE_NUMBER``, which the
producer reports as delivered without an offset, as the Java client and librdkafka do. The
first batch of a producer id or epoch must carry sequence 0. Without it, a
retry after a lost response writes the batch again (counted in ``ledger().duplicates``).

Simplifications: one linger timer per producer rather than per partition; a batch is
rejected whole if one record exceeds the topic's ``max.message.bytes``;
``queue.buffering.max.kbytes`` is not enforced (``queue.buffering.max.messages`` is, with
``BufferError`` as in confluent-kafka).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mqlab.kafka.config import PRODUCER_PROPERTIES, parse_config
from mqlab.kafka.driving import drive, in_process
from mqlab.kafka.errors import (
    KafkaError,
    KafkaException,
    MessageSizeTooLarge,
    StateError,
    UnknownTopicOrPartition,
)
from mqlab.kafka.log import RECORD_OVERHEAD, record_size
from mqlab.kafka.message import (
    OFFSET_INVALID,
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    make_message,
)
from mqlab.kafka.murmur2 import murmur2
from mqlab.kafka.partitioner import StickyPartitioner, partition_for

if TYPE_CHECKING:
    from mqlab.kafka.admin import ClusterMetadata
    from mqlab.kafka.cluster import Cluster, Topic
    from mqlab.kafka.partition import Partition
    from mqlab.kafka.transactions import ProducerTransaction
    from mqlab.sim import Event

__all__ = ["ProduceRequest", "Producer"]

_RETRIABLE = frozenset({
    "LEADER_NOT_AVAILABLE", "NOT_LEADER_FOR_PARTITION", "NOT_ENOUGH_REPLICAS",
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "REQUEST_TIMED_OUT", "_TIMED_OUT",
})


class ProduceRequest:
    """One batch for one partition, as a produce request carries it (columns, not records)."""

    __slots__ = ("producer", "partition", "keys", "values", "headers", "timestamps", "callbacks", "size",
                 "max_size", "acks", "pid", "epoch", "base_seq", "transactional", "appended", "base_offset",
                 "timer", "created", "attempts", "done")

    def __init__(self, producer: Producer, partition: Partition, created: float) -> None:
        self.producer = producer
        self.partition = partition
        self.keys: list[Any] = []
        self.values: list[Any] = []
        self.headers: list[Any] | None = None
        self.timestamps: list[int] = []
        self.callbacks: list[Any] | None = None
        self.size = 0
        self.max_size = 0
        self.acks = -1
        self.pid = -1
        self.epoch = 0
        self.base_seq = -1
        self.transactional = False
        self.appended = False
        self.base_offset = -1
        self.timer: Any = None
        self.created = created
        self.attempts = 0
        self.done = False

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return f"<ProduceRequest {self.partition.name} records={len(self.keys)} attempt={self.attempts}>"


class Producer:
    """A Kafka producer on a simulated cluster. ``errors`` lists callback exceptions (time, where, error)."""

    def __init__(self, cluster: Cluster, config: dict[str, Any] | None = None) -> None:
        self.config = conf = parse_config(PRODUCER_PROPERTIES, config, "producer")
        self.cluster = cluster
        self.sim = sim = cluster.sim
        index = len(cluster.producers)
        cluster.producers.append(self)
        self.name = f"{conf['client.id']}#producer-{index + 1}"
        self.acks: int = conf["acks"]
        self.idempotent: bool = conf["enable.idempotence"] or conf["transactional.id"] is not None
        if self.idempotent:
            if conf["acks"] != -1 and config and ("acks" in config or "request.required.acks" in config):
                raise KafkaException(KafkaError(
                    "_INVALID_ARG",
                    "`acks` must be set to `all` when `enable.idempotence` is true: an idempotent producer "
                    "needs every in-sync replica to confirm",
                ))
            self.acks = -1
        self.linger = conf["linger.ms"] / 1000.0
        self.batch_max = conf["batch.num.messages"]
        self.max_message_bytes = conf["message.max.bytes"]
        self.queue_max = conf["queue.buffering.max.messages"]
        self.message_timeout = conf["message.timeout.ms"] / 1000.0
        self.request_timeout = conf["request.timeout.ms"] / 1000.0
        self.retry_backoff = conf["retry.backoff.ms"] / 1000.0
        self.retries = conf["retries"]
        self.partitioner: str = conf["partitioner"]
        self.on_delivery: Callable[..., Any] | None = conf["on_delivery"]
        self.only_errors: bool = conf["delivery.report.only.error"]
        self.sticky_keys = self.partitioner in ("murmur2", "consistent", "fnv1a")
        self.sticky = StickyPartitioner(sim.substream(f"kafka.producer.{index}.partitioner"),
                                        conf["sticky.partitioning.linger.ms"])
        self.errors: list[tuple[float, str, BaseException]] = []
        self.pid = cluster.new_producer_id() if self.idempotent and conf["transactional.id"] is None else -1
        self.epoch = 0
        self._topics: dict[str, Topic] = {}
        self._open: dict[Partition, ProduceRequest] = {}
        self._sequences: dict[Partition, int] = {}
        self._linger_handle: Any = None
        self._queued = 0
        self._in_flight = 0
        self._room = self.queue_max  # queue.buffering.max.messages minus records not yet delivered
        self._reports: list[tuple[Any, KafkaError | None, Any]] = []
        self._waiters: list[Event] = []
        self._hash_cache: dict[Topic, dict[Any, int]] = {}  # per topic: key -> partition
        self._closed = False
        self.produced = 0
        self.transaction: ProducerTransaction | None = None
        if conf["transactional.id"] is not None:
            from mqlab.kafka.transactions import ProducerTransaction

            self.transaction = ProducerTransaction(self, conf["transactional.id"], conf["transaction.timeout.ms"])
        self._plain = self.transaction is None and self.partitioner.endswith("_random")

    # -- producing ---------------------------------------------------------------------
    def produce(self, topic: str, value: Any = None, key: Any = None, partition: int = -1,
                on_delivery: Callable[..., Any] | None = None, timestamp: int = 0,
                headers: Any = None, callback: Callable[..., Any] | None = None) -> None:
        """Queue one record for ``topic``; delivery is reported through ``on_delivery(err, msg)``.

        Raises ``BufferError`` when ``queue.buffering.max.messages`` records are waiting (call
        ``poll()``/``flush()``), ``KafkaException`` for a too-large record (``MSG_SIZE_TOO_LARGE``),
        an unknown topic with auto-creation off or a partition that does not exist.
        """
        # Fast path for the common record (bytes or None, no headers, callback or timestamp, default
        # partitioning, no transaction); everything else, and every error, goes through _produce.
        t = self._topics.get(topic)
        if (t is None or t.deleted or not self._plain or partition != -1 or headers is not None
                or on_delivery is not None or callback is not None or timestamp or self._room <= 0):
            return self._produce(topic, value, key, partition, on_delivery, timestamp, headers, callback)
        cache = self._hash_cache[t]
        size = RECORD_OVERHEAD
        if value is not None:
            if value.__class__ is not bytes:
                return self._produce(topic, value, key, partition, on_delivery, timestamp, headers, callback)
            size += len(value)
        partitions = t.partitions
        n = len(partitions)
        now = self.sim.now
        if key is None:
            sticky = self.sticky
            p = sticky.current if now < sticky.until and sticky.count == n else sticky.choose(now, n)
        else:
            if key.__class__ is not bytes:
                return self._produce(topic, value, key, partition, on_delivery, timestamp, headers, callback)
            size += len(key)
            p = cache.get(key)
            if p is None or n != cache[None]:
                p = self._keyed_partition(cache, key, n)
        if size - RECORD_OVERHEAD > self.max_message_bytes:
            return self._produce(topic, value, key, partition, on_delivery, timestamp, headers, callback)
        target = partitions[p]
        batch = self._open.get(target)
        if batch is None:
            batch = self._open[target] = ProduceRequest(self, target, now)
            if self._linger_handle is None:
                self._linger_handle = self.sim.call_later(self.linger, self._linger_expired)
        keys = batch.keys
        keys.append(key)
        batch.values.append(value)
        batch.timestamps.append(int(now * 1000))
        if batch.headers is not None:
            batch.headers.append(None)
        if batch.callbacks is not None:
            batch.callbacks.append(None)
        batch.size += size  # (max_size is worked out at send time for records taken by this fast path)
        self._queued += 1
        self._room -= 1
        self.produced += 1
        if self.sim.tracing:
            self.sim.log(self.name, "produced", topic=topic, partition=p, key=key)
        if len(keys) >= self.batch_max:
            self._send(self._open.pop(target))
        return None

    def _produce(self, topic: str, value: Any, key: Any, partition: int, on_delivery: Callable[..., Any] | None,
                 timestamp: int, headers: Any, callback: Callable[..., Any] | None) -> None:
        """The general path of produce(): every check and every option."""
        if self._closed:
            raise StateError(KafkaError("_STATE", f"producer {self.name}: produce() after close()"))
        if self.transaction is not None:
            self.transaction.check_can_produce()
        t = self._topics.get(topic)
        if t is None or t.deleted:
            t = self._topics[topic] = self.cluster.topic_for_produce(topic)
            self._hash_cache[t] = {None: len(t.partitions)}
        if isinstance(value, str):
            value = value.encode()
        elif value is not None and not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"produce(value=...) takes bytes, str or None, got {type(value).__name__}; "
                            f"serialize it first (json.dumps(...).encode(), ...)")
        if isinstance(key, str):
            key = key.encode()
        elif key is not None and not isinstance(key, (bytes, bytearray, memoryview)):
            raise TypeError(f"produce(key=...) takes bytes, str or None, got {type(key).__name__}; "
                            f"serialize it first")
        if isinstance(value, (bytearray, memoryview)):
            value = bytes(value)
        if isinstance(key, (bytearray, memoryview)):
            key = bytes(key)
        if not isinstance(partition, int) or partition < -1:
            raise UnknownTopicOrPartition(KafkaError(
                "_UNKNOWN_PARTITION",
                f"partition={partition!r} for topic {topic!r}: use -1 (let the partitioner choose) or a partition "
                f"number >= 0; partitions are never negative",
            ))
        size = RECORD_OVERHEAD
        if value is not None:
            size += len(value)
        if key is not None:
            size += len(key)
        if headers is not None:
            headers = self._headers(headers)
            for name, data in headers:
                size += len(name) + (len(data) if data is not None else 0)
        if size - RECORD_OVERHEAD > self.max_message_bytes:
            raise MessageSizeTooLarge(KafkaError(
                "MSG_SIZE_TOO_LARGE",
                f"record for {topic!r} is {size - RECORD_OVERHEAD} bytes, more than message.max.bytes="
                f"{self.max_message_bytes}; raise message.max.bytes (and the topic's max.message.bytes) "
                f"or send smaller records (a reference to the payload, chunks)",
            ))
        partitions = t.partitions
        if partition < 0:
            n = len(partitions)
            if key is None or self.partitioner == "random":
                if key is None and self.sticky_keys:
                    p = (murmur2(b"") & 0x7FFFFFFF) % n
                else:
                    p = self.sticky.choose(self.sim.now, n)
            else:
                p = self._keyed_partition(self._hash_cache[t], key, n)
            target = partitions[p]
        else:
            if partition >= len(partitions):
                raise UnknownTopicOrPartition(KafkaError(
                    "_UNKNOWN_PARTITION",
                    f"partition {partition} of topic {topic!r} does not exist: it has partitions "
                    f"0..{len(partitions) - 1}",
                ))
            target = partitions[partition]
        if self._queued + self._in_flight >= self.queue_max:
            raise BufferError(
                f"Local: Queue full: producer {self.name} holds {self.queue_max} undelivered records "
                f"(queue.buffering.max.messages); call poll() or flush() to let deliveries complete"
            )
        batch = self._open.get(target)
        if batch is None:
            batch = self._open[target] = ProduceRequest(self, target, self.sim.now)
            if self._linger_handle is None:
                self._linger_handle = self.sim.call_later(self.linger, self._linger_expired)
        batch.keys.append(key)
        batch.values.append(value)
        batch.timestamps.append(timestamp if timestamp > 0 else int(self.sim.now * 1000))
        if headers is not None or batch.headers is not None:
            if batch.headers is None:
                batch.headers = [None] * (len(batch.keys) - 1)
            batch.headers.append(headers)
        callback = on_delivery or callback
        if callback is not None or batch.callbacks is not None:
            if batch.callbacks is None:
                batch.callbacks = [None] * (len(batch.keys) - 1)
            batch.callbacks.append(callback)
        batch.size += size
        if size > batch.max_size:
            batch.max_size = size
        self._queued += 1
        self._room -= 1
        self.produced += 1
        if self.transaction is not None:
            self.transaction.add_partition(target)
        if self.sim.tracing:
            self.sim.log(self.name, "produced", topic=topic, partition=target.index, key=key)
        if len(batch.keys) >= self.batch_max:
            self._send(self._open.pop(target))

    def _keyed_partition(self, cache: dict[Any, int], key: bytes, n: int) -> int:
        """The keyed partition, remembered per topic (``cache[None]`` holds the partition count it is for)."""
        if cache[None] != n:
            cache.clear()
            cache[None] = n
        p = partition_for(self.partitioner, key, n)
        if len(cache) <= 65536:
            cache[key] = p
        return p

    @staticmethod
    def _headers(headers: Any) -> list[tuple[str, bytes | None]]:
        items = headers.items() if isinstance(headers, dict) else headers
        result = []
        for item in items:
            name, data = item
            if not isinstance(name, str):
                raise TypeError(f"header names must be str, got {name!r}")
            if isinstance(data, str):
                data = data.encode()
            result.append((name, data))
        return result

    # -- sending --------------------------------------------------------------------------
    def _linger_expired(self) -> None:
        self._linger_handle = None
        self._send_all()

    def _send_all(self) -> None:
        opened = self._open
        self._open = {}
        for batch in opened.values():
            self._send(batch)

    def _send(self, batch: ProduceRequest) -> None:
        count = len(batch.keys)
        if batch.partition.topic.max_message_bytes < self.max_message_bytes + RECORD_OVERHEAD:
            headers = batch.headers
            for i, (key, value) in enumerate(zip(batch.keys, batch.values)):  # the broker checks each record
                size = record_size(key, value, headers[i] if headers is not None else None)
                if size > batch.max_size:
                    batch.max_size = size
        self._queued -= count
        self._in_flight += count
        batch.acks = self.acks
        if self.idempotent:
            partition = batch.partition
            seq = self._sequences.get(partition, 0)
            self._sequences[partition] = seq + count
            batch.pid = self.pid
            batch.epoch = self.epoch
            batch.base_seq = seq
            batch.transactional = self.transaction is not None
        self._transmit(batch)
        if batch.acks == 0:
            self._delivered(batch, None, OFFSET_INVALID)

    def _transmit(self, batch: ProduceRequest) -> None:
        batch.attempts += 1
        sim = self.sim
        if batch.acks != 0:
            batch.timer = sim.call_later(self.request_timeout, self._request_timed_out, batch)
        sim.call_later(self.cluster.network_delay, self.cluster.handle_produce, batch)

    def _request_timed_out(self, batch: ProduceRequest) -> None:
        batch.timer = None
        if not batch.done:
            self._retry_or_fail(batch, "_TIMED_OUT")

    def handle_response(self, response: tuple[ProduceRequest, str | None, int]) -> None:
        """A produce response arrives (hook for fault injection)."""
        batch, error, base = response
        if batch.done:
            return  # a late answer to a request already retried and settled
        if batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None
        if error is None:
            self._delivered(batch, None, base)
        elif error == "DUPLICATE_SEQUENCE_NUMBER" and batch.pid >= 0:
            # The leader has written this sequence before but no longer remembers the batch's offsets
            # (it keeps the last five): the Java client's Sender completes the batch as a success without
            # an offset, and so does librdkafka. Failing it would call a written record lost.
            self._delivered(batch, None, OFFSET_INVALID)
        else:
            self._retry_or_fail(batch, error)

    def _retry_or_fail(self, batch: ProduceRequest, error: str) -> None:
        retriable = error in _RETRIABLE or (self.idempotent and error == "OUT_OF_ORDER_SEQUENCE_NUMBER")
        if retriable and batch.attempts <= self.retries and \
                self.sim.now + self.retry_backoff - batch.created < self.message_timeout:
            if self.sim.tracing:
                self.sim.log(self.name, "retry", topic=batch.partition.topic.name, partition=batch.partition.index,
                             error=error, attempt=batch.attempts)
            self.sim.call_later(self.retry_backoff, self._resend, batch)
            return
        if retriable:  # out of time for another attempt: fail when message.timeout.ms expires
            deadline = batch.created + self.message_timeout
            if deadline > self.sim.now:
                self.sim.call_at(deadline, self._timed_out, batch)
                return
            error = "_MSG_TIMED_OUT"
        self._delivered(batch, error, OFFSET_INVALID)

    def _timed_out(self, batch: ProduceRequest) -> None:
        self._delivered(batch, "_MSG_TIMED_OUT", OFFSET_INVALID)

    def _resend(self, batch: ProduceRequest) -> None:
        if batch.partition.deleted:
            self._delivered(batch, "UNKNOWN_TOPIC_OR_PART", OFFSET_INVALID)
            return
        self._transmit(batch)

    def _delivered(self, batch: ProduceRequest, error: str | None, base: int) -> None:
        if batch.done:
            return
        batch.done = True
        count = len(batch.keys)
        self._in_flight -= count
        self._room += count
        counters = self.cluster.counters
        partition = batch.partition
        if error is None:
            counters.acknowledged += count
        else:
            counters.failed[error] = counters.failed.get(error, 0) + count
            if self.idempotent and self.transaction is None and batch.base_seq >= 0:
                # The sequence numbers of a failed batch leave a gap the leader would never accept:
                # like librdkafka (KIP-360), bump the epoch and restart sequences at 0.
                self.epoch += 1
                self._sequences.clear()
        if self.sim.tracing:
            self.sim.log(self.name, "acked" if error is None else "delivery_failed", topic=partition.topic.name,
                         partition=partition.index, offset=base, count=count, error=error)
        if self.transaction is not None and error is not None:
            self.transaction.batch_failed(error)
        on_delivery = self.on_delivery
        callbacks = batch.callbacks
        if (callbacks is not None or on_delivery is not None) and not (self.only_errors and error is None):
            kafka_error = KafkaError(error) if error is not None else None
            name = partition.topic.name
            ts_type = TIMESTAMP_LOG_APPEND_TIME if partition.topic.log_append_time else TIMESTAMP_CREATE_TIME
            headers = batch.headers
            reports = self._reports
            for i in range(count):
                callback = callbacks[i] if callbacks is not None else None
                callback = callback or on_delivery
                if callback is None:
                    continue
                offset = base + i if base >= 0 else OFFSET_INVALID
                message = make_message(name, partition.index, offset, batch.keys[i], batch.values[i],
                                       headers[i] if headers is not None else None, ts_type, batch.timestamps[i],
                                       kafka_error)
                reports.append((callback, kafka_error, message))
        if self._waiters and self._queued + self._in_flight == 0:
            waiters = self._waiters
            self._waiters = []
            for event in waiters:
                event.succeed(0)

    # -- serving delivery reports --------------------------------------------------------------
    def poll(self, timeout: float | None = None) -> int:
        """Serve queued delivery reports (calling ``on_delivery``); returns how many were served.

        At the top level, a non-zero ``timeout`` (``None`` or negative: no limit) runs the
        simulation until a report is ready, nothing is left in flight, or ``timeout`` virtual
        seconds pass; inside a kernel process it returns at once.
        """
        if not self._reports and timeout != 0 and not in_process(self.sim):
            drive(self.sim, lambda: bool(self._reports) or self._idle(), timeout)
        return self._serve()

    def _serve(self) -> int:
        reports = self._reports
        if not reports:
            return 0
        self._reports = []
        for callback, error, message in reports:
            try:
                callback(error, message)
            except Exception as exc:  # a learner's callback never stops the producer
                self.errors.append((self.sim.now, "on_delivery", exc))
                self.cluster.record_error(f"{self.name}.on_delivery", exc)
        return len(reports)

    def flush(self, timeout: float | None = None) -> int:
        """Send everything now and wait until it is delivered; returns how many records are still undelivered.

        At the top level this runs the simulation (``timeout`` in virtual seconds, ``None``
        = as long as needed). Inside a kernel process use ``yield producer.flush_event()``.
        """
        if in_process(self.sim):
            raise StateError(KafkaError(
                "_STATE",
                f"producer {self.name}: flush() cannot block inside a kernel process; "
                f"use `yield producer.flush_event()` there",
            ))
        self._flush_now()
        drive(self.sim, self._idle, timeout)
        self._serve()
        return len(self)

    def _idle(self) -> bool:
        return self._queued + self._in_flight == 0

    def _flush_now(self) -> None:
        if self._linger_handle is not None:
            self._linger_handle.cancel()
            self._linger_handle = None
        self._send_all()

    def flush_event(self) -> Event:
        """An event that succeeds when every queued record has been delivered (for kernel processes).

        Delivery reports are served (callbacks called) when the event fires.
        """
        self._flush_now()
        event = self.sim.event()
        event.add_callback(lambda _: self._serve())
        if self._queued + self._in_flight == 0:
            event.succeed(0)
        else:
            self._waiters.append(event)
        return event

    def __len__(self) -> int:
        """Records not yet delivered plus delivery reports not yet served (confluent-kafka's outq length)."""
        return self._queued + self._in_flight + len(self._reports)

    def pending_count(self) -> int:
        """Records produced but not yet reported delivered or failed (for the ledger)."""
        return self._queued + self._in_flight

    def purge(self, in_queue: bool = True, in_flight: bool = True, blocking: bool = True) -> None:
        """Fail records still in the local queue with ``_PURGE_QUEUE`` (in-flight ones are left to finish)."""
        if not in_queue:
            return
        opened = self._open
        self._open = {}
        for batch in opened.values():
            count = len(batch.keys)
            self._queued -= count
            self._in_flight += count
            self._delivered(batch, "_PURGE_QUEUE", OFFSET_INVALID)

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> ClusterMetadata:
        from mqlab.kafka.admin import cluster_metadata

        return cluster_metadata(self.cluster, topic)

    def close(self, timeout: float | None = None) -> int:
        """Flush (at the top level) and refuse further produce() calls."""
        remaining = 0 if in_process(self.sim) else self.flush(timeout)
        self._closed = True
        self._plain = False
        return remaining

    # -- transactions (see mqlab.kafka.transactions) ------------------------------------------------
    def _txn(self) -> ProducerTransaction:
        if self.transaction is None:
            raise KafkaException(KafkaError(
                "_STATE",
                f"producer {self.name}: transactions need a transactional.id in the producer config",
            ))
        return self.transaction

    def init_transactions(self, timeout: float | None = None) -> None:
        """Register the transactional.id, fence older instances and abort their open transaction."""
        self._txn().init()

    def begin_transaction(self) -> None:
        self._txn().begin()

    def send_offsets_to_transaction(self, positions: list[Any], group_metadata: Any,
                                    timeout: float | None = None) -> None:
        """Add a consumer group's offsets to the transaction (consume-transform-produce)."""
        self._txn().send_offsets(positions, group_metadata)

    def commit_transaction(self, timeout: float | None = None) -> None:
        """Flush, then commit: markers are written and the offsets sent with the transaction are committed."""
        if self._queued + self._in_flight:
            if in_process(self.sim):
                raise StateError(KafkaError(
                    "_STATE",
                    f"producer {self.name}: records are still in flight; inside a kernel process, "
                    f"`yield producer.flush_event()` before commit_transaction()",
                ))
            self.flush(timeout)
        self._txn().end(commit=True)

    def abort_transaction(self, timeout: float | None = None) -> None:
        """Abort: purge what is queued, then write abort markers; read_committed consumers skip the records."""
        self.purge()
        if self._in_flight and not in_process(self.sim):
            self.flush(timeout)
        self._txn().end(commit=False)

    def __repr__(self) -> str:
        return f"<Producer {self.name} acks={self.acks} pending={self._queued + self._in_flight}>"

