"""The transactional outbox and the inbox: exactly-once effects without distributed transactions.

The dual-write problem: a service that commits to its database and *then*
publishes can crash in between, and the message is lost although the order
exists (:class:`DualWrite` shows it, counting the loss as
``"crash-between-commit-and-publish"``). The outbox writes the message into an
``outbox`` table in the *same* local transaction as the business row; a relay
(:class:`OutboxRelay`) publishes unpublished rows and marks them published once
the broker confirms. A relay that crashes after publishing and before marking
publishes again after restarting, so the outbox is at-least-once, and the
consumer side needs an :class:`Inbox`: the consumer records the message id in
an ``inbox`` table in the same transaction as its effect, and skips ids already
there.

:class:`Database` is a tiny in-memory store with atomic local transactions:
writes are buffered in the :class:`Transaction` and applied all at once on
commit, or not at all. Simplifications: one writer at a time (no isolation
levels), no durability faults of the database itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mqlab.errors import MqlabError
from mqlab.faults.checks import check_count, check_duration, check_probability
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.ledger import FaultLedger

if TYPE_CHECKING:
    from mqlab.faults.adapter import Connection
    from mqlab.patterns.producers import AtLeastOnceProducer
    from mqlab.sim import Simulation

__all__ = [
    "Database",
    "DualWrite",
    "DuplicateKey",
    "Inbox",
    "Outbox",
    "OutboxRelay",
    "OutboxStatistics",
    "Transaction",
    "TransactionClosed",
]


class DuplicateKey(MqlabError):
    """An insert of a key that the table already holds (a unique-constraint violation)."""


class TransactionClosed(MqlabError):
    """A read or write on a transaction that has already committed or rolled back."""


class Database:
    """Named tables of ``key -> row``; change them only through :meth:`begin`."""

    def __init__(self, name: str = "db") -> None:
        self.name = name
        self._tables: dict[str, dict[Any, Any]] = {}
        self.commits = 0
        self.rollbacks = 0

    def begin(self) -> Transaction:
        """Start a transaction; use it as ``with db.begin() as tx:`` (commit on exit, rollback on error)."""
        return Transaction(self)

    def get(self, table: str, key: Any, default: Any = None) -> Any:
        return self._tables.get(table, {}).get(key, default)

    def table(self, table: str) -> Mapping[Any, Any]:
        """A copy of the committed rows of ``table``, in insertion order."""
        return dict(self._tables.get(table, {}))

    def count(self, table: str) -> int:
        return len(self._tables.get(table, {}))


_DELETED = object()


class Transaction:
    """Buffered writes applied atomically on :meth:`commit`. States: open -> committed | rolled back."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._writes: dict[tuple[str, Any], Any] = {}
        self._after_commit: list[Callable[[], Any]] = []
        self.state = "open"

    def _check_open(self) -> None:
        if self.state != "open":
            raise TransactionClosed(
                f"transaction on {self.db.name!r} is already {self.state}; start a new one with db.begin()"
            )

    def get(self, table: str, key: Any, default: Any = None) -> Any:
        """Read a row, seeing this transaction's own writes."""
        self._check_open()
        if (table, key) in self._writes:
            value = self._writes[(table, key)]
            return default if value is _DELETED else value
        return self.db.get(table, key, default)

    def exists(self, table: str, key: Any) -> bool:
        return self.get(table, key, _DELETED) is not _DELETED

    def insert(self, table: str, key: Any, row: Any) -> None:
        """Insert a new row; raises :class:`DuplicateKey` if ``key`` is taken."""
        if self.exists(table, key):
            raise DuplicateKey(
                f"table {table!r} of {self.db.name!r} already has key {key!r}; a key is unique, "
                f"use put() to overwrite"
            )
        self._writes[(table, key)] = row

    def put(self, table: str, key: Any, row: Any) -> None:
        self._check_open()
        self._writes[(table, key)] = row

    def delete(self, table: str, key: Any) -> None:
        self._check_open()
        self._writes[(table, key)] = _DELETED

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Run ``callback()`` right after a successful commit (never after a rollback)."""
        self._check_open()
        self._after_commit.append(callback)

    def commit(self) -> None:
        self._check_open()
        tables = self.db._tables
        for (table, key), value in self._writes.items():
            rows = tables.setdefault(table, {})
            if value is _DELETED:
                rows.pop(key, None)
            else:
                rows[key] = value
        self.state = "committed"
        self.db.commits += 1
        for callback in self._after_commit:
            callback()

    def rollback(self) -> None:
        if self.state == "open":
            self.state = "rolled back"
            self.db.rollbacks += 1

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None and self.state == "open":
            self.commit()
        else:
            self.rollback()


class Outbox:
    """The ``outbox`` table: messages written in the business transaction, published later by a relay."""

    def __init__(self, db: Database, table: str = "outbox") -> None:
        self.db = db
        self.table_name = table

    def add(self, tx: Transaction, message_id: Any, body: Any) -> None:
        """Write a message in the caller's transaction (it exists exactly when the business row does)."""
        tx.insert(self.table_name, message_id, {"body": body, "published": False})

    def unpublished(self, limit: int) -> list[tuple[Any, Any]]:
        rows = self.db._tables.get(self.table_name, {})
        out = []
        for key, row in rows.items():
            if not row["published"]:
                out.append((key, row["body"]))
                if len(out) >= limit:
                    break
        return out

    def is_published(self, message_id: Any) -> bool:
        """True once the row of ``message_id`` is marked published (False for an unknown id)."""
        row = self.db._tables.get(self.table_name, {}).get(message_id)
        return row is not None and row["published"]

    def pending(self) -> int:
        """How many rows still wait to be published."""
        return sum(1 for row in self.db._tables.get(self.table_name, {}).values() if not row["published"])

    def mark_published(self, message_id: Any) -> None:
        with self.db.begin() as tx:
            row = tx.get(self.table_name, message_id)
            if row is not None and not row["published"]:
                tx.put(self.table_name, message_id, {"body": row["body"], "published": True})


