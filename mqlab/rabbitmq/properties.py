"""Message properties and method frames, with pika's names.

:class:`BasicProperties` has the attributes of ``pika.BasicProperties`` (``headers``,
``delivery_mode``, ``priority``, ``expiration``, ``message_id``, ``correlation_id``,
``reply_to``, ``timestamp``, ``type``, ``content_type`` ...). A pika ``BasicProperties``
object is accepted too: :func:`as_properties` copies its attributes.

The method frames are what a callback receives as ``method``: :class:`Basic.Deliver`
(``consumer_tag``, ``delivery_tag``, ``redelivered``, ``exchange``, ``routing_key``),
:class:`Basic.GetOk`, :class:`Basic.Return`, :class:`Basic.Ack`, :class:`Basic.Nack`.
Synchronous calls return a :class:`Method` frame whose ``.method`` is the ``-Ok``
reply, as pika's ``BlockingChannel`` does (``ch.queue_declare("").method.queue``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "PERSISTENT",
    "TRANSIENT",
    "Basic",
    "BasicProperties",
    "ExchangeBindOk",
    "ExchangeDeclareOk",
    "ExchangeDeleteOk",
    "ExchangeUnbindOk",
    "Method",
    "QueueBindOk",
    "QueueDeclareOk",
    "QueueDeleteOk",
    "QueuePurgeOk",
    "QueueUnbindOk",
    "as_properties",
]

TRANSIENT = 1
"""``delivery_mode`` of a transient message (pika: ``DeliveryMode.Transient``)."""
PERSISTENT = 2
"""``delivery_mode`` of a persistent message (pika: ``DeliveryMode.Persistent``)."""

_FIELDS = (
    "content_type",
    "content_encoding",
    "headers",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "expiration",
    "message_id",
    "timestamp",
    "type",
    "user_id",
    "app_id",
    "cluster_id",
)


class BasicProperties:
    """The content header of a message: pika's ``BasicProperties``, attribute for attribute.

    ``expiration`` is a string of milliseconds, as in AMQP (``"60000"``);
    ``delivery_mode`` 2 marks a message persistent; ``headers`` is a dict or None.
    Unset attributes read as None from class-level defaults, so an empty object (one
    per delivery) costs one allocation.
    """

    content_type: str | None = None
    content_encoding: str | None = None
    headers: dict[str, Any] | None = None
    delivery_mode: int | None = None
    priority: int | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    expiration: str | None = None
    message_id: str | None = None
    timestamp: int | None = None
    type: str | None = None
    user_id: str | None = None
    app_id: str | None = None
    cluster_id: str | None = None

    def __init__(
        self,
        content_type: str | None = None,
        content_encoding: str | None = None,
        headers: dict[str, Any] | None = None,
        delivery_mode: int | None = None,
        priority: int | None = None,
        correlation_id: str | None = None,
        reply_to: str | None = None,
        expiration: str | None = None,
        message_id: str | None = None,
        timestamp: int | None = None,
        type: str | None = None,
        user_id: str | None = None,
        app_id: str | None = None,
        cluster_id: str | None = None,
    ) -> None:
        given = self.__dict__
        for name, value in (
            ("content_type", content_type), ("content_encoding", content_encoding), ("headers", headers),
            ("delivery_mode", delivery_mode), ("priority", priority), ("correlation_id", correlation_id),
            ("reply_to", reply_to), ("expiration", expiration), ("message_id", message_id),
            ("timestamp", timestamp), ("type", type), ("user_id", user_id), ("app_id", app_id),
            ("cluster_id", cluster_id),
        ):
            if value is not None:
                given[name] = value

    def copy(self, **changes: Any) -> BasicProperties:
        """A new object with the same values except ``changes`` (headers are copied, not shared)."""
        new = BasicProperties.__new__(BasicProperties)
        new.__dict__.update(self.__dict__)
        if new.headers is not None:
            new.headers = dict(new.headers)
        for name, value in changes.items():
            setattr(new, name, value)
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BasicProperties):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _FIELDS)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in _FIELDS if getattr(self, n) is not None)
        return f"<BasicProperties({shown})>"


def empty_properties() -> BasicProperties:
    """A new :class:`BasicProperties` with every attribute None (the fast way)."""
    return _new_properties(BasicProperties)


_new_properties = BasicProperties.__new__


def as_properties(properties: object | None) -> BasicProperties:
    """``properties`` as a :class:`BasicProperties` of ours (a fresh copy of a pika one, or a new empty one)."""
    if properties is None:
        return BasicProperties()
    if type(properties) is BasicProperties:
        return properties
    new = BasicProperties()
    for name in _FIELDS:
        value = getattr(properties, name, None)
        if name == "delivery_mode" and value is not None:
            value = int(value)  # pika.DeliveryMode enum
        setattr(new, name, value)
    return new


class Method:
    """A method frame as pika's ``BlockingChannel`` returns it: ``frame.method`` is the reply."""

    __slots__ = ("channel_number", "method")

    def __init__(self, channel_number: int, method: object) -> None:
        self.channel_number = channel_number
        self.method = method

    def __repr__(self) -> str:
        return f"<Method(channel_number={self.channel_number}, method={self.method!r})>"


