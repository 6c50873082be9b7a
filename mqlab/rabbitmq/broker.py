"""The broker: exchanges, queues, connections, routing, dead-lettering, restarts, accounts.

Start here::

    from mqlab.sim import Simulation
    from mqlab.rabbitmq import Broker, BasicProperties

    sim = Simulation(seed=7)
    broker = Broker(sim)
    ch = broker.connect().channel()
    ch.queue_declare("tasks", durable=True)
    ch.basic_publish("", "tasks", b"hello", BasicProperties(delivery_mode=2))

    def on_message(ch, method, properties, body):
        ch.basic_ack(method.delivery_tag)

    ch.basic_consume("tasks", on_message)
    sim.run()
    broker.ledger().check()

Settings that depend on the RabbitMQ version are constructor arguments, not folklore:

* ``quorum_delivery_limit`` (default 20): the ``x-delivery-limit`` a quorum queue gets
  when it declares none. RabbitMQ 4.0 made 20 the default; before 4.0 there was no
  limit (pass ``None`` to behave like 3.x). A negative ``x-delivery-limit`` on a queue
  means "no limit". It also decides where a nacked quorum message goes: with a limit,
  returned messages are delivered first; without one, to the back of the queue.
* ``close_channel_on_callback_error`` (default False): what a consumer callback that
  raises does. False: the error is recorded in ``channel.errors`` and the delivery
  stays unacked until the channel closes. True: the channel closes at once (its
  deliveries are requeued), as when an exception escapes pika's ``BlockingConnection``.
* ``latency`` (seconds, default 0): the one-way network delay of every connection
  (override per connection with ``connect(latency=...)``).
* ``consumer_timeout`` (milliseconds, as ``consumer_timeout`` in rabbitmq.conf; ``None``, the
  model's default, disables it; pass ``DEFAULT_CONSUMER_TIMEOUT`` = 1,800,000, RabbitMQ's own
  default of 30 minutes, to have it): a channel whose oldest unacknowledged delivery (push or
  ``basic_get``) is older than this is closed with 406 PRECONDITION_FAILED "delivery
  acknowledgement on channel N timed out. Timeout value used: T ms. This timeout value can be
  configured, see consumers doc guide to learn more" and all its unacked deliveries, from all
  its consumers, are requeued (RabbitMQ 3.8.15 to 4.2; 4.3 cancels only the consumer of a
  quorum queue instead, not modelled). Each channel checks once a minute of virtual time from
  when it opened (``CONSUMER_TIMEOUT_CHECK_INTERVAL``), as RabbitMQ's channel tick does, so
  the channel closes at the first check strictly after the deadline. A check is on the agenda
  only while the channel holds unacked deliveries. A channel reads the setting when it opens
  (as RabbitMQ's channel process reads ``consumer_timeout`` at start): changing
  ``broker.consumer_timeout`` later applies to channels opened after. Why off by default: a model run to idleness
  (``sim.run()`` without ``until``) would otherwise jump 30 minutes ahead whenever a delivery
  is left unacked (and, because the kernel keeps a cancelled entry's time, whenever one was
  acked after a check was scheduled), changing what existing experiments show.

Checked against a live RabbitMQ 3.10.8 (with ``quorum_delivery_limit=None``, its
behaviour): the reply code and text of 35 error cases; requeue order in classic,
priority and quorum queues (with and without a delivery limit, by nack and by a closing
channel); ``x-delivery-count`` on gets and pushes; poison messages past the delivery
limit; every ``x-overflow`` mode on classic and quorum queues, with their dead-letters
and publisher confirms; ``x-death`` bookkeeping across a reject/expire retry loop;
round-robin with prefetch; TTL expiry before a consumer arrives. The project's
differential test (random topologies, confirms, gets, acks/nacks/rejects,
dead-lettering, TTL, length limits) agrees on 120 random scenarios. Known differences:
the ``x-last-death-*`` headers follow RabbitMQ 3.13+; the default quorum delivery limit
follows 4.0 (20).

Simplifications (the model is about messages, not bytes or nodes): one node and one
vhost ``/``; no authentication, flow control, memory or disk alarms; publisher confirms
come at the instant of routing (no fsync delay); a restart is instantaneous; CC/BCC
headers, streams, policies and plugin exchange types are not modelled.
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Callable
from typing import Any

from mqlab.rabbitmq.arguments import amqp_type_name, compared_arguments, parse_queue_arguments
from mqlab.rabbitmq.channel import CONSUMER_TIMEOUT_CHECK_INTERVAL, CallbackError, Channel
from mqlab.rabbitmq.connection import Connection
from mqlab.rabbitmq.consumer import Consumer
from mqlab.rabbitmq.deadletter import dead_letter_properties, is_cycle
from mqlab.rabbitmq.errors import (
    ACCESS_REFUSED,
    COMMAND_INVALID,
    CONNECTION_FORCED,
    NOT_FOUND,
    PRECONDITION_FAILED,
    RESOURCE_LOCKED,
    ConnectionForced,
    DefaultExchangeOperation,
    ExchangeInUse,
    ExchangeNotFound,
    ExclusiveConsumerInUse,
    ExclusiveQueueLocked,
    InequivalentArgument,
    InternalExchangePublish,
    InvalidArgument,
    QueueInUse,
    QueueNotFound,
    ReservedName,
    UnknownExchangeType,
)
from mqlab.rabbitmq.exchange import DefaultRouter, Exchange
from mqlab.rabbitmq.ledger import Ledger
from mqlab.rabbitmq.message import Message, message_label
from mqlab.rabbitmq.properties import (
    Basic,
    BasicProperties,
    ExchangeBindOk,
    ExchangeDeclareOk,
    ExchangeDeleteOk,
    ExchangeUnbindOk,
    Method,
    QueueBindOk,
    QueueDeclareOk,
    QueueDeleteOk,
    QueuePurgeOk,
    QueueUnbindOk,
)
from mqlab.rabbitmq.queue import Queue
from mqlab.rabbitmq.routing import EXCHANGE_TYPES
from mqlab.rabbitmq.statistics import BrokerStatistics, QueueStatistics
from mqlab.sim import Simulation

__all__ = ["CONSUMER_TIMEOUT_CHECK_INTERVAL", "DEFAULT_CONSUMER_TIMEOUT", "DEFAULT_QUORUM_DELIVERY_LIMIT",
           "PREDECLARED_EXCHANGES", "Broker"]

DEFAULT_QUORUM_DELIVERY_LIMIT = 20
"""RabbitMQ 4.0+ default ``delivery-limit`` of quorum queues (none before 4.0)."""

DEFAULT_CONSUMER_TIMEOUT = 1_800_000
"""RabbitMQ's default ``consumer_timeout`` (rabbitmq.conf, milliseconds): 30 minutes since 3.8.17."""

