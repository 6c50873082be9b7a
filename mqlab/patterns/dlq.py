"""Dead-letter queues and the tool that gets messages out of them again.

A DLQ without a replay path is where problems go to be forgotten. The replay
tool has one interface for every broker: a :class:`DeadLetterStore` lists the
dead messages and removes them; a *publish* function sends one back (to its
origin or elsewhere). :class:`InMemoryDLQ` is the generic store; adapters for
a RabbitMQ dead-letter queue (``x-death`` headers give reason and count), an
SQS queue named in a ``RedrivePolicy`` (``ApproximateReceiveCount``) and a
Kafka dead-letter topic implement the same protocol.

:class:`DLQReplayer` groups dead messages by reason and error, lets a learner
inspect one, and replays all of them or a filtered subset at a rate limit,
removing each from the DLQ once it is republished, and reports what it did.
Replay into a consumer that is idempotent is safe even if the replay itself is
interrupted and run again.

Real counterparts: SQS ``StartMessageMoveTask`` (dead-letter queue redrive,
with ``MaxNumberOfMessagesPerSecond``, at most 500), RabbitMQ shovels (for
example from the DLQ back to the original queue), Kafka by consuming the DLT
and producing to the original topic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mqlab.errors import MqlabError
from mqlab.faults.checks import check_count, check_rate
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.standin import DeadLetter

if TYPE_CHECKING:
    from mqlab.sim import Simulation

__all__ = [
    "DLQReplayer",
    "DeadLetter",
    "DeadLetterGroup",
    "DeadLetterStore",
    "InMemoryDLQ",
    "NoSuchDeadLetter",
    "ReplayJob",
    "ReplayReport",
]


class NoSuchDeadLetter(MqlabError, KeyError):
    """The dead-letter queue holds no message with that id (already replayed, or never dead)."""


@runtime_checkable
class DeadLetterStore(Protocol):
    """What a DLQ must offer for the replay tool: list in arrival order, remove by id."""

    def messages(self) -> Sequence[DeadLetter]: ...

    def remove(self, message_id: Any) -> DeadLetter: ...


class InMemoryDLQ:
    """A generic dead-letter queue: dead messages in arrival order. Feed it with ``add`` (or as a broker's sink)."""

    def __init__(self, name: str = "dlq") -> None:
        self.name = name
        self._messages: dict[Any, DeadLetter] = {}
        self.added = 0
        self.removed = 0

    def add(self, letter: DeadLetter) -> None:
        if not isinstance(letter, DeadLetter):
            raise InvalidParameter(f"a dead-letter queue holds DeadLetter records, got {letter!r}")
        self.added += 1
        self._messages.pop(letter.message_id, None)  # dead again: the newest record wins, at the back
        self._messages[letter.message_id] = letter

    __call__ = add

    def messages(self) -> Sequence[DeadLetter]:
        return tuple(self._messages.values())

    def remove(self, message_id: Any) -> DeadLetter:
        letter = self._messages.pop(message_id, None)
        if letter is None:
            raise NoSuchDeadLetter(f"dead-letter queue {self.name!r} holds no message {message_id!r}")
        self.removed += 1
        return letter

    def __len__(self) -> int:
        return len(self._messages)


@dataclass(frozen=True)
class DeadLetterGroup:
    """Dead messages that share a key (by default ``(reason, error)``), oldest first."""

    key: tuple[Any, ...]
    count: int
    message_ids: tuple[Any, ...]
    first_time: float
    last_time: float


@dataclass(frozen=True)
class ReplayReport:
    """What one replay did: how many were selected, replayed, refused by the destination, left."""

    selected: int
    replayed: int
    refused: int
    remaining_in_dlq: int
    started_at: float
    finished_at: float | None
    replayed_ids: tuple[Any, ...]
    by_group: dict[tuple[Any, ...], int]
    errors: tuple[tuple[Any, str], ...] = ()


GROUP_FIELDS = ("reason", "error", "origin", "attempts")


class ReplayJob:
    """A replay in progress, one message every ``1 / rate`` seconds; ``done`` is an event."""

    def __init__(
        self,
        replayer: DLQReplayer,
        chosen: list[DeadLetter],
        destination: str | None,
        rate: float,
        group_by: tuple[str, ...],
    ) -> None:
        self.replayer = replayer
        self.sim = replayer.sim
        self._queue = chosen
        self._index = 0
        self.destination = destination
        self.interval = 1.0 / rate
        self.group_by = group_by
        self.replayed: list[Any] = []
        self.by_group: dict[tuple[Any, ...], int] = {}
        self.refused = 0
        self.errors: list[tuple[Any, str]] = []
        self.started_at = self.sim.now
        self.finished_at: float | None = None
        self.cancelled = False
        self.done = self.sim.event()
        self.sim.call_soon(self._next)

    def cancel(self) -> None:
        """Stop after the message in hand; what was replayed stays replayed."""
        self.cancelled = True

    def _next(self) -> None:
        if self.cancelled or self._index >= len(self._queue):
            self.finished_at = self.sim.now
            self.done.succeed(self.report())
            return
        letter = self._queue[self._index]
        self._index += 1
        target = self.destination if self.destination is not None else letter.origin
        try:
            ok = bool(self.replayer.publish(target, letter))
        except Exception as error:  # a learner's publish function never crashes the run
            ok = False
            self.errors.append((letter.message_id, f"{type(error).__name__}: {error}"))
        if ok:
            self.replayer.store.remove(letter.message_id)
            self.replayed.append(letter.message_id)
            key = tuple(getattr(letter, f) for f in self.group_by)
            self.by_group[key] = self.by_group.get(key, 0) + 1
        else:
            self.refused += 1
        if self.sim.tracing:
            self.sim.log("dlq-replay", "replayed" if ok else "refused", id=letter.message_id, to=target)
        self.sim.call_later(self.interval, self._next)

    def report(self) -> ReplayReport:
        return ReplayReport(
            selected=len(self._queue),
            replayed=len(self.replayed),
            refused=self.refused,
            remaining_in_dlq=len(self.replayer.store.messages()),
            started_at=self.started_at,
            finished_at=self.finished_at,
            replayed_ids=tuple(self.replayed),
            by_group=dict(self.by_group),
            errors=tuple(self.errors),
        )


class DLQReplayer:
    """List, group, inspect and replay the messages of a :class:`DeadLetterStore`.

    ``publish(destination, letter) -> bool`` sends one message back and says
    whether the destination took it; a refused message stays in the DLQ. If
    ``publish`` raises, the message counts as refused and the error is kept in
    the job's ``errors`` (and the report's ``errors``).
    """

    def __init__(
        self, sim: Simulation, store: DeadLetterStore, publish: Callable[[str, DeadLetter], bool]
    ) -> None:
        if not isinstance(store, DeadLetterStore):
            raise InvalidParameter(f"store must offer messages() and remove(message_id), got {store!r}")
        if not callable(publish):
            raise InvalidParameter(f"publish must be callable as publish(destination, letter), got {publish!r}")
        self.sim = sim
        self.store = store
        self.publish = publish

    def list(self, where: Callable[[DeadLetter], bool] | None = None) -> tuple[DeadLetter, ...]:
        return tuple(m for m in self.store.messages() if where is None or where(m))

    def groups(self, by: Sequence[str] = ("reason", "error")) -> tuple[DeadLetterGroup, ...]:
        """Dead messages grouped by the fields ``by``, largest group first (ties: first seen first)."""
        fields = self._fields(by)
        buckets: dict[tuple[Any, ...], list[DeadLetter]] = {}
        for letter in self.store.messages():
            buckets.setdefault(tuple(getattr(letter, f) for f in fields), []).append(letter)
        groups = [
            DeadLetterGroup(key, len(ms), tuple(m.message_id for m in ms), ms[0].time, ms[-1].time)
            for key, ms in buckets.items()
        ]
        return tuple(sorted(groups, key=lambda g: -g.count))

    def inspect(self, message_id: Any) -> DeadLetter:
        for letter in self.store.messages():
            if letter.message_id == message_id:
                return letter
        raise NoSuchDeadLetter(f"no dead message {message_id!r}; list() shows what the DLQ holds")

    def replay(
        self,
        where: Callable[[DeadLetter], bool] | None = None,
        *,
        destination: str | None = None,
        rate: float = 10.0,
        limit: int | None = None,
        group_by: Sequence[str] = ("reason", "error"),
    ) -> ReplayJob:
        """Replay the dead messages matching ``where`` (all by default), oldest first, ``rate`` per second.

        ``destination`` None sends each back to its origin. ``limit`` caps how
        many are replayed in this run. Returns the running :class:`ReplayJob`;
        ``sim.run(until=job.done)`` waits for its report.
        """
        check_rate("rate", rate)
        if limit is not None:
            check_count("limit", limit, minimum=1)
        chosen = list(self.list(where))
        if limit is not None:
            chosen = chosen[:limit]
        return ReplayJob(self, chosen, destination, rate, self._fields(group_by))

    @staticmethod
    def _fields(by: Sequence[str]) -> tuple[str, ...]:
        fields = tuple(by)
        for name in fields:
            if name not in GROUP_FIELDS:
                listed = ", ".join(repr(f) for f in GROUP_FIELDS)
                raise InvalidParameter(f"cannot group dead messages by {name!r}; choose from {listed}")
        return fields
