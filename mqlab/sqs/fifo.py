"""FIFO queue machinery: message groups, deduplication, sequence numbers, receive attempts.

Rules modelled (SQS Developer Guide, "FIFO queue logic" and "exactly-once
processing"; ReceiveMessage and SendMessage API reference):

* **Groups.** Messages of one ``MessageGroupId`` are delivered strictly in send
  order. While any message of a group is in flight, no other message of that
  group is returned ("While messages with a particular MessageGroupId are
  invisible, no more messages belonging to the same MessageGroupId are returned
  until the visibility timeout expires"); extending the visibility of an earlier
  message keeps the group blocked. Other groups proceed. A receive takes as
  many messages as it can from the group whose next message is oldest, then
  moves on to the next group.
* **Deduplication.** A send whose deduplication id was already accepted in the
  last 5 minutes is accepted but not stored; the response carries the
  MessageId and SequenceNumber of the first copy. The id is
  ``MessageDeduplicationId`` or, with ``ContentBasedDeduplication``, the
  SHA-256 hex digest of the body (not the attributes); an explicit id wins.
  ``DeduplicationScope=messageGroup`` keys the id by group. The window runs
  from the first send and is not extended by duplicates; it outlives the
  message (deleting it does not forget its id).
* **SequenceNumber.** Large, increasing, non-consecutive, per queue (20 digits here).
* **ReceiveRequestAttemptId.** Within 5 minutes, retrying a receive with the
  same id returns the same messages with the same receipt handles and resets
  their visibility timeout, provided none of them was deleted or had its
  visibility changed and they are all still in flight from that receive;
  otherwise the retry is a fresh receive (a simplification: AWS does not say).
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from typing import Any

from mqlab.sqs import limits
from mqlab.sqs.message import Message

__all__ = ["DeduplicationWindow", "MessageGroup", "ReceiveAttempts", "SequenceNumbers", "content_dedup_id"]


def content_dedup_id(body_bytes: bytes) -> str:
    """The deduplication id ContentBasedDeduplication generates: SHA-256 of the body, hex."""
    return hashlib.sha256(body_bytes).hexdigest()


class MessageGroup:
    """The messages of one group waiting to be received, in send order, and how many are in flight.

    Invariant: every message in ``pending`` is DELAYED or VISIBLE and has a
    higher ``seq`` than every in-flight message of the group, so the head of
    ``pending`` is the next message the group may deliver.
    """

    __slots__ = ("group_id", "in_flight", "pending")

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.pending: deque[Message] = deque()
        self.in_flight = 0

    @property
    def is_blocked(self) -> bool:
        """True while one of the group's messages is in flight."""
        return self.in_flight > 0

    def put_back(self, message: Message) -> None:
        """Return a message whose visibility expired to its place by ``seq`` (near the front)."""
        pending = self.pending
        index = 0
        seq = message.seq
        for index, other in enumerate(pending):  # noqa: B007 - the index is the answer
            if other.seq > seq:
                break
        else:
            index = len(pending)
        pending.insert(index, message)

    def __repr__(self) -> str:
        return f"<MessageGroup {self.group_id!r} pending={len(self.pending)} in_flight={self.in_flight}>"


class DeduplicationWindow:
    """Deduplication ids seen in the last :data:`~mqlab.sqs.limits.DEDUPLICATION_INTERVAL` seconds.

    Entries expire in the order they were added (they all live equally long),
    so the dict's insertion order is also expiry order.
    """

    __slots__ = ("_entries", "interval")

    def __init__(self, interval: float = limits.DEDUPLICATION_INTERVAL) -> None:
        self.interval = interval
        self._entries: dict[Any, tuple[float, str, str | None]] = {}

    def _forget_expired(self, now: float) -> None:
        entries = self._entries
        while entries:
            key = next(iter(entries))
            if entries[key][0] > now:
                break
            del entries[key]

    def lookup(self, key: Any, now: float) -> tuple[str, str | None] | None:
        """``(message_id, sequence_number)`` of the first copy if ``key`` is still in the window."""
        self._forget_expired(now)
        entry = self._entries.get(key)
        return None if entry is None else (entry[1], entry[2])

    def remember(self, key: Any, now: float, message_id: str, sequence_number: str | None) -> None:
        self._entries[key] = (now + self.interval, message_id, sequence_number)

    def __len__(self) -> int:
        return len(self._entries)


class SequenceNumbers:
    """A per-queue source of large, increasing, non-consecutive sequence numbers (as strings)."""

    __slots__ = ("_next", "_rng")

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next = 18_000_000_000_000_000_000 + rng.getrandbits(48)

    def take(self) -> str:
        value = self._next
        self._next = value + 1 + self._rng.getrandbits(16)
        return str(value)


class ReceiveAttempts:
    """Receive results kept for ReceiveRequestAttemptId retries, for 5 minutes."""

    __slots__ = ("_entries", "interval")

    def __init__(self, interval: float = limits.RECEIVE_ATTEMPT_ID_INTERVAL) -> None:
        self.interval = interval
        self._entries: dict[str, tuple[float, list[tuple[Message, int]]]] = {}

    def get(self, attempt_id: str, now: float) -> list[tuple[Message, int]] | None:
        """The ``(message, receive_count)`` pairs of an earlier receive with this id, if still retryable."""
        entries = self._entries
        while entries:
            key = next(iter(entries))
            if entries[key][0] > now:
                break
            del entries[key]
        entry = entries.get(attempt_id)
        return None if entry is None else entry[1]

    def remember(self, attempt_id: str, now: float, delivered: list[tuple[Message, int]]) -> None:
        self._entries.pop(attempt_id, None)
        self._entries[attempt_id] = (now + self.interval, delivered)
