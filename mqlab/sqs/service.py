"""The simulated SQS service of one account in one region: its queues, redrive, move tasks, ledger and bill.

::

    from mqlab.sim import Simulation
    from mqlab.sqs import SQS

    sim = Simulation(seed=7)
    sqs = SQS(sim)
    client = sqs.client()                      # boto3-shaped
    url = client.create_queue(QueueName="orders")["QueueUrl"]

URLs and ARNs look like AWS's (``https://sqs.us-east-1.amazonaws.com/123456789012/orders``,
``arn:aws:sqs:us-east-1:123456789012:orders``). Timestamps in attributes are
epoch milliseconds: virtual time 0 is ``epoch`` (2026-01-01T00:00:00Z by default).

Settings beyond AWS's (the simulated non-determinism of standard queues, all
drawn from ``sim.substream("sqs:<queue name>")``): ``duplicate_probability``
(default 0.01), ``reorder_probability`` (0.05) and ``short_poll_sample`` (0.9);
see :mod:`mqlab.sqs.queue`. They are small enough that a ten-message demo
usually reads in order, and large enough that a few hundred messages show
duplicates, overtaking and short polls that come back short or empty. Set them
to 0, 0 and 1 for an exact, ordered queue.

Not modelled (stated so nobody relies on them): request throttling and the FIFO
throughput quotas (300 / 3,000 messages per second, high-throughput mode), the
60 s it takes AWS to apply attribute changes, purges and queue deletions (the
model applies them at once), the one-second wait after CreateQueue, IAM,
AddPermission and queue policies (Policy is stored, not enforced), KMS
encryption, fair-queue dwell-time balancing (MessageGroupId on a standard queue
is stored and returned only), cross-account and cross-region access, and the
monthly free tier of the bill.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mqlab.sqs import limits
from mqlab.sqs.attributes import QueueConfig, check_queue_name, parse_attributes
from mqlab.sqs.cost import CostMeter, CostReport
from mqlab.sqs.errors import (
    InvalidAttributeValue,
    InvalidParameterValue,
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
    ResourceNotFoundException,
)
from mqlab.sqs.ledger import ServiceLedger
from mqlab.sqs.message import Message, MessageState
from mqlab.sqs.queue import Queue
from mqlab.sqs.redrive import MoveTask, MoveTaskStatus, RedrivePolicy
from mqlab.sqs.statistics import QueueStatistics

if TYPE_CHECKING:
    from mqlab.sim import Simulation
    from mqlab.sqs.client import SQSClient

__all__ = ["SQS"]

_HEX = "0123456789abcdef"


class SQS:
    """Every queue of one simulated account and region, and what happens between them."""

    def __init__(
        self,
        sim: Simulation,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        max_message_size: int = limits.MAX_MESSAGE_SIZE,
        duplicate_probability: float = limits.DEFAULT_DUPLICATE_PROBABILITY,
        reorder_probability: float = limits.DEFAULT_REORDER_PROBABILITY,
        short_poll_sample: float = limits.DEFAULT_SHORT_POLL_SAMPLE,
        epoch: float = limits.DEFAULT_EPOCH,
        price_per_million_standard: float = limits.PRICE_PER_MILLION_STANDARD,
        price_per_million_fifo: float = limits.PRICE_PER_MILLION_FIFO,
    ) -> None:
        if not (isinstance(max_message_size, int)
                and limits.MIN_MAXIMUM_MESSAGE_SIZE <= max_message_size <= limits.MAX_MESSAGE_SIZE):
            raise ValueError(
                f"max_message_size must be an int from {limits.MIN_MAXIMUM_MESSAGE_SIZE} to "
                f"{limits.MAX_MESSAGE_SIZE} bytes (1 MiB today, {limits.LEGACY_MAX_MESSAGE_SIZE} before 2025), "
                f"got {max_message_size!r}"
            )
        for label, p in (("duplicate_probability", duplicate_probability),
                         ("reorder_probability", reorder_probability), ("short_poll_sample", short_poll_sample)):
            if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
                raise ValueError(f"{label} must be a probability from 0 to 1, got {p!r}")
        if short_poll_sample == 0:
            raise ValueError("short_poll_sample must be above 0: a short poll that asks no server never sees a message")
        if not (isinstance(account_id, str) and len(account_id) == 12 and account_id.isdigit()):
            raise ValueError(f"account_id must be 12 digits like AWS account ids, got {account_id!r}")
        self.sim = sim
        self.region = region
        self.account_id = account_id
        self.max_message_size = max_message_size
        self.duplicate_probability = float(duplicate_probability)
        self.reorder_probability = float(reorder_probability)
        self.short_poll_sample = float(short_poll_sample)
        self.epoch = float(epoch)
        self.price_per_million_standard = price_per_million_standard
        self.price_per_million_fifo = price_per_million_fifo
        self.account_cost = CostMeter(price_per_million_standard)
        self._queues: dict[str, Queue] = {}  # live queues by name, in creation order
        self._by_url: dict[str, Queue] = {}
        self._by_arn: dict[str, Queue] = {}
        self._all: list[Queue] = []  # every queue ever created, for the ledger
        self._deleted_at: dict[str, float] = {}
        self._tasks: list[MoveTask] = []
        rng = sim.substream("sqs")
        prefix = "".join(rng.choice(_HEX) for _ in range(20))
        self._id_prefix = f"{prefix[:8]}-{prefix[8:12]}-4{prefix[12:15]}-{'89ab'[rng.randrange(4)]}{prefix[15:18]}-"
        self._id_counter = rng.getrandbits(24)
        self._task_counter = 0

    # -- identities and time ---------------------------------------------------------------------------
    def new_message_id(self) -> str:
        """A UUID-shaped MessageId, unique within the service and the same for the same seed."""
        self._id_counter += 1
        return f"{self._id_prefix}{self._id_counter:012x}"

    def now_ms(self) -> int:
        """The current virtual time as epoch milliseconds (for SentTimestamp and friends)."""
        return int((self.epoch + self.sim.now) * 1000)

    # -- queues ---------------------------------------------------------------------------------------
    @property
    def queues(self) -> list[Queue]:
        """Live queues in creation order."""
        return list(self._queues.values())

    def queue(self, url: Any, operation: str = "Unknown") -> Queue:
        """The live queue at ``url`` (the name alone, or any URL ending in ``/<account>/<name>``, also works)."""
        queue = self._by_url.get(url) if isinstance(url, str) else None
        if queue is not None:
            return queue
        if isinstance(url, str):
            parts = url.rstrip("/").split("/")
            name = parts[-1]
            account_ok = len(parts) < 2 or parts[-2] == self.account_id or "://" not in url
            candidate = self._queues.get(name)
            if candidate is not None and account_ok:
                return candidate
        raise QueueDoesNotExist(
            f"The specified queue does not exist. (No queue at {url!r} in account {self.account_id}, region "
            f"{self.region}; create it first, or take the QueueUrl from create_queue / get_queue_url.)",
            operation,
        )

    def queue_by_arn(self, arn: str) -> Queue | None:
        return self._by_arn.get(arn)

    def create_queue(self, name: Any, attributes: dict[str, str], tags: dict[str, str] | None,
                     operation: str = "CreateQueue") -> Queue:
        """CreateQueue: a new queue, or the existing one if every given attribute matches."""
        fifo = attributes.get("FifoQueue") == "true"
        check_queue_name(name, fifo, operation)
        values = parse_attributes(attributes, fifo=fifo, creating=True, operation=operation,
                                  max_message_size=self.max_message_size)
        existing = self._queues.get(name)
        if existing is not None:
            current = existing.config.as_strings()
            for key, text in attributes.items():
                if key == "FifoQueue" and text == "false" and not existing.fifo:
                    continue
                if current.get(key, _DEFAULTS.get(key)) != _normalised(values[key], text):
                    raise QueueNameExists(
                        f"A queue already exists with the same name and a different value for attribute {key}. "
                        f"(Queue {name!r} has {key}={current.get(key)!r}; use set_queue_attributes to change it.)",
                        operation,
                    )
            return existing
        deleted_at = self._deleted_at.get(name)
        if deleted_at is not None and self.sim.now - deleted_at < limits.QUEUE_DELETION_COOLDOWN:
            wait = limits.QUEUE_DELETION_COOLDOWN - (self.sim.now - deleted_at)
            raise QueueDeletedRecently(
                f"You must wait {limits.QUEUE_DELETION_COOLDOWN} seconds after deleting a queue before you can "
                f"create another with the same name. (Queue {name!r} was deleted at t={deleted_at:g}; try again "
                f"in {wait:g} s.)",
                operation,
            )
        config = QueueConfig(fifo=fifo, maximum_message_size=self.max_message_size)
        values.pop("FifoQueue", None)
        self._check_redrive(name, fifo, values, operation)
        config.apply(values)
        queue = Queue(self, name, config, self.now_ms())
        if tags:
            queue.tags.update(tags)
        self._queues[name] = queue
        self._by_url[queue.url] = queue
        self._by_arn[queue.arn] = queue
        self._all.append(queue)
        if self.sim.tracing:
            self.sim.log(queue.actor, "created", fifo=fifo)
        return queue

    def set_attributes(self, queue: Queue, attributes: dict[str, str], operation: str = "SetQueueAttributes") -> None:
        values = parse_attributes(attributes, fifo=queue.fifo, creating=False, operation=operation,
                                  max_message_size=self.max_message_size)
        scope = values.get("DeduplicationScope", queue.config.deduplication_scope)
        limit = values.get("FifoThroughputLimit", queue.config.fifo_throughput_limit)
        if queue.fifo and limit == "perMessageGroupId" and scope == "queue":
            raise InvalidAttributeValue(
                "Invalid value for the parameter FifoThroughputLimit. Reason: perMessageGroupId is allowed only "
                "when DeduplicationScope is messageGroup.",
                operation,
            )
        self._check_redrive(queue.name, queue.fifo, values, operation)
        queue.counts()  # apply what is due under the old settings first
        queue.config.apply(values)
        queue.last_modified_ms = self.now_ms()
        queue._arm()

    def _check_redrive(self, name: str, fifo: bool, values: dict[str, Any], operation: str) -> None:
        policy = values.get("RedrivePolicy")
        if policy is None:
            return
        dlq = self._by_arn.get(policy.dead_letter_target_arn)
        arn = f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"
        if dlq is None:
            raise InvalidParameterValue(
                f"Value {policy.to_json()} for parameter RedrivePolicy is invalid. Reason: Dead letter target does "
                f"not exist. (Create the dead-letter queue first and use its QueueArn.)",
                operation,
            )
        if dlq.fifo != fifo:
            kind = "FIFO" if fifo else "standard"
            raise InvalidParameterValue(
                f"Value {policy.to_json()} for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be "
                f"same type of queue as the source. (Queue {name!r} is {kind}; its DLQ must be {kind} too.)",
                operation,
            )
        if dlq.arn == arn:
            raise InvalidParameterValue(
                f"Value {policy.to_json()} for parameter RedrivePolicy is invalid. Reason: a queue cannot be its own "
                f"dead-letter queue.",
                operation,
            )
        allow = dlq.config.redrive_allow_policy
        if allow is not None and not allow.allows(arn):
            raise InvalidParameterValue(
                f"Value {policy.to_json()} for parameter RedrivePolicy is invalid. Reason: Queue {dlq.name!r} does "
                f"not allow this queue to use it as a dead-letter queue (its RedriveAllowPolicy is "
                f"{allow.to_json()}).",
                operation,
            )

    def delete_queue(self, queue: Queue) -> None:
        """DeleteQueue: the queue and every message in it are gone; the name is reserved for 60 s."""
        del self._queues[queue.name]
        del self._by_url[queue.url]
        del self._by_arn[queue.arn]
        self._deleted_at[queue.name] = self.sim.now
        for task in self._tasks:
            if task.is_active and task.source_arn == queue.arn:
                self._finish_task(task, MoveTaskStatus.FAILED, "The source queue was deleted.")
        queue.close()
        if self.sim.tracing:
            self.sim.log(queue.actor, "queue_deleted", lost=queue.lost_with_queue)

    def purge_queue(self, queue: Queue, operation: str = "PurgeQueue") -> int:
        now = self.sim.now
        if now - queue.purged_at < limits.PURGE_COOLDOWN:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {queue.name} is allowed every {limits.PURGE_COOLDOWN} seconds. "
                f"(The last purge was at t={queue.purged_at:g}; try again after t={queue.purged_at + 60:g}.)",
                operation,
            )
        queue.purged_at = now
        return queue.purge()

    def dead_letter_sources(self, queue: Queue) -> list[Queue]:
        """Live queues whose RedrivePolicy names ``queue`` as their DLQ."""
        return [
            q for q in self._queues.values()
            if q.config.redrive_policy is not None and q.config.redrive_policy.dead_letter_target_arn == queue.arn
        ]

    # -- redrive ----------------------------------------------------------------------------------------
    def redrive(self, source: Queue, message: Message, policy: RedrivePolicy) -> bool:
        """Move ``message`` (visible, received ``maxReceiveCount`` times) to its DLQ; False if the DLQ is gone."""
        dlq = self._by_arn.get(policy.dead_letter_target_arn)
        if dlq is None:
            return False  # the DLQ was deleted: the message stays and is delivered (documented simplification)
        copy = Message(
            0,
            message.message_id,
            message.body,
            message.body_md5,
            message.size,
            message.sent_at,
            message.enqueued_at if not source.fifo else self.sim.now,
            MessageState.VISIBLE,
            self.sim.now,
            message.attributes,
            message.attributes_md5,
            message.group_id,
            message.message_id if source.fifo else message.dedup_id,
        )
        copy.receive_count = message.receive_count
        copy.first_receive_at = message.first_receive_at
        copy.source_arn = source.arn
        source._leave(message, MessageState.MOVED_TO_DLQ)
        source.moved_to_dlq += 1
        if self.sim.tracing:
            self.sim.log(source.actor, "moved_to_dlq", message_id=message.message_id,
                         receive_count=message.receive_count, dead_letter_queue=dlq.name)
        dlq.accept(copy, redriven=True)
        return True

    # -- message move tasks -----------------------------------------------------------------------------------
    def start_move_task(self, source_arn: str, destination_arn: str | None, rate: int | None,
                        operation: str = "StartMessageMoveTask") -> MoveTask:
        source = self._by_arn.get(source_arn)
        if source is None:
            raise ResourceNotFoundException(
                f"The resource that you specified for the SourceArn parameter doesn't exist: {source_arn}.",
                operation,
            )
        if not self.dead_letter_sources(source):
            raise InvalidParameterValue(
                f"Source queue must be configured as a Dead Letter Queue. ({source.name!r} is not the "
                f"deadLetterTargetArn of any queue's RedrivePolicy.)",
                operation,
            )
        if destination_arn is not None:
            destination = self._by_arn.get(destination_arn)
            if destination is None:
                raise ResourceNotFoundException(
                    f"The resource that you specified for the DestinationArn parameter doesn't exist: "
                    f"{destination_arn}.",
                    operation,
                )
            if destination.fifo != source.fifo:
                raise InvalidParameterValue(
                    "The source queue and the destination queue must be of the same type (both standard or both "
                    "FIFO).",
                    operation,
                )
            if destination is source:
                raise InvalidParameterValue("The destination queue must differ from the source queue.", operation)
        if rate is not None and not (1 <= rate <= limits.MAX_MOVE_RATE):
            raise InvalidParameterValue(
                f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be from 1 to "
                f"{limits.MAX_MOVE_RATE}.",
                operation,
            )
        if any(t.is_active and t.source_arn == source_arn for t in self._tasks):
            raise InvalidParameterValue(
                "There is already a task running. Only one active task is allowed for a source queue arn at a "
                "given time. (Cancel it with cancel_message_move_task or wait until it completes.)",
                operation,
            )
        self._task_counter += 1
        handle = f"eyJ0YXNrSWQiOi{self._task_counter:08d}{source.tag}"
        task = MoveTask(handle, source_arn, destination_arn, rate, source.counts()[0], self.now_ms())
        self._tasks.append(task)
        if self.sim.tracing:
            self.sim.log(source.actor, "move_task_started", task=handle, to_move=task.to_move,
                         rate=task.rate, destination=destination_arn or "source queues")
        task.timer = self.sim.call_soon(self._tick, task)
        return task

    def _tick(self, task: MoveTask) -> None:
        task.timer = None
        if task.status is MoveTaskStatus.CANCELLING:
            self._finish_task(task, MoveTaskStatus.CANCELLED)
            return
        if task.status is not MoveTaskStatus.RUNNING:
            return
        source = self._by_arn.get(task.source_arn)
        if source is None:
            self._finish_task(task, MoveTaskStatus.FAILED, "The source queue was deleted.")
            return
        budget = min(task.rate, task.to_move - task.moved)
        for message in source.candidates_for_move(budget):
            target_arn = task.destination_arn or message.source_arn
            target = self._by_arn.get(target_arn) if target_arn else None
            if target is None or target.fifo != source.fifo:
                reason = ("The destination queue does not exist." if target is None
                          else "The destination queue is not of the same type as the source queue.")
                self._finish_task(task, MoveTaskStatus.FAILED, reason)
                return
            source.release_for_move(message)
            self._move(source, target, message, task)
        if task.moved >= task.to_move or source.counts()[0] == 0:
            self._finish_task(task, MoveTaskStatus.COMPLETED)
            return
        task.timer = self.sim.call_later(1.0, self._tick, task)

    def _move(self, source: Queue, target: Queue, message: Message, task: MoveTask) -> None:
        fresh = Message(
            0,
            self.new_message_id(),
            message.body,
            message.body_md5,
            message.size,
            self.sim.now,
            self.sim.now,
            MessageState.VISIBLE,
            self.sim.now,
            message.attributes,
            message.attributes_md5,
            message.group_id,
            message.dedup_id,
        )
        task.record_move()
        if self.sim.tracing:
            self.sim.log(source.actor, "moved_back", message_id=message.message_id, new_message_id=fresh.message_id,
                         destination=target.name, task=task.task_handle)
        target.accept(fresh, redriven=False)

    def _finish_task(self, task: MoveTask, status: MoveTaskStatus, reason: str | None = None) -> None:
        if task.timer is not None:
            task.timer.cancel()
            task.timer = None
        task.move_to(status, reason)
        if self.sim.tracing:
            self.sim.log("sqs", "move_task_" + status.value.lower(), task=task.task_handle, moved=task.moved,
                         **({"reason": reason} if reason else {}))

    def cancel_move_task(self, handle: str, operation: str = "CancelMessageMoveTask") -> MoveTask:
        for task in self._tasks:
            if task.task_handle == handle:
                if task.status is not MoveTaskStatus.RUNNING:
                    raise InvalidParameterValue(
                        f"Task {handle} is {task.status.value}: a message movement can only be cancelled when its "
                        f"status is RUNNING.",
                        operation,
                    )
                task.move_to(MoveTaskStatus.CANCELLING)
                if task.timer is not None:
                    task.timer.cancel()
                task.timer = self.sim.call_soon(self._tick, task)
                return task
        raise ResourceNotFoundException(
            f"The task handle {handle!r} does not name a message move task. (Use the TaskHandle that "
            f"start_message_move_task returned.)",
            operation,
        )

    def move_tasks(self, source_arn: str, operation: str = "ListMessageMoveTasks") -> list[MoveTask]:
        """Tasks of one source queue, most recent first."""
        if source_arn not in self._by_arn:
            raise ResourceNotFoundException(
                f"The resource that you specified for the SourceArn parameter doesn't exist: {source_arn}.",
                operation,
            )
        return [t for t in reversed(self._tasks) if t.source_arn == source_arn]

    # -- introspection --------------------------------------------------------------------------------------
    def statistics(self, queue_url: str) -> QueueStatistics:
        """Statistics of one live queue, by URL or name."""
        return self.queue(queue_url).statistics()

    def ledger(self) -> ServiceLedger:
        """Where every message of every queue (deleted queues included) is now."""
        return ServiceLedger(tuple(q.ledger() for q in self._all))

    def cost(self, queue_url: str | None = None) -> CostReport:
        """The bill of one queue (by URL or name), or of the whole account when ``queue_url`` is None."""
        if queue_url is not None:
            return self.queue(queue_url).cost.report()
        reports = [self.account_cost.report()] + [q.cost.report() for q in self._all]
        by_action: dict[str, int] = {}
        for report in reports:
            for action, count in report.by_action:
                by_action[action] = by_action.get(action, 0) + count
        return CostReport(
            requests=sum(r.requests for r in reports),
            billed_requests=sum(r.billed_requests for r in reports),
            empty_receives=sum(r.empty_receives for r in reports),
            by_action=tuple(by_action.items()),
            price_per_million=math.nan,
            dollars=sum(r.dollars for r in reports),
        )

    def client(self) -> SQSClient:
        """A boto3-shaped client bound to this service."""
        from mqlab.sqs.client import SQSClient

        return SQSClient(self)

    def __repr__(self) -> str:
        return f"<SQS {self.region} account={self.account_id} queues={len(self._queues)}>"


_DEFAULTS = {
    "VisibilityTimeout": str(limits.DEFAULT_VISIBILITY_TIMEOUT),
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "MessageRetentionPeriod": str(limits.DEFAULT_RETENTION_PERIOD),
}


def _normalised(value: Any, text: str) -> str:
    """An attribute value as GetQueueAttributes would print it, for the CreateQueue idempotency check."""
    if hasattr(value, "to_json"):
        return str(value.to_json())
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value) if not isinstance(value, str) else text