@dataclass(frozen=True)
class OutboxStatistics:
    published: int
    confirmed: int
    republished: int
    crashes: int
    pending: int


class OutboxRelay:
    """Polls the outbox every ``poll_interval`` s and publishes unpublished rows, oldest first.

    Each poll reads up to ``batch_size`` unpublished rows and publishes them in order,
    keeping at most ``max_in_flight`` of them unconfirmed: the window of outstanding
    publisher confirms (RabbitMQ's confirms guide: publishing one by one and waiting for
    each confirm is slow, a bounded window of outstanding confirms keeps the rework after
    a failure small). Each row is marked published as its broker confirm arrives, in its
    own transaction (a confirm callback that updates the row), so progress is made row by
    row. A row without a confirm after ``confirm_timeout`` frees its slot at the next poll
    and is published again by a later batch. With ``crash_probability`` the relay dies
    right after publishing a row, before marking it (fault ``"relay-crash-after-publish"``)
    and restarts after ``restart_after`` seconds, forgetting what it had in flight: only
    the rows whose confirms had not arrived (at most ``max_in_flight``) go out again; rows
    already confirmed stay published. The default window of 2 keeps both costs low: a
    crash repeats at most two rows, and a lost confirm stalls only one of two slots
    until its timeout (a window of 1 waits out every lost frame; a window as large as
    the batch loses the whole batch's confirms at each crash).
    """

    def __init__(
        self,
        sim: Simulation,
        outbox: Outbox,
        connection: Connection,
        *,
        poll_interval: float = 0.05,
        batch_size: int = 20,
        confirm_timeout: float = 0.5,
        crash_probability: float = 0.0,
        restart_after: float = 0.5,
        ledger: FaultLedger | None = None,
        name: str = "relay",
        max_in_flight: int = 2,
    ) -> None:
        self.sim = sim
        self.outbox = outbox
        self.connection = connection
        self.poll_interval = check_duration("poll_interval", poll_interval, allow_zero=False)
        self.batch_size = check_count("batch_size", batch_size, minimum=1)
        self.max_in_flight = check_count("max_in_flight", max_in_flight, minimum=1)
        self.confirm_timeout = check_duration("confirm_timeout", confirm_timeout, allow_zero=False)
        self.crash_probability = check_probability("crash_probability", crash_probability)
        self.restart_after = check_duration("restart_after", restart_after)
        self.ledger = ledger if ledger is not None else FaultLedger(sim)
        self.name = name
        self._rng = sim.substream(f"relay:{name}")
        self._in_flight: dict[Any, float] = {}
        self._batch: deque[tuple[Any, Any]] = deque()
        self._ever_published: dict[Any, None] = {}
        self.up = True
        self.published = self.confirmed = self.republished = self.crashes = 0
        self._epoch = 0
        self._stopped = False
        sim.call_soon(self._poll)

    def stop(self) -> None:
        """Stop polling (the simulation can then run out of work)."""
        self._stopped = True

    def _poll(self) -> None:
        if self._stopped:
            return
        if self.up:
            now = self.sim.now
            overdue = [m for m, sent in self._in_flight.items() if now - sent >= self.confirm_timeout]
            for message_id in overdue:  # no confirm in time: free the slot; a later batch publishes it again
                del self._in_flight[message_id]
            if not self._batch:
                self._batch.extend(row for row in self.outbox.unpublished(self.batch_size)
                                   if row[0] not in self._in_flight)
            self._fill()
        self.sim.call_later(self.poll_interval, self._poll)

    def _fill(self) -> None:
        """Publish the batch's next rows while fewer than ``max_in_flight`` await their confirm."""
        batch = self._batch
        while self.up and batch and len(self._in_flight) < self.max_in_flight and not self._stopped:
            message_id, body = batch.popleft()
            if message_id in self._in_flight or self.outbox.is_published(message_id):
                continue
            self._publish(message_id, body)

    def _publish(self, message_id: Any, body: Any) -> None:
        self.published += 1
        if message_id in self._ever_published:
            self.republished += 1
        self._ever_published[message_id] = None
        self._in_flight[message_id] = self.sim.now
        epoch = self._epoch
        self.connection.publish(message_id, body, lambda mid, ok: self._confirm(epoch, mid, ok))
        if self.crash_probability and self._rng.random() < self.crash_probability:
            self._crash(message_id)

    def _confirm(self, epoch: int, message_id: Any, ok: bool) -> None:
        if epoch != self._epoch or not self.up:
            return  # the relay that asked for this confirm is gone
        awaited = self._in_flight.pop(message_id, None) is not None
        if ok:
            self.confirmed += 1
            self.outbox.mark_published(message_id)
        if awaited:
            self._fill()

    def _crash(self, message_id: Any) -> None:
        self.crashes += 1
        self.up = False
        self._epoch += 1
        self._in_flight.clear()
        self._batch.clear()
        self.ledger.duplicated("relay-crash-after-publish", "message", id=message_id)
        if self.sim.tracing:
            self.sim.log(self.name, "crash", id=message_id)
        self.sim.call_later(self.restart_after, self._restart)

    def _restart(self) -> None:
        self.up = True
        if self.sim.tracing:
            self.sim.log(self.name, "restart")

    def statistics(self) -> OutboxStatistics:
        return OutboxStatistics(self.published, self.confirmed, self.republished, self.crashes, self.outbox.pending())