class _Frame:
    __slots__ = ()

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"<{type(self).__qualname__}({shown})>"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]


class _DeliverFields(NamedTuple):
    consumer_tag: str
    delivery_tag: int
    redelivered: bool
    exchange: str
    routing_key: str


class Basic:
    """The ``basic`` class of AMQP: the frames a callback receives (pika: ``pika.spec.Basic``)."""

    class Deliver(_DeliverFields):
        """A push delivery to a consumer (an immutable record: one is made per delivery, on the hot path)."""

        __slots__ = ()
        NAME = "Basic.Deliver"

        def __repr__(self) -> str:
            shown = ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self))
            return f"<Basic.Deliver({shown})>"

    class GetOk(_Frame):
        """The reply to ``basic_get`` when a message was ready; ``message_count`` is what remains."""

        __slots__ = ("delivery_tag", "redelivered", "exchange", "routing_key", "message_count")
        NAME = "Basic.GetOk"

        def __init__(self, delivery_tag: int, redelivered: bool, exchange: str, routing_key: str,
                     message_count: int) -> None:
            self.delivery_tag = delivery_tag
            self.redelivered = redelivered
            self.exchange = exchange
            self.routing_key = routing_key
            self.message_count = message_count

    class Return(_Frame):
        """A ``mandatory`` message that no queue took, sent back to its publisher (312 NO_ROUTE)."""

        __slots__ = ("reply_code", "reply_text", "exchange", "routing_key")
        NAME = "Basic.Return"

        def __init__(self, reply_code: int, reply_text: str, exchange: str, routing_key: str) -> None:
            self.reply_code = reply_code
            self.reply_text = reply_text
            self.exchange = exchange
            self.routing_key = routing_key

    class Cancel(_Frame):
        """The broker cancelled a consumer (its queue was deleted); sent to ``add_on_cancel_callback``."""

        __slots__ = ("consumer_tag",)
        NAME = "Basic.Cancel"

        def __init__(self, consumer_tag: str) -> None:
            self.consumer_tag = consumer_tag

    class Ack(_Frame):
        """A publisher confirm: the broker took responsibility for the message."""

        __slots__ = ("delivery_tag", "multiple")
        NAME = "Basic.Ack"

        def __init__(self, delivery_tag: int, multiple: bool = False) -> None:
            self.delivery_tag = delivery_tag
            self.multiple = multiple

    class Nack(_Frame):
        """A negative publisher confirm: a queue refused the message (``x-overflow`` reject-publish)."""

        __slots__ = ("delivery_tag", "multiple", "requeue")
        NAME = "Basic.Nack"

        def __init__(self, delivery_tag: int, multiple: bool = False, requeue: bool = False) -> None:
            self.delivery_tag = delivery_tag
            self.multiple = multiple
            self.requeue = requeue


class QueueDeclareOk(_Frame):
    """Reply to ``queue_declare``: the (possibly server-generated) name and the counts."""

    __slots__ = ("queue", "message_count", "consumer_count")
    NAME = "Queue.DeclareOk"

    def __init__(self, queue: str, message_count: int, consumer_count: int) -> None:
        self.queue = queue
        self.message_count = message_count
        self.consumer_count = consumer_count


class QueuePurgeOk(_Frame):
    """Reply to ``queue_purge``: how many ready messages were removed."""

    __slots__ = ("message_count",)
    NAME = "Queue.PurgeOk"

    def __init__(self, message_count: int) -> None:
        self.message_count = message_count


class QueueDeleteOk(_Frame):
    """Reply to ``queue_delete``: how many ready messages were deleted with the queue."""

    __slots__ = ("message_count",)
    NAME = "Queue.DeleteOk"

    def __init__(self, message_count: int) -> None:
        self.message_count = message_count


class _Empty(_Frame):
    __slots__ = ()


class QueueBindOk(_Empty):
    NAME = "Queue.BindOk"


class QueueUnbindOk(_Empty):
    NAME = "Queue.UnbindOk"


class ExchangeDeclareOk(_Empty):
    NAME = "Exchange.DeclareOk"


class ExchangeDeleteOk(_Empty):
    NAME = "Exchange.DeleteOk"


class ExchangeBindOk(_Empty):
    NAME = "Exchange.BindOk"


class ExchangeUnbindOk(_Empty):
    NAME = "Exchange.UnbindOk"
