"""Dead-letter topics, retry topics, share-group archiving and DLQ replay on the Kafka model.

Kafka has no broker-side dead-lettering for consumer groups: a record is never
"rejected", a consumer just moves its offset. The patterns live in the consumer:

* :class:`DeadLetterTopic`: publish a record the handler cannot process to
  ``<topic>.DLT`` (the default of Spring Kafka's ``DeadLetterPublishingRecoverer``
  in its 2.x and 3.0 javadoc; its retry-topic feature and later releases use
  ``-dlt``: pass ``suffix=`` to match yours) with the headers Spring writes: ``kafka_dlt-original-topic``,
  ``-original-partition``, ``-original-offset``, ``-exception-fqcn``,
  ``-exception-message``; then the consumer commits past it.
* :class:`RetryTopics`: non-blocking retries with exponential backoff (Spring's
  ``@RetryableTopic``): a failed record goes to ``<topic>-retry-<n>``, whose
  consumer waits until the record is due (the policy's delay for retry n, with
  jitter) and tries again; after ``policy.max_attempts`` tries it goes to the
  DLT. The main partition is never blocked, at the price of ordering.
* Share groups (KIP-932) *do* count deliveries: a record released (or whose
  lock expired) after ``group.share.delivery.count.limit`` deliveries (default 5)
  is **archived**, never delivered again, and a ``REJECT`` archives at once.
  Kafka 4.x keeps no copy of archived records anywhere a client can read;
  :class:`ShareWorker` notes each record it knows will be archived in a
  :class:`ShareArchive`, which is a dead-letter store for the replay tool.
* :class:`KafkaDeadLetters`: a DLT as a :class:`~mqlab.patterns.dlq.DeadLetterStore`.
  A record cannot be deleted from a log: "removing" one after its replay is
  remembered by the store (and the store's group commits past every record
  whose predecessors are all replayed, so a new store resumes there).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mqlab.faults.checks import check_choice, check_duration
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.kafka import kafka_key, message_id_from_key
from mqlab.faults.kafka_worker import KafkaWorker
from mqlab.faults.standin import DeadLetter, HandlerError
from mqlab.kafka.consumer import Consumer
from mqlab.kafka.errors import KafkaException
from mqlab.kafka.message import OFFSET_BEGINNING, TopicPartition
from mqlab.kafka.share import AcknowledgeType, ShareConsumer
from mqlab.patterns.backoff import RetryPolicy
from mqlab.patterns.dlq import DLQReplayer, InMemoryDLQ, NoSuchDeadLetter

if TYPE_CHECKING:
    from mqlab.kafka.cluster import Cluster
    from mqlab.kafka.message import Message
    from mqlab.kafka.producer import Producer
    from mqlab.sim import Event

__all__ = [
    "DLT_SUFFIX",
    "DeadLetterTopic",
    "KafkaDeadLetters",
    "RetryTopics",
    "ShareArchive",
    "ShareWorker",
    "kafka_publish",
    "kafka_replayer",
]

DLT_SUFFIX = ".DLT"
"""Spring Kafka's classic dead-letter topic suffix (``DeadLetterPublishingRecoverer``, 2.x / 3.0)."""


def _header(message: Message, name: str) -> str | None:
    for key, value in message.headers() or ():
        if key == name:
            return value.decode() if isinstance(value, bytes) else value
    return None


class DeadLetterTopic:
    """Sends failed records to ``<topic>.DLT`` with Spring's ``kafka_dlt-*`` headers; ``sent`` counts them."""

    def __init__(self, producer: Producer, *, suffix: str = DLT_SUFFIX, reason: str = "handler_error") -> None:
        self.producer = producer
        self.suffix = suffix
        self.reason = reason
        self.sent = 0

    def topic_for(self, topic: str) -> str:
        return f"{topic}{self.suffix}"

    def send(self, message: Message, error: str, *, attempts: int = 1, original_topic: str | None = None) -> None:
        """Publish ``message`` (which failed with ``error``) to its topic's DLT."""
        original = original_topic or _header(message, "kafka_dlt-original-topic") or message.topic()
        kind, _, text = error.partition(": ")
        headers = [
            ("kafka_dlt-original-topic", original),
            ("kafka_dlt-original-partition", str(message.partition())),
            ("kafka_dlt-original-offset", str(message.offset())),
            ("kafka_dlt-exception-fqcn", kind),
            ("kafka_dlt-exception-message", text or error),
            ("mqlab-dlt-reason", self.reason),
            ("mqlab-attempts", str(attempts)),
        ]
        self.producer.produce(self.topic_for(original), key=message.key(), value=message.value(), headers=headers)
        self.sent += 1