PREDECLARED_EXCHANGES = (
    ("amq.direct", "direct"),
    ("amq.fanout", "fanout"),
    ("amq.topic", "topic"),
    ("amq.headers", "headers"),
    ("amq.match", "headers"),
)
"""The exchanges every RabbitMQ vhost starts with (besides the default exchange ``""``)."""

VHOST = "/"


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _parse_expiration(expiration: Any) -> float:
    """``expiration`` (a string of milliseconds) in seconds, or the 406 RabbitMQ sends (rabbit_basic)."""
    if isinstance(expiration, str) and expiration.isascii():
        if expiration.isdigit():
            return int(expiration) / 1000.0
        text = expiration.strip()
        digits = len(text) - len(text.lstrip("+-"))
        while digits < len(text) and text[digits].isdigit():
            digits += 1
        number = text[:digits]
        if not number.lstrip("+-"):
            detail = "no_integer"
        elif digits < len(text):
            detail = f'{{leftover_string,"{text[digits:]}"}}'
        else:
            detail = f"{{value_negative,{int(number)}}}"
    else:
        detail = "no_integer"
    raise InvalidArgument(
        PRECONDITION_FAILED,
        f"PRECONDITION_FAILED - invalid expiration '{expiration}': {detail}",
        "BasicProperties.expiration is a string of milliseconds, e.g. expiration='60000'",
    )


def _inequivalent_text(value: Any, present: bool) -> str:
    return f"the value '{value}' of type '{amqp_type_name(value)}'" if present else "none"


class _TransitAccounts:
    """Publishes that left a client and never reached routing (by cause), and extra copies a fault delivered."""

    __slots__ = ("lost", "lost_by", "duplicated")

    def __init__(self) -> None:
        self.lost = 0
        self.lost_by: dict[str, int] = {}
        self.duplicated = 0



RUNAWAY_DEATHS = 1_000
"""Deaths after which a dead-lettered copy's next hop waits for a kernel entry of its own."""


def _deaths(properties: BasicProperties) -> int:
    """How many times a copy has been dead-lettered, from its ``x-death`` header."""
    return sum(int(death.get("count", 1)) for death in (properties.headers or {}).get("x-death", ()))

