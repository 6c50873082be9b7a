"""Kernel-process consumers: what ``channel.consume()`` returns.

pika's ``BlockingChannel.consume`` is a generator of ``(method, properties, body)``;
in virtual time a process must wait, so each item here is an *event* to ``yield``
whose value is that tuple (``(None, None, None)`` after ``inactivity_timeout``)::

    for event in ch.consume("tasks"):
        method, properties, body = yield event
        ch.basic_ack(method.delivery_tag)

States: *consuming* until its consumer is cancelled or its channel closes, then
*finished*: the buffered deliveries are still yielded after a cancel (they can be
acked), none after a close (the broker requeued them), then iteration stops. A close
by the broker fails the pending event with the broker's error.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mqlab.rabbitmq.errors import ChannelClosedByBroker, ConnectionClosedByBroker

if TYPE_CHECKING:
    from mqlab.rabbitmq.channel import Channel
    from mqlab.rabbitmq.consumer import Consumer
    from mqlab.sim import Event

__all__ = ["ConsumeStream"]

_NOTHING = (None, None, None)


class ConsumeStream(Iterator["Event"]):
    """What :meth:`Channel.consume` returns: an iterator of events for a kernel process to ``yield``."""

    def __init__(self, channel: Channel, inactivity_timeout: float | None) -> None:
        if inactivity_timeout is not None and not inactivity_timeout > 0:
            raise ValueError(
                f"inactivity_timeout must be a positive number of seconds or None, got {inactivity_timeout!r}"
            )
        self.channel = channel
        self.consumer: Consumer | None = None
        self.inactivity_timeout = inactivity_timeout
        self._buffer: deque[tuple[Any, Any, bytes]] = deque()
        self._waiter: Event | None = None
        self._finished = False
        self._error: ChannelClosedByBroker | ConnectionClosedByBroker | None = None

    def __iter__(self) -> ConsumeStream:
        return self

    def __next__(self) -> Event:
        sim = self.channel.sim
        event = sim.event()
        if self._buffer:
            event.succeed(self._buffer.popleft())
            return event
        if self._finished:
            raise StopIteration
        self._waiter = event
        if self.inactivity_timeout is not None:
            sim.call_later(self.inactivity_timeout, self._timed_out, event)
        return event

    def _on_message(self, channel: Channel, method: Any, properties: Any, body: bytes) -> None:
        waiter = self._waiter
        if waiter is not None and waiter.triggered is False:
            self._waiter = None
            waiter.succeed((method, properties, body))
        else:
            self._buffer.append((method, properties, body))

    def _timed_out(self, event: Event) -> None:
        if self._waiter is event and not event.triggered:
            self._waiter = None
            event.succeed(_NOTHING)

    def _finish(self, error: ChannelClosedByBroker | ConnectionClosedByBroker | None) -> None:
        self._finished = True
        self._error = error
        waiter = self._waiter
        self._waiter = None
        if waiter is not None and not waiter.triggered:
            if error is not None:
                waiter.fail(error)
                if not waiter.callbacks:  # nobody waits on it: do not let it escape run()
                    waiter.defused = True
            else:
                waiter.succeed(_NOTHING)
