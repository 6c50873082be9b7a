"""Faults on the RabbitMQ model: a faulty link under a pika-shaped connection, a crashing worker, restarts.

The RabbitMQ model sends every asynchronous frame through two doors of its
:class:`~mqlab.rabbitmq.connection.Connection`: ``transmit`` (client to broker:
publishes, acks, nacks, rejects, closes) and ``receive`` (broker to client:
deliveries, publisher confirms, returns, close notices). :class:`FaultyConnection`
overrides both and sends the frames that carry data across a
:class:`~mqlab.faults.link.Link`:

=================  ==========  ===========================================================
model frame        link kind   what a loss does
=================  ==========  ===========================================================
``basic_publish``  message     the publish never reaches the broker: the model's ledger
                               counts it in ``lost_in_transit`` and, under the link's fault
                               name, in ``lost_in_transit_by`` (via ``Connection.drop``)
``basic_ack``      ack         the delivery stays unacked until the channel closes, then is
                               redelivered (``redelivered=True``)
``basic_nack`` /   nack        likewise
``basic_reject``
delivery           delivery    the broker thinks it was delivered: unacked until the channel
                               closes; with ``auto_ack=True`` it is gone (``auto_acked``)
confirm            ack / nack  the publisher never learns; an at-least-once publisher resends
=================  ==========  ===========================================================

Close frames, returns and cancel notices cross with the link's latency and no
faults (losing them would only model a heartbeat timeout, which ends the same way).

A *duplicated* publish frame reaches the broker twice (a faulty network or proxy:
TCP itself never duplicates): the second copy goes through
``Connection.duplicate``, so the broker routes it again (a second message in the
queue) and confirms the same sequence number again, and the model's ledger counts
it in ``duplicated``, not as a new publish. A duplicated ack or a duplicated
delivery (whose handler then acks twice) acknowledges an unknown delivery tag, and
RabbitMQ closes the channel with 406 PRECONDITION_FAILED: the real consequence of
a double ack.

A lost ack or delivery leaves the delivery unacked until its channel closes: for
another reason (a crash, a restart, the end of the run), or because the broker's
``consumer_timeout`` (``Broker(sim, consumer_timeout=DEFAULT_CONSUMER_TIMEOUT)``,
RabbitMQ's 30 minutes; off by default in the model) closes it with 406
"delivery acknowledgement on channel N timed out".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mqlab.faults.checks import check_duration
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.ledger import FaultLedger
from mqlab.faults.link import Direction, Link
from mqlab.rabbitmq.channel import Channel
from mqlab.rabbitmq.connection import Connection
from mqlab.rabbitmq.consumer import Consumer
from mqlab.rabbitmq.errors import AMQPError
from mqlab.rabbitmq.properties import BasicProperties

if TYPE_CHECKING:
    from mqlab.rabbitmq.broker import Broker

__all__ = [
    "FaultyConnection",
    "RabbitPublisher",
    "connect_faulty",
    "message_id_of",
    "restart_rabbit",
    "schedule_rabbit_restart",
]

_KINDS = {"publish": "message", "ack": "ack", "nack": "nack"}
_ON_DELIVERY = Consumer.on_delivery
_ON_CONFIRM = Channel._on_confirm
ID_HEADER = "x-message-id"
"""The header that carries a pattern's message id (of any type) next to the AMQP ``message_id`` string."""


class FaultyConnection(Connection):
    """A :class:`~mqlab.rabbitmq.connection.Connection` whose data frames cross ``link``.

    Open one with :func:`connect_faulty`. The connection's own latency is 0: the
    link's hop latencies are the network delay.
    """

    link: Link

    def __init__(self, broker: Broker, name: str, latency: float) -> None:
        super().__init__(broker, name, latency)
        self._resending = False
        self._aliases: dict[tuple[int, int], int] = {}
        self.resent = 0
        """Kept for compatibility: duplicated publishes are now duplicates (``duplicated``), never resends."""
        self.resend_errors: list[AMQPError] = []
        self.duplicated: dict[str, int] = {"message": 0}
        """Extra copies of frames the link delivered through ``Connection.duplicate``, by kind."""
        self.lost: dict[str, int] = {"message": 0, "ack": 0, "nack": 0, "delivery": 0, "confirm": 0}
        """Frames the link lost, by kind (``confirm`` for publisher confirms)."""

    # -- client to broker -------------------------------------------------------------------------
    def transmit(self, handler: Callable[..., Any], *args: Any) -> None:
        if self._resending:  # the second copy of a duplicated publish: it is already at the broker
            handler(*args)
            return
        kind = _KINDS.get(self.frame_kind(handler))
        if kind is None:  # close and other control frames: latency, no faults
            self.sim.call_later(self.link.hops[Direction.TO_BROKER].latency, handler, *args)
            return
        if kind == "message":
            properties = args[2]
            frame_id = message_id_of(properties) if properties is not None else args[5] or None
            copies = [0]
            fate = self.link.send(Direction.TO_BROKER, kind, frame_id, self._publish_arrives, handler, args, copies)
        else:
            fate = self.link.send(Direction.TO_BROKER, kind, args[0], handler, *args)
        if fate == "lost":
            self.lost[kind] += 1
            self.drop(handler, *args, fault=self.link.last_fault)

    def _publish_arrives(self, handler: Callable[..., Any], args: tuple[Any, ...], copies: list[int]) -> None:
        copies[0] += 1
        if copies[0] == 1:
            handler(*args)
            return
        self.duplicated["message"] += 1
        self.duplicate(handler, *args, fault=f"{self.link.name}.{Direction.TO_BROKER.value}.duplicate")

    def original_seq(self, channel_number: int, seq: int) -> int:
        """The confirm sequence number of the publish that ``seq`` duplicated (``seq`` itself if none).

        A duplicated publish now carries its original sequence number, so this is ``seq``; kept for
        callers written when a duplicate was published again under a new number.
        """
        return self._aliases.get((channel_number, seq), seq)

    # -- broker to client -------------------------------------------------------------------------
    def receive(self, channel: Channel, handler: Callable[..., Any], args: tuple[Any, ...]) -> None:
        function = getattr(handler, "__func__", handler)
        if function is _ON_DELIVERY:
            message = args[4]
            frame_id = message_id_of(message.properties) if message.properties is not None else args[1]
            fate = self.link.send(Direction.TO_CLIENT, "delivery", frame_id, self._arrive, channel, handler, args)
            if fate == "lost":
                self.lost["delivery"] += 1
        elif function is _ON_CONFIRM:
            kind = "ack" if args[1] else "nack"
            if self.link.send(Direction.TO_CLIENT, kind, args[0], self._arrive, channel, handler, args) == "lost":
                self.lost["confirm"] += 1
        else:
            self.sim.call_later(self.link.hops[Direction.TO_CLIENT].latency, self._arrive, channel, handler, args)

    def _arrive(self, channel: Channel, handler: Callable[..., Any], args: tuple[Any, ...]) -> None:
        # into the channel's inbox at this instant, so frames still run in the order they arrive
        Connection.receive(self, channel, handler, args)