class Broker:
    """A single-node RabbitMQ broker in virtual time.

    States: *running*; :meth:`restart` passes through a shutdown (every connection
    closed, unacked deliveries requeued, transient queues, exchanges and messages
    lost) and is running again at the same instant.
    """

    def __init__(self, sim: Simulation, *, latency: float = 0.0,
                 quorum_delivery_limit: int | None = DEFAULT_QUORUM_DELIVERY_LIMIT,
                 close_channel_on_callback_error: bool = False, name: str = "rabbit",
                 consumer_timeout: float | None = None) -> None:
        if not isinstance(sim, Simulation):
            raise TypeError(f"Broker needs a mqlab.sim.Simulation, got {sim!r}")
        if not latency >= 0 or latency == float("inf"):
            raise ValueError(f"broker {name!r}: latency must be a finite number of seconds >= 0, got {latency!r}")
        if quorum_delivery_limit is not None and (
            isinstance(quorum_delivery_limit, bool) or not isinstance(quorum_delivery_limit, int)
        ):
            raise TypeError(f"quorum_delivery_limit must be an int or None (no limit), got {quorum_delivery_limit!r}")
        if consumer_timeout is not None and (
            isinstance(consumer_timeout, bool) or not isinstance(consumer_timeout, (int, float))
            or not 0 < consumer_timeout < float("inf")
        ):
            raise ValueError(
                f"broker {name!r}: consumer_timeout is in milliseconds, a finite number > 0 (RabbitMQ's default is "
                f"{DEFAULT_CONSUMER_TIMEOUT}, 30 minutes), or None to disable it; got {consumer_timeout!r}"
            )
        self.sim = sim
        self.name = name
        self.latency = float(latency)
        self.consumer_timeout = consumer_timeout
        self.quorum_delivery_limit = quorum_delivery_limit
        self.close_channel_on_callback_error = close_channel_on_callback_error
        self._names = sim.substream(f"rabbitmq:{name}:names")
        self._queues: dict[str, Queue] = {}
        self._retired: list[Queue] = []
        self._exchanges: dict[str, Exchange] = {}
        self._connections: list[Connection] = []
        self._connection_count = 0
        self._channels = 0
        self.errors: list[CallbackError] = []
        # publish-side accounts
        self._published = 0
        self._in_transit = 0
        # publishes lost on the way and extra copies delivered, in one object: Broker keeps under 30
        # attributes, past which CPython 3.11 stops sharing instance-dict keys and attribute reads slow down
        self._transit = _TransitAccounts()
        self._publish_errors = 0
        self._unroutable = 0
        self._returned = 0
        self._routed = 0
        self._routed_copies = 0
        self._dead_letter_copies = 0
        self._routing = False
        self._pending_dead_letters: deque[tuple[Queue, Message, BasicProperties]] = deque()
        self._confirmed = 0
        self._nacked = 0
        self._message_seq = 0
        self._restarts = 0
        self._declare_predeclared()

    def _declare_predeclared(self) -> None:
        default = Exchange("", "direct", True, False, False, {}, DefaultRouter(self._queues))
        self._exchanges[""] = default
        for name, kind in PREDECLARED_EXCHANGES:
            if name not in self._exchanges:
                self._exchanges[name] = Exchange(name, kind, True, False, False, {})

    # -- connections ----------------------------------------------------------------------------
    def connect(self, *, name: str | None = None, latency: float | None = None,
                connection_class: type[Connection] = Connection) -> Connection:
        """Open a client connection (pika: ``BlockingConnection(params)``).

        ``connection_class`` lets a fault layer pass a :class:`Connection` subclass whose
        ``transmit``/``receive`` intercept frames.
        """
        self._connection_count += 1
        connection = connection_class(self, name or f"conn-{self._connection_count}",
                                      self.latency if latency is None else latency)
        self._connections.append(connection)
        if self.sim.tracing:
            self.sim.log("broker", "connection_opened", connection=connection.name)
        return connection

    def _channel_opened(self, channel: Channel) -> None:
        self._channels += 1

    def _channel_closed(self, channel: Channel) -> None:
        self._channels -= 1

    def _connection_closed(self, connection: Connection) -> None:
        self._connections = [c for c in self._connections if c is not connection]
        for queue in list(self._queues.values()):
            if queue.exclusive_owner is connection:
                self._delete_queue(queue, "owner_closed")
        if self.sim.tracing:
            self.sim.log("broker", "connection_closed", connection=connection.name)

    def _lose_in_transit(self, cause: str) -> None:
        """A publish that left its client never reached routing, because of ``cause``."""
        transit = self._transit
        transit.lost += 1
        by = transit.lost_by
        by[cause] = by.get(cause, 0) + 1

    def _record_callback_error(self, where: str, error: Exception) -> None:
        self.errors.append(CallbackError(self.sim.now, where, None, repr(error), error))

    def _consumer_tag(self, channel: Channel) -> str:
        return f"ctag{channel.channel_number}.{self._names.getrandbits(128):032x}"

    def _server_queue_name(self) -> str:
        raw = self._names.getrandbits(128).to_bytes(16, "big")
        return "amq.gen-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    # -- lookups ------------------------------------------------------------------------------
    def _exchange(self, name: str) -> Exchange:
        exchange = self._exchanges.get(name)
        if exchange is None:
            raise ExchangeNotFound(
                NOT_FOUND, f"NOT_FOUND - no exchange '{name}' in vhost '{VHOST}'",
                f"declare it first with exchange_declare({name!r}, ...)",
            )
        return exchange

    def _queue(self, name: str, channel: Channel | None = None) -> Queue:
        queue = self._queues.get(name)
        if queue is None:
            raise QueueNotFound(
                NOT_FOUND, f"NOT_FOUND - no queue '{name}' in vhost '{VHOST}'",
                f"declare it first with queue_declare({name!r}, ...)",
            )
        if channel is not None:
            self._check_exclusive(queue, channel)
        return queue

    def _check_exclusive(self, queue: Queue, channel: Channel, strict: bool = False) -> None:
        """405 unless ``channel``'s connection may use ``queue``; ``strict`` (a declare asking for
        exclusivity) also refuses a queue that is not exclusive, as rabbit_amqqueue does."""
        owner = queue.exclusive_owner
        if (owner is not None and owner is not channel.connection) or (strict and owner is None):
            raise ExclusiveQueueLocked(
                RESOURCE_LOCKED,
                f"RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '{queue.name}' in vhost "
                f"'{VHOST}'. It could be originally declared on another connection or the exclusive property "
                f"value does not match that of the original declaration.",
                f"queue {queue.name!r} is exclusive to connection {owner.name!r}; use it from that connection"
                if owner is not None else
                f"queue {queue.name!r} exists and is not exclusive; declare it with exclusive=False, or use "
                f"another name",
            )

    def queue(self, name: str) -> Queue:
        """The live queue called ``name`` (for inspection), or raise :class:`QueueNotFound`."""
        return self._queue(name)

    @property
    def queues(self) -> list[str]:
        """Names of the live queues, in declaration order."""
        return list(self._queues)

    @property
    def exchanges(self) -> list[str]:
        """Names of the live exchanges (default and ``amq.*`` included), in declaration order."""
        return list(self._exchanges)

    # -- exchanges ---------------------------------------------------------------------------------
    def _exchange_declare(self, channel: Channel, name: str, exchange_type: Any, passive: bool, durable: bool,
                          auto_delete: bool, internal: bool, arguments: dict[str, Any]) -> Method:
        existing = self._exchanges.get(name)
        if passive:
            if existing is None:
                self._exchange(name)
            return Method(channel.channel_number, ExchangeDeclareOk())
        if name == "":
            raise DefaultExchangeOperation(
                ACCESS_REFUSED, "ACCESS_REFUSED - operation not permitted on the default exchange",
                "the default exchange \"\" always exists; declare a named exchange instead",
            )
        if name.startswith("amq."):
            raise ReservedName(
                ACCESS_REFUSED, f"ACCESS_REFUSED - exchange name '{name}' contains reserved prefix 'amq.*'",
                "choose a name that does not start with 'amq.'",
            )
        if exchange_type not in EXCHANGE_TYPES:
            raise UnknownExchangeType(
                COMMAND_INVALID, f"COMMAND_INVALID - unknown exchange type '{exchange_type}'",
                f"exchange {name!r}: use one of {', '.join(EXCHANGE_TYPES)}",
            )
        if existing is not None:
            for what, received, current in (
                ("type", exchange_type, existing.type),
                ("durable", _bool_text(durable), _bool_text(existing.durable)),
                ("auto_delete", _bool_text(auto_delete), _bool_text(existing.auto_delete)),
                ("internal", _bool_text(internal), _bool_text(existing.internal)),
            ):
                if received != current:
                    raise InequivalentArgument(
                        PRECONDITION_FAILED,
                        f"PRECONDITION_FAILED - inequivalent arg '{what}' for exchange '{name}' in vhost "
                        f"'{VHOST}': received '{received}' but current is '{current}'",
                        f"declare exchange {name!r} exactly as it exists, or delete it first",
                    )
            if existing.arguments.get("alternate-exchange") != arguments.get("alternate-exchange"):
                raise InequivalentArgument(
                    PRECONDITION_FAILED,
                    f"PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '{name}' in vhost "
                    f"'{VHOST}': received {arguments.get('alternate-exchange')!r} but current is "
                    f"{existing.arguments.get('alternate-exchange')!r}",
                    f"declare exchange {name!r} exactly as it exists, or delete it first",
                )
            return Method(channel.channel_number, ExchangeDeclareOk())
        self._exchanges[name] = Exchange(name, exchange_type, durable, auto_delete, internal, arguments)
        if self.sim.tracing:
            self.sim.log("broker", "exchange_declared", exchange=name, type=exchange_type, durable=durable)
        return Method(channel.channel_number, ExchangeDeclareOk())

    def _forbid_default_or_reserved(self, name: str) -> None:
        if name == "":
            raise DefaultExchangeOperation(
                ACCESS_REFUSED, "ACCESS_REFUSED - operation not permitted on the default exchange",
                "the default exchange routes to every queue by its name and cannot be changed",
            )
        if name.startswith("amq."):
            raise ReservedName(
                ACCESS_REFUSED, f"ACCESS_REFUSED - exchange name '{name}' contains reserved prefix 'amq.*'",
                "predeclared amq.* exchanges cannot be deleted",
            )

    def _exchange_delete(self, channel: Channel, name: str, if_unused: bool) -> Method:
        self._forbid_default_or_reserved(name)
        exchange = self._exchanges.get(name)
        if exchange is None:
            return Method(channel.channel_number, ExchangeDeleteOk())
        if if_unused and exchange.bindings:
            raise ExchangeInUse(
                PRECONDITION_FAILED, f"PRECONDITION_FAILED - exchange '{name}' in vhost '{VHOST}' in use",
                f"exchange {name!r} still has {len(exchange.bindings)} binding(s); unbind them or delete "
                f"without if_unused",
            )
        self._delete_exchange(exchange)
        return Method(channel.channel_number, ExchangeDeleteOk())

    def _delete_exchange(self, exchange: Exchange) -> None:
        exchange.deleted = True
        del self._exchanges[exchange.name]
        exchange.bindings = []
        for other in list(self._exchanges.values()):
            if other.remove_destination(exchange):
                self._maybe_auto_delete(other)
        if self.sim.tracing:
            self.sim.log("broker", "exchange_deleted", exchange=exchange.name)

    def _maybe_auto_delete(self, exchange: Exchange) -> None:
        if exchange.auto_delete and not exchange.bindings and not exchange.deleted:
            self._delete_exchange(exchange)

    def _bind(self, source: Exchange, destination: Any, routing_key: str, arguments: dict[str, Any]) -> None:
        problem = source.router.validate_binding(routing_key, arguments)
        if problem is not None:
            raise InvalidArgument(
                PRECONDITION_FAILED, f"PRECONDITION_FAILED - {problem}",
                f"binding to headers exchange {source.name!r}: set x-match to all, any, all-with-x or any-with-x",
            )
        if source.add_binding(destination, routing_key, arguments) and self.sim.tracing:
            self.sim.log("broker", "bound", source=source.name, destination=destination.name,
                         routing_key=routing_key, arguments=dict(arguments))

    def _exchange_bind(self, channel: Channel, destination: str, source: str, routing_key: str,
                       arguments: dict[str, Any]) -> Method:
        if source == "" or destination == "":
            self._forbid_default_or_reserved("")
        target = self._exchange(destination)
        origin = self._exchange(source)
        self._bind(origin, target, routing_key, arguments)
        return Method(channel.channel_number, ExchangeBindOk())

    def _exchange_unbind(self, channel: Channel, destination: str, source: str, routing_key: str,
                         arguments: dict[str, Any]) -> Method:
        if source == "" or destination == "":
            self._forbid_default_or_reserved("")
        target = self._exchange(destination)
        origin = self._exchange(source)
        if origin.remove_binding(target, routing_key, arguments):
            self._maybe_auto_delete(origin)
        return Method(channel.channel_number, ExchangeUnbindOk())

    # -- queues ---------------------------------------------------------------------------------
    def _queue_declare(self, channel: Channel, name: str, passive: bool, durable: bool, exclusive: bool,
                       auto_delete: bool, arguments: dict[str, Any]) -> Method:
        existing = self._queues.get(name)
        if passive:
            queue = self._queue(name, channel)
            return Method(channel.channel_number,
                          QueueDeclareOk(queue.name, queue.ready, len(queue._consumers)))
        if name == "":
            name = self._server_queue_name()
            existing = None
        elif name.startswith("amq."):
            raise ReservedName(
                ACCESS_REFUSED, f"ACCESS_REFUSED - queue name '{name}' contains reserved prefix 'amq.*'",
                "choose a name that does not start with 'amq.', or pass '' to let the broker name the queue",
            )
        if existing is not None:
            self._check_exclusive(existing, channel, strict=exclusive)
            self._check_equivalent(existing, durable, auto_delete, arguments)
            existing.touch()
            return Method(channel.channel_number,
                          QueueDeclareOk(existing.name, existing.ready, len(existing._consumers)))
        settings = parse_queue_arguments(name, arguments, durable, exclusive, auto_delete,
                                         self.quorum_delivery_limit)
        queue = Queue(self, name, durable, channel.connection if exclusive else None, auto_delete, arguments,
                      settings)
        self._queues[name] = queue
        if self.sim.tracing:
            self.sim.log("broker", "queue_declared", queue=name, type=settings.queue_type, durable=durable,
                         exclusive=exclusive, auto_delete=auto_delete, arguments=dict(arguments))
        return Method(channel.channel_number, QueueDeclareOk(name, 0, 0))

    def _check_equivalent(self, queue: Queue, durable: bool, auto_delete: bool, arguments: dict[str, Any]) -> None:
        for what, received, current in (
            ("durable", durable, queue.durable),
            ("auto_delete", auto_delete, queue.auto_delete),
        ):
            if received != current:
                raise InequivalentArgument(
                    PRECONDITION_FAILED,
                    f"PRECONDITION_FAILED - inequivalent arg '{what}' for queue '{queue.name}' in vhost "
                    f"'{VHOST}': received '{_bool_text(received)}' but current is '{_bool_text(current)}'",
                    f"declare queue {queue.name!r} exactly as it exists, or delete it first",
                )
        new = compared_arguments(arguments)
        old = compared_arguments(queue.arguments)
        for key in sorted(set(new) | set(old)):
            if new.get(key) != old.get(key) and not (key == "x-queue-type" and {new.get(key), old.get(key)} <= {
                None, "classic"
            } and queue.settings.queue_type == "classic"):
                if key in new and key in old:
                    difference = f"received '{new[key]}' but current is '{old[key]}'"
                else:
                    difference = (f"received {_inequivalent_text(new.get(key), key in new)} but current is "
                                  f"{_inequivalent_text(old.get(key), key in old)}")
                raise InequivalentArgument(
                    PRECONDITION_FAILED,
                    f"PRECONDITION_FAILED - inequivalent arg '{key}' for queue '{queue.name}' in vhost '{VHOST}': "
                    f"{difference}",
                    f"declare queue {queue.name!r} with the same arguments, or delete it and declare it again",
                )

    def _queue_bind(self, channel: Channel, queue_name: str, exchange_name: str, routing_key: str,
                    arguments: dict[str, Any]) -> Method:
        if exchange_name == "":
            self._forbid_default_or_reserved("")
        queue = self._queue(queue_name, channel)
        exchange = self._exchange(exchange_name)
        self._bind(exchange, queue, routing_key, arguments)
        return Method(channel.channel_number, QueueBindOk())

    def _queue_unbind(self, channel: Channel, queue_name: str, exchange_name: str, routing_key: str,
                      arguments: dict[str, Any]) -> Method:
        if exchange_name == "":
            self._forbid_default_or_reserved("")
        queue = self._queue(queue_name, channel)
        exchange = self._exchange(exchange_name)
        if exchange.remove_binding(queue, routing_key, arguments):
            if self.sim.tracing:
                self.sim.log("broker", "unbound", source=exchange.name, destination=queue.name,
                             routing_key=routing_key)
            self._maybe_auto_delete(exchange)
        return Method(channel.channel_number, QueueUnbindOk())

    def _queue_purge(self, channel: Channel, name: str) -> Method:
        queue = self._queue(name, channel)
        return Method(channel.channel_number, QueuePurgeOk(queue.purge()))

    def _queue_delete(self, channel: Channel, name: str, if_unused: bool, if_empty: bool) -> Method:
        queue = self._queues.get(name)
        if queue is None:
            return Method(channel.channel_number, QueueDeleteOk(0))
        self._check_exclusive(queue, channel)
        if if_unused and queue._consumers:
            raise QueueInUse(
                PRECONDITION_FAILED, f"PRECONDITION_FAILED - queue '{name}' in vhost '{VHOST}' in use",
                f"queue {name!r} has {len(queue._consumers)} consumer(s); cancel them or delete without if_unused",
            )
        if if_empty and queue.ready:
            raise QueueInUse(
                PRECONDITION_FAILED, f"PRECONDITION_FAILED - queue '{name}' in vhost '{VHOST}' not empty",
                f"queue {name!r} has {queue.ready} ready message(s); consume or purge them, or delete without "
                f"if_empty",
            )
        count = queue.ready
        self._delete_queue(queue, "deleted")
        return Method(channel.channel_number, QueueDeleteOk(count))

    def _delete_queue(self, queue: Queue, why: str, *, lost: bool = False, drop_reason: str = "queue_deleted") -> None:
        """Remove a queue: its consumers are cancelled, its copies dropped (or lost on restart), bindings go."""
        if queue.deleted:
            return
        queue.deleted = True
        for consumer in list(queue._consumers):
            consumer.cancelled = True
            consumer.channel._cancelled_by_broker(consumer)
        queue._consumers = []
        queue.drop_all(drop_reason, lost=lost)
        if queue.unacked:
            if lost:
                queue.lost_on_restart += queue.unacked
            else:
                queue.dropped[drop_reason] = queue.dropped.get(drop_reason, 0) + queue.unacked
            queue.unacked = 0
        for handle in (queue._expiry_handle, queue._expires_handle):
            if handle is not None:
                handle.cancel()
        queue._expiry_handle = queue._expires_handle = None
        del self._queues[queue.name]
        self._retired.append(queue)
        for exchange in list(self._exchanges.values()):
            if exchange.remove_destination(queue):
                self._maybe_auto_delete(exchange)
        if self.sim.tracing:
            self.sim.log("broker", "queue_deleted", queue=queue.name, reason=why)

    # -- publishing and routing -------------------------------------------------------------------
    def _publish(self, channel: Channel, exchange_name: str, routing_key: str, properties: BasicProperties | None,
                 body: bytes, mandatory: bool, seq: int) -> None:
        exchange = self._exchanges.get(exchange_name)
        if exchange is None:
            self._exchange(exchange_name)
        assert exchange is not None
        if exchange.internal:
            raise InternalExchangePublish(
                ACCESS_REFUSED,
                f"ACCESS_REFUSED - cannot publish to internal exchange '{exchange_name}' in vhost '{VHOST}'",
                f"exchange {exchange_name!r} is internal: publish to an exchange bound to it instead",
            )
        if properties is None:
            headers = None
            ttl = None
            persistent = False
        else:
            headers = properties.headers
            expiration = properties.expiration
            ttl = None if expiration is None else _parse_expiration(expiration)
            persistent = properties.delivery_mode == 2
        self._message_seq += 1
        message = Message(self._message_seq, exchange_name, routing_key, properties, body, persistent, ttl)
        sim = self.sim
        if sim.tracing:
            sim.log(channel.actor, "published", msg=message_label(message.id), exchange=exchange_name,
                    routing_key=routing_key, size=message.size, persistent=message.persistent,
                    mandatory=mandatory, seq=seq or None)
        queues = (exchange.router.route(routing_key, headers) if exchange.simple
                  else self._route(exchange, routing_key, headers))
        if not queues:
            if mandatory:
                self._returned += 1
                if sim.tracing:
                    sim.log(exchange.actor, "returned", msg=message_label(message.id), reply_code=312)
                channel._send_return(message)
            else:
                self._unroutable += 1
                if sim.tracing:
                    sim.log(exchange.actor, "unroutable", msg=message_label(message.id))
            if seq:
                self._confirmed += 1
                channel._send_confirm(seq, True)
            return
        self._routed += 1
        self._routed_copies += len(queues)
        if sim.tracing:
            sim.log(exchange.actor, "routed", msg=message_label(message.id), queues=[q.name for q in queues])
        self._routing = True
        try:
            if len(queues) == 1:
                accepted = queues[0].offer(message)
            else:
                accepted = True
                for queue in tuple(queues):
                    if not queue.offer(message):
                        accepted = False
        finally:
            self._routing = False
        if self._pending_dead_letters:
            self._flush_dead_letters()
        if seq:
            if accepted:
                self._confirmed += 1
            else:
                self._nacked += 1
            channel._send_confirm(seq, accepted)

    def _route(self, exchange: Exchange, routing_key: str, headers: dict[str, Any] | None) -> list[Queue]:
        """Queues reached from ``exchange``, through exchange-to-exchange bindings and alternate exchanges."""
        found: list[Queue] = []
        visited: list[Exchange] = [exchange]
        self._route_into(exchange, routing_key, headers, found, visited)
        return found

    def _route_into(self, exchange: Exchange, routing_key: str, headers: dict[str, Any] | None,
                    found: list[Queue], visited: list[Exchange]) -> None:
        destinations = exchange.router.route(routing_key, headers)
        if not destinations:
            alternate = self._exchanges.get(exchange.alternate) if exchange.alternate is not None else None
            if alternate is not None and all(v is not alternate for v in visited):
                visited.append(alternate)
                self._route_into(alternate, routing_key, headers, found, visited)
            return
        for destination in destinations:
            if isinstance(destination, Queue):
                if all(q is not destination for q in found):
                    found.append(destination)
            elif all(v is not destination for v in visited):
                visited.append(destination)
                self._route_into(destination, routing_key, headers, found, visited)

    def _dead_letter(self, queue: Queue, message: Message, reason: str) -> None:
        """A copy leaves ``queue`` for ``reason``: republish it to the queue's dead-letter exchange.

        RabbitMQ dead-letters asynchronously: a copy dead-lettered while a publish is being
        routed (a TTL of 0, a full queue) reaches its targets after that publish has reached
        all of its queues. The republish waits in ``_pending_dead_letters`` until then.
        """
        queue.dead_lettered[reason] = queue.dead_lettered.get(reason, 0) + 1
        sim = self.sim
        properties = dead_letter_properties(message.properties or BasicProperties(), queue.name, reason,
                                            message.exchange, [message.routing_key], sim.now)
        if sim.tracing:
            sim.log(queue.actor, "dead_lettered", msg=message_label(message.id), reason=reason,
                    count=properties.headers["x-death"][0]["count"],
                    dead_letter_exchange=queue.settings.dead_letter_exchange or "", ready=queue.ready)
        self._pending_dead_letters.append((queue, message, properties))
        if not self._routing:
            self._flush_dead_letters()

    def _flush_dead_letters(self) -> None:
        """Route the waiting dead-lettered copies, in order.

        A dead-letter cycle that contains a rejection is legal and, on RabbitMQ, goes round for
        ever in the background. Here each hop would run inside the same kernel entry, so once a
        copy has died more than :data:`RUNAWAY_DEATHS` times its next hops each get a kernel
        entry of their own: the simulation's event budget then stops the run with a message
        instead of hanging.
        """
        pending = self._pending_dead_letters
        self._routing = True
        first = True
        try:
            while pending:
                if not first and _deaths(pending[0][2]) > RUNAWAY_DEATHS:
                    self.sim.call_soon(self._flush_dead_letters)
                    break
                self._route_dead_letter(*pending.popleft())
                first = False
        finally:
            self._routing = False

    def _route_dead_letter(self, queue: Queue, message: Message, properties: BasicProperties) -> None:
        settings = queue.settings
        sim = self.sim
        dlx_name = settings.dead_letter_exchange or ""
        exchange = self._exchanges.get(dlx_name)
        if exchange is None:
            if sim.tracing:
                sim.log(queue.actor, "dropped", msg=message_label(message.id), policy="dead_letter_exchange_missing")
            return
        key = settings.dead_letter_routing_key
        if key is None:
            key = message.routing_key
        copy = Message(message.id, dlx_name, key, properties, message.body, message.persistent, None)
        targets = self._route(exchange, key, properties.headers)
        if not targets and sim.tracing:
            sim.log(exchange.actor, "dropped", msg=message_label(message.id), policy="dead_letter_unroutable")
        for target in targets:
            if is_cycle(properties, target.name):
                if sim.tracing:
                    sim.log(target.actor, "dropped", msg=message_label(message.id), policy="dead_letter_cycle")
                continue
            self._dead_letter_copies += 1
            target.offer(copy)

    # -- consuming ---------------------------------------------------------------------------------
    def _basic_consume(self, channel: Channel, queue_name: str, callback: Callable[..., Any], auto_ack: bool,
                       exclusive: bool, tag: str, arguments: dict[str, Any]) -> Consumer:
        queue = self._queue(queue_name, channel)
        if queue.exclusive_consumer or (exclusive and queue._consumers):
            raise ExclusiveConsumerInUse(
                ACCESS_REFUSED, f"ACCESS_REFUSED - queue '{queue_name}' in vhost '{VHOST}' in exclusive use",
                f"queue {queue_name!r} has an exclusive consumer, or you asked for exclusivity while it has "
                f"consumers; use another queue or wait for the other consumer to cancel",
            )
        priority = arguments.get("x-priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise InvalidArgument(
                PRECONDITION_FAILED,
                f"PRECONDITION_FAILED - invalid arg 'x-priority' for consumer on queue '{queue_name}': "
                f"{{unacceptable_type,{type(priority).__name__}}}",
                "x-priority is an int; higher-priority consumers get messages first",
            )
        consumer = Consumer(tag, queue, channel, callback, auto_ack, exclusive, priority, channel._prefetch, arguments)
        queue.add_consumer(consumer)
        return consumer

    def _basic_cancel(self, consumer: Consumer) -> None:
        if consumer.cancelled:
            return
        queue = consumer.queue
        if queue.deleted:
            consumer.cancelled = True
            return
        queue.remove_consumer(consumer)

    def _basic_get(self, channel: Channel, queue_name: str, auto_ack: bool) -> tuple[Any, Any, Any]:
        queue = self._queue(queue_name, channel)
        queue.touch()
        entry = queue.take()
        if entry is None:
            return (None, None, None)
        tag = channel._take(queue, entry, auto_ack)
        message = entry.message
        properties = message.delivered_properties(entry.delivery_count)
        method = Basic.GetOk(tag, entry.redelivered, message.exchange, message.routing_key, queue.ready)
        return (method, properties, message.body)

    # -- restart -------------------------------------------------------------------------------------
    def restart(self) -> None:
        """Stop and start the broker at this instant, honouring durability.

        Every connection is closed (CONNECTION_FORCED, 320) after its unacked deliveries are
        requeued; frames still on the network are lost. Transient queues disappear with
        their messages; durable classic queues keep only persistent messages
        (``delivery_mode=2``); quorum queues keep everything. Transient exchanges and the
        bindings of anything that disappeared go too. Lost copies are counted as
        ``lost_on_restart`` in the ledger.
        """
        self._restarts += 1
        sim = self.sim
        if sim.tracing:
            sim.log("broker", "restart", connections=len(self._connections))
        for connection in list(self._connections):
            connection._closed_by_broker(ConnectionForced(
                CONNECTION_FORCED, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
                "the broker restarted: reconnect with broker.connect() and declare what you need again",
            ))
        for queue in list(self._queues.values()):
            if not queue.durable:
                self._delete_queue(queue, "restart", lost=True)
            elif not queue.is_quorum:
                queue.drop_transient()
        for exchange in list(self._exchanges.values()):
            if not exchange.durable and not exchange.deleted:
                self._delete_exchange(exchange)

    # -- introspection -------------------------------------------------------------------------------
    def queue_statistics(self, name: str) -> QueueStatistics:
        """A frozen record of queue ``name`` now."""
        return self._queue(name).statistics()

    def statistics(self) -> BrokerStatistics:
        """A frozen record of the whole broker now (totals include deleted queues)."""
        every = list(self._queues.values()) + self._retired
        return BrokerStatistics(
            time=self.sim.now,
            connections=len(self._connections),
            channels=self._channels,
            exchanges=len(self._exchanges),
            queues=len(self._queues),
            consumers=sum(len(q._consumers) for q in self._queues.values()),
            published=self._published,
            routed=self._routed,
            unroutable=self._unroutable,
            returned=self._returned,
            confirmed=self._confirmed,
            nacked=self._nacked,
            ready=sum(q.ready for q in self._queues.values()),
            unacked=sum(q.unacked for q in self._queues.values()),
            delivered=sum(q.delivered for q in every),
            acked=sum(q.acked for q in every),
            dead_lettered=sum(sum(q.dead_lettered.values()) for q in every),
            expired=sum(q.expired for q in every),
            restarts=self._restarts,
        )

    def ledger(self) -> Ledger:
        """A frozen snapshot of where every message is (see :mod:`mqlab.rabbitmq.ledger`)."""
        every = list(self._queues.values()) + self._retired
        dead: dict[str, int] = {}
        dropped: dict[str, int] = {}
        for queue in every:
            for reason, count in queue.dead_lettered.items():
                dead[reason] = dead.get(reason, 0) + count
            for reason, count in queue.dropped.items():
                dropped[reason] = dropped.get(reason, 0) + count
        return Ledger(
            time=self.sim.now,
            published=self._published,
            in_transit=self._in_transit,
            lost_in_transit=self._transit.lost,
            publish_errors=self._publish_errors,
            unroutable=self._unroutable,
            returned=self._returned,
            routed=self._routed,
            routed_copies=self._routed_copies,
            offered=sum(q.enqueued for q in every),
            dead_letter_copies=self._dead_letter_copies,
            ready=sum(q.ready for q in every),
            unacked=sum(q.unacked for q in every),
            acked=sum(q.acked for q in every),
            auto_acked=sum(q.auto_acked for q in every),
            expired=sum(q.expired for q in every),
            refused=sum(q.refused for q in every),
            lost_on_restart=sum(q.lost_on_restart for q in every),
            dead_lettered=dict(sorted(dead.items())),
            dropped=dict(sorted(dropped.items())),
            duplicated=self._transit.duplicated,
            lost_in_transit_by=dict(sorted(self._transit.lost_by.items())),
        )

    def topology(self, include_predeclared: bool = False) -> dict[str, list[dict[str, Any]]]:
        """A plain description for diagrams: exchanges, bindings, queues, consumers, dead-letter and
        alternate-exchange edges. The default exchange's implicit bindings are left out (every queue
        has one); the ``amq.*`` exchanges only with ``include_predeclared=True`` or when bound."""
        def shown(exchange: Exchange) -> bool:
            if exchange.name == "":
                return include_predeclared
            if exchange.name.startswith("amq."):
                return include_predeclared or bool(exchange.bindings)
            return True

        exchanges = [
            {"name": e.name, "type": e.type, "durable": e.durable, "auto_delete": e.auto_delete,
             "internal": e.internal, "arguments": dict(e.arguments)}
            for e in self._exchanges.values() if shown(e)
        ]
        bindings = [
            {"source": b.source, "destination": b.destination.name,
             "destination_type": "queue" if isinstance(b.destination, Queue) else "exchange",
             "routing_key": b.routing_key, "arguments": dict(b.arguments)}
            for e in self._exchanges.values() for b in e.bindings
        ]
        queues = [
            {"name": q.name, "type": q.settings.queue_type, "durable": q.durable,
             "exclusive": q.exclusive_owner is not None, "auto_delete": q.auto_delete,
             "arguments": dict(q.arguments), "ready": q.ready, "unacked": q.unacked}
            for q in self._queues.values()
        ]
        consumers = [
            {"queue": q.name, "consumer_tag": c.tag, "channel": c.channel.actor, "auto_ack": c.auto_ack,
             "exclusive": c.exclusive, "prefetch": c.prefetch, "priority": c.priority,
             "active": (not q.settings.single_active_consumer) or index == 0}
            for q in self._queues.values() for index, c in enumerate(q._consumers)
        ]
        dead_letters = [
            {"queue": q.name, "exchange": q.settings.dead_letter_exchange,
             "routing_key": q.settings.dead_letter_routing_key}
            for q in self._queues.values() if q.settings.dead_letter_exchange is not None
        ]
        alternates = [
            {"exchange": e.name, "alternate_exchange": e.alternate}
            for e in self._exchanges.values() if e.alternate is not None
        ]
        return {"exchanges": exchanges, "bindings": bindings, "queues": queues, "consumers": consumers,
                "dead_letter_edges": dead_letters, "alternate_edges": alternates}

    def __repr__(self) -> str:
        return (f"<Broker {self.name!r} t={self.sim.now:g} queues={len(self._queues)} "
                f"connections={len(self._connections)}>")
