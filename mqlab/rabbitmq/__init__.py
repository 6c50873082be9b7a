"""mqlab.rabbitmq: a RabbitMQ broker model in virtual time, programmed with pika's API.

::

    from mqlab.sim import Simulation
    from mqlab.rabbitmq import Broker

    sim = Simulation(seed=1)
    broker = Broker(sim)                       # Broker(sim, latency=0.002, quorum_delivery_limit=20)
    ch = broker.connect().channel()            # pika: BlockingConnection(...).channel()
    ch.exchange_declare("logs", "topic")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, "logs", "kern.*")
    ch.basic_consume(q, lambda ch, m, p, body: ch.basic_ack(m.delivery_tag))
    ch.basic_publish("logs", "kern.critical", b"disk full")
    sim.run()

What the simulator adds is visibly extra: ``broker.statistics()``,
``broker.queue_statistics(name)``, ``broker.ledger()``, ``broker.topology()``,
``broker.restart()``, ``channel.errors``, ``channel.consume()`` events for kernel
processes, and the trace (``Simulation(trace=True)``), whose details carry
``msg=msg-<n>`` so one message's journey can be followed.

Modules: :mod:`~mqlab.rabbitmq.routing` (the rules, pure functions),
:mod:`~mqlab.rabbitmq.exchange`, :mod:`~mqlab.rabbitmq.queue`,
:mod:`~mqlab.rabbitmq.store`, :mod:`~mqlab.rabbitmq.arguments`,
:mod:`~mqlab.rabbitmq.deadletter`, :mod:`~mqlab.rabbitmq.channel`,
:mod:`~mqlab.rabbitmq.consumer`, :mod:`~mqlab.rabbitmq.stream`,
:mod:`~mqlab.rabbitmq.connection`, :mod:`~mqlab.rabbitmq.broker`,
:mod:`~mqlab.rabbitmq.properties`, :mod:`~mqlab.rabbitmq.errors`,
:mod:`~mqlab.rabbitmq.ledger`, :mod:`~mqlab.rabbitmq.statistics`.
"""

from mqlab.rabbitmq.broker import (
    DEFAULT_CONSUMER_TIMEOUT,
    DEFAULT_QUORUM_DELIVERY_LIMIT,
    PREDECLARED_EXCHANGES,
    Broker,
)
from mqlab.rabbitmq.channel import CallbackError, Channel
from mqlab.rabbitmq.connection import Connection
from mqlab.rabbitmq.errors import (
    AccessRefused,
    AMQPChannelError,
    AMQPConnectionError,
    AMQPError,
    ChannelClosed,
    ChannelClosedByBroker,
    ChannelClosedByClient,
    ChannelWrongStateError,
    CommandInvalid,
    ConnectionClosed,
    ConnectionClosedByBroker,
    ConnectionClosedByClient,
    ConnectionForced,
    ConnectionWrongStateError,
    DefaultExchangeOperation,
    DeliveryAcknowledgementTimeout,
    DuplicateConsumerTag,
    ExchangeInUse,
    ExchangeNotFound,
    ExclusiveConsumerInUse,
    ExclusiveQueueLocked,
    InequivalentArgument,
    InternalExchangePublish,
    InvalidArgument,
    InvalidFieldType,
    LedgerImbalance,
    NackError,
    NotAllowed,
    NotFound,
    NotImplementedFeature,
    PreconditionFailed,
    QueueInUse,
    QueueNotFound,
    ReservedName,
    ResourceLocked,
    ShortStringTooLong,
    UnknownDeliveryTag,
    UnknownExchangeType,
    UnroutableError,
)
from mqlab.rabbitmq.ledger import Ledger
from mqlab.rabbitmq.properties import PERSISTENT, TRANSIENT, Basic, BasicProperties, Method
from mqlab.rabbitmq.routing import headers_match, topic_matches
from mqlab.rabbitmq.statistics import BrokerStatistics, QueueStatistics
from mqlab.rabbitmq.stream import ConsumeStream

__all__ = [
    "DEFAULT_CONSUMER_TIMEOUT",
    "DEFAULT_QUORUM_DELIVERY_LIMIT",
    "PERSISTENT",
    "PREDECLARED_EXCHANGES",
    "TRANSIENT",
    "AMQPChannelError",
    "AMQPConnectionError",
    "AMQPError",
    "AccessRefused",
    "Basic",
    "BasicProperties",
    "Broker",
    "BrokerStatistics",
    "CallbackError",
    "Channel",
    "ChannelClosed",
    "ChannelClosedByBroker",
    "ChannelClosedByClient",
    "ChannelWrongStateError",
    "CommandInvalid",
    "Connection",
    "ConnectionClosed",
    "ConnectionClosedByBroker",
    "ConnectionClosedByClient",
    "ConnectionForced",
    "ConnectionWrongStateError",
    "ConsumeStream",
    "DefaultExchangeOperation",
    "DeliveryAcknowledgementTimeout",
    "DuplicateConsumerTag",
    "ExchangeInUse",
    "ExchangeNotFound",
    "ExclusiveConsumerInUse",
    "ExclusiveQueueLocked",
    "InequivalentArgument",
    "InternalExchangePublish",
    "InvalidArgument",
    "InvalidFieldType",
    "Ledger",
    "LedgerImbalance",
    "Method",
    "NackError",
    "NotAllowed",
    "NotFound",
    "NotImplementedFeature",
    "PreconditionFailed",
    "QueueInUse",
    "QueueNotFound",
    "QueueStatistics",
    "ReservedName",
    "ResourceLocked",
    "ShortStringTooLong",
    "UnknownDeliveryTag",
    "UnknownExchangeType",
    "UnroutableError",
    "headers_match",
    "topic_matches",
]
