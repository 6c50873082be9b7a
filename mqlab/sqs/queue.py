"""One SQS queue (standard or FIFO) as a state machine in virtual time.

A message moves DELAYED → VISIBLE → IN_FLIGHT → DELETED, with IN_FLIGHT →
VISIBLE when its visibility timeout expires (see :mod:`mqlab.sqs.message` for
all states). Each receive gives a new receipt handle and raises
``ApproximateReceiveCount`` by one.

Standard queues (at-least-once, best-effort order), with seeded randomness from
``sim.substream("sqs:<queue name>")`` so every run with one seed is the same:

* ``duplicate_probability``: a DeleteMessage may miss one stored copy of the
  message (AWS: "it is possible to receive a message even after you delete
  it ... if one of the servers which stores a copy of the message is
  unavailable"); the call succeeds, and the message comes back when its
  visibility timeout ends, with a higher receive count;
* ``reorder_probability``: a receive may pass over a ready message, so a later
  one overtakes it (it is never the reason a receive comes back empty);
* ``short_poll_sample``: a short poll (``WaitTimeSeconds=0``) asks only some
  servers; each ready message is seen with this probability, so a short poll
  can return fewer messages than exist, or none. Long polls ask every server.

A message whose visibility timeout ends goes to the back of a standard queue's
ready line (AWS promises no order; this keeps a failing message from starving
the others).

Stale receipt handles, as AWS documents and as SDK users report:

* standard queue, handle from an earlier receive of a message received again
  since: DeleteMessage succeeds but does not delete ("If you use an old
  ReceiptHandle, the request will succeed, but the message might not be
  deleted"); ChangeMessageVisibility succeeds and does nothing;
* standard queue, latest handle after the visibility timeout expired (not yet
  received again): DeleteMessage deletes the message; ChangeMessageVisibility
  does nothing (AWS returns success);
* FIFO queue, any handle whose receive is over (visibility expired, or received
  again): ``InvalidParameterValue`` "Reason: The receipt handle has expired.";
* a handle of a message that is already gone: DeleteMessage succeeds (it is
  idempotent); ChangeMessageVisibility raises ``InvalidParameterValue``
  "Message does not exist or is not available for visibility timeout change.";
* a string that was never a receipt handle of this queue: ``ReceiptHandleIsInvalid``.

Time: transitions that happen by themselves (a delay ending, a visibility
timeout expiring, retention expiring) are applied at their instant by one
kernel timer per queue, and again (idempotently) at the start of every call.
A queue that still holds messages therefore keeps ``sim.run()`` going until
they expire, as the real service would keep them; use ``run(until=...)``.
The timer is not cancelled when the last message is deleted (that would cost
two agenda entries per message); it may fire once more at a deadline that no
longer matters, which changes nothing but the clock at the end of a ``run()``
without ``until``.

Hooks: :meth:`Queue.send`, :meth:`Queue.receive`, :meth:`Queue.delete` and
:meth:`Queue.change_visibility` are the paths a fault-injection layer wraps.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import re
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mqlab.sqs import limits
from mqlab.sqs.attributes import QueueConfig
from mqlab.sqs.cost import CostMeter
from mqlab.sqs.errors import InvalidParameterValue, OverLimit, ReceiptHandleIsInvalid
from mqlab.sqs.fifo import DeduplicationWindow, MessageGroup, ReceiveAttempts, SequenceNumbers
from mqlab.sqs.ledger import QueueLedger
from mqlab.sqs.message import Message, MessageState
from mqlab.sqs.statistics import QueueStatistics

if TYPE_CHECKING:
    from mqlab.sim import Event, Handle
    from mqlab.sqs.service import SQS

__all__ = ["Queue", "Waiter"]

S = MessageState
DELAYED, VISIBLE, IN_FLIGHT, DELETED = S.DELAYED, S.VISIBLE, S.IN_FLIGHT, S.DELETED
_INF = math.inf
_HANDLE = re.compile(r"AQEB([0-9a-z]{10})[A-Za-z0-9+/]{24}([0-9a-f]+)\.([0-9a-f]+)\Z")
_PADDING_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class Waiter:
    """A long poll waiting for messages: how many it wants and what to do with them."""

    __slots__ = ("event", "finish", "max_messages", "timer", "visibility_timeout")

    def __init__(self, event: Event, max_messages: int, visibility_timeout: int,
                 finish: Callable[[list[Message]], Any]) -> None:
        self.event = event
        self.max_messages = max_messages
        self.visibility_timeout = visibility_timeout
        self.finish = finish
        self.timer: Handle | None = None


class Queue:
    """A standard or FIFO queue: its messages, their timers, its counters.

    Invariants: ``visible + in_flight + delayed`` equals the number of live
    messages; every live message is reachable through exactly one structure
    (the ready deque or a FIFO group, the delay heap, or the visibility heap);
    a FIFO group with a message in flight delivers nothing else.
    """

    def __init__(self, service: SQS, name: str, config: QueueConfig, created_ms: int) -> None:
        sim = service.sim
        self.sim = sim
        self.service = service
        self.name = name
        self.config = config
        self.fifo = config.fifo
        self.url = f"https://sqs.{service.region}.amazonaws.com/{service.account_id}/{name}"
        self.arn = f"arn:aws:sqs:{service.region}:{service.account_id}:{name}"
        self.created_ms = created_ms
        self.last_modified_ms = created_ms
        self.tags: dict[str, str] = {}
        self.rng = sim.substream(f"sqs:{name}")
        self.actor = f"sqs:{name}"
        self.deleted = False
        self.purged_at = -_INF
        self.cost = CostMeter(service.price_per_million_fifo if self.fifo else service.price_per_million_standard)
        # Randomness of standard queues (FIFO queues are exact).
        self.duplicate_probability = 0.0 if self.fifo else service.duplicate_probability
        self.reorder_probability = 0.0 if self.fifo else service.reorder_probability
        self.short_poll_sample = 1.0 if self.fifo else service.short_poll_sample
        self.tag = "".join(self.rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(10))
        padding = "".join(self.rng.choice(_PADDING_ALPHABET) for _ in range(24))
        self._handle_prefix = f"AQEB{self.tag}{padding}"
        # Storage.
        self._seq = 0
        self._serial = itertools.count()
        self._ready: deque[Message] = deque()  # standard queues: visible messages (plus stale entries)
        self._groups: dict[str, MessageGroup] = {}  # FIFO queues
        self._handles: dict[str, Message] = {}
        self._visibility: list[tuple[float, int, Message, int]] = []
        self._delays: list[tuple[float, int, Message]] = []
        self._retention: deque[Message] = deque()  # in enqueue-time order
        self._late_retention: list[tuple[float, int, Message]] = []  # messages arriving with an older enqueue time
        self._waiters: deque[Waiter] = deque()
        self._serving = False
        self._timer: Handle | None = None
        self._timer_at = _INF
        self._compact_at = 4096
        if self.fifo:
            self.dedup = DeduplicationWindow()
            self.sequence_numbers = SequenceNumbers(self.rng)
            self.attempts = ReceiveAttempts()
        # Counters.
        self.n_visible = 0
        self.n_in_flight = 0
        self.n_delayed = 0
        self.sent = 0
        self.deduplicated = 0
        self.deliveries = 0
        self.receive_requests = 0
        self.empty_receives = 0
        self.deleted_count = 0
        self.stale_deletes = 0
        self.lost_deletes = 0
        self.visible_again = 0
        self.moved_to_dlq = 0
        self.redriven_in = 0
        self.moved_out = 0
        self.moved_in = 0
        self.expired = 0
        self.purged = 0
        self.lost_with_queue = 0

    # -- time ------------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Apply every delay end, visibility expiry and retention expiry due at or before ``now``, in time order.

        Every live deadline is at or after ``_timer_at`` (the queue's timer points at the earliest one, or
        earlier when the earliest was cancelled), so callers only need to advance when ``now >= _timer_at``.
        """
        visibility, delays, retention, late = self._visibility, self._delays, self._retention, self._late_retention
        period = self.config.retention_period
        while True:
            when = _INF
            kind = 0
            if visibility and visibility[0][0] < when:
                when, kind = visibility[0][0], 1
            if delays and delays[0][0] < when:
                when, kind = delays[0][0], 2
            if retention and retention[0].enqueued_at + period < when:
                when, kind = retention[0].enqueued_at + period, 3
            if late and late[0][0] + period < when:
                when, kind = late[0][0] + period, 4
            if when > now:
                return
            if kind == 1:
                _, _, message, receive_no = heapq.heappop(visibility)
                if (message.state is IN_FLIGHT and message.receive_count == receive_no
                        and message.visible_at == when):
                    self._make_visible_again(message)
            elif kind == 2:
                _, _, message = heapq.heappop(delays)
                if message.state is DELAYED:
                    self._end_delay(message)
            elif kind == 3:
                message = retention.popleft()
                if not message.is_final:
                    self._expire(message)
            else:
                _, _, message = heapq.heappop(late)
                if not message.is_final:
                    self._expire(message)

    def _arm(self) -> None:
        """Point the queue's kernel timer at its earliest pending transition (skipping dead entries)."""
        visibility, delays, retention, late = self._visibility, self._delays, self._retention, self._late_retention
        while visibility:
            when, _, message, receive_no = visibility[0]
            if message.state is IN_FLIGHT and message.receive_count == receive_no and message.visible_at == when:
                break
            heapq.heappop(visibility)
        while delays and delays[0][2].state is not DELAYED:
            heapq.heappop(delays)
        while retention and retention[0].is_final:
            retention.popleft()
        while late and late[0][2].is_final:
            heapq.heappop(late)
        period = self.config.retention_period
        when = _INF
        if visibility:
            when = visibility[0][0]
        if delays and delays[0][0] < when:
            when = delays[0][0]
        if retention and retention[0].enqueued_at + period < when:
            when = retention[0].enqueued_at + period
        if late and late[0][0] + period < when:
            when = late[0][0] + period
        if when == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = when
        if when != _INF and not self.deleted:
            self._timer = self.sim.call_at(max(when, self.sim.now), self._on_timer)

    def _arm_at(self, when: float) -> None:
        """Hot path: move the timer earlier, to ``when`` (callers check ``when < self._timer_at``)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        now = self.sim.now
        self._timer = self.sim.call_at(when if when >= now else now, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = _INF
        self.advance(self.sim.now)
        self._arm()

    def _compact(self) -> None:
        """Drop dead entries (deleted messages) from the timer structures; amortised O(1) per delete."""
        self._visibility = [e for e in self._visibility
                            if e[2].state is IN_FLIGHT and e[2].receive_count == e[3] and e[2].visible_at == e[0]]
        heapq.heapify(self._visibility)
        self._retention = deque(m for m in self._retention if not m.is_final)
        if not self.fifo:
            self._ready = deque(m for m in self._ready if m.state is VISIBLE)
        live = self.n_visible + self.n_in_flight + self.n_delayed
        self._compact_at = max(4096, 4 * live)

    def _idle_check(self) -> None:
        """When the queue holds nothing, drop its timer so a finished run does not wait on stale deadlines."""
        if self.n_visible + self.n_in_flight + self.n_delayed == 0:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._timer_at = _INF
            self._visibility.clear()
            self._delays.clear()
            self._retention.clear()
            self._late_retention.clear()
            if not self.fifo:
                self._ready.clear()

    # -- transitions ----------------------------------------------------------------------------
    def _make_visible_again(self, message: Message) -> None:
        message.state = VISIBLE
        self.n_in_flight -= 1
        self.n_visible += 1
        self.visible_again += 1
        if self.fifo:
            group = self._groups[message.group_id]  # type: ignore[index]
            group.in_flight -= 1
            group.put_back(message)
        else:
            self._ready.append(message)
        sim = self.sim
        if sim.tracing:
            sim.log(self.actor, "visible_again", message_id=message.message_id, receive_count=message.receive_count)
        if self._waiters:
            self._serve_waiters()

    def _end_delay(self, message: Message) -> None:
        message.state = VISIBLE
        self.n_delayed -= 1
        self.n_visible += 1
        if not self.fifo:
            self._ready.append(message)
        if self._waiters:
            self._serve_waiters()

    def _leave(self, message: Message, state: MessageState) -> None:
        """Take a live message out of the queue into a final ``state``, fixing counters, handles and groups."""
        old = message.state
        message.state = state
        if old is VISIBLE:
            self.n_visible -= 1
        elif old is IN_FLIGHT:
            self.n_in_flight -= 1
        else:
            self.n_delayed -= 1
        if message.handle is not None:
            self._forget_handles(message)
        if self.fifo:
            group = self._groups.get(message.group_id)  # type: ignore[arg-type]
            if group is not None:
                if old is IN_FLIGHT:
                    group.in_flight -= 1
                else:
                    with contextlib.suppress(ValueError):  # a receive redriving it has already taken it off
                        group.pending.remove(message)
                if not group.pending and not group.in_flight:
                    self._groups.pop(group.group_id, None)
                elif old is IN_FLIGHT and self._waiters:
                    self._serve_waiters()

    def _forget_handles(self, message: Message) -> None:
        handles = self._handles
        handles.pop(message.handle, None)  # type: ignore[arg-type]
        if message.old_handles:
            for handle in message.old_handles:
                handles.pop(handle, None)
            message.old_handles = None

    def _expire(self, message: Message) -> None:
        self._leave(message, S.EXPIRED)
        self.expired += 1
        if self.sim.tracing:
            self.sim.log(self.actor, "expired", message_id=message.message_id)

    # -- send ---------------------------------------------------------------------------------------
    def send(
        self,
        body: str,
        body_md5: str,
        size: int,
        attributes: dict[str, Any] | None,
        attributes_md5: str | None,
        delay: int | None,
        group_id: str | None,
        dedup_id: str | None,
    ) -> Message | tuple[str, str | None]:
        """Store one message (already validated); return it, or ``(message_id, sequence_number)`` of the first copy
        when FIFO deduplication suppresses it."""
        sim = self.sim
        now = sim.now
        if now >= self._timer_at:  # something may be due: the timer points at the earliest deadline
            self.advance(now)
        if self.fifo:
            key = dedup_id if self.config.deduplication_scope == "queue" else (group_id, dedup_id)
            first = self.dedup.lookup(key, now)
            if first is not None:
                self.deduplicated += 1
                if sim.tracing:
                    sim.log(self.actor, "deduplicated", message_id=first[0], deduplication_id=dedup_id)
                return first
        if delay is None:
            delay = self.config.delay_seconds
        seq = self._seq
        self._seq = seq + 1
        service = self.service
        service._id_counter += 1  # inlined SQS.new_message_id(): this is the hot path
        message = Message(
            seq,
            "%s%012x" % (service._id_prefix, service._id_counter),  # noqa: UP031 - faster than an f-string
            body,
            body_md5,
            size,
            now,
            now,
            DELAYED if delay else VISIBLE,
            now + delay,
            attributes,
            attributes_md5,
            group_id,
            dedup_id,
        )
        self.sent += 1
        if self.fifo:
            message.sequence_number = self.sequence_numbers.take()
            self.dedup.remember(key, now, message.message_id, message.sequence_number)
        if sim.tracing:
            sim.log(self.actor, "sent", message_id=message.message_id, delay=delay,
                    **({"group_id": group_id} if group_id is not None else {}))
        if delay or self.fifo:
            self._store(message, delay)
            return message
        # _store, inlined for the common case: a standard queue, no delay (the message is VISIBLE already)
        self.n_visible += 1
        self._ready.append(message)
        retention = self._retention
        if retention and now < retention[-1].enqueued_at:
            heapq.heappush(self._late_retention, (now, next(self._serial), message))
        else:
            retention.append(message)
        expires = now + self.config.retention_period
        if expires < self._timer_at:
            self._arm_at(expires)
        if self._waiters:
            self._serve_waiters()
        return message

    def _store(self, message: Message, delay: float) -> None:
        """Put a new message into the queue's structures (sent, redriven in or moved in)."""
        now = self.sim.now
        if self.fifo:
            group = self._groups.get(message.group_id)  # type: ignore[arg-type]
            if group is None:
                group = self._groups[message.group_id] = MessageGroup(message.group_id)  # type: ignore[index]
            group.pending.append(message)
        if delay > 0:
            message.state = DELAYED
            message.visible_at = now + delay
            self.n_delayed += 1
            heapq.heappush(self._delays, (now + delay, next(self._serial), message))
            if now + delay < self._timer_at:
                self._arm_at(now + delay)
        else:
            message.state = VISIBLE
            self.n_visible += 1
            if not self.fifo:
                self._ready.append(message)
        retention = self._retention
        if retention and message.enqueued_at < retention[-1].enqueued_at:
            heapq.heappush(self._late_retention, (message.enqueued_at, next(self._serial), message))
        else:
            retention.append(message)
        expires = message.enqueued_at + self.config.retention_period
        if expires < self._timer_at:
            self._arm_at(expires)
        if message.state is VISIBLE and self._waiters:
            self._serve_waiters()

    # -- receive -----------------------------------------------------------------------------------------
    def receive(self, max_messages: int, visibility_timeout: int, *, short_poll: bool = False,
                operation: str = "ReceiveMessage") -> list[Message]:
        """Deliver up to ``max_messages`` messages now (possibly none); each gets a new receipt handle.

        A message whose receive count already equals the RedrivePolicy's
        ``maxReceiveCount`` is moved to the dead-letter queue instead of being
        delivered (see :mod:`mqlab.sqs.redrive`).
        """
        now = self.sim.now
        if now >= self._timer_at:  # something may be due: the timer points at the earliest deadline
            self.advance(now)
        if self.n_visible == 0:
            return []
        if self.fifo:
            return self._receive_fifo(max_messages, visibility_timeout, now)
        if self.n_in_flight >= limits.MAX_IN_FLIGHT_STANDARD:
            raise OverLimit(
                f"Queue {self.name!r} has {self.n_in_flight} messages in flight, the most a standard queue allows "
                f"(about {limits.MAX_IN_FLIGHT_STANDARD:,}). Fix: delete messages once processed, or spread the "
                f"load over more queues.",
                operation,
            )
        out: list[Message] = []
        ready = self._ready
        sample = self.short_poll_sample if short_poll else 1.0
        reorder = self.reorder_probability
        random = self.rng.random if (sample < 1.0 or reorder > 0.0) else None
        redrive = self.config.redrive_policy
        skipped: list[Message] | None = None
        overtaken: Message | None = None
        while ready and len(out) < max_messages:
            message = ready.popleft()
            if message.state is not VISIBLE:
                continue  # a stale entry: the message was deleted, expired or purged while visible
            if (redrive is not None and message.receive_count >= redrive.max_receive_count
                    and self.service.redrive(self, message, redrive)):
                continue
            if random is not None:
                if sample < 1.0 and random() >= sample:
                    if skipped is None:
                        skipped = []
                    skipped.append(message)
                    if len(skipped) >= 64:
                        break
                    continue
                if reorder > 0.0 and random() < reorder:
                    if skipped is None:
                        skipped = []
                    skipped.append(message)
                    if overtaken is None:
                        overtaken = message
                    if len(skipped) >= 64:
                        break
                    continue
            self._deliver(message, visibility_timeout, now)
            out.append(message)
        if skipped:
            if not out and overtaken is not None:
                # Reordering changes the order, never whether messages are there: deliver the one passed over.
                skipped.remove(overtaken)
                self._deliver(overtaken, visibility_timeout, now)
                out.append(overtaken)
            ready.extendleft(reversed(skipped))
        return out

    def _receive_fifo(self, max_messages: int, visibility_timeout: int, now: float) -> list[Message]:
        if self.n_in_flight >= limits.MAX_IN_FLIGHT_FIFO:
            return []  # AWS: no error at the FIFO in-flight limit; nothing is returned
        ready = [
            group for group in self._groups.values()
            if not group.in_flight and group.pending and group.pending[0].state is VISIBLE
        ]
        if not ready:
            return []
        ready.sort(key=lambda group: group.pending[0].seq)
        redrive = self.config.redrive_policy
        out: list[Message] = []
        for group in ready:
            pending = group.pending
            while pending and pending[0].state is VISIBLE and len(out) < max_messages:
                message = pending.popleft()
                if (redrive is not None and message.receive_count >= redrive.max_receive_count
                        and self.service.redrive(self, message, redrive)):
                    continue
                self._deliver(message, visibility_timeout, now)
                group.in_flight += 1
                out.append(message)
            if not pending and not group.in_flight:
                self._groups.pop(group.group_id, None)
            if len(out) >= max_messages:
                break
        return out

    def _deliver(self, message: Message, visibility_timeout: int, now: float) -> None:
        count = message.receive_count + 1
        message.receive_count = count
        if count == 1:
            message.first_receive_at = now
        handle = "%s%x.%x" % (self._handle_prefix, message.seq, count)  # noqa: UP031 - faster than an f-string
        old = message.handle
        if old is not None:
            if message.old_handles is None:
                message.old_handles = [old]
            else:
                message.old_handles.append(old)
        message.handle = handle
        self._handles[handle] = message
        message.state = IN_FLIGHT
        message.received_at = now
        message.modified = False
        when = now + visibility_timeout
        message.visible_at = when
        self.n_visible -= 1
        self.n_in_flight += 1
        self.deliveries += 1
        heapq.heappush(self._visibility, (when, next(self._serial), message, count))
        if when < self._timer_at:
            self._arm_at(when)
        sim = self.sim
        if sim.tracing:
            sim.log(self.actor, "received", message_id=message.message_id, receive_count=count,
                    visibility_timeout=visibility_timeout)

    def retry_attempt(self, attempt_id: str, visibility_timeout: int) -> list[Message] | None:
        """FIFO ReceiveRequestAttemptId: the messages of an earlier receive, if it can be repeated now."""
        now = self.sim.now
        if now >= self._timer_at:  # something may be due: the timer points at the earliest deadline
            self.advance(now)
        earlier = self.attempts.get(attempt_id, now)
        if not earlier:
            return None
        for message, count in earlier:
            if message.state is not IN_FLIGHT or message.receive_count != count or message.modified:
                return None
        out = []
        for message, count in earlier:
            when = now + visibility_timeout
            message.visible_at = when
            heapq.heappush(self._visibility, (when, next(self._serial), message, count))
            out.append(message)
            if self.sim.tracing:
                self.sim.log(self.actor, "received", message_id=message.message_id, receive_count=count,
                             visibility_timeout=visibility_timeout, attempt_id=attempt_id)
        self._arm()
        return out

    # -- long polling ----------------------------------------------------------------------------------------
    def add_waiter(self, waiter: Waiter, wait_seconds: float) -> None:
        """Park a long poll until a message can be delivered or ``wait_seconds`` pass."""
        self._waiters.append(waiter)
        waiter.timer = self.sim.call_later(wait_seconds, self._waiter_timeout, waiter)

    def _waiter_timeout(self, waiter: Waiter) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            return
        waiter.finish([])

    def _serve_waiters(self) -> None:
        """Give ready messages to parked long polls, oldest poll first (not re-entrant: a receive it makes may
        make more messages visible, which this same loop then serves)."""
        if self._serving:
            return
        self._serving = True
        try:
            waiters = self._waiters
            while waiters and self.n_visible:
                waiter = waiters.popleft()
                try:
                    messages = self.receive(waiter.max_messages, waiter.visibility_timeout)
                except OverLimit:
                    messages = []
                if not messages:
                    waiters.appendleft(waiter)  # keeps waiting; its timeout answers it
                    return
                if waiter.timer is not None:
                    waiter.timer.cancel()
                waiter.finish(messages)
        finally:
            self._serving = False

    def drop_waiters(self, answer: Callable[[Waiter], None]) -> None:
        """Answer every parked long poll with ``answer(waiter)`` (used when the queue is deleted)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if waiter.timer is not None:
                waiter.timer.cancel()
            answer(waiter)

    # -- delete and visibility ---------------------------------------------------------------------------
    def _lookup(self, handle: Any, operation: str) -> Message | None:
        """The message a handle belongs to (None if the message is gone); invalid handles raise."""
        message = self._handles.get(handle)
        if message is not None:
            return message
        match = _HANDLE.match(handle) if isinstance(handle, str) else None
        if match is None or match.group(1) != self.tag or int(match.group(2), 16) >= self._seq:
            raise ReceiptHandleIsInvalid(
                f'The input receipt handle "{handle}" is not a valid receipt handle. Fix: pass the ReceiptHandle '
                f"of a message received from queue {self.name!r} (not its MessageId).",
                operation,
            )
        return None

    def _expired_handle(self, handle: str, operation: str) -> InvalidParameterValue:
        return InvalidParameterValue(
            f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired. "
            f"(FIFO queue {self.name!r}: the receive this handle came from is over; receive the message again "
            f"and use the new handle, or extend the visibility timeout before it ends.)",
            operation,
        )

    def delete(self, handle: str, operation: str = "DeleteMessage") -> str:
        """DeleteMessage; returns what happened: ``deleted``, ``stale`` (old handle, nothing deleted),
        ``gone`` (already deleted), or ``missed`` (a stored copy survived: the message will come back)."""
        sim = self.sim
        now = sim.now
        if now >= self._timer_at:  # something may be due: the timer points at the earliest deadline
            self.advance(now)
        message = self._handles.get(handle)
        if message is None:
            message = self._lookup(handle, operation)
            if message is None:
                return "gone"
        if message.handle != handle:
            if self.fifo:
                raise self._expired_handle(handle, operation)
            self.stale_deletes += 1
            if sim.tracing:
                sim.log(self.actor, "stale_delete", message_id=message.message_id, receive_count=message.receive_count)
            return "stale"
        if message.state is not IN_FLIGHT:
            if self.fifo:
                raise self._expired_handle(handle, operation)
        elif self.duplicate_probability > 0.0 and self.rng.random() < self.duplicate_probability:
            self.lost_deletes += 1
            message.modified = True
            if sim.tracing:
                sim.log(self.actor, "delete_missed_copy", message_id=message.message_id)
            return "missed"
        if message.state is IN_FLIGHT and not self.fifo and message.old_handles is None:
            # The common case inlined (see _leave): a standard message in flight, received once.
            message.state = DELETED
            self.n_in_flight -= 1
            del self._handles[handle]
        else:
            self._leave(message, DELETED)
        self.deleted_count += 1
        if sim.tracing:
            sim.log(self.actor, "deleted", message_id=message.message_id, receive_count=message.receive_count)
        if len(self._visibility) > self._compact_at:
            self._compact()
        return "deleted"

    def change_visibility(self, handle: str, visibility_timeout: int,
                          operation: str = "ChangeMessageVisibility") -> bool:
        """ChangeMessageVisibility; returns True if the timeout changed, False for the no-op cases AWS accepts."""
        sim = self.sim
        now = sim.now
        if now >= self._timer_at:  # something may be due: the timer points at the earliest deadline
            self.advance(now)
        message = self._lookup(handle, operation)
        if message is None:
            raise InvalidParameterValue(
                f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not "
                f"available for visibility timeout change. (Queue {self.name!r}: it was already deleted.)",
                operation,
            )
        if message.handle != handle or message.state is not IN_FLIGHT:
            if self.fifo:
                raise self._expired_handle(handle, operation)
            return False
        if now + visibility_timeout - message.received_at > limits.MAX_VISIBILITY_TIMEOUT:
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                f"VisibilityTimeout for the message is beyond the limit [{limits.MAX_VISIBILITY_TIMEOUT} seconds]. "
                f"(Message {message.message_id} was received {now - message.received_at:g} s ago; at most "
                f"{limits.MAX_VISIBILITY_TIMEOUT - (now - message.received_at):g} s more are allowed.)",
                operation,
            )
        when = now + visibility_timeout
        message.visible_at = when
        message.modified = True
        if sim.tracing:
            sim.log(self.actor, "visibility_changed", message_id=message.message_id,
                    visibility_timeout=visibility_timeout)
        if visibility_timeout == 0:
            self._make_visible_again(message)
        else:
            heapq.heappush(self._visibility, (when, next(self._serial), message, message.receive_count))
            if when < self._timer_at:
                self._arm_at(when)
        return True

    # -- whole-queue operations ----------------------------------------------------------------------------
    def live_messages(self) -> list[Message]:
        """Every message still in the queue (delayed, visible or in flight), in send order."""
        seen: dict[int, Message] = {}
        for message in self._retention:
            if not message.is_final:
                seen[id(message)] = message
        for _, _, message in self._late_retention:
            if not message.is_final:
                seen[id(message)] = message
        return sorted(seen.values(), key=lambda m: (m.enqueued_at, m.seq))

    def purge(self) -> int:
        """Remove every message (delayed, visible and in flight) at once; return how many."""
        now = self.sim.now
        if now >= self._timer_at:  # something may be due: the timer points at the earliest deadline
            self.advance(now)
        count = 0
        tracing = self.sim.tracing
        messages = self.live_messages()
        self._groups.clear()
        for message in messages:
            self._leave(message, S.PURGED)
            count += 1
            if tracing:
                self.sim.log(self.actor, "purged", message_id=message.message_id)
        self.purged += count
        self._idle_check()
        return count

    def close(self) -> None:
        """The queue was deleted: its messages are lost with it and its timer stops."""
        messages = self.live_messages()
        self._groups.clear()
        for message in messages:
            self._leave(message, S.QUEUE_DELETED)
            self.lost_with_queue += 1
        self.deleted = True
        self._idle_check()

    def candidates_for_move(self, limit: int) -> list[Message]:
        """Up to ``limit`` visible messages a message move task may take now, oldest first.

        In-flight messages stay (someone is processing them); in a FIFO queue so
        do the later messages of a group that has one in flight.
        """
        now = self.sim.now
        if now >= self._timer_at:  # something may be due: the timer points at the earliest deadline
            self.advance(now)
        if self.n_visible == 0 or limit <= 0:
            return []
        taken: list[Message] = []
        for message in self.live_messages():
            if message.state is not VISIBLE:
                continue
            if self.fifo and self._groups[message.group_id].in_flight:  # type: ignore[index]
                continue
            taken.append(message)
            if len(taken) >= limit:
                break
        return taken

    def release_for_move(self, message: Message) -> None:
        """Take a visible message out of the queue: a move task carries it elsewhere."""
        self._leave(message, S.MOVED_OUT)
        self.moved_out += 1

    def accept(self, message: Message, *, redriven: bool) -> None:
        """Store a message arriving from another queue (redrive to this DLQ, or a move task)."""
        message.seq = self._seq
        self._seq += 1
        if redriven:
            self.redriven_in += 1
        else:
            self.moved_in += 1
        if self.fifo:
            message.sequence_number = self.sequence_numbers.take()
        self._store(message, 0 if redriven else self.config.delay_seconds)

    # -- introspection ---------------------------------------------------------------------------------------
    def counts(self) -> tuple[int, int, int]:
        """``(visible, in_flight, delayed)`` now."""
        now = self.sim.now
        if now >= self._timer_at:  # something may be due: the timer points at the earliest deadline
            self.advance(now)
        return self.n_visible, self.n_in_flight, self.n_delayed

    def statistics(self) -> QueueStatistics:
        visible, in_flight, delayed = self.counts()
        groups = self._groups.values() if self.fifo else ()
        return QueueStatistics(
            name=self.name,
            fifo=self.fifo,
            visible=visible,
            in_flight=in_flight,
            delayed=delayed,
            sent=self.sent,
            deduplicated=self.deduplicated,
            deliveries=self.deliveries,
            receive_requests=self.receive_requests,
            empty_receives=self.empty_receives,
            deleted=self.deleted_count,
            stale_deletes=self.stale_deletes,
            lost_deletes=self.lost_deletes,
            visible_again=self.visible_again,
            moved_to_dlq=self.moved_to_dlq,
            redriven_in=self.redriven_in,
            moved_out=self.moved_out,
            moved_in=self.moved_in,
            expired=self.expired,
            purged=self.purged,
            groups=len(groups),
            blocked_groups=sum(1 for g in groups if g.in_flight),
        )

    def ledger(self) -> QueueLedger:
        visible, in_flight, delayed = self.counts()
        return QueueLedger(
            queue=self.name if not self.deleted else f"{self.name} (deleted)",
            sent=self.sent,
            deduplicated=self.deduplicated,
            redriven_in=self.redriven_in,
            moved_in=self.moved_in,
            delayed=delayed,
            visible=visible,
            in_flight=in_flight,
            deleted=self.deleted_count,
            moved_to_dlq=self.moved_to_dlq,
            moved_out=self.moved_out,
            expired=self.expired,
            purged=self.purged,
            queue_deleted=self.lost_with_queue,
        )

    def __repr__(self) -> str:
        kind = "FIFO" if self.fifo else "standard"
        return (f"<Queue {self.name!r} {kind} visible={self.n_visible} in_flight={self.n_in_flight} "
                f"delayed={self.n_delayed}>")
