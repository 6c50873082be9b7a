"""Where every record is: the Kafka model's ledger.

Two balances must close at every instant, and tests check both:

* **client side**: ``produced == pending + acknowledged + failed`` where *pending* is
  what producers still hold (buffered or awaiting a response), *acknowledged* is what
  delivery reports confirmed, and *failed* is what they reported as errors (by error name);
* **log side**: ``appended == retained + sum(removed.values())`` where *removed* names the
  cause: ``retention`` and ``compaction`` (policies), ``leader_failover`` (a clean election
  truncated records the new leader never copied), ``unclean_leader_election`` and
  ``topic_deleted``.

``acknowledged_lost`` counts, by the same causes, records that a producer had been told were
safe and that no longer exist for a reason other than a policy: the acks=1 and acks=0
windows, and unclean elections; ``not_written`` counts ``acks=0`` records the broker refused
(the producer had already called them delivered). ``duplicates`` counts records written again by a producer
retry (impossible with ``enable.idempotence``), ``control_records`` the transaction markers
(they take offsets but are not data). Share-group outcomes are counted separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Ledger", "LedgerCounters"]

REMOVAL_CAUSES = ("retention", "compaction", "leader_failover", "unclean_leader_election", "topic_deleted")


class LedgerCounters:
    """The mutable counters a cluster updates on its hot paths."""

    __slots__ = ("produced", "acknowledged", "failed", "appended", "removed", "acknowledged_lost", "duplicates",
                 "control_records", "share_accepted", "share_archived")

    def __init__(self) -> None:
        self.produced = 0
        self.acknowledged = 0
        self.failed: dict[str, int] = {}
        self.appended = 0
        self.removed = dict.fromkeys(REMOVAL_CAUSES, 0)
        self.acknowledged_lost = dict.fromkeys((*REMOVAL_CAUSES, "not_written"), 0)
        self.duplicates = 0
        self.control_records = 0
        self.share_accepted = 0
        self.share_archived = 0


@dataclass(frozen=True)
class Ledger:
    """A snapshot of where every record is; see the module docstring for the two balances."""

    produced: int
    pending: int
    acknowledged: int
    failed: dict[str, int] = field(default_factory=dict)
    appended: int = 0
    retained: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    acknowledged_lost: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    control_records: int = 0
    share_accepted: int = 0
    share_archived: int = 0

    @property
    def client_balance(self) -> int:
        """``produced - pending - acknowledged - failed``: zero when the client side closes."""
        return self.produced - self.pending - self.acknowledged - sum(self.failed.values())

    @property
    def log_balance(self) -> int:
        """``appended - retained - removed``: zero when the log side closes."""
        return self.appended - self.retained - sum(self.removed.values())

    @property
    def balanced(self) -> bool:
        return self.client_balance == 0 and self.log_balance == 0

    @property
    def lost(self) -> int:
        """Acknowledged records that are gone for a reason other than retention or compaction."""
        return sum(self.acknowledged_lost.values())