class DualWrite:
    """The anti-pattern: commit, then publish. A crash in between loses the message.

    ``crash_probability`` is the chance, per call, that the service dies after
    its commit and before its publish; the loss is counted in the fault ledger
    as ``"crash-between-commit-and-publish"``.
    """

    def __init__(
        self,
        sim: Simulation,
        db: Database,
        producer: AtLeastOnceProducer,
        *,
        crash_probability: float = 0.0,
        ledger: FaultLedger | None = None,
    ) -> None:
        self.sim = sim
        self.db = db
        self.producer = producer
        self.crash_probability = check_probability("crash_probability", crash_probability)
        self.ledger = ledger if ledger is not None else FaultLedger(sim)
        self._rng = sim.substream("dual-write")
        self.lost = 0

    def write(self, write: Callable[[Transaction], Any], message_id: Any, body: Any) -> bool:
        """Run ``write(tx)`` and commit, then publish; returns False if the crash lost the message."""
        with self.db.begin() as tx:
            write(tx)
        if self.crash_probability and self._rng.random() < self.crash_probability:
            self.lost += 1
            self.ledger.lost("crash-between-commit-and-publish", "message", id=message_id)
            return False
        self.producer.send(message_id, body)
        return True


class Inbox:
    """Consumer-side dedup in the same transaction as the effect.

    ``handler(tx, message_id, body)`` makes its changes through ``tx``; the
    inbox records ``message_id`` in the same transaction, so the effect and the
    memory of it commit together or not at all. A repeat is skipped. Unlike
    :class:`~mqlab.patterns.idempotent.IdempotentConsumer`, nothing is ever
    forgotten (a real inbox table is pruned after longer than any redelivery).
    """

    def __init__(self, db: Database, handler: Callable[[Transaction, Any, Any], Any], table: str = "inbox") -> None:
        if not callable(handler):
            raise InvalidParameter(f"handler must be callable as handler(tx, message_id, body), got {handler!r}")
        self.db = db
        self.handler = handler
        self.table_name = table
        self.processed = 0
        self.skipped = 0

    def __call__(self, message_id: Any, body: Any) -> bool:
        with self.db.begin() as tx:
            if tx.exists(self.table_name, message_id):
                self.skipped += 1
                return False
            self.handler(tx, message_id, body)
            tx.insert(self.table_name, message_id, True)
        self.processed += 1
        return True
