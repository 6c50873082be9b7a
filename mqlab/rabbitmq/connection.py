"""A client connection: channels, network latency, and the two doors frames go through.

States: *open* from ``broker.connect()`` until ``close()`` (client side at once; the
broker side when the close frame arrives, after every frame sent before it), a
hard error (the broker closes it), or ``broker.restart()``; then *closed* for good.

Every asynchronous frame passes through one of two overridable methods, the hooks
a fault-injection layer wraps:

* :meth:`Connection.transmit` carries a client-to-broker frame (publish, ack, nack,
  reject, close) and runs its broker-side ``handler`` after ``latency`` seconds;
* :meth:`Connection.receive` carries a broker-to-client frame (delivery, return,
  confirm, close notice) to its channel's inbox, which runs it ``latency`` seconds
  later, in the order sent (TCP never reorders).

Override them in a subclass (the connection then always goes through them; with no
latency and no override, frames skip the call). A wrapper that drops a publish frame
must call :meth:`Connection.drop` with it (and the fault's name) so the ledger counts it
as lost in transit, by fault; a wrapper that delivers a frame twice delivers the extra
copy with :meth:`Connection.duplicate`, which the ledger counts as ``duplicated`` (a
copy of a publish that already left the client, not a new publish);
:meth:`Connection.frame_kind` says what a frame is.

Synchronous methods (declare, bind, basic_get, basic_qos, basic_consume ...) take
effect at once, as if the client waited for the reply; note that this lets them
overtake publishes still in transit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mqlab.rabbitmq.channel import Channel, _refuse_nested_run
from mqlab.rabbitmq.errors import (
    ConnectionClosed,
    ConnectionClosedByBroker,
    ConnectionClosedByClient,
    ConnectionWrongStateError,
)

if TYPE_CHECKING:
    from mqlab.rabbitmq.broker import Broker

__all__ = ["UNNAMED_FAULT", "Connection"]

UNNAMED_FAULT = "unnamed_fault"
"""The cause a publish dropped by :meth:`Connection.drop` is counted under when no fault is named."""

_FRAME_KINDS: dict[Any, str] = {
    Channel._arrive_publish: "publish",
    Channel._arrive_publish_delayed: "publish",
    Channel._arrive_ack: "ack",
    Channel._arrive_nack: "nack",
    Channel._close_broker_side: "close",
}

MAX_CHANNELS = 2047
"""RabbitMQ's default ``channel_max`` (since 3.7.0)."""


