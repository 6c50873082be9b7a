"""A channel: the pika-shaped API a learner programs against.

States: *open* from ``connection.channel()`` until ``close()``, a channel error (the
broker closes it, see errors.py), or its connection closing; then *closed* for good
(using it raises :class:`ChannelWrongStateError`). Closing requeues every delivery the
channel had not acknowledged (with ``redelivered=True``): a crashing consumer loses
nothing it had not acked, unless it consumed with ``auto_ack=True``.

Two ways to consume:

* **Callbacks**, as with pika: ``basic_consume(queue, on_message_callback)``. Each
  delivery calls ``on_message_callback(channel, method, properties, body)`` in virtual
  time (after the connection's latency). A callback that raises does not crash the
  simulation: the delivery stays unacked, the error is appended to
  :attr:`Channel.errors` (time, consumer tag, delivery tag, the exception), and the
  delivery is requeued when the channel closes. With
  ``Broker(close_channel_on_callback_error=True)`` the channel is closed at once
  instead, as an exception escaping pika's ``BlockingConnection`` would.
* **Kernel processes**, like pika's ``BlockingChannel.consume`` generator, with one
  visible extra: each item is an *event* to ``yield``, whose value is
  ``(method, properties, body)``::

      def worker(ch):
          for event in ch.consume("tasks", inactivity_timeout=5.0):
              method, properties, body = yield event
              if method is None:           # 5 s without a message
                  break
              yield sim.timeout(0.2)       # work
              ch.basic_ack(method.delivery_tag)

      sim.process(worker(ch))

  ``ch.cancel()`` (or the queue's deletion) ends the generator, and ``ch.cancel()``
  requeues what it had buffered. When the broker closes the channel or the connection
  (a channel error, ``broker.restart()``), the pending event fails with that error
  (:class:`ChannelClosedByBroker`, :class:`ConnectionClosedByBroker`), as pika raises it
  from its generator: a worker that must survive a restart catches it and reconnects.

Publisher confirms (``confirm_delivery``): with a callback, it receives
``Basic.Ack``/``Basic.Nack`` frames (pika's asynchronous style); without one, on a
connection with no latency, ``basic_publish`` raises :class:`UnroutableError` for a
returned ``mandatory`` message and :class:`NackError` for a nack, as pika's
``BlockingChannel`` does. Either way :attr:`Channel.confirms` lists
``(publish sequence number, acked)`` in the order confirms arrived.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mqlab.rabbitmq.consumer import Consumer, OnMessageCallback
from mqlab.rabbitmq.errors import (
    NOT_IMPLEMENTED,
    PRECONDITION_FAILED,
    ChannelClosed,
    ChannelClosedByBroker,
    ChannelClosedByClient,
    ChannelWrongStateError,
    ConnectionClosed,
    ConnectionClosedByBroker,
    DeliveryAcknowledgementTimeout,
    DuplicateConsumerTag,
    InvalidFieldType,
    NackError,
    NotImplementedFeature,
    ShortStringTooLong,
    UnknownDeliveryTag,
    UnroutableError,
)
from mqlab.rabbitmq.message import Entry, message_label
from mqlab.rabbitmq.properties import Basic, BasicProperties, Method, as_properties
from mqlab.rabbitmq.stream import ConsumeStream

if TYPE_CHECKING:
    from mqlab.rabbitmq.connection import Connection
    from mqlab.rabbitmq.queue import Queue
    from mqlab.sim import Event

__all__ = ["CallbackError", "Channel"]

_on_delivery = Consumer.on_delivery  # a plain function: no bound method per delivery


CONSUMER_TIMEOUT_CHECK_INTERVAL = 60.0
"""Seconds between a channel's checks of its oldest unacknowledged delivery (RabbitMQ: "evaluated
periodically, at one minute intervals"; values of ``consumer_timeout`` below a minute are not supported)."""


class _AckTimer:
    """A channel's ``consumer_timeout`` (ms), when the channel opened (ticks count from it), the pending check."""

    __slots__ = ("timeout_ms", "opened_at", "handle")

    def __init__(self, timeout_ms: float, opened_at: float) -> None:
        self.timeout_ms = timeout_ms
        self.opened_at = opened_at
        self.handle: Any = None


@dataclass(frozen=True)
class CallbackError:
    """A learner's callback raised: when, in which consumer, on which delivery, and what."""

    time: float
    consumer_tag: str
    delivery_tag: int | None
    error: str
    exception: BaseException | None = field(default=None, compare=False, repr=False)


def check_short_string(value: Any, what: str) -> str:
    """``value`` as an AMQP short string: a str of at most 255 UTF-8 bytes."""
    if type(value) is not str:
        raise InvalidFieldType(f"{what} must be a str, got {type(value).__name__} {value!r}")
    if len(value) > 63 and len(value.encode()) > 255:
        raise ShortStringTooLong(
            f"{what} {value[:40]!r}... is {len(value.encode())} bytes; AMQP short strings hold at most 255 "
            f"bytes; shorten it (put long data in the body or in headers)"
        )
    return value


