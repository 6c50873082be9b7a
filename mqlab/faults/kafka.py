"""Faults on the Kafka model: a faulty link on the cluster's hooks, broker kills and restarts.

The Kafka model's cluster exposes the places a network sits: ``handle_produce``
(a produce request arriving at the leader), ``respond`` (its response leaving)
and ``fetch`` (a consumer's read). :class:`KafkaFaults` wraps the three on one
cluster instance so that every request and response crosses a
:class:`~mqlab.faults.link.Link`:

==================  ==========  ================================================================
hook                link kind   what a loss does
==================  ==========  ================================================================
``handle_produce``  message     the request never reaches the leader; the producer retries after
                                ``request.timeout.ms`` (30 s). With ``acks=0`` the producer had
                                already reported the records delivered: they are lost, and
                                ``Cluster.drop_request`` counts them in the model's
                                ``acknowledged_lost`` under the fault's name
``respond``         ack / nack  the records are written but the producer does not know: it
                                retries, and without ``enable.idempotence`` writes them again
                                (the model's ``duplicates``); with it the leader drops the copy
``fetch``           delivery    the fetch response is lost: the consumer gets nothing this time
                                and reads the same offsets on a later poll (nothing is lost:
                                Kafka's position is on the consumer side)
==================  ==========  ================================================================

Share consumers acquire records through their share group, not through
``fetch``, so a lost fetch does not touch them (a hook the model could add).

A duplicated produce request is appended twice unless the producer is
idempotent (the model counts it in ``duplicates``); a duplicated response is
ignored by the producer (the batch is already settled). Fetches are answered
at once in the model, so the link's latency and duplication do not apply to
them; only loss and partitions do.

Broker failures use the model's own rules: :func:`kill_kafka_broker` and
:func:`restart_kafka_broker` call ``kill_broker`` / ``restart_broker`` and add to
the fault ledger the acknowledged records the model reports lost by them (an
unclean leader election, or an ``acks=1`` write the new leader never copied).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mqlab.faults.errors import InvalidParameter
from mqlab.faults.ledger import FaultLedger
from mqlab.faults.link import Direction, Link

if TYPE_CHECKING:
    from mqlab.kafka.cluster import Cluster
    from mqlab.kafka.producer import Producer

__all__ = [
    "KafkaFaults",
    "KafkaPublisher",
    "kafka_key",
    "kill_kafka_broker",
    "message_id_from_key",
    "restart_kafka_broker",
]


class KafkaFaults:
    """Routes one cluster's produce requests, produce responses and fetches through ``link``.

    ``uninstall()`` puts the cluster's own methods back. ``lost`` counts the
    frames the link lost, by kind (``message``, ``response``, ``fetch``).
    """

    def __init__(self, cluster: Cluster, link: Link) -> None:
        if not isinstance(link, Link):
            raise InvalidParameter(f"link must be a mqlab.faults.Link, got {link!r}")
        self.cluster = cluster
        self.link = link
        self.sim = cluster.sim
        self._produce = cluster.handle_produce
        self._respond = cluster.respond
        self._fetch = cluster.fetch
        self._requests = 0
        self.lost = {"message": 0, "response": 0, "fetch": 0}
        cluster.handle_produce = self.handle_produce  # type: ignore[method-assign]
        cluster.respond = self.respond  # type: ignore[method-assign]
        cluster.fetch = self.fetch  # type: ignore[method-assign]

    def uninstall(self) -> None:
        """Restore the cluster's own hooks."""
        cluster = self.cluster
        cluster.handle_produce = self._produce  # type: ignore[method-assign]
        cluster.respond = self._respond  # type: ignore[method-assign]
        cluster.fetch = self._fetch  # type: ignore[method-assign]

    def _frame_id(self, request: Any) -> str:
        self._requests += 1
        return f"{request.partition.topic.name}-{request.partition.index}#{self._requests}"

    def handle_produce(self, request: Any) -> None:
        frame_id = self._frame_id(request)
        fate = self.link.send(Direction.TO_BROKER, "message", frame_id, self._produce, request)
        if fate == "lost":
            self.lost["message"] += 1
            # with acks=0 the producer already called these records delivered: the cluster counts them lost
            self.cluster.drop_request(request, self.link.last_fault or f"{self.link.name}.to_broker.loss")

    def respond(self, request: Any, error: str | None, base_offset: int) -> None:
        if request.acks == 0:
            self._respond(request, error, base_offset)
            return
        kind = "ack" if error is None else "nack"
        fate = self.link.send(Direction.TO_CLIENT, kind, self._frame_id(request), self._respond, request, error,
                              base_offset)
        if fate == "lost":
            self.lost["response"] += 1

    def fetch(
        self, client: Any, partition: Any, offset: int, limit: int, read_committed: bool
    ) -> tuple[list[Any], int]:
        frame_id = f"{partition.topic.name}-{partition.index}@{offset}"
        fate, _ = self.link.decide(Direction.TO_CLIENT, "delivery", frame_id)
        if fate == "lost":
            self.lost["fetch"] += 1
            return [], offset
        self.link.arrived(Direction.TO_CLIENT, "delivery", frame_id)
        return self._fetch(client, partition, offset, limit, read_committed)  # type: ignore[no-any-return]


