"""A Kafka consumer that can crash: poll, handle, commit, in a kernel process.

:class:`KafkaWorker` runs a :class:`~mqlab.kafka.consumer.Consumer` of one
group on one topic, with ``enable.auto.commit=false`` so the commit is where
``ack_mode`` puts it: after the effect (at-least-once: a crash before the
commit makes the next owner of the partition read the record again) or before
it (at-most-once: a crash after the commit skips the record for good, counted
in the fault ledger as lost by ``crash-after_ack``).

A crash is ``consumer.crash()``: no leave, no commit; the group notices after
``session.timeout.ms`` and the partitions move. After ``restart_after`` seconds
the worker starts a new consumer in the same group. Kafka has no per-record
negative acknowledgement, so a failing handler is the application's choice
(``on_error``):

* ``"retry"``: seek back to the record and read it again at once. A poison
  record blocks its whole partition (the retry storm, Kafka style);
* ``"skip"``: log it, commit past it (the record's effect is lost, on purpose);
* ``"dead_letter"``: hand it to ``dead_letter(message, error)`` (for example
  :class:`~mqlab.patterns.kafka_dlt.DeadLetterTopic.send`), then commit past it.

``hold(message)`` returns seconds to wait before handling a record (a retry
topic's consumer waits until the record is due, blocking the records behind it,
as Spring Kafka's non-blocking retries pause the partition).

Records are identified by their key (see :func:`~mqlab.faults.kafka.message_id_from_key`);
``attempt`` counts how often this worker read that topic-partition-offset.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from mqlab.faults.checks import check_choice, check_duration
from mqlab.faults.crash import CrashPoint, CrashSchedule
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.kafka import message_id_from_key
from mqlab.faults.ledger import FaultLedger
from mqlab.faults.slow import LatencyProfile
from mqlab.faults.worker import ModelWorker
from mqlab.kafka.consumer import Consumer
from mqlab.kafka.errors import KafkaException
from mqlab.kafka.message import TopicPartition

if TYPE_CHECKING:
    from mqlab.kafka.cluster import Cluster
    from mqlab.kafka.message import Message
    from mqlab.sim import Event

__all__ = ["KAFKA_ON_ERROR", "KafkaWorker"]

KAFKA_ON_ERROR = ("retry", "skip", "dead_letter")


class KafkaWorker(ModelWorker):
    """One consumer process of group ``group_id`` on ``topic``. States: up -> down (crashed) -> up."""

    def __init__(
        self,
        cluster: Cluster,
        topic: str,
        group_id: str,
        handler: Callable[[Any, Any], Any],
        *,
        name: str = "worker",
        service_time: LatencyProfile | float = 0.01,
        ack_mode: str = "after_effect",
        on_error: str = "retry",
        dead_letter: Callable[[Message, str], Any] | None = None,
        crash: CrashSchedule | None = None,
        ledger: FaultLedger | None = None,
        config: dict[str, Any] | None = None,
        poll_timeout: float = 1.0,
        hold: Callable[[Message], float] | None = None,
    ) -> None:
        super().__init__(
            cluster.sim, handler, name=name, service_time=service_time, ack_mode=ack_mode, crash=crash, ledger=ledger
        )
        self.cluster = cluster
        self.topic = topic
        self.group_id = group_id
        self.on_error = check_choice("on_error", on_error, KAFKA_ON_ERROR)
        if self.on_error == "dead_letter" and not callable(dead_letter):
            raise InvalidParameter(
                "on_error='dead_letter' needs dead_letter=callable(message, error), e.g. DeadLetterTopic(...).send"
            )
        self.dead_letter = dead_letter
        self.hold = hold
        self.config = {"auto.offset.reset": "earliest", **(config or {}), "group.id": group_id,
                       "enable.auto.commit": False}
        self.poll_timeout = check_duration("poll_timeout", poll_timeout, allow_zero=False)
        self._reads: dict[tuple[int, int], int] = {}
        self.commit_errors: list[str] = []
        self.consumer: Consumer
        self._start()

    def _start(self) -> None:
        self.up = True
        self.consumer = Consumer(self.cluster, dict(self.config))
        self.consumer.subscribe([self.topic])
        self.sim.process(self._run(self.consumer), name=f"{self.name}#{self.crashes + 1}")

    def _commit(self, consumer: Consumer, message: Message) -> None:
        try:
            consumer.commit(message=message, asynchronous=False)
        except KafkaException as error:  # fenced after a rebalance: the next owner reads it again
            self.commit_errors.append(str(error))

    def _run(self, consumer: Consumer) -> Generator[Event, Any, None]:
        sim = self.sim
        while True:
            message = yield consumer.poll_event(self.poll_timeout)
            if consumer.closed_or_crashed:
                return
            if message is None or message.error() is not None:
                continue
            if self.hold is not None:  # a retry topic's consumer waits until the record is due
                wait = self.hold(message)
                if wait > 0:
                    yield sim.timeout(wait)
                    if consumer.closed_or_crashed:
                        return
            place = (message.partition(), message.offset())
            attempt = self._reads[place] = self._reads.get(place, 0) + 1
            message_id = message_id_from_key(message.key())
            self._record(message_id, attempt, attempt > 1)
            point = self._crash_point()
            yield sim.timeout(self._service_seconds())
            if point is CrashPoint.BEFORE_EFFECT:
                self._crash(consumer, message_id, point)
                return
            if self.ack_mode == "before_effect":
                self._commit(consumer, message)
                if point is CrashPoint.AFTER_ACK:
                    self._lose(message_id, "committed, crashed before the effect")
                    self._crash(consumer, message_id, point)
                    return
                self._handle(message_id, message.value(), attempt)
                if point is CrashPoint.BEFORE_ACK:
                    self._crash(consumer, message_id, point)
                    return
                continue
            error = self._handle(message_id, message.value(), attempt)
            if point is CrashPoint.BEFORE_ACK:
                self._crash(consumer, message_id, point)
                return
            if error is not None and self.on_error == "retry":
                consumer.seek(TopicPartition(message.topic(), message.partition(), message.offset()))
                continue
            if error is not None and self.on_error == "dead_letter":
                try:
                    self.dead_letter(message, error)  # type: ignore[misc]
                except Exception as failure:  # the learner's dead-letter function: keep it, retry the record
                    self.commit_errors.append(f"dead_letter failed: {type(failure).__name__}: {failure}")
                    consumer.seek(TopicPartition(message.topic(), message.partition(), message.offset()))
                    continue
            self._commit(consumer, message)
            if point is CrashPoint.AFTER_ACK:
                self._crash(consumer, message_id, point)
                return

    def _crash(self, consumer: Consumer, message_id: Any, point: CrashPoint) -> None:
        self._log_crash(message_id, point)
        consumer.crash()
        self.sim.call_later(self.crash.restart_after, self._start)  # type: ignore[union-attr]

    def stop(self) -> None:
        """Close the consumer (commits nothing more: auto-commit is off) and stop polling."""
        self.up = False
        self.consumer.close()