class Channel:
    """One AMQP channel on a :class:`~mqlab.rabbitmq.connection.Connection` (pika: ``BlockingChannel``)."""

    def __init__(self, connection: Connection, number: int) -> None:
        self.connection = connection
        self._connection = connection
        self.broker = connection.broker
        self.sim = connection.sim
        self.channel_number = number
        self.actor = f"channel:{connection.name}/{number}"
        self._client_closed = False
        self._broker_open = True
        self.close_reason: ChannelClosed | ConnectionClosed | None = None
        self._raise_next: ChannelClosedByBroker | None = None
        self._inbox: deque[tuple[float, Callable[..., Any], tuple[Any, ...]]] = deque()
        self._drain_pending = False
        self._tag = 0
        self._unacked: dict[int, Entry] = {}
        # consumer_timeout is read once, when the channel opens, as RabbitMQ's channel process does;
        # one attribute (None when off) keeps Channel's instances within CPython's shared-key dicts
        timeout = connection.broker.consumer_timeout
        self._ack_timer = _AckTimer(timeout, connection.sim.now) if timeout is not None else None
        self._consumers: dict[str, Consumer] = {}
        self._prefetch = 0
        self._global_prefetch = 0
        self._confirming = False
        self._publish_seq = 0
        self._confirm_callback: Callable[[Method], Any] | None = None
        self._blocking_outcome: tuple[bool, bool] | None = None
        self.confirms: list[tuple[int, bool]] = []
        self._return_callbacks: list[Callable[..., Any]] = []
        self._on_close: list[Callable[[Channel, Any], Any]] = []
        self._on_cancel: list[Callable[[Method], Any]] = []
        self._consuming_waiters: list[Event] = []
        self.errors: list[CallbackError] = []

    # -- state -------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return not self._client_closed

    @property
    def is_closed(self) -> bool:
        return self._client_closed

    @property
    def consumer_tags(self) -> list[str]:
        """Tags of this channel's active consumers (pika's name)."""
        return [tag for tag, c in self._consumers.items() if not c.cancelled]

    @property
    def unacked_delivery_tags(self) -> list[int]:
        """Delivery tags the broker still expects an ack, nack or reject for."""
        return list(self._unacked)

    def add_on_close_callback(self, callback: Callable[[Channel, Any], Any]) -> None:
        """Call ``callback(channel, reason)`` when the channel closes (pika's signature)."""
        self._on_close.append(callback)

    def add_on_cancel_callback(self, callback: Callable[[Method], Any]) -> None:
        """Call ``callback(method_frame)`` (``method_frame.method`` is a ``Basic.Cancel``) when the broker
        cancels one of this channel's consumers because its queue was deleted (pika's signature)."""
        self._on_cancel.append(callback)

    def _cancelled_by_broker(self, consumer: Consumer) -> None:
        """Broker side: the consumer's queue is gone; tell the client (consumer_cancel_notify)."""
        self.connection.receive(self, self._on_broker_cancel, (consumer,))

    def _on_broker_cancel(self, consumer: Consumer) -> None:
        if self._client_closed:
            return
        if consumer.stream is not None:
            consumer.stream._finish(None)
        self._check_consuming_done()
        frame = Method(self.channel_number, Basic.Cancel(consumer.tag))
        for callback in list(self._on_cancel):
            try:
                callback(frame)
            except Exception as error:
                self._callback_failed("(cancel callback)", None, error)

    def add_on_return_callback(self, callback: Callable[[Channel, Basic.Return, BasicProperties, bytes], Any]) -> None:
        """Call ``callback(channel, method, properties, body)`` for each returned ``mandatory`` message."""
        self._return_callbacks.append(callback)

    def _raise_closed(self) -> None:
        error = self._raise_next
        if error is not None:
            self._raise_next = None
            self._close_client_side(error)
            raise error
        reason = f" ({self.close_reason})" if self.close_reason is not None else ""
        raise ChannelWrongStateError(
            f"channel {self.channel_number} of connection {self.connection.name!r} is closed{reason}; "
            f"open a new one with connection.channel()"
        )

    def _sync(self, operation: Callable[..., Any], *args: Any) -> Any:
        """Run a synchronous method at the broker; a channel error closes the channel, a hard error the connection."""
        if self._client_closed:
            self._raise_closed()
        if not self._broker_open and self._raise_next is not None:
            self._raise_closed()
        try:
            return operation(self, *args)
        except ChannelClosedByBroker as error:
            self._close_broker_side()
            self._close_client_side(error)
            raise
        except ConnectionClosedByBroker as error:
            self.connection._closed_by_broker(error)
            raise

    def _fail(self, error: ChannelClosedByBroker) -> None:
        """A channel error found while the broker processed an asynchronous frame."""
        if self.sim.tracing:
            self.sim.log(self.actor, "channel_error", reply_code=error.reply_code, reply_text=error.reply_text)
        self._close_broker_side()
        self._raise_next = error
        self.connection.receive(self, self._close_client_side, (error,))

    def _after_async(self) -> None:
        error = self._raise_next
        if error is not None and not self.connection.latency:
            self._raise_next = None
            self._close_client_side(error)
            raise error

    # -- exchanges ---------------------------------------------------------------------------
    def exchange_declare(self, exchange: str, exchange_type: Any = "direct", passive: bool = False,
                         durable: bool = False, auto_delete: bool = False, internal: bool = False,
                         arguments: dict[str, Any] | None = None) -> Method:
        """Declare an exchange (``direct``, ``fanout``, ``topic``, ``headers``); idempotent if equivalent."""
        exchange_type = getattr(exchange_type, "value", exchange_type)
        check_short_string(exchange, "exchange name")
        return self._sync(self.broker._exchange_declare, exchange, exchange_type, passive, durable, auto_delete,
                          internal, dict(arguments or {}))

    def exchange_delete(self, exchange: str | None = None, if_unused: bool = False) -> Method:
        """Delete an exchange and its bindings (deleting a missing exchange is not an error)."""
        return self._sync(self.broker._exchange_delete, exchange or "", if_unused)

    def exchange_bind(self, destination: str, source: str, routing_key: str = "",
                      arguments: dict[str, Any] | None = None) -> Method:
        """Bind exchange ``destination`` to exchange ``source``: what ``source`` routes by this key goes on."""
        check_short_string(routing_key, "routing key")
        return self._sync(self.broker._exchange_bind, destination, source, routing_key, dict(arguments or {}))

    def exchange_unbind(self, destination: str | None = None, source: str | None = None, routing_key: str = "",
                        arguments: dict[str, Any] | None = None) -> Method:
        return self._sync(self.broker._exchange_unbind, destination or "", source or "", routing_key,
                          dict(arguments or {}))

    # -- queues -----------------------------------------------------------------------------
    def queue_declare(self, queue: str, passive: bool = False, durable: bool = False, exclusive: bool = False,
                      auto_delete: bool = False, arguments: dict[str, Any] | None = None) -> Method:
        """Declare a queue (``""`` for a server-named one); ``.method`` has ``queue``, ``message_count``,
        ``consumer_count``."""
        check_short_string(queue, "queue name")
        return self._sync(self.broker._queue_declare, queue, passive, durable, exclusive, auto_delete,
                          dict(arguments or {}))

    def queue_bind(self, queue: str, exchange: str, routing_key: str | None = None,
                   arguments: dict[str, Any] | None = None) -> Method:
        """Bind ``queue`` to ``exchange``; the routing key defaults to the queue's name, as in pika."""
        routing_key = queue if routing_key is None else routing_key
        check_short_string(routing_key, "routing key")
        return self._sync(self.broker._queue_bind, queue, exchange, routing_key, dict(arguments or {}))

    def queue_unbind(self, queue: str, exchange: str, routing_key: str | None = None,
                     arguments: dict[str, Any] | None = None) -> Method:
        routing_key = queue if routing_key is None else routing_key
        return self._sync(self.broker._queue_unbind, queue, exchange, routing_key, dict(arguments or {}))

    def queue_purge(self, queue: str) -> Method:
        """Remove every ready message (unacked ones stay); ``.method.message_count`` says how many."""
        return self._sync(self.broker._queue_purge, queue)

    def queue_delete(self, queue: str, if_unused: bool = False, if_empty: bool = False) -> Method:
        """Delete a queue with its messages (deleting a missing queue is not an error)."""
        return self._sync(self.broker._queue_delete, queue, if_unused, if_empty)

    # -- publishing -------------------------------------------------------------------------
    def confirm_delivery(self, ack_nack_callback: Callable[[Method], Any] | None = None) -> None:
        """Turn on publisher confirms; publishes are numbered from 1 on this channel from now on."""
        if self._client_closed:
            self._raise_closed()
        self._confirming = True
        self._confirm_callback = ack_nack_callback

    @property
    def publish_seq_no(self) -> int:
        """The sequence number the next publish gets in confirm mode."""
        return self._publish_seq + 1

    def basic_publish(self, exchange: str, routing_key: str, body: bytes | str,
                      properties: BasicProperties | None = None, mandatory: bool = False) -> None:
        """Publish ``body`` to ``exchange`` with ``routing_key`` (arrives at the broker after the latency)."""
        if self._client_closed:
            self._raise_closed()
        if type(exchange) is not str:
            check_short_string(exchange, "exchange name")
        if type(routing_key) is not str or len(routing_key) > 63:
            check_short_string(routing_key, "routing key")
        if type(body) is not bytes:
            if isinstance(body, str):
                body = body.encode()
            elif isinstance(body, (bytearray, memoryview)):
                body = bytes(body)
            else:
                raise InvalidFieldType(
                    f"basic_publish body must be bytes or str, got {type(body).__name__}; "
                    f"serialise it first, e.g. json.dumps(obj).encode()"
                )
        if properties is not None:
            properties = _checked_properties(properties)
        broker = self.broker
        broker._published += 1
        seq = 0
        if self._confirming:
            self._publish_seq += 1
            seq = self._publish_seq
        connection = self.connection
        if connection._direct and self._broker_open:  # _arrive_publish, inlined on the hot path
            self._blocking_outcome = None
            try:
                broker._publish(self, exchange, routing_key, properties, body, mandatory, seq)
            except ChannelClosedByBroker as error:
                broker._publish_errors += 1
                self._fail(error)
        elif connection._latency:
            broker._in_transit += 1
            connection.transmit(self._arrive_publish_delayed, exchange, routing_key, properties, body, mandatory, seq)
            return
        else:
            self._blocking_outcome = None
            connection.transmit(self._arrive_publish, exchange, routing_key, properties, body, mandatory, seq)
        if self._raise_next is not None:
            self._after_async()
        if seq and self._confirm_callback is None and self._blocking_outcome is not None:
            acked, returned = self._blocking_outcome
            self._blocking_outcome = None
            if returned:
                raise UnroutableError(
                    [(None, properties, body)],
                    f"message to exchange {exchange!r} with routing key {routing_key!r} was returned: "
                    f"no queue is bound for it (312 NO_ROUTE); bind a queue or publish without mandatory",
                )
            if not acked:
                raise NackError(
                    [(None, properties, body)],
                    f"message to exchange {exchange!r} with routing key {routing_key!r} was nacked: a queue "
                    f"refused it (x-overflow reject-publish at x-max-length); consume faster or raise the limit",
                )

    def _arrive_publish_delayed(self, exchange: str, routing_key: str, properties: BasicProperties | None,
                                body: bytes, mandatory: bool, seq: int) -> None:
        self.broker._in_transit -= 1
        self._arrive_publish(exchange, routing_key, properties, body, mandatory, seq)

    def _arrive_publish(self, exchange: str, routing_key: str, properties: BasicProperties | None, body: bytes,
                        mandatory: bool, seq: int) -> None:
        if not self._broker_open:
            self.broker._lose_in_transit("channel_closed")
            if self.sim.tracing:
                self.sim.log(self.actor, "lost", exchange=exchange, routing_key=routing_key,
                             policy="channel_closed")
            return
        try:
            self.broker._publish(self, exchange, routing_key, properties, body, mandatory, seq)
        except ChannelClosedByBroker as error:
            self.broker._publish_errors += 1
            self._fail(error)

    def _send_return(self, message: Any) -> None:
        method = Basic.Return(312, "NO_ROUTE", message.exchange, message.routing_key)
        self.connection.receive(self, self._on_return, (method, message.delivered_properties(), message.body))
        self._blocking_outcome = (True, True)

    def _on_return(self, method: Basic.Return, properties: BasicProperties, body: bytes) -> None:
        if self._client_closed:
            return
        for callback in list(self._return_callbacks):
            try:
                callback(self, method, properties, body)
            except Exception as error:
                self._callback_failed("(return callback)", None, error)

    def _send_confirm(self, seq: int, acked: bool) -> None:
        if self._blocking_outcome is None:
            self._blocking_outcome = (acked, False)
        elif not acked:
            self._blocking_outcome = (False, self._blocking_outcome[1])
        if self.sim.tracing:
            self.sim.log(self.actor, "confirmed", seq=seq, ack=acked)
        self.connection.receive(self, self._on_confirm, (seq, acked))

    def _on_confirm(self, seq: int, acked: bool) -> None:
        if self._client_closed:
            return
        self.confirms.append((seq, acked))
        callback = self._confirm_callback
        if callback is not None:
            frame = Method(self.channel_number, Basic.Ack(seq) if acked else Basic.Nack(seq))
            try:
                callback(frame)
            except Exception as error:
                self._callback_failed("(confirm callback)", None, error)

    # -- consuming ---------------------------------------------------------------------------
    def basic_qos(self, prefetch_size: int = 0, prefetch_count: int = 0, global_qos: bool = False) -> None:
        """Limit unacked deliveries: per new consumer (``global_qos=False``) or per channel (True). 0 = no limit."""
        if isinstance(prefetch_count, bool) or not isinstance(prefetch_count, int) or not 0 <= prefetch_count <= 65535:
            raise InvalidFieldType(
                f"basic_qos prefetch_count must be an int from 0 (no limit) to 65535, got {prefetch_count!r}"
            )
        self._sync(_qos, prefetch_size, prefetch_count, global_qos)

    def basic_consume(self, queue: str, on_message_callback: OnMessageCallback, auto_ack: bool = False,
                      exclusive: bool = False, consumer_tag: str | None = None,
                      arguments: dict[str, Any] | None = None) -> str:
        """Subscribe ``on_message_callback(channel, method, properties, body)`` to ``queue``; returns the tag."""
        if self._client_closed:
            self._raise_closed()
        if not callable(on_message_callback):
            raise InvalidFieldType(
                f"basic_consume on queue {queue!r}: on_message_callback must be callable "
                f"(channel, method, properties, body), got {on_message_callback!r}"
            )
        if consumer_tag is None or consumer_tag == "":
            consumer_tag = self.broker._consumer_tag(self)
        else:
            check_short_string(consumer_tag, "consumer tag")
        if consumer_tag in self._consumers and not self._consumers[consumer_tag].cancelled:
            raise DuplicateConsumerTag(
                f"consumer tag {consumer_tag!r} is already used on channel {self.channel_number}; "
                f"pass another consumer_tag or let the client generate one"
            )
        consumer = self._sync(self.broker._basic_consume, queue, on_message_callback, bool(auto_ack), bool(exclusive),
                              consumer_tag, dict(arguments or {}))
        self._consumers[consumer_tag] = consumer
        return consumer_tag

    def basic_cancel(self, consumer_tag: str) -> list[tuple[Any, Any, bytes]]:
        """Stop a consumer; deliveries it had not acked stay on the channel until acked or the channel closes."""
        if self._client_closed:
            self._raise_closed()
        consumer = self._consumers.pop(consumer_tag, None)
        if consumer is not None and not consumer.cancelled:
            self.broker._basic_cancel(consumer)
            if consumer.stream is not None:
                consumer.stream._finish(None)
        self._check_consuming_done()
        return []

    def consume(self, queue: str, auto_ack: bool = False, exclusive: bool = False,
                arguments: dict[str, Any] | None = None, inactivity_timeout: float | None = None,
                consumer_tag: str | None = None) -> ConsumeStream:
        """Consume from a kernel process: iterate, ``yield`` each event, get ``(method, properties, body)``.

        ``inactivity_timeout`` (seconds): an event succeeds with ``(None, None, None)`` when no
        message came for that long, as pika yields it.
        """
        stream = ConsumeStream(self, inactivity_timeout)
        tag = self.basic_consume(queue, stream._on_message, auto_ack, exclusive, consumer_tag, arguments)
        stream.consumer = self._consumers[tag]
        stream.consumer.stream = stream
        return stream

    def cancel(self) -> int:
        """Cancel every ``consume()`` stream of this channel; requeue their buffered messages; return how many."""
        if self._client_closed:
            self._raise_closed()
        requeued = 0
        for tag, consumer in list(self._consumers.items()):
            stream = consumer.stream
            if stream is None or consumer.cancelled:
                continue
            buffered = list(stream._buffer)
            stream._buffer.clear()
            self.basic_cancel(tag)
            if not consumer.auto_ack:
                for method, _properties, _body in buffered:
                    self.basic_nack(method.delivery_tag, requeue=True)
                    requeued += 1
        return requeued

    def start_consuming(self) -> None:
        """pika's blocking loop, in virtual time: run the simulation until this channel has no active
        consumer left (``stop_consuming``, ``basic_cancel``, the channel closing) or nothing is left to
        happen. For top-level scripts; a kernel process yields events instead (see ``consume``)."""
        if self._client_closed:
            self._raise_closed()
        sim = self.sim
        _refuse_nested_run(sim, "start_consuming")
        if not self.consumer_tags:
            return
        done = sim.event()
        self._consuming_waiters.append(done)
        try:
            sim.run(until=done)
        except RuntimeError:
            if sim._agenda:  # not "nothing left to happen": a real error
                raise
        finally:
            if done in self._consuming_waiters:
                self._consuming_waiters.remove(done)

    def stop_consuming(self, consumer_tag: str | None = None) -> None:
        """Cancel one consumer, or all of this channel's consumers; ``start_consuming`` then returns."""
        if self._client_closed:
            self._raise_closed()
        for tag in [consumer_tag] if consumer_tag is not None else list(self._consumers):
            self.basic_cancel(tag)

    def _check_consuming_done(self) -> None:
        if self._consuming_waiters and (self._client_closed or not self.consumer_tags):
            waiters, self._consuming_waiters = self._consuming_waiters, []
            for waiter in waiters:
                if not waiter.triggered:
                    waiter.succeed()

    def basic_get(self, queue: str, auto_ack: bool = False) -> tuple[Any, BasicProperties | None, bytes | None]:
        """Take one ready message now: ``(method, properties, body)``, or ``(None, None, None)`` if none."""
        return self._sync(self.broker._basic_get, queue, bool(auto_ack))

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        """Acknowledge a delivery (with ``multiple``, every one up to it; tag 0 with multiple: all)."""
        if self._client_closed:
            self._raise_closed()
        if self.connection._direct:
            self._arrive_ack(delivery_tag, multiple)
        else:
            self.connection.transmit(self._arrive_ack, delivery_tag, multiple)
        if self._raise_next is not None:
            self._after_async()

    def basic_nack(self, delivery_tag: int = 0, multiple: bool = False, requeue: bool = True) -> None:
        """Reject one or many deliveries: requeue them, or dead-letter them (``requeue=False``)."""
        if self._client_closed:
            self._raise_closed()
        self.connection.transmit(self._arrive_nack, delivery_tag, multiple, requeue)
        if self._raise_next is not None:
            self._after_async()

    def basic_reject(self, delivery_tag: int = 0, requeue: bool = True) -> None:
        """Reject one delivery: requeue it, or dead-letter it (``requeue=False``)."""
        if self._client_closed:
            self._raise_closed()
        self.connection.transmit(self._arrive_nack, delivery_tag, False, requeue)
        if self._raise_next is not None:
            self._after_async()

    def basic_recover(self, requeue: bool = False) -> None:
        """Requeue every unacked delivery of the channel. RabbitMQ refuses ``requeue=False`` (540)."""
        self._sync(_recover, requeue)

    # -- broker side: deliveries and settlement ------------------------------------------------
    def _deliver(self, consumer: Consumer, queue: Queue, entry: Entry) -> None:
        """Broker side: hand ``entry`` to ``consumer`` (a new delivery tag), then send it to the client."""
        self._tag += 1
        tag = self._tag
        message = entry.message
        queue.delivered += 1
        redelivered = entry.redelivered
        if redelivered:
            queue.redelivered += 1
        if consumer.auto_ack:
            queue.auto_acked += 1
        else:
            entry.consumer = consumer
            self._unacked[tag] = entry
            consumer.unacked += 1
            queue.unacked += 1
            timer = self._ack_timer
            if timer is not None:
                entry.delivered_at = self.sim.now
                if timer.handle is None:
                    self._schedule_timeout_check(entry.delivered_at)
        sim = self.sim
        if sim.tracing:
            sim.log(queue.actor, "redelivered" if redelivered else "delivered", msg=message_label(message.id),
                    consumer=consumer.tag, delivery_tag=tag, channel=self.actor, auto_ack=consumer.auto_ack,
                    ready=queue.ready)
        # a push delivery carries x-delivery-count only once the message was returned (RabbitMQ 3.10)
        count = entry.delivery_count or None
        connection = self.connection
        if connection._plain_receive:  # Connection.receive, inlined on the hot path
            arrival = sim.now + connection._latency
            self._inbox.append((arrival, _on_delivery, (consumer, tag, redelivered, count, message)))
            if not self._drain_pending:
                self._drain_pending = True
                sim.call_at(arrival, self._drain)
        else:
            connection.receive(self, _on_delivery, (consumer, tag, redelivered, count, message))

    def _take(self, queue: Queue, entry: Entry, auto_ack: bool) -> int:
        """Broker side of ``basic_get``: a delivery tag for ``entry`` (unacked unless ``auto_ack``)."""
        self._tag += 1
        queue.delivered += 1
        if entry.redelivered:
            queue.redelivered += 1
        if auto_ack:
            queue.auto_acked += 1
        else:
            entry.consumer = None
            self._unacked[self._tag] = entry
            queue.unacked += 1
            timer = self._ack_timer
            if timer is not None:
                entry.delivered_at = self.sim.now
                if timer.handle is None:
                    self._schedule_timeout_check(entry.delivered_at)
        if self.sim.tracing:
            self.sim.log(queue.actor, "redelivered" if entry.redelivered else "delivered",
                         msg=message_label(entry.message.id), consumer=None, delivery_tag=self._tag,
                         channel=self.actor, auto_ack=auto_ack, ready=queue.ready)
        return self._tag

    def _schedule_timeout_check(self, delivered_at: float) -> None:
        """Put on the agenda the channel's first periodic check after ``delivered_at`` + consumer_timeout."""
        timer = self._ack_timer
        assert timer is not None
        deadline = delivered_at + timer.timeout_ms / 1000.0
        interval = CONSUMER_TIMEOUT_CHECK_INTERVAL
        ticks = (deadline - timer.opened_at) // interval + 1  # the first tick strictly after the deadline
        when = max(timer.opened_at + ticks * interval, self.sim.now)
        timer.handle = self.sim.call_at(when, self._check_consumer_timeout, None)

    def _stop_timeout_check(self) -> None:
        timer = self._ack_timer
        if timer is not None and timer.handle is not None:
            timer.handle.cancel()
            timer.handle = None

    def _check_consumer_timeout(self, _: Any) -> None:
        """Broker side (channel tick): close the channel if its oldest unacked delivery is too old.

        RabbitMQ 3.8.15+ (rabbit_channel): when a delivery has waited longer than
        ``consumer_timeout`` the channel is closed with 406 PRECONDITION_FAILED and every
        outstanding delivery on it, from all consumers, is requeued.
        """
        timer = self._ack_timer
        if timer is None:
            return
        timer.handle = None
        timeout = timer.timeout_ms
        if not self._broker_open or not self._unacked:
            return
        oldest = next(iter(self._unacked.values()))
        if self.sim.now - oldest.delivered_at > timeout / 1000.0:
            shown = int(timeout) if timeout == int(timeout) else timeout
            self._fail(DeliveryAcknowledgementTimeout(
                PRECONDITION_FAILED,
                f"PRECONDITION_FAILED - delivery acknowledgement on channel {self.channel_number} timed out. "
                f"Timeout value used: {shown} ms. This timeout value can be configured, see consumers doc "
                f"guide to learn more",
                f"channel {self.channel_number} of connection {self.connection.name!r} held delivery of "
                f"{message_label(oldest.message.id)} unacknowledged for {self.sim.now - oldest.delivered_at:g} s; "
                f"ack sooner (lower the prefetch, or ack before long work and make the work idempotent) or raise "
                f"Broker(consumer_timeout=...); its unacked deliveries were requeued",
            ))
        else:
            self._schedule_timeout_check(oldest.delivered_at)

    def _collect(self, delivery_tag: int, multiple: bool) -> list[int] | None:
        unacked = self._unacked
        if multiple and delivery_tag == 0:
            return list(unacked)
        if delivery_tag not in unacked:
            self._fail(UnknownDeliveryTag(
                PRECONDITION_FAILED,
                f"PRECONDITION_FAILED - unknown delivery tag {delivery_tag}",
                f"channel {self.channel_number}: each delivery tag can be settled once, on the channel that "
                f"received it; this one was never delivered here or was already acked, nacked or rejected",
            ))
            return None
        if not multiple:
            return [delivery_tag]
        tags = []
        for tag in unacked:
            if tag > delivery_tag:
                break
            tags.append(tag)
        return tags

    def _arrive_ack(self, delivery_tag: int, multiple: bool) -> None:
        if not self._broker_open:
            return
        unacked = self._unacked
        if not multiple:
            entry = unacked.pop(delivery_tag, None)
            if entry is None:
                self._collect(delivery_tag, False)  # raises the 406 through _fail
                return
            queue = entry.queue
            if not unacked and self._ack_timer is not None:
                self._stop_timeout_check()
            if not queue.deleted:
                if self.sim.tracing:
                    self.sim.log(queue.actor, "acked", msg=message_label(entry.message.id), delivery_tag=delivery_tag,
                                 channel=self.actor, ready=queue.ready)
                queue.settle_acked(entry.consumer)
                if self._global_prefetch:
                    self._dispatch_all()
            return
        tags = self._collect(delivery_tag, True)
        if tags is None:
            return
        for tag in tags:
            entry = unacked.pop(tag)
            queue = entry.queue
            if not queue.deleted:
                if self.sim.tracing:
                    self.sim.log(queue.actor, "acked", msg=message_label(entry.message.id), delivery_tag=tag,
                                 channel=self.actor, ready=queue.ready)
                queue.settle_acked(entry.consumer)
        if not unacked and self._ack_timer is not None:
            self._stop_timeout_check()
        if self._global_prefetch:
            self._dispatch_all()

    def _arrive_nack(self, delivery_tag: int, multiple: bool, requeue: bool) -> None:
        if not self._broker_open:
            return
        tags = self._collect(delivery_tag, multiple)
        if tags is None:
            return
        touched: list[Queue] = []
        unacked = self._unacked
        for tag in tags:
            entry = unacked.pop(tag)
            queue, consumer = entry.queue, entry.consumer
            if queue.deleted:
                continue
            if self.sim.tracing:
                self.sim.log(queue.actor, "nacked", msg=message_label(entry.message.id), delivery_tag=tag,
                             requeue=requeue, channel=self.actor, ready=queue.ready)
            if requeue:
                queue.requeue(entry, consumer, dispatch=False, rejected=True)
                if all(q is not queue for q in touched):
                    touched.append(queue)
            else:
                queue.settle_rejected(entry, consumer)
        if not unacked and self._ack_timer is not None:
            self._stop_timeout_check()
        for queue in touched:
            queue.dispatch()
        if self._global_prefetch:
            self._dispatch_all()

    def _requeue_all(self) -> None:
        """Broker side: requeue every unacked delivery, in delivery-tag order."""
        unacked = self._unacked
        self._unacked = {}
        if self._ack_timer is not None:
            self._stop_timeout_check()
        touched: list[Queue] = []
        for entry in unacked.values():
            queue, consumer = entry.queue, entry.consumer
            if queue.deleted:
                continue
            queue.requeue(entry, consumer, dispatch=False)
            if all(q is not queue for q in touched):
                touched.append(queue)
        for queue in touched:
            queue.dispatch()

    def _dispatch_all(self) -> None:
        seen: list[Queue] = []
        for consumer in self._consumers.values():
            queue = consumer.queue
            if not consumer.cancelled and all(q is not queue for q in seen):
                seen.append(queue)
                queue.dispatch()

    def _requeue_after_cancel(self, delivery_tag: int) -> None:
        if not self._client_closed:
            self.connection.transmit(self._arrive_nack, delivery_tag, False, True)

    # -- client side: inbox and errors -----------------------------------------------------------
    def _drain(self) -> None:
        """Run the broker-to-client frames whose arrival time has come, in the order they were sent.

        Only the frames already waiting when the drain starts run now. Frames that the
        callbacks cause (a nack with requeue=True redelivers at once when there is no
        latency) wait for a later kernel entry at the same instant, so a consumer that
        requeues for ever is a runaway the simulation's event budget stops, not a hang.
        """
        inbox = self._inbox
        now = self.sim.now
        waiting = len(inbox)
        while waiting and inbox and inbox[0][0] <= now:
            waiting -= 1
            _, handler, args = inbox.popleft()
            handler(*args)
        if inbox:
            self.sim.call_at(max(inbox[0][0], now), self._drain)
        else:
            self._drain_pending = False

    def _callback_failed(self, consumer_tag: str, delivery_tag: int | None, error: Exception) -> None:
        record = CallbackError(self.sim.now, consumer_tag, delivery_tag, repr(error), error)
        self.errors.append(record)
        if self.sim.tracing:
            self.sim.log(self.actor, "callback_error", consumer=consumer_tag, delivery_tag=delivery_tag,
                         error=repr(error))
        if self.broker.close_channel_on_callback_error and not self._client_closed:
            self._close_client_side(ChannelClosedByClient(
                0, f"callback of consumer {consumer_tag!r} raised {error!r}",
                "the channel closed because Broker(close_channel_on_callback_error=True)",
            ))
            self.connection.transmit(self._close_broker_side)

    # -- closing ------------------------------------------------------------------------------
    def close(self, reply_code: int = 0, reply_text: str = "Normal shutdown") -> None:
        """Close the channel; the broker requeues every delivery it had not seen acked."""
        if self._client_closed:
            self._raise_closed()
        self._close_client_side(ChannelClosedByClient(reply_code, reply_text))
        self.connection.transmit(self._close_broker_side)

    def _close_client_side(self, reason: ChannelClosed | ConnectionClosed) -> None:
        if self._client_closed:
            return
        self._client_closed = True
        self.close_reason = reason
        if self.sim.tracing:
            self.sim.log(self.actor, "closed", reason=str(reason))
        broker_error = reason if isinstance(reason, (ChannelClosedByBroker, ConnectionClosedByBroker)) else None
        for consumer in self._consumers.values():
            if consumer.stream is not None:
                consumer.stream._buffer.clear()  # the broker requeues them: nothing left to ack here
                consumer.stream._finish(broker_error)
        self._check_consuming_done()
        for callback in list(self._on_close):
            try:
                callback(self, reason)
            except Exception as error:
                self.broker._record_callback_error(f"channel {self.actor} on_close callback", error)

    def _close_broker_side(self) -> None:
        if not self._broker_open:
            return
        self._broker_open = False
        for consumer in list(self._consumers.values()):
            if not consumer.cancelled:
                self.broker._basic_cancel(consumer)
        self._requeue_all()
        self.broker._channel_closed(self)

    def _connection_closed(self, reason: ConnectionClosed) -> None:
        self._close_client_side(reason)

    def __repr__(self) -> str:
        state = "closed" if self._client_closed else "open"
        return f"<Channel {self.channel_number} of {self.connection.name!r} {state} unacked={len(self._unacked)}>"


