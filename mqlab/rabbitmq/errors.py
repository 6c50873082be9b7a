"""AMQP errors, as RabbitMQ raises them and pika names them.

AMQP 0-9-1 splits errors in two. A *soft* error (403 ACCESS_REFUSED, 404 NOT_FOUND,
405 RESOURCE_LOCKED, 406 PRECONDITION_FAILED) closes the channel it happened on;
a *hard* error (320 CONNECTION_FORCED, 503 COMMAND_INVALID, 530 NOT_ALLOWED,
540 NOT_IMPLEMENTED) closes the whole connection. The classes below keep pika's
names for the families (:class:`ChannelClosedByBroker`, :class:`ConnectionClosedByBroker`,
:class:`ChannelWrongStateError`, :class:`UnroutableError`, :class:`NackError`,
:class:`ShortStringTooLong`, :class:`DuplicateConsumerTag`) and add one subclass per
cause, so a notebook can catch ``ChannelClosedByBroker`` exactly as it would with pika,
or a precise cause such as :class:`UnknownDeliveryTag`.

``reply_text`` is the text RabbitMQ itself sends (checked against rabbit_channel.erl
and rabbit_amqqueue.erl wording); ``str(error)`` adds the fix.
"""

from __future__ import annotations

from mqlab.errors import MqlabError

__all__ = [
    "ACCESS_REFUSED",
    "COMMAND_INVALID",
    "CONNECTION_FORCED",
    "NOT_ALLOWED",
    "NOT_FOUND",
    "NOT_IMPLEMENTED",
    "NO_ROUTE",
    "PRECONDITION_FAILED",
    "RESOURCE_LOCKED",
    "AMQPChannelError",
    "AMQPConnectionError",
    "AMQPError",
    "AccessRefused",
    "ChannelClosed",
    "ChannelClosedByBroker",
    "ChannelClosedByClient",
    "ChannelWrongStateError",
    "CommandInvalid",
    "ConnectionClosed",
    "ConnectionClosedByBroker",
    "ConnectionClosedByClient",
    "ConnectionForced",
    "ConnectionWrongStateError",
    "DefaultExchangeOperation",
    "DuplicateConsumerTag",
    "ExchangeInUse",
    "ExchangeNotFound",
    "ExclusiveConsumerInUse",
    "ExclusiveQueueLocked",
    "InequivalentArgument",
    "InternalExchangePublish",
    "InvalidArgument",
    "InvalidFieldType",
    "LedgerImbalance",
    "NackError",
    "NotAllowed",
    "NotFound",
    "NotImplementedFeature",
    "PreconditionFailed",
    "QueueInUse",
    "QueueNotFound",
    "ReservedName",
    "ResourceLocked",
    "ShortStringTooLong",
    "UnknownDeliveryTag",
    "UnknownExchangeType",
    "UnroutableError",
]

# AMQP 0-9-1 reply codes (amqp0-9-1.xml, "constants").
NO_ROUTE = 312
CONNECTION_FORCED = 320
ACCESS_REFUSED = 403
NOT_FOUND = 404
RESOURCE_LOCKED = 405
PRECONDITION_FAILED = 406
COMMAND_INVALID = 503
NOT_ALLOWED = 530
NOT_IMPLEMENTED = 540


class AMQPError(MqlabError):
    """Base of every AMQP error of the RabbitMQ model (pika: ``pika.exceptions.AMQPError``)."""


class AMQPChannelError(AMQPError):
    """An error about one channel (pika: ``AMQPChannelError``)."""


class AMQPConnectionError(AMQPError):
    """An error about a connection (pika: ``AMQPConnectionError``)."""


class _Closed:
    """Mixin: a close with an AMQP reply code and RabbitMQ's reply text, plus a fix."""

    reply_code: int
    reply_text: str
    hint: str

    def _setup(self, reply_code: int, reply_text: str, hint: str) -> None:
        self.reply_code = reply_code
        self.reply_text = reply_text
        self.hint = hint

    @property
    def args_pair(self) -> tuple[int, str]:
        """``(reply_code, reply_text)``, the two values pika's exceptions carry."""
        return (self.reply_code, self.reply_text)

    def __str__(self) -> str:
        text = f"({self.reply_code}, {self.reply_text!r})"
        return f"{text}: {self.hint}" if self.hint else text


class ChannelClosed(_Closed, AMQPChannelError):
    """The channel is closed (pika: ``ChannelClosed``); ``reply_code`` and ``reply_text`` say why."""

    def __init__(self, reply_code: int, reply_text: str, hint: str = "") -> None:
        super().__init__(reply_code, reply_text)
        self._setup(reply_code, reply_text, hint)


class ChannelClosedByBroker(ChannelClosed):
    """RabbitMQ closed the channel after a soft error (pika: ``ChannelClosedByBroker``).

    Every unacknowledged delivery of the channel has been requeued.
    """


class ChannelClosedByClient(ChannelClosed):
    """The application closed the channel itself (pika: ``ChannelClosedByClient``)."""


