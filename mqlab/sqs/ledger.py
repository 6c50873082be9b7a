"""The message ledger: every message sent is in exactly one place.

Per queue, messages come in three ways (sent by a producer, moved in by the
redrive of a source queue, moved in by a message move task) and each one is,
at any instant, in exactly one place: delayed, visible, in flight, deleted,
moved to the DLQ, moved out by a move task, expired by retention, purged, or
lost with the queue when it was deleted. A send suppressed by FIFO
deduplication stores nothing and is counted apart, as *deduplicated*.

Across the account, moves cancel out: what one queue moved to its DLQ the DLQ
counts as redriven in; what a move task took out of the DLQ its destination
counts as moved in. :meth:`ServiceLedger.check` raises
:class:`~mqlab.sqs.errors.LedgerImbalance` naming the queue that does not balance.
"""

from __future__ import annotations

from dataclasses import dataclass

from mqlab.sqs.errors import LedgerImbalance

__all__ = ["QueueLedger", "ServiceLedger"]


@dataclass(frozen=True)
class QueueLedger:
    """Where the messages of one queue are. ``balanced`` is the conservation law."""

    queue: str
    sent: int
    deduplicated: int
    redriven_in: int
    moved_in: int
    delayed: int
    visible: int
    in_flight: int
    deleted: int
    moved_to_dlq: int
    moved_out: int
    expired: int
    purged: int
    queue_deleted: int

    @property
    def came_in(self) -> int:
        """Messages stored in this queue: sent + redriven in + moved in."""
        return self.sent + self.redriven_in + self.moved_in

    @property
    def accounted(self) -> int:
        """Messages found in some place."""
        return (
            self.delayed + self.visible + self.in_flight + self.deleted + self.moved_to_dlq + self.moved_out
            + self.expired + self.purged + self.queue_deleted
        )

    @property
    def balanced(self) -> bool:
        return self.came_in == self.accounted


@dataclass(frozen=True)
class ServiceLedger:
    """The ledgers of every queue the service has had (deleted queues included), and the totals."""

    queues: tuple[QueueLedger, ...]

    def total(self, place: str) -> int:
        """Sum of one field (``"sent"``, ``"deleted"``, ...) over all queues."""
        return sum(getattr(q, place) for q in self.queues)

    @property
    def balanced(self) -> bool:
        return (
            all(q.balanced for q in self.queues)
            and self.total("moved_to_dlq") == self.total("redriven_in")
            and self.total("moved_out") == self.total("moved_in")
        )

    def check(self) -> None:
        """Raise LedgerImbalance naming the first queue (or move) that does not balance."""
        for q in self.queues:
            if not q.balanced:
                raise LedgerImbalance(
                    f"queue {q.queue!r}: {q.came_in} messages came in (sent {q.sent}, redriven in "
                    f"{q.redriven_in}, moved in {q.moved_in}) but {q.accounted} are accounted for ({q})"
                )
        if self.total("moved_to_dlq") != self.total("redriven_in"):
            raise LedgerImbalance(
                f"{self.total('moved_to_dlq')} messages left for dead-letter queues but "
                f"{self.total('redriven_in')} arrived in them"
            )
        if self.total("moved_out") != self.total("moved_in"):
            raise LedgerImbalance(
                f"move tasks took {self.total('moved_out')} messages out but {self.total('moved_in')} arrived"
            )