def kafka_key(message_id: Any) -> bytes:
    """The record key a :class:`KafkaPublisher` gives ``message_id`` (its ``str``, UTF-8)."""
    return str(message_id).encode()


def message_id_from_key(key: bytes | None) -> Any:
    """Back from a record key to a pattern's message id: an int when the key is all digits, else the text."""
    if key is None:
        return None
    text = key.decode()
    return int(text) if text.isdigit() else text


class KafkaPublisher:
    """The publishing end the patterns' producers use, over a Kafka :class:`~mqlab.kafka.producer.Producer`.

    ``publish(message_id, body, on_confirm)`` is ``produce(topic, key=str(id), value=body)``;
    ``on_confirm(message_id, ok)`` runs from the delivery report. The producer's
    own retries (``retries``, ``request.timeout.ms``, ``message.timeout.ms``) and
    ``acks`` decide the guarantee: ``acks=0`` is at-most-once, ``acks=all`` with
    retries at-least-once, plus ``enable.idempotence`` no duplicates from retries.
    Delivery reports are served every ``poll_interval`` seconds (as an
    application's poll loop does).
    """

    def __init__(self, producer: Producer, topic: str, *, poll_interval: float = 0.01) -> None:
        self.producer = producer
        self.topic = topic
        self.sim = producer.sim
        self.poll_interval = poll_interval
        self._polling = False
        self.failed: list[tuple[Any, str]] = []

    def publish(self, message_id: Any, body: Any, on_confirm: Callable[[Any, bool], None] | None = None) -> None:
        def report(err: Any, msg: Any) -> None:
            if err is not None:
                self.failed.append((message_id, str(err)))
            if on_confirm is not None:
                on_confirm(message_id, err is None)

        self.producer.produce(self.topic, value=body, key=kafka_key(message_id), on_delivery=report)
        if not self._polling:
            self._polling = True
            self.sim.call_later(self.poll_interval, self._poll)

    def _poll(self) -> None:
        self.producer.poll(0)
        if self.producer.pending_count():
            self.sim.call_later(self.poll_interval, self._poll)
        else:
            self._polling = False


def _lost_total(cluster: Cluster) -> int:
    return sum(cluster.counters.acknowledged_lost.values())


def kill_kafka_broker(cluster: Cluster, broker_id: int, ledger: FaultLedger | None = None) -> int:
    """``cluster.kill_broker(broker_id)``; count in ``ledger`` the acknowledged records the model says it lost."""
    before = _lost_total(cluster)
    cluster.kill_broker(broker_id)
    lost = _lost_total(cluster) - before
    if ledger is not None:
        for _ in range(lost):
            ledger.lost(f"kafka.kill-broker-{broker_id}", "record")
    return lost


def restart_kafka_broker(cluster: Cluster, broker_id: int, ledger: FaultLedger | None = None) -> int:
    """``cluster.restart_broker(broker_id)`` (it may lead offline partitions again, truncating); count losses."""
    before = _lost_total(cluster)
    cluster.restart_broker(broker_id)
    lost = _lost_total(cluster) - before
    if ledger is not None:
        for _ in range(lost):
            ledger.lost(f"kafka.restart-broker-{broker_id}", "record")
    return lost
