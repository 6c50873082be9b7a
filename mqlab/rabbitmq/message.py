"""A published message and its copies in queues.

A :class:`Message` is what one ``basic_publish`` carried: it is shared by every
queue the exchange routed it to. Each queue holds an :class:`Entry` of its own
(its own position, redelivered flag, delivery count and expiry), because a fanout
copy acknowledged in one queue is still ready in another.

``Message.id`` is the broker's publish sequence number; :func:`message_label`
makes the ``msg-<n>`` label the trace uses, so a message's journey (published,
routed, delivered, dead-lettered ...) can be followed through every queue.
Dead-lettered copies keep the id of the message they came from.
"""

from __future__ import annotations

from typing import Any

from mqlab.rabbitmq.properties import BasicProperties, empty_properties

__all__ = ["Entry", "Message", "message_label"]


def message_label(message_id: int) -> str:
    """The trace label of a message: ``msg-<publish sequence number>``."""
    return f"msg-{message_id}"


class Message:
    """The immutable content of one publish: exchange, routing key, properties, body.

    ``properties`` is None when the publisher sent none (each delivery then gets a
    fresh empty :class:`BasicProperties`, as pika decodes one per frame). ``persistent``
    is ``delivery_mode == 2``; ``ttl`` is the per-message TTL in seconds from
    ``properties.expiration`` (None if absent).
    """

    __slots__ = ("id", "exchange", "routing_key", "properties", "body", "size", "persistent", "ttl")

    def __init__(self, id: int, exchange: str, routing_key: str, properties: BasicProperties | None,
                 body: bytes, persistent: bool, ttl: float | None) -> None:
        self.id = id
        self.exchange = exchange
        self.routing_key = routing_key
        self.properties = properties
        self.body = body
        self.size = len(body)
        self.persistent = persistent
        self.ttl = ttl

    def delivered_properties(self, delivery_count: int | None = None) -> BasicProperties:
        """The properties a consumer receives: a fresh object, with ``x-delivery-count`` from a quorum queue."""
        properties = self.properties
        if properties is None:
            properties = empty_properties()
        if delivery_count is not None:
            headers = dict(properties.headers) if properties.headers else {}
            headers["x-delivery-count"] = delivery_count
            return properties.copy(headers=headers)
        return properties

    def __repr__(self) -> str:
        return f"<Message {message_label(self.id)} {self.exchange!r}/{self.routing_key!r} {self.size} B>"


class Entry:
    """One queue's copy of a message.

    ``seq`` orders copies in their queue (requeued classic copies go back to their
    place); ``delivery_count`` counts returns to a quorum queue (``x-delivery-count``:
    RabbitMQ 3.10 sends it with every ``basic_get`` from a quorum queue, 0 the first
    time, but with a push delivery only once it is above 0; None for classic queues,
    which never send it);
    ``expires_at`` is the virtual time the copy expires (None: never); ``consumer`` is
    the consumer holding it unacked (None when ready, or taken by ``basic_get``);
    ``delivered_at`` is when it was last delivered (for the broker's ``consumer_timeout``).
    """

    __slots__ = ("message", "queue", "seq", "redelivered", "delivery_count", "expires_at", "priority", "consumer",
                 "delivered_at")

    def __init__(self, message: Message, queue: Any, seq: int, expires_at: float | None, priority: int,
                 delivery_count: int | None = None) -> None:
        self.message = message
        self.queue = queue
        self.consumer: Any = None
        self.seq = seq
        self.redelivered = False
        self.delivery_count = delivery_count
        self.expires_at = expires_at
        self.priority = priority  # (delivered_at is set on delivery, only when a consumer_timeout applies)

    def __repr__(self) -> str:
        return f"<Entry {message_label(self.message.id)} seq={self.seq} redelivered={self.redelivered}>"
