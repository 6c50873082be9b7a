"""Frozen records of what a queue and the broker hold and have done.

Counts are of copies: a message a fanout exchange routed to three queues is
"published" once to the broker and counts once in each queue's ``published``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BrokerStatistics", "QueueStatistics"]


@dataclass(frozen=True)
class QueueStatistics:
    """One queue at one instant.

    ``ready`` copies wait for a consumer; ``unacked`` were delivered and wait for an
    ack; ``published`` counts copies offered to the queue (refused ones included);
    ``dead_lettered`` and ``dropped`` are keyed by reason (``rejected``, ``expired``,
    ``maxlen``, ``delivery_limit``; ``purged``, ``queue_deleted`` ...).
    """

    name: str
    queue_type: str
    durable: bool
    ready: int
    ready_bytes: int
    unacked: int
    consumers: int
    published: int
    delivered: int
    redelivered: int
    acked: int
    auto_acked: int
    expired: int
    dead_lettered: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    lost_on_restart: int = 0

    @property
    def messages(self) -> int:
        """``ready + unacked``, RabbitMQ's ``messages`` column."""
        return self.ready + self.unacked


@dataclass(frozen=True)
class BrokerStatistics:
    """The whole broker at one instant: objects, and totals over live and deleted queues."""

    time: float
    connections: int
    channels: int
    exchanges: int
    queues: int
    consumers: int
    published: int
    routed: int
    unroutable: int
    returned: int
    confirmed: int
    nacked: int
    ready: int
    unacked: int
    delivered: int
    acked: int
    dead_lettered: int
    expired: int
    restarts: int