def _checked_properties(properties: Any) -> BasicProperties:
    """A private copy of ``properties`` (the publisher may reuse its object), with pika's encoding checks."""
    headers = getattr(properties, "headers", None)
    if headers is not None and not isinstance(headers, dict):
        raise InvalidFieldType(f"headers must be a dict (an AMQP table), got {type(headers).__name__}")
    properties = as_properties(properties).copy()
    mode = properties.delivery_mode
    if mode is not None and type(mode) is not int:
        properties.delivery_mode = mode = int(getattr(mode, "value", mode))
    if mode is not None and mode not in (1, 2):
        raise InvalidFieldType(f"delivery_mode must be 1 (transient) or 2 (persistent), got {mode!r}")
    priority = properties.priority
    if priority is not None and (
        isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 255
    ):
        raise InvalidFieldType(f"priority is an octet: an int from 0 to 255, got {priority!r}")
    return properties


def _refuse_nested_run(sim: Any, what: str) -> None:
    if sim.active_process is not None:
        raise RuntimeError(
            f"{what}() runs the simulation and cannot be called from inside a kernel process "
            f"({sim.active_process.name!r}); in a process, yield events: "
            f"'for event in ch.consume(queue): method, properties, body = yield event'"
        )


def _qos(channel: Channel, prefetch_size: int, prefetch_count: int, global_qos: bool) -> None:
    if prefetch_size:
        raise NotImplementedFeature(
            NOT_IMPLEMENTED, f"NOT_IMPLEMENTED - prefetch_size!=0 ({prefetch_size})",
            "RabbitMQ does not implement prefetch_size; limit by prefetch_count",
        )
    if global_qos:
        channel._global_prefetch = prefetch_count
        channel._dispatch_all()
    else:
        channel._prefetch = prefetch_count


def _recover(channel: Channel, requeue: bool) -> None:
    if not requeue:
        raise NotImplementedFeature(
            NOT_IMPLEMENTED, "NOT_IMPLEMENTED - requeue=false",
            "RabbitMQ only implements basic_recover(requeue=True)",
        )
    channel._requeue_all()
