"""Dead-letter queues: the RedrivePolicy, the RedriveAllowPolicy and message move tasks.

When a message moves to the dead-letter queue
---------------------------------------------
AWS: "maxReceiveCount – The number of times a message is delivered to the source
queue before being moved to the dead-letter queue. When the ReceiveCount for a
message exceeds the maxReceiveCount for a queue, Amazon SQS moves the message to
the dead-letter-queue." The move happens *at receive time*: a ReceiveMessage
that would deliver a message whose ``ApproximateReceiveCount`` already equals
``maxReceiveCount`` moves it to the DLQ instead and goes on with the next
message. A message nobody asks for again stays in the source queue, visible,
however often it was received before. If the dead-letter queue has been
deleted, the message is delivered as usual (the model's choice; AWS does not say).

In the DLQ a message keeps its MessageId, body, attributes and receive count and
gains ``DeadLetterQueueSourceArn``. For a standard queue it also keeps its
original enqueue time, so its retention in the DLQ counts from the first send;
for a FIFO queue the enqueue time resets and its MessageDeduplicationId is
replaced by its MessageId (SQS Developer Guide, "dead-letter queue retention"
and "configure a dead-letter queue redrive").

Move tasks (DLQ redrive)
------------------------
``StartMessageMoveTask`` moves messages out of a queue that is the DLQ of some
other queue, oldest first, to their original source queue
(``DeadLetterQueueSourceArn``) or to ``DestinationArn``. Moved messages are new
messages in the destination: new MessageId, new enqueue time, receive count 0.
The model moves up to ``MaxNumberOfMessagesPerSecond`` messages at the start of
each second of virtual time (500 when not given; AWS picks a rate itself).
Statuses: RUNNING → COMPLETED, RUNNING → CANCELLING → CANCELLED (at the next
tick), RUNNING → FAILED (destination gone). ``ApproximateNumberOfMessagesToMove``
is the number of visible messages at the start; in-flight messages are left alone.
One active task per source queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from mqlab.sqs import limits
from mqlab.sqs.errors import InvalidAttributeValue

__all__ = [
    "MoveTask",
    "MoveTaskStatus",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "parse_redrive_allow_policy",
    "parse_redrive_policy",
]


@dataclass(frozen=True)
class RedrivePolicy:
    """Where a queue sends messages received too often: ``deadLetterTargetArn`` after ``maxReceiveCount`` receives."""

    dead_letter_target_arn: str
    max_receive_count: int

    def to_json(self) -> str:
        """The attribute value as GetQueueAttributes returns it."""
        document = {"deadLetterTargetArn": self.dead_letter_target_arn, "maxReceiveCount": self.max_receive_count}
        return json.dumps(document, separators=(",", ":"))


@dataclass(frozen=True)
class RedriveAllowPolicy:
    """Which source queues may use this queue as their DLQ: allowAll (default), denyAll or byQueue."""

    redrive_permission: str = "allowAll"
    source_queue_arns: tuple[str, ...] = ()

    def allows(self, source_arn: str) -> bool:
        """True if a queue with ``source_arn`` may name this queue as its dead-letter target."""
        if self.redrive_permission == "allowAll":
            return True
        if self.redrive_permission == "denyAll":
            return False
        return source_arn in self.source_queue_arns

    def to_json(self) -> str:
        doc: dict[str, Any] = {"redrivePermission": self.redrive_permission}
        if self.redrive_permission == "byQueue":
            doc["sourceQueueArns"] = list(self.source_queue_arns)
        return json.dumps(doc, separators=(",", ":"))


def _load(text: Any, attribute: str, operation: str) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        doc = json.loads(text)
    except (TypeError, ValueError):
        doc = None
    if not isinstance(doc, dict):
        raise InvalidAttributeValue(
            f"Invalid value for the parameter {attribute}. Reason: {attribute} must be a JSON object, got {text!r}.",
            operation,
        )
    return doc


def parse_redrive_policy(text: Any, operation: str) -> RedrivePolicy | None:
    """Parse a RedrivePolicy attribute; an empty string removes the policy (returns None)."""
    if text == "":
        return None
    doc = _load(text, "RedrivePolicy", operation)
    unknown = sorted(set(doc) - {"deadLetterTargetArn", "maxReceiveCount"})
    if unknown:
        raise InvalidAttributeValue(
            f"Value {text} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not support "
            f"the key {unknown[0]!r}; use deadLetterTargetArn and maxReceiveCount.",
            operation,
        )
    arn = doc.get("deadLetterTargetArn")
    raw = doc.get("maxReceiveCount")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise InvalidAttributeValue(
            f"Value {text} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain "
            f"a valid deadLetterTargetArn (the ARN of an existing queue).",
            operation,
        )
    try:
        count = int(raw) if not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        count = None
    if count is None or str(raw).strip() not in (str(count),) or not (
        limits.MIN_MAX_RECEIVE_COUNT <= count <= limits.MAX_MAX_RECEIVE_COUNT
    ):
        raise InvalidAttributeValue(
            f"Value {text} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: "
            f"{raw!r}, valid values are from {limits.MIN_MAX_RECEIVE_COUNT} to {limits.MAX_MAX_RECEIVE_COUNT} both "
            f"inclusive.",
            operation,
        )
    return RedrivePolicy(arn, count)


def parse_redrive_allow_policy(text: Any, operation: str) -> RedriveAllowPolicy:
    """Parse a RedriveAllowPolicy attribute (``redrivePermission`` and, for byQueue, ``sourceQueueArns``)."""
    doc = _load(text, "RedriveAllowPolicy", operation)
    permission = doc.get("redrivePermission")
    sources = doc.get("sourceQueueArns")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise InvalidAttributeValue(
            f"Value {text} for parameter RedriveAllowPolicy is invalid. Reason: redrivePermission must be "
            f"allowAll, denyAll or byQueue.",
            operation,
        )
    if permission == "byQueue":
        if (
            not isinstance(sources, list)
            or not sources
            or len(sources) > limits.MAX_REDRIVE_ALLOW_SOURCES
            or not all(isinstance(s, str) and s.startswith("arn:") for s in sources)
        ):
            raise InvalidAttributeValue(
                f"Value {text} for parameter RedriveAllowPolicy is invalid. Reason: byQueue needs "
                f"sourceQueueArns, a list of 1 to {limits.MAX_REDRIVE_ALLOW_SOURCES} queue ARNs; for more "
                f"sources use allowAll.",
                operation,
            )
        return RedriveAllowPolicy("byQueue", tuple(sources))
    if sources is not None:
        raise InvalidAttributeValue(
            f"Value {text} for parameter RedriveAllowPolicy is invalid. Reason: sourceQueueArns can be given "
            f"only when redrivePermission is byQueue.",
            operation,
        )
    return RedriveAllowPolicy(permission)


class MoveTaskStatus(Enum):
    """The statuses ListMessageMoveTasks reports."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