class AccessRefused(ChannelClosedByBroker):
    """403 ACCESS_REFUSED: the operation is not allowed on this object."""


class ReservedName(AccessRefused):
    """403: names starting with ``amq.`` are reserved for the broker."""


class DefaultExchangeOperation(AccessRefused):
    """403: the default exchange ``""`` cannot be declared, deleted or bound."""


class InternalExchangePublish(AccessRefused):
    """403: an internal exchange only receives messages from other exchanges."""


class ExclusiveConsumerInUse(AccessRefused):
    """403: the queue has an exclusive consumer, or a consumer already when exclusivity was asked."""


class NotFound(ChannelClosedByBroker):
    """404 NOT_FOUND: no such exchange or queue."""


class ExchangeNotFound(NotFound):
    """404: the exchange does not exist."""


class QueueNotFound(NotFound):
    """404: the queue does not exist."""


class ResourceLocked(ChannelClosedByBroker):
    """405 RESOURCE_LOCKED."""


class ExclusiveQueueLocked(ResourceLocked):
    """405: an exclusive queue is only usable from the connection that declared it."""


class PreconditionFailed(ChannelClosedByBroker):
    """406 PRECONDITION_FAILED."""


class InequivalentArgument(PreconditionFailed):
    """406: redeclaring an exchange or queue with different properties or arguments."""


class InvalidArgument(PreconditionFailed):
    """406: an ``x-`` argument or a message property with a wrong type or value."""


class UnknownDeliveryTag(PreconditionFailed):
    """406: ack/nack/reject of a delivery tag the channel does not hold (unknown or already settled)."""


class DeliveryAcknowledgementTimeout(PreconditionFailed):
    """406: a delivery stayed unacknowledged longer than the broker's ``consumer_timeout``."""


class QueueInUse(PreconditionFailed):
    """406: ``queue_delete(if_unused=True)`` or ``if_empty=True`` and the queue is not."""


class ExchangeInUse(PreconditionFailed):
    """406: ``exchange_delete(if_unused=True)`` and the exchange still has bindings."""


class ConnectionClosed(_Closed, AMQPConnectionError):
    """The connection is closed (pika: ``ConnectionClosed``)."""

    def __init__(self, reply_code: int, reply_text: str, hint: str = "") -> None:
        super().__init__(reply_code, reply_text)
        self._setup(reply_code, reply_text, hint)


class ConnectionClosedByBroker(ConnectionClosed):
    """RabbitMQ closed the connection after a hard error (pika: ``ConnectionClosedByBroker``)."""


class ConnectionClosedByClient(ConnectionClosed):
    """The application closed the connection (pika: ``ConnectionClosedByClient``)."""


class ConnectionForced(ConnectionClosedByBroker):
    """320 CONNECTION_FORCED: the broker shut down or restarted."""


class CommandInvalid(ConnectionClosedByBroker):
    """503 COMMAND_INVALID."""


class UnknownExchangeType(CommandInvalid):
    """503: ``exchange_type`` is not one of direct, fanout, topic, headers."""


class NotAllowed(ConnectionClosedByBroker):
    """530 NOT_ALLOWED."""


class NotImplementedFeature(ConnectionClosedByBroker):
    """540 NOT_IMPLEMENTED: RabbitMQ does not implement this part of AMQP 0-9-1."""


class ChannelWrongStateError(AMQPChannelError):
    """The channel is closed on the client side and cannot be used (pika: ``ChannelWrongStateError``)."""


class ConnectionWrongStateError(AMQPConnectionError):
    """The connection is closed and cannot be used (pika: ``ConnectionWrongStateError``)."""


class DuplicateConsumerTag(AMQPChannelError):
    """The consumer tag is already used on this channel (pika raises it before sending)."""


class ShortStringTooLong(AMQPError, ValueError):
    """A routing key, name or consumer tag over 255 bytes: AMQP short strings cannot carry it.

    pika refuses to encode it (``pika.exceptions.ShortStringTooLong``); nothing reaches the broker.
    """


class InvalidFieldType(AMQPError, TypeError):
    """A value of a type that cannot go into an AMQP frame (for example a body that is not bytes)."""


class UnroutableError(AMQPChannelError):
    """With confirms on a blocking-style channel: a ``mandatory`` message was returned (pika's name).

    ``messages`` holds the returned ``(method, properties, body)`` tuples.
    """

    def __init__(self, messages: list[tuple[object, object, bytes]], hint: str = "") -> None:
        super().__init__(hint or f"{len(messages)} message(s) returned as unroutable")
        self.messages = messages


class NackError(AMQPChannelError):
    """With confirms on a blocking-style channel: the broker nacked the publish (pika's name)."""

    def __init__(self, messages: list[tuple[object, object, bytes]], hint: str = "") -> None:
        super().__init__(hint or f"{len(messages)} message(s) nacked by the broker")
        self.messages = messages


class LedgerImbalance(MqlabError):
    """The message ledger does not balance: some message is not accounted for (a model bug)."""