class RetryTopics:
    """Non-blocking retries through ``<topic>-retry-<n>`` topics, then the DLT (see the module docstring).

    Starts one :class:`~mqlab.faults.kafka_worker.KafkaWorker` on ``topic`` (group
    ``group_id``) and one per retry topic (group ``<group_id>-retry-<n>``), all
    calling ``handler(message_id, body)``. ``workers`` lists them; ``scheduled``
    lists ``(message id, attempt, delay)`` for every retry sent.
    """

    def __init__(
        self,
        cluster: Cluster,
        producer: Producer,
        topic: str,
        group_id: str,
        handler: Callable[[Any, Any], Any],
        policy: RetryPolicy,
        *,
        rng: random.Random,
        service_time: float = 0.01,
    ) -> None:
        if not isinstance(policy, RetryPolicy) or policy.max_attempts is None:
            raise InvalidParameter(
                "policy must be a RetryPolicy with max_attempts set (the last try sends the record to the DLT), "
                f"e.g. RetryPolicy(base=1, cap=60, max_attempts=4); got {policy!r}"
            )
        self.cluster = cluster
        self.producer = producer
        self.topic = topic
        self.policy = policy
        self.rng = rng
        self.dlt = DeadLetterTopic(producer, reason="retries_exhausted")
        self.retries = policy.max_attempts - 1
        self.scheduled: list[tuple[Any, int, float]] = []
        partitions = len(cluster.topic(topic).partitions)
        for level in range(1, self.retries + 1):
            name = self.retry_topic(level)
            if name not in cluster.topics:
                cluster.create_topic(name, partitions, 1)
        if self.dlt.topic_for(topic) not in cluster.topics:
            cluster.create_topic(self.dlt.topic_for(topic), partitions, 1)
        self.workers = [
            KafkaWorker(cluster, topic, group_id, handler, name=f"{group_id}:main", on_error="dead_letter",
                        dead_letter=self._forward, service_time=service_time)
        ]
        for level in range(1, self.retries + 1):
            self.workers.append(KafkaWorker(
                cluster, self.retry_topic(level), f"{group_id}-retry-{level}", handler,
                name=f"{group_id}:retry-{level}", on_error="dead_letter", dead_letter=self._forward,
                service_time=service_time, hold=self._due_in,
            ))

    def retry_topic(self, level: int) -> str:
        return f"{self.topic}-retry-{level}"

    def _due_in(self, message: Message) -> float:
        due = _header(message, "mqlab-retry-due-ms")
        return 0.0 if due is None else max(0.0, int(due) / 1000 - self.cluster.sim.now)

    def _forward(self, message: Message, error: str) -> None:
        attempts = int(_header(message, "mqlab-attempts") or 1)
        message_id = message_id_from_key(message.key())
        if self.policy.gives_up_after(attempts):
            self.dlt.send(message, error, attempts=attempts, original_topic=self.topic)
            return
        delay = self.policy.delay(attempts, self.rng)
        self.scheduled.append((message_id, attempts + 1, delay))
        due_ms = round((self.cluster.sim.now + delay) * 1000)
        headers = [("mqlab-attempts", str(attempts + 1)), ("mqlab-retry-due-ms", str(due_ms)),
                   ("kafka_dlt-original-topic", self.topic), ("kafka_dlt-exception-message", error)]
        self.producer.produce(self.retry_topic(attempts), key=message.key(), value=message.value(), headers=headers)


class KafkaDeadLetters:
    """A dead-letter topic as a :class:`~mqlab.patterns.dlq.DeadLetterStore` (every partition, from the start).

    Reason from ``mqlab-dlt-reason``, error from ``kafka_dlt-exception-fqcn`` (or
    ``errors``), origin from ``kafka_dlt-original-topic``, attempts from
    ``mqlab-attempts``, time from the record's timestamp.
    """

    def __init__(self, cluster: Cluster, dlt: str, *, group_id: str = "dlq-tool",
                 errors: Mapping[Any, str] | None = None) -> None:
        self.cluster = cluster
        self.sim = cluster.sim
        self.dlt = dlt
        self.errors = errors if errors is not None else {}
        self.consumer = Consumer(cluster, {"group.id": group_id, "enable.auto.commit": False})
        partitions = len(cluster.topic(dlt).partitions)
        self.consumer.assign([TopicPartition(dlt, p, OFFSET_BEGINNING) for p in range(partitions)])
        self._held: dict[Any, tuple[Message, DeadLetter]] = {}
        self.removed = 0

    def _pull(self) -> None:
        while True:
            message = self.consumer.poll(0)
            if message is None:
                return
            if message.error() is not None:
                continue
            letter = self._letter(message)
            self._held.pop(letter.message_id, None)
            self._held[letter.message_id] = (message, letter)

    def _letter(self, message: Message) -> DeadLetter:
        message_id = message_id_from_key(message.key())
        error = _header(message, "kafka_dlt-exception-fqcn") or self.errors.get(message_id)
        return DeadLetter(
            message_id, message.value(), _header(message, "mqlab-dlt-reason") or "dead_letter_topic", error,
            int(_header(message, "mqlab-attempts") or 1), message.timestamp()[1] / 1000,
            _header(message, "kafka_dlt-original-topic") or self.dlt.removesuffix(DLT_SUFFIX),
        )

    def messages(self) -> Sequence[DeadLetter]:
        self._pull()
        return tuple(letter for _, letter in self._held.values())

    def remove(self, message_id: Any) -> DeadLetter:
        self._pull()
        held = self._held.pop(message_id, None)
        if held is None:
            raise NoSuchDeadLetter(f"dead-letter topic {self.dlt!r} holds no unreplayed record {message_id!r}")
        message, letter = held
        self.removed += 1
        self._commit_prefix(message.partition())
        return letter

    def _commit_prefix(self, partition: int) -> None:
        """Commit past every record of ``partition`` read so far that is no longer held."""
        held = [m.offset() for m, _ in self._held.values() if m.partition() == partition]
        position = self.consumer.position([TopicPartition(self.dlt, partition)])[0].offset
        upto = min(held) if held else position
        if upto > 0:
            with contextlib.suppress(KafkaException):  # an optimisation for a later store: never fatal
                self.consumer.commit(offsets=[TopicPartition(self.dlt, partition, upto)], asynchronous=False)

    def release(self) -> int:
        """Stop reading: close this store's consumer (what was not replayed stays in the log, uncommitted)."""
        held = len(self._held)
        self._held.clear()
        self.consumer.close()
        return held

    def __len__(self) -> int:
        return len(self.messages())


