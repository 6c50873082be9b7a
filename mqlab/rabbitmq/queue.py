"""A queue: ready copies, consumers, push delivery, TTL, length limits, dead-lettering.

States: *live* from ``queue_declare`` until ``queue_delete`` (or auto-delete, or the
exclusive owner's connection closing, or a broker restart for a transient queue),
then *deleted* for good. Invariants, checked by the ledger:

* each copy the queue ever took is in exactly one place: ready here, unacked on a
  channel, or gone for a counted reason (acked, auto-acked, expired, dead-lettered
  by reason, dropped by policy, refused, lost on restart);
* while a consumer has capacity, nothing is ready (deliveries are pushed at once:
  the broker side of a delivery happens at the instant a message arrives or a
  consumer frees capacity; only the client callback runs later, see channel.py).

Rules modelled (RabbitMQ docs: queues, ttl, maxlength, dlx, priority, consumers,
quorum-queues):

* competing consumers get messages round-robin; consumers with a higher
  ``x-priority`` get them first while they have capacity; with
  ``x-single-active-consumer`` only the first registered consumer gets messages,
  the next one takes over when it goes;
* per-queue ``x-message-ttl`` and per-message ``expiration``: the lower applies;
  expired copies are removed only at the head, as RabbitMQ does, so an expired copy
  behind a live one still counts as ready; a TTL of 0 expires a copy unless a
  consumer can take it at once;
* ``x-max-length`` / ``x-max-length-bytes`` count ready copies only; ``drop-head``
  (default) drops or dead-letters from the head, ``reject-publish`` refuses the new
  copy (publisher nack), ``reject-publish-dlx`` refuses and dead-letters it;
* ``x-expires`` deletes the queue (and drops its messages) once it has been unused
  for that long;
* quorum queues count returns (``x-delivery-count``) and dead-letter a copy returned
  more than ``delivery_limit`` times with reason ``delivery_limit``; all their copies
  are persistent; see :meth:`Queue.requeue` for where a returned copy goes;
* expired copies at the head are removed after every operation (so ``message_count``
  never counts an expired head) and by a timer set for the head's expiry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mqlab.rabbitmq.arguments import QueueSettings
from mqlab.rabbitmq.consumer import Consumer
from mqlab.rabbitmq.message import Entry, Message, message_label
from mqlab.rabbitmq.statistics import QueueStatistics
from mqlab.rabbitmq.store import FifoStore, PriorityStore, QuorumStore

if TYPE_CHECKING:
    from mqlab.rabbitmq.broker import Broker
    from mqlab.rabbitmq.connection import Connection
    from mqlab.sim import Handle

__all__ = ["Queue"]


def _priority(message: Message, max_priority: int) -> int:
    properties = message.properties
    priority = properties.priority if properties is not None else None
    return min(max(priority or 0, 0), max_priority)


class Queue:
    """One queue of the broker. Created by ``queue_declare``; learners read it through statistics."""

    __slots__ = (
        "broker", "sim", "name", "durable", "exclusive_owner", "auto_delete", "arguments", "settings",
        "is_quorum", "deleted", "_ready", "_ready_bytes", "_consumers", "_rr", "_dispatching",
        "_ttl", "_ttl_active", "_expiry_handle", "_expiry_at", "_limited", "_max_length", "_max_bytes",
        "_overflow", "_max_priority", "_had_consumer", "exclusive_consumer", "actor", "_last_used", "_expires_handle",
        "_expiring",
        "unacked", "enqueued", "delivered", "redelivered", "acked", "auto_acked", "expired",
        "dead_lettered", "dropped", "refused", "lost_on_restart",
    )

    def __init__(self, broker: Broker, name: str, durable: bool, exclusive_owner: Connection | None,
                 auto_delete: bool, arguments: dict[str, Any], settings: QueueSettings) -> None:
        self.broker = broker
        self.sim = broker.sim
        self.name = name
        self.durable = durable
        self.exclusive_owner = exclusive_owner
        self.auto_delete = auto_delete
        self.arguments = arguments
        self.settings = settings
        self.is_quorum = settings.queue_type == "quorum"
        self.deleted = False
        self._ready: Any
        if settings.max_priority:
            self._ready = PriorityStore(settings.max_priority)
        elif self.is_quorum:
            self._ready = QuorumStore()
        else:
            self._ready = FifoStore()
        self._max_priority = settings.max_priority or 0
        self._ready_bytes = 0
        self._consumers: list[Consumer] = []
        self._rr = 0
        self._dispatching = False
        self._ttl = settings.message_ttl
        self._ttl_active = False
        self._expiring = False
        self._expiry_handle: Handle | None = None
        self._expiry_at: float | None = None
        self._max_length = settings.max_length
        self._max_bytes = settings.max_length_bytes
        self._limited = self._max_length is not None or self._max_bytes is not None
        self._overflow = settings.overflow
        self._had_consumer = False
        self.exclusive_consumer = False
        self.actor = f"queue:{name}"
        self._last_used = self.sim.now
        self._expires_handle: Handle | None = None
        self.touch()
        # counters (the ledger sums them)
        self.unacked = 0
        self.enqueued = 0
        self.delivered = 0
        self.redelivered = 0
        self.acked = 0
        self.auto_acked = 0
        self.expired = 0
        self.dead_lettered: dict[str, int] = {}
        self.dropped: dict[str, int] = {}
        self.refused = 0
        self.lost_on_restart = 0

    # -- views ------------------------------------------------------------------------------
    @property
    def ready(self) -> int:
        """Copies waiting for a consumer (expired copies not yet at the head included)."""
        return len(self._ready)

    @property
    def consumers(self) -> list[Consumer]:
        """The active consumers, in delivery preference order (a copy)."""
        return list(self._consumers)

    def ready_entries(self) -> list[Entry]:
        """The ready copies in delivery order (for tests and the journey inspector)."""
        return list(self._ready)

    def statistics(self) -> QueueStatistics:
        return QueueStatistics(
            name=self.name,
            queue_type=self.settings.queue_type,
            durable=self.durable,
            ready=len(self._ready),
            ready_bytes=self._ready_bytes,
            unacked=self.unacked,
            consumers=len(self._consumers),
            published=self.enqueued,
            delivered=self.delivered,
            redelivered=self.redelivered,
            acked=self.acked,
            auto_acked=self.auto_acked,
            expired=self.expired,
            dead_lettered=dict(sorted(self.dead_lettered.items())),
            dropped=dict(sorted(self.dropped.items())),
            refused=self.refused,
            lost_on_restart=self.lost_on_restart,
        )

    # -- incoming ---------------------------------------------------------------------------
    def offer(self, message: Message) -> bool:
        """Take a copy of ``message`` (from a publish or a dead-lettering). False if refused by overflow."""
        self.enqueued += 1  # also the copy's position: requeued classic copies go back by it
        ready = self._ready
        sim = self.sim
        if self._limited and self._overflow != "drop-head" and self._is_full_for(message.size):
            return self._refuse(message)
        ttl = self._ttl
        message_ttl = message.ttl
        if message_ttl is not None and (ttl is None or message_ttl < ttl):
            ttl = message_ttl
        entry = Entry(
            message,
            self,
            self.enqueued,
            None if ttl is None else sim.now + ttl,
            0 if not self._max_priority else _priority(message, self._max_priority),
            0 if self.is_quorum else None,
        )
        if sim.tracing:
            sim.log(self.actor, "enqueued", msg=message_label(message.id), ready=len(ready) + 1)
        consumers = self._consumers
        if consumers and not ready and not self._dispatching:
            consumer = consumers[0]
            if len(consumers) > 1 or consumer.channel._global_prefetch or (
                consumer.prefetch and consumer.unacked >= consumer.prefetch
            ):
                consumer = self._pick()  # the general case; the test above is _pick's single-consumer case
            if consumer is not None:
                consumer.channel._deliver(consumer, self, entry)
                return True
        ready.append(entry)
        self._ready_bytes += message.size
        if self._limited and self._overflow == "drop-head":
            # The length limit applies on enqueue, before a TTL can expire anything: a queue with
            # x-max-length 0 and x-message-ttl 0 dead-letters an arrival as maxlen (RabbitMQ 3.10).
            self._drop_overflow()
        if ttl is not None:
            self._ttl_active = True
            self._arm_expiry()
        return True

    def _is_full_for(self, size: int) -> bool:
        """reject-publish: a classic queue refuses a copy that would take it past the limit; a quorum
        queue only once it is already over it, so it holds one more (rabbit_fifo; seen on RabbitMQ 3.10)."""
        if self.is_quorum:
            return (self._max_length is not None and len(self._ready) > self._max_length) or (
                self._max_bytes is not None and self._ready_bytes > self._max_bytes
            )
        if self._max_length is not None and len(self._ready) >= self._max_length:
            return True
        return self._max_bytes is not None and self._ready_bytes + size > self._max_bytes

    def _refuse(self, message: Message) -> bool:
        sim = self.sim
        if self._overflow == "reject-publish-dlx" and self.settings.dead_letter_exchange is not None:
            if sim.tracing:
                sim.log(self.actor, "refused", msg=message_label(message.id), policy=self._overflow)
            self.broker._dead_letter(self, message, "maxlen")
            return False
        self.refused += 1
        if sim.tracing:
            sim.log(self.actor, "refused", msg=message_label(message.id), policy=self._overflow)
        return False

    def _drop_overflow(self) -> None:
        ready = self._ready
        max_length = self._max_length
        max_bytes = self._max_bytes
        while ready and (
            (max_length is not None and len(ready) > max_length)
            or (max_bytes is not None and self._ready_bytes > max_bytes)
        ):
            entry = ready.popleft()
            self._ready_bytes -= entry.message.size
            self._discard(entry.message, "maxlen")

    # -- leaving the queue without a consumer -------------------------------------------------
    def _discard(self, message: Message, reason: str) -> None:
        """A copy leaves for ``reason``: dead-lettered if the queue has a DLX, otherwise dropped/expired."""
        if self.settings.dead_letter_exchange is not None:
            self.broker._dead_letter(self, message, reason)
            return
        sim = self.sim
        if reason == "expired":
            self.expired += 1
            if sim.tracing:
                sim.log(self.actor, "expired", msg=message_label(message.id), ready=len(self._ready))
            return
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        if sim.tracing:
            sim.log(self.actor, "dropped", msg=message_label(message.id), policy=reason, ready=len(self._ready))

    def expire_head(self) -> None:
        """Remove expired copies from the head (RabbitMQ only expires at the head).

        At most as many copies as are ready now: a copy dead-lettered back into this
        queue by its own expiry waits for the next timer, so a TTL-0 dead-letter loop
        runs as agenda entries the kernel's budget can stop, not as an endless call.
        """
        if self._expiring:
            return
        ready = self._ready
        now = self.sim.now
        budget = len(ready)
        self._expiring = True
        try:
            while budget and ready:
                head = ready[0]
                expires_at = head.expires_at
                if expires_at is None or expires_at > now:
                    break
                budget -= 1
                ready.popleft()
                self._ready_bytes -= head.message.size
                self._discard(head.message, "expired")
        finally:
            self._expiring = False

    def _arm_expiry(self) -> None:
        """After the head changed: drop expired copies now (as RabbitMQ does after every queue
        operation, so ``message_count`` never includes an expired head), then set a timer for the
        new head's expiry."""
        self.expire_head()
        head = self._ready.head()
        if head is None or head.expires_at is None:
            return
        when = head.expires_at
        if self._expiry_at is not None and self._expiry_at <= when:
            return
        if self._expiry_handle is not None:
            self._expiry_handle.cancel()
        sim = self.sim
        self._expiry_at = when
        self._expiry_handle = sim.call_at(max(when, sim.now), self._on_expiry_timer)

    def _on_expiry_timer(self) -> None:
        self._expiry_handle = None
        self._expiry_at = None
        if self.deleted:
            return
        self.expire_head()
        self._arm_expiry()

    # -- x-expires --------------------------------------------------------------------------------
    def touch(self) -> None:
        """The queue was used (declared, redeclared, basic_get, lost its last consumer): restart x-expires."""
        self._last_used = self.sim.now
        expires = self.settings.expires
        if expires is not None and self._expires_handle is None and not self.deleted:
            self._expires_handle = self.sim.call_later(expires, self._on_expires_timer)

    def _on_expires_timer(self) -> None:
        self._expires_handle = None
        expires = self.settings.expires
        if self.deleted or self._consumers or expires is None:
            return  # in use: touch() rearms the timer when the last consumer goes
        due = self._last_used + expires
        if self.sim.now >= due:
            self.broker._delete_queue(self, "expired", drop_reason="queue_expired")
        else:
            self._expires_handle = self.sim.call_at(due, self._on_expires_timer)

    # -- consumers ----------------------------------------------------------------------------
    def add_consumer(self, consumer: Consumer) -> None:
        self._had_consumer = True
        if consumer.exclusive:
            self.exclusive_consumer = True
        consumers = self._consumers
        if self.settings.single_active_consumer:
            consumers.append(consumer)
        else:
            index = len(consumers)
            while index > 0 and consumers[index - 1].priority < consumer.priority:
                index -= 1
            consumers.insert(index, consumer)
        if self.sim.tracing:
            self.sim.log(self.actor, "consumer_added", consumer=consumer.tag, prefetch=consumer.prefetch,
                         priority=consumer.priority)
        self.dispatch()

    def remove_consumer(self, consumer: Consumer) -> None:
        """Cancel ``consumer`` (its unacked deliveries stay with its channel). May auto-delete the queue."""
        consumer.cancelled = True
        consumers = self._consumers
        for index, c in enumerate(consumers):
            if c is consumer:
                del consumers[index]
                if index < self._rr:
                    self._rr -= 1
                break
        if consumer.exclusive:
            self.exclusive_consumer = False
        if self.sim.tracing:
            self.sim.log(self.actor, "consumer_removed", consumer=consumer.tag)
        if self.auto_delete and not consumers and self._had_consumer and not self.deleted:
            self.broker._delete_queue(self, "auto_delete")
            return
        if not consumers:
            self.touch()
        self.dispatch()

    def _pick(self) -> Consumer | None:
        consumers = self._consumers
        count = len(consumers)
        if count == 1 or self.settings.single_active_consumer:
            consumer = consumers[0]
            if consumer.prefetch and consumer.unacked >= consumer.prefetch:
                return None
            channel = consumer.channel
            if channel._global_prefetch and len(channel._unacked) >= channel._global_prefetch:
                return None
            return consumer
        top = consumers[0].priority
        start = self._rr
        best = None
        best_index = 0
        for k in range(count):
            index = (start + k) % count
            consumer = consumers[index]
            if consumer.has_capacity():
                if best is None or consumer.priority > best.priority:
                    best = consumer
                    best_index = index
                if consumer.priority == top:
                    break
        if best is not None:
            self._rr = best_index + 1
        return best

    def dispatch(self) -> None:
        """Push ready copies to consumers with capacity, until one or the other runs out."""
        if self._dispatching or not self._consumers or self.deleted:
            return
        ready = self._ready
        self._dispatching = True
        try:
            while ready:
                if self._ttl_active:
                    self.expire_head()
                    if not ready:
                        break
                consumer = self._pick()
                if consumer is None:
                    break
                entry = ready.popleft()
                self._ready_bytes -= entry.message.size
                consumer.channel._deliver(consumer, self, entry)
        finally:
            self._dispatching = False
        if self._ttl_active:
            self._arm_expiry()

    def take(self) -> Entry | None:
        """``basic_get``: the next ready copy, after dropping expired ones at the head, or None."""
        ready = self._ready
        if self._ttl_active:
            self.expire_head()
        if not ready:
            return None
        entry = ready.popleft()
        self._ready_bytes -= entry.message.size
        if self._ttl_active:
            self._arm_expiry()
        return entry

    # -- settlement (called by the channel that holds the delivery) -----------------------------
    def settle_acked(self, consumer: Consumer | None) -> None:
        self.unacked -= 1
        self.acked += 1
        if consumer is not None:
            consumer.unacked -= 1
            if self._ready and not self._dispatching:
                self.dispatch()

    def settle_rejected(self, entry: Entry, consumer: Consumer | None) -> None:
        """``requeue=False``: dead-letter with reason ``rejected`` (or drop without a DLX)."""
        self.unacked -= 1
        if consumer is not None:
            consumer.unacked -= 1
        self._discard(entry.message, "rejected")
        if self._ready and not self._dispatching:
            self.dispatch()

    def requeue(self, entry: Entry, consumer: Consumer | None, dispatch: bool = True, *,
                rejected: bool = False) -> None:
        """Return a delivered copy: ``rejected`` by nack/reject with requeue, or its channel closed.

        Where it goes: a classic queue puts it back in its original place. A quorum queue
        with a delivery limit serves returned copies before the rest (rabbit_fifo's returns
        queue); a quorum queue without one sends a *rejected* copy to the back, but a copy
        returned by a closing channel to the front (observed on RabbitMQ 3.10).
        """
        self.unacked -= 1
        if consumer is not None:
            consumer.unacked -= 1
        entry.consumer = None
        entry.redelivered = True
        sim = self.sim
        if self.is_quorum:
            entry.delivery_count += 1
            limit = self.settings.delivery_limit
            if limit is not None and entry.delivery_count > limit:
                self._discard(entry.message, "delivery_limit")
                if dispatch:
                    self.dispatch()
                return
        if sim.tracing:
            sim.log(self.actor, "requeued", msg=message_label(entry.message.id),
                    delivery_count=entry.delivery_count, ready=len(self._ready) + 1)
        if rejected and self.is_quorum and self.settings.delivery_limit is None:
            self._ready.append(entry)
        else:
            self._ready.requeue(entry)
        self._ready_bytes += entry.message.size
        if entry.expires_at is not None:
            self._ttl_active = True
            self._arm_expiry()
        if dispatch:
            self.dispatch()

    # -- management --------------------------------------------------------------------------
    def purge(self) -> int:
        """Drop every ready copy (``queue_purge``); returns how many."""
        count = len(self._ready)
        if count:
            self.dropped["purged"] = self.dropped.get("purged", 0) + count
            if self.sim.tracing:
                for left, entry in enumerate(self._ready, start=1):
                    self.sim.log(self.actor, "dropped", msg=message_label(entry.message.id), policy="purged",
                                 ready=count - left)
            self._ready.clear()
            self._ready_bytes = 0
        return count

    def drop_all(self, reason: str, *, lost: bool = False) -> int:
        """Remove every ready copy for ``reason`` (queue deletion, restart); returns how many."""
        count = len(self._ready)
        if count:
            if lost:
                self.lost_on_restart += count
            else:
                self.dropped[reason] = self.dropped.get(reason, 0) + count
            if self.sim.tracing:
                action = "lost" if lost else "dropped"
                for left, entry in enumerate(self._ready, start=1):
                    self.sim.log(self.actor, action, msg=message_label(entry.message.id), policy=reason,
                                 ready=count - left)
            self._ready.clear()
            self._ready_bytes = 0
        return count

    def drop_transient(self) -> int:
        """Broker restart of a durable classic queue: transient copies are lost, persistent ones stay."""
        ready = self._ready
        keep = [e for e in ready if e.message.persistent]
        lost = [e for e in ready if not e.message.persistent]
        if lost:
            self.lost_on_restart += len(lost)
            if self.sim.tracing:
                for left, entry in enumerate(lost, start=1):
                    self.sim.log(self.actor, "lost", msg=message_label(entry.message.id), policy="restart",
                                 ready=len(ready) - left)
            ready.clear()
            self._ready_bytes = 0
            for entry in keep:
                ready.requeue(entry)
                self._ready_bytes += entry.message.size
        return len(lost)

    def __repr__(self) -> str:
        state = "deleted" if self.deleted else "live"
        return (f"<Queue {self.name!r} {self.settings.queue_type} {state} ready={len(self._ready)} "
                f"unacked={self.unacked}>")