def connect_faulty(broker: Broker, link: Link, *, name: str | None = None) -> FaultyConnection:
    """Open a pika-shaped connection to ``broker`` whose frames cross ``link`` (``broker.connect`` with a subclass)."""
    if not isinstance(link, Link):
        raise InvalidParameter(f"link must be a mqlab.faults.Link, got {link!r}")
    connection = broker.connect(name=name, latency=0.0, connection_class=FaultyConnection)
    assert isinstance(connection, FaultyConnection)
    connection.link = link
    return connection


def message_id_of(properties: BasicProperties | None) -> Any:
    """A message's id: the ``x-message-id`` header if present (any type), else ``properties.message_id``."""
    if properties is None:
        return None
    headers = properties.headers
    if headers and ID_HEADER in headers:
        return headers[ID_HEADER]
    return properties.message_id


class RabbitPublisher:
    """The publishing end the patterns' producers use, over a RabbitMQ channel with publisher confirms.

    ``publish(message_id, body, on_confirm)`` is ``basic_publish`` with
    ``message_id`` in the properties (and the ``x-message-id`` header), persistent
    by default; ``on_confirm(message_id, ok)`` runs when the broker's
    ``Basic.Ack`` / ``Basic.Nack`` arrives. Without ``on_confirm`` nothing is
    waited for (fire and forget). This is the object to hand to
    :class:`~mqlab.patterns.producers.AtLeastOnceProducer` and
    :class:`~mqlab.patterns.producers.AtMostOnceProducer` as their connection.
    """

    def __init__(self, channel: Channel, exchange: str = "", routing_key: str = "", *, persistent: bool = True) -> None:
        self.channel = channel
        self.exchange = exchange
        self.routing_key = routing_key
        self.persistent = persistent
        self._pending: dict[int, tuple[Any, Callable[[Any, bool], None]]] = {}
        self.unknown_confirms = 0
        channel.confirm_delivery(self._on_confirm)

    def publish(self, message_id: Any, body: Any, on_confirm: Callable[[Any, bool], None] | None = None) -> None:
        channel = self.channel
        if on_confirm is not None:
            self._pending[channel.publish_seq_no] = (message_id, on_confirm)
        properties = BasicProperties(
            message_id=str(message_id), headers={ID_HEADER: message_id}, delivery_mode=2 if self.persistent else 1
        )
        channel.basic_publish(self.exchange, self.routing_key, body if body is not None else b"", properties)

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        seq = method.delivery_tag
        connection = self.channel.connection
        if isinstance(connection, FaultyConnection):
            seq = connection.original_seq(self.channel.channel_number, seq)
        entry = self._pending.pop(seq, None)
        if entry is None:
            self.unknown_confirms += 1  # the confirm of a duplicate whose original was already confirmed
            return
        message_id, on_confirm = entry
        on_confirm(message_id, type(method).__name__ == "Ack")


def restart_rabbit(broker: Broker, ledger: FaultLedger | None = None, *, fault: str = "rabbitmq.restart") -> int:
    """``broker.restart()`` now, with its durability rules, and count what it lost in ``ledger`` as ``fault``.

    The model decides what survives (transient queues and non-persistent messages
    in classic queues are lost; quorum queues keep everything) and counts it in
    its own ledger as ``lost_on_restart``; this adds the same number to the fault
    ledger under ``fault``, so both say the same. Returns how many were lost.
    """
    before = broker.ledger().lost_on_restart
    broker.restart()
    lost = broker.ledger().lost_on_restart - before
    if ledger is not None:
        for _ in range(lost):
            ledger.lost(fault, "message")
    return lost


def schedule_rabbit_restart(
    broker: Broker, at: float, ledger: FaultLedger | None = None, *, fault: str = "rabbitmq.restart"
) -> None:
    """Run :func:`restart_rabbit` at virtual time ``at``."""
    check_duration("at", at)
    broker.sim.call_at(at, lambda: restart_rabbit(broker, ledger, fault=fault))
