"""The plug between a client and a broker model, so faults can sit in between.

A model joins the fault layer by offering two small protocols:

* :class:`BrokerEndpoint`: ``accept(message_id, body) -> bool`` takes one
  publish and says whether the broker confirmed it (a publisher confirm
  ``basic.ack`` / ``basic.nack`` in RabbitMQ, a produce acknowledged with
  ``acks=all`` in Kafka, a ``SendMessage`` response with a ``MessageId`` in SQS);
* :class:`DeliverySource`: ``attach`` a consumer that receives :class:`Delivery`
  records, ``ack`` / ``reject`` them by tag, ``detach`` it when its connection
  dies (unacknowledged deliveries go back to the queue).

:class:`Connection` is the client's side of a :class:`~mqlab.faults.link.Link`:
it carries publishes and acks to the broker and confirms and deliveries back,
each frame subject to the link's faults. A model adapter (a RabbitMQ channel, a
Kafka producer, an SQS client) implements the two protocols over the model's
real-shaped API; :mod:`mqlab.faults.standin` implements them with a minimal
generic broker so the patterns and scenarios run before any model is wired in.

Where the models let a fault layer in: the RabbitMQ model's
``Connection.transmit`` / ``Connection.receive`` carry every asynchronous frame
(and ``Connection.drop`` records a dropped publish in its ledger); the Kafka
model's cluster exposes ``handle_produce``, ``respond``, ``fetch``,
``kill_broker`` and ``restart_broker``. A model adapter routes those through a
:class:`~mqlab.faults.link.Link` so that the same loss, duplication, delay and
partition settings, and the same fault ledger, apply to every model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, runtime_checkable

from mqlab.faults.link import Direction, Link

__all__ = ["BrokerEndpoint", "Connection", "Delivery", "DeliverySource"]

ConfirmCallback = Callable[[Any, bool], None]


class Delivery(NamedTuple):
    """One delivery of a message to a consumer.

    ``attempt`` counts deliveries of this message, from 1 (RabbitMQ exposes
    ``redelivered`` = attempt > 1 and, on quorum queues, ``x-delivery-count``;
    SQS exposes ``ApproximateReceiveCount``).
    """

    tag: int
    message_id: Any
    body: Any
    attempt: int


@runtime_checkable
class BrokerEndpoint(Protocol):
    """The publishing side of a broker: accept one message, return True for a confirm, False for a nack."""

    def accept(self, message_id: Any, body: Any) -> bool: ...


@runtime_checkable
class DeliverySource(Protocol):
    """The consuming side of a broker."""

    def attach(self, name: str, deliver: Callable[[Delivery], None], prefetch: int) -> None: ...

    def detach(self, name: str) -> None: ...

    def ack(self, tag: int) -> None: ...

    def reject(self, tag: int, requeue: bool, reason: str = "rejected", error: str | None = None) -> None: ...


class Connection:
    """A client's connection to ``broker`` over ``link``: every frame crosses the link and its faults.

    Publishes travel as ``"message"`` frames to the broker; confirms come back
    as ``"ack"`` or ``"nack"`` frames; deliveries come back as ``"delivery"``
    frames; consumer acks and rejects go as ``"ack"`` and ``"nack"`` frames.
    Detaching is immediate: the broker notices a closed connection at once
    (a simplification: real brokers notice through heartbeats or a TCP reset).
    """

    def __init__(self, link: Link, broker: Any) -> None:
        self.link = link
        self.broker = broker

    # -- publishing -------------------------------------------------------------
    def publish(self, message_id: Any, body: Any, on_confirm: ConfirmCallback | None = None) -> None:
        """Send one message; ``on_confirm(message_id, ok)`` runs for each confirm that makes it back."""
        self.link.send(Direction.TO_BROKER, "message", message_id, self._at_broker, message_id, body, on_confirm)

    def _at_broker(self, message_id: Any, body: Any, on_confirm: ConfirmCallback | None) -> None:
        ok = self.broker.accept(message_id, body)
        if on_confirm is not None:
            kind = "ack" if ok else "nack"
            self.link.send(Direction.TO_CLIENT, kind, message_id, on_confirm, message_id, ok)

    # -- consuming ----------------------------------------------------------------
    def attach(self, name: str, deliver: Callable[[Delivery], None], prefetch: int) -> None:
        def over_link(delivery: Delivery) -> None:
            self.link.send(Direction.TO_CLIENT, "delivery", delivery.message_id, deliver, delivery)

        self.broker.attach(name, over_link, prefetch)

    def detach(self, name: str) -> None:
        self.broker.detach(name)

    def ack(self, tag: int) -> None:
        self.link.send(Direction.TO_BROKER, "ack", tag, self.broker.ack, tag)

    def reject(self, tag: int, requeue: bool, reason: str = "rejected", error: str | None = None) -> None:
        self.link.send(Direction.TO_BROKER, "nack", tag, self.broker.reject, tag, requeue, reason, error)
