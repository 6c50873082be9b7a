"""Per-queue statistics: a frozen record notebooks print and tests compare."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QueueStatistics"]


@dataclass(frozen=True)
class QueueStatistics:
    """What one queue holds now and what has happened to it so far.

    The first three fields are the exact counts behind
    ``ApproximateNumberOfMessages``, ``...NotVisible`` and ``...Delayed``.
    """

    name: str
    fifo: bool
    visible: int
    in_flight: int
    delayed: int
    sent: int
    """Messages stored by SendMessage / SendMessageBatch."""
    deduplicated: int
    """Sends accepted but not stored (FIFO deduplication)."""
    deliveries: int
    """Messages handed out by receives (a redelivery counts again)."""
    receive_requests: int
    empty_receives: int
    deleted: int
    stale_deletes: int
    """DeleteMessage calls with an older receipt handle that succeeded without deleting (standard queues)."""
    lost_deletes: int
    """DeleteMessage calls that missed a stored copy (simulated at-least-once): the message came back."""
    visible_again: int
    """Visibility timeouts that expired, making a message receivable again."""
    moved_to_dlq: int
    redriven_in: int
    moved_out: int
    moved_in: int
    expired: int
    purged: int
    groups: int
    """FIFO: message groups with messages waiting or in flight."""
    blocked_groups: int
    """FIFO: groups with a message in flight (nothing else of them can be received)."""