def kafka_publish(producer: Producer) -> Callable[[str, DeadLetter], bool]:
    """A replay publish function: ``produce`` to topic ``destination`` with the message id as key."""

    def publish(destination: str, letter: DeadLetter) -> bool:
        try:
            producer.produce(destination, key=kafka_key(letter.message_id), value=letter.body,
                             headers=[("replayed-from", letter.origin), ("replay-reason", letter.reason)])
        except (KafkaException, BufferError):
            return False
        return True

    return publish


def kafka_replayer(cluster: Cluster, producer: Producer, dlt: str, *,
                   errors: Mapping[Any, str] | None = None) -> DLQReplayer:
    """The DLQ replay tool on a Kafka dead-letter topic (one interface on every model)."""
    return DLQReplayer(cluster.sim, KafkaDeadLetters(cluster, dlt, errors=errors), kafka_publish(producer))


class ShareArchive(InMemoryDLQ):
    """The records a share group archived, as a dead-letter store (Kafka keeps no such list: the worker does)."""


SHARE_ON_ERROR = ("release", "reject")


class ShareWorker:
    """A share-group consumer process: ``poll``, handle each record, ``ACCEPT`` / ``RELEASE`` / ``REJECT``.

    On a handler error the record is released for another delivery
    (``on_error="release"``) or rejected (``"reject"``, archived at once). A
    record released at the group's delivery-count limit is archived by the
    broker: the worker records it in ``archive`` (reason
    ``delivery_count_limit`` or ``rejected``, the error, the delivery count).
    """

    def __init__(self, cluster: Cluster, topic: str, group_id: str, handler: Callable[[Any, Any], Any], *,
                 name: str = "share-worker", service_time: float = 0.01, on_error: str = "release",
                 archive: ShareArchive | None = None, poll_timeout: float = 1.0) -> None:
        if not callable(handler):
            raise InvalidParameter(f"handler must be callable as handler(message_id, body), got {handler!r}")
        self.cluster = cluster
        self.sim = cluster.sim
        self.handler = handler
        self.name = name
        self.service_time = check_duration("service_time", service_time)
        self.on_error = check_choice("on_error", on_error, SHARE_ON_ERROR)
        self.archive = archive if archive is not None else ShareArchive(f"{group_id}:archived")
        self.poll_timeout = check_duration("poll_timeout", poll_timeout, allow_zero=False)
        self.group = cluster.share_group(group_id)
        self.consumer = ShareConsumer(cluster, {"group.id": group_id, "share.acknowledgement.mode": "explicit"})
        self.consumer.subscribe([topic])
        self.errors: list[HandlerError] = []
        self.handled = 0
        self.accepted = 0
        self._stopped = False
        self.process = self.sim.process(self._run(), name=name)

    def stop(self) -> None:
        """Close the share consumer (its acquired records are released) and end the process."""
        self._stopped = True
        self.consumer.close()

    def _run(self) -> Generator[Event, Any, None]:
        sim = self.sim
        consumer = self.consumer
        while True:
            messages = yield consumer.poll_event(self.poll_timeout)
            if self._stopped:
                return
            for message in messages or ():
                message_id = message_id_from_key(message.key())
                count = message.delivery_count() or 1
                yield sim.timeout(self.service_time)
                self.handled += 1
                try:
                    self.handler(message_id, message.value())
                except Exception as error:  # a learner's handler never crashes the run
                    text = f"{type(error).__name__}: {error}"
                    self.errors.append(HandlerError(sim.now, message_id, count, text))
                    reject = self.on_error == "reject"
                    consumer.acknowledge(message, AcknowledgeType.REJECT if reject else AcknowledgeType.RELEASE)
                    if reject or count >= self.group.delivery_count_limit:
                        reason = "rejected" if reject else "delivery_count_limit"
                        self.archive.add(DeadLetter(message_id, message.value(), reason, text.split(":", 1)[0],
                                                    count, sim.now, message.topic()))
                    continue
                consumer.acknowledge(message, AcknowledgeType.ACCEPT)
                self.accepted += 1
