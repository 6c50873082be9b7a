"""A consumer: a subscription of one channel to one queue (``basic_consume``).

States: *active* from ``basic_consume`` until ``basic_cancel``, the channel's close,
or the queue's deletion; then *cancelled* for good. Invariant: ``unacked`` is the
number of deliveries to this consumer the broker still waits an ack for, and a
consumer with ``prefetch`` > 0 never holds more than ``prefetch`` of them
(``basic_qos(prefetch_count=...)`` before ``basic_consume``, per consumer, as
RabbitMQ interprets ``global_qos=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mqlab.rabbitmq.message import Message
from mqlab.rabbitmq.properties import Basic, BasicProperties

_new_properties = BasicProperties.__new__
_new_deliver = tuple.__new__
_Deliver = Basic.Deliver

if TYPE_CHECKING:
    from mqlab.rabbitmq.channel import Channel
    from mqlab.rabbitmq.queue import Queue

__all__ = ["Consumer", "OnMessageCallback"]

OnMessageCallback = Callable[["Channel", Any, Any, bytes], Any]


class Consumer:
    """One ``basic_consume`` subscription (broker and client side)."""

    __slots__ = ("tag", "queue", "channel", "callback", "auto_ack", "exclusive", "priority", "prefetch",
                 "unacked", "arguments", "cancelled", "stream")

    def __init__(self, tag: str, queue: Queue, channel: Channel, callback: OnMessageCallback, auto_ack: bool,
                 exclusive: bool, priority: int, prefetch: int, arguments: dict[str, Any]) -> None:
        self.tag = tag
        self.queue = queue
        self.channel = channel
        self.callback = callback
        self.auto_ack = auto_ack
        self.exclusive = exclusive
        self.priority = priority
        self.prefetch = prefetch
        self.unacked = 0
        self.arguments = arguments
        self.cancelled = False
        self.stream: Any = None  # the ConsumeStream of channel.consume(), if any

    def has_capacity(self) -> bool:
        """True if the broker may push one more delivery to this consumer now."""
        if self.prefetch and self.unacked >= self.prefetch:
            return False
        channel = self.channel
        return not channel._global_prefetch or len(channel._unacked) < channel._global_prefetch

    def on_delivery(self, delivery_tag: int, redelivered: bool, delivery_count: int | None, message: Message) -> None:
        """Client side: a delivery arrived; run the learner's callback, recording what it raises."""
        channel = self.channel
        if channel._client_closed:
            return  # the broker requeues it (or, with auto-ack, it is lost: the lesson of auto-ack)
        if self.cancelled:
            if not self.auto_ack:
                channel._requeue_after_cancel(delivery_tag)
            return
        method = _new_deliver(_Deliver, (self.tag, delivery_tag, redelivered, message.exchange, message.routing_key))
        properties = message.properties
        if delivery_count is not None:
            properties = message.delivered_properties(delivery_count)
        elif properties is None:
            properties = _new_properties(BasicProperties)
        try:
            self.callback(channel, method, properties, message.body)
        except Exception as error:  # a learner's callback never crashes the simulation
            channel._callback_failed(self.tag, delivery_tag, error)

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else "active"
        return f"<Consumer {self.tag!r} on {self.queue.name!r} {state} unacked={self.unacked}>"