class Connection:
    """One client connection to a :class:`~mqlab.rabbitmq.broker.Broker` (pika: ``BlockingConnection``)."""

    def __init__(self, broker: Broker, name: str, latency: float) -> None:
        if not latency >= 0 or latency == float("inf"):
            raise ValueError(f"connection {name!r}: latency must be a finite number of seconds >= 0, got {latency!r}")
        self.broker = broker
        self.sim = broker.sim
        self.name = name
        self._latency = float(latency)
        self._direct = self._latency == 0 and type(self).transmit is Connection.transmit
        self._plain_receive = type(self).receive is Connection.receive
        self._channels: dict[int, Channel] = {}
        self._next_channel = 1
        self._client_closed = False
        self._broker_open = True
        self.close_reason: ConnectionClosed | None = None
        self._on_close: list[Callable[[Connection, ConnectionClosed], Any]] = []

    # -- state ---------------------------------------------------------------------------------
    @property
    def latency(self) -> float:
        """One-way network delay in seconds (may be changed while running; frames already sent keep theirs)."""
        return self._latency

    @latency.setter
    def latency(self, value: float) -> None:
        if not value >= 0 or value == float("inf"):
            raise ValueError(
                f"connection {self.name!r}: latency must be a finite number of seconds >= 0, got {value!r}"
            )
        self._latency = float(value)
        self._direct = self._latency == 0 and type(self).transmit is Connection.transmit

    @property
    def is_open(self) -> bool:
        return not self._client_closed

    @property
    def is_closed(self) -> bool:
        return self._client_closed

    @property
    def channels(self) -> list[Channel]:
        """Open channels, by number."""
        return [c for c in self._channels.values() if c.is_open]

    def _check_open(self) -> None:
        if self._client_closed:
            reason = f" ({self.close_reason})" if self.close_reason is not None else ""
            raise ConnectionWrongStateError(
                f"connection {self.name!r} is closed{reason}; open a new one with broker.connect()"
            )

    def add_on_close_callback(self, callback: Callable[[Connection, ConnectionClosed], Any]) -> None:
        """Call ``callback(connection, reason)`` when the connection closes (pika's signature)."""
        self._on_close.append(callback)

    # -- pika's blocking helpers, in virtual time -------------------------------------------------
    def process_data_events(self, time_limit: float | None = 0) -> None:
        """Let ``time_limit`` seconds of virtual time pass (deliveries, confirms, timers run).

        ``None`` runs until nothing is left to happen. For top-level scripts, like pika's
        ``BlockingConnection.process_data_events``; kernel processes yield events instead.
        """
        self._check_open()
        _refuse_nested_run(self.sim, "process_data_events")
        self.sim.run(until=None if time_limit is None else self.sim.now + time_limit)

    def sleep(self, duration: float) -> None:
        """pika's ``BlockingConnection.sleep``: let ``duration`` seconds of virtual time pass."""
        self._check_open()
        _refuse_nested_run(self.sim, "sleep")
        self.sim.run(until=self.sim.now + duration)

    # -- channels --------------------------------------------------------------------------------
    def channel(self, channel_number: int | None = None) -> Channel:
        """Open a new channel (numbers from 1; RabbitMQ allows 2047 per connection by default)."""
        self._check_open()
        if channel_number is None:
            while self._next_channel in self._channels and self._channels[self._next_channel].is_open:
                self._next_channel += 1
            channel_number = self._next_channel
            self._next_channel += 1
        if not isinstance(channel_number, int) or not 1 <= channel_number <= MAX_CHANNELS:
            raise ValueError(
                f"connection {self.name!r}: channel number {channel_number!r} is outside 1..{MAX_CHANNELS} "
                f"(RabbitMQ's channel_max); let the connection choose one"
            )
        existing = self._channels.get(channel_number)
        if existing is not None and existing.is_open:
            raise ValueError(f"connection {self.name!r}: channel {channel_number} is already open")
        channel = Channel(self, channel_number)
        self._channels[channel_number] = channel
        self.broker._channel_opened(channel)
        return channel

    # -- the two doors (override to inject faults) -------------------------------------------------
    def transmit(self, handler: Callable[..., Any], *args: Any) -> None:
        """Carry a client-to-broker frame: run ``handler(*args)`` at the broker after ``latency``."""
        if self._latency:
            self.sim.call_later(self._latency, handler, *args)
        else:
            handler(*args)

    def receive(self, channel: Channel, handler: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Carry a broker-to-client frame: run ``handler(*args)`` on the client after ``latency``."""
        arrival = self.sim.now + self._latency
        channel._inbox.append((arrival, handler, args))
        if not channel._drain_pending:
            channel._drain_pending = True
            self.sim.call_at(arrival, channel._drain)

    @staticmethod
    def frame_kind(handler: Callable[..., Any]) -> str:
        """What a client-to-broker frame is: publish, ack, nack, close or other (for fault layers)."""
        return _FRAME_KINDS.get(getattr(handler, "__func__", None), "other")

    def drop(self, handler: Callable[..., Any], *args: Any, fault: str | None = None) -> None:
        """Account for a client-to-broker frame a fault layer chose not to deliver.

        A dropped publish is counted as lost in transit, and in the ledger's
        ``lost_in_transit_by`` under ``fault`` (the fault's name; ``"unnamed_fault"`` when
        none is given); a dropped ack, nack or reject leaves its delivery unacked (it is
        requeued when the channel closes).
        """
        function = getattr(handler, "__func__", None)
        broker = self.broker
        if function is Channel._arrive_publish_delayed:
            broker._in_transit -= 1
            broker._lose_in_transit(fault or UNNAMED_FAULT)
        elif function is Channel._arrive_publish:
            broker._lose_in_transit(fault or UNNAMED_FAULT)
        if self.sim.tracing:
            self.sim.log(f"connection:{self.name}", "frame_dropped", kind=self.frame_kind(handler), fault=fault)

    def duplicate(self, handler: Callable[..., Any], *args: Any, fault: str | None = None) -> None:
        """Deliver an extra copy of a client-to-broker frame now: ``handler(*args)`` at the broker.

        For fault layers that make the network deliver a frame twice. An extra copy of a
        publish is routed like the first one (a second message in each queue; with
        confirms, the broker confirms the same sequence number again) and counted in the
        ledger's ``duplicated``, not in ``published``: the client sent one publish. TCP never
        duplicates a frame, so this models a faulty network or proxy, not RabbitMQ.
        An extra ack, nack or reject settles an unknown delivery tag: 406 PRECONDITION_FAILED.
        """
        function = getattr(handler, "__func__", None)
        broker = self.broker
        if function is Channel._arrive_publish_delayed:
            broker._in_transit += 1  # the copy is on the network too; its arrival takes it off
            broker._transit.duplicated += 1
        elif function is Channel._arrive_publish:
            broker._transit.duplicated += 1
        if self.sim.tracing:
            self.sim.log(f"connection:{self.name}", "frame_duplicated", kind=self.frame_kind(handler), fault=fault)
        handler(*args)

    # -- closing ---------------------------------------------------------------------------------
    def close(self, reply_code: int = 200, reply_text: str = "Normal shutdown") -> None:
        """Close every channel and the connection; the broker requeues what they had not acked."""
        self._check_open()
        self._close_client_side(ConnectionClosedByClient(reply_code, reply_text))
        self.transmit(self._close_broker_side)

    def _close_client_side(self, reason: ConnectionClosed) -> None:
        if self._client_closed:
            return
        self._client_closed = True
        self.close_reason = reason
        for channel in list(self._channels.values()):
            channel._connection_closed(reason)
        for callback in list(self._on_close):
            try:
                callback(self, reason)
            except Exception as error:  # a learner's callback never crashes the simulation
                self.broker._record_callback_error(f"connection {self.name!r} on_close callback", error)

    def _close_broker_side(self) -> None:
        if not self._broker_open:
            return
        self._broker_open = False
        for channel in list(self._channels.values()):
            channel._close_broker_side()
        self.broker._connection_closed(self)

    def _closed_by_broker(self, error: ConnectionClosedByBroker) -> None:
        """A hard error (or a restart): the broker closes the connection; the client learns at once."""
        self._close_broker_side()
        self._close_client_side(error)

    def __repr__(self) -> str:
        state = "closed" if self._client_closed else "open"
        return f"<Connection {self.name!r} {state} channels={len(self.channels)} latency={self.latency:g}>"