_ALLOWED_MOVES = {
    MoveTaskStatus.RUNNING: {MoveTaskStatus.COMPLETED, MoveTaskStatus.CANCELLING, MoveTaskStatus.FAILED},
    MoveTaskStatus.CANCELLING: {MoveTaskStatus.CANCELLED},
}


class MoveTask:
    """One message move task: its parameters, progress and status.

    Invariants: ``moved <= to_move``; once COMPLETED, CANCELLED or FAILED the
    status never changes. The moving itself is done by the service, which calls
    :meth:`record_move` and :meth:`finish`.
    """

    __slots__ = (
        "destination_arn",
        "failure_reason",
        "moved",
        "rate",
        "rate_given",
        "source_arn",
        "started_ms",
        "status",
        "task_handle",
        "to_move",
        "timer",
    )

    def __init__(
        self,
        task_handle: str,
        source_arn: str,
        destination_arn: str | None,
        rate: int | None,
        to_move: int,
        started_ms: int,
    ) -> None:
        self.task_handle = task_handle
        self.source_arn = source_arn
        self.destination_arn = destination_arn
        self.rate_given = rate
        self.rate = rate if rate is not None else limits.DEFAULT_MOVE_RATE
        self.to_move = to_move
        self.moved = 0
        self.started_ms = started_ms
        self.status = MoveTaskStatus.RUNNING
        self.failure_reason: str | None = None
        self.timer: Any = None

    @property
    def is_active(self) -> bool:
        """RUNNING or CANCELLING: the task still holds its source queue."""
        return self.status in (MoveTaskStatus.RUNNING, MoveTaskStatus.CANCELLING)

    def move_to(self, status: MoveTaskStatus, reason: str | None = None) -> None:
        """Change status along a legal move; an illegal move raises RuntimeError naming it."""
        if status not in _ALLOWED_MOVES.get(self.status, ()):
            raise RuntimeError(
                f"can't move message move task {self.task_handle} from {self.status.value} to {status.value}")
        self.status = status
        if reason is not None:
            self.failure_reason = reason

    def record_move(self) -> None:
        self.moved += 1

    def describe(self) -> dict[str, Any]:
        """The ListMessageMoveTasks result entry."""
        entry: dict[str, Any] = {}
        if self.status is MoveTaskStatus.RUNNING:
            # ListMessageMoveTasks populates TaskHandle only for RUNNING tasks (API reference).
            entry["TaskHandle"] = self.task_handle
        entry["Status"] = self.status.value
        entry["SourceArn"] = self.source_arn
        if self.destination_arn is not None:
            entry["DestinationArn"] = self.destination_arn
        if self.rate_given is not None:
            entry["MaxNumberOfMessagesPerSecond"] = self.rate_given
        entry["ApproximateNumberOfMessagesMoved"] = self.moved
        entry["ApproximateNumberOfMessagesToMove"] = self.to_move
        if self.failure_reason is not None:
            entry["FailureReason"] = self.failure_reason
        entry["StartedTimestamp"] = self.started_ms
        return entry

    def __repr__(self) -> str:
        target = self.destination_arn or "sources"
        return f"<MoveTask {self.source_arn} -> {target} {self.status.value} {self.moved}/{self.to_move}>"
