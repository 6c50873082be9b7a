"""Dead-lettering, retry with backoff and DLQ replay on the RabbitMQ model.

Three pieces, each with RabbitMQ's own mechanisms (rabbitmq.com: dlx, ttl,
quorum-queues "poison message handling"):

* :func:`declare_with_dlq`: a work queue whose dead letters go to a dead-letter
  exchange and queue. As a quorum queue it has an ``x-delivery-limit``: a
  message returned more than that many times (requeued by a nack, or by a
  consumer that died) is dead-lettered with reason ``delivery_limit``; as a
  classic queue only an explicit ``basic_reject(requeue=False)`` dead-letters
  (reason ``rejected``). Either way the copy carries ``x-death``.
* :class:`RetryQueues`: the classic wait-queue pattern for retries with
  exponential backoff. One wait queue per backoff level, each with
  ``x-message-ttl`` (the level's delay) and a dead-letter exchange pointing back
  at the work queue; a failed message is published to the wait queue of its
  attempt, with a per-message ``expiration`` drawn with jitter below the level's
  delay, and the original is acked. When the TTL runs out RabbitMQ dead-letters
  it (reason ``expired``) back into the work queue, and the ``x-death`` count of
  the wait queues says which attempt is next. After ``policy.max_attempts``
  tries the message is republished to the parking-lot queue with the error in
  ``x-exception-message`` (what Spring AMQP's ``RepublishMessageRecoverer``
  does). RabbitMQ expires messages only at the head of a queue, so a message
  with a short jittered expiration waits behind a longer one in the same wait
  queue: jitter here spreads retries by at most one level's delay. The
  republish and the ack of the original are two steps: a consumer that dies
  between them retries twice, and a republish lost on an unconfirmed, lossy
  channel loses the message (give the recoverer a channel in confirm mode on a
  reliable connection, as Spring's recoverer assumes).
* :class:`RabbitDeadLetters`: the :class:`~mqlab.patterns.dlq.DeadLetterStore`
  of a dead-letter queue, for :class:`~mqlab.patterns.dlq.DLQReplayer`. It holds
  the dead messages unacknowledged on its own channel (``basic_get`` without
  ack, as a shovel or the management UI's "get messages" would), reads reason,
  origin and count from ``x-death``, and acks a message once it is replayed.
  :func:`rabbit_replayer` builds the replayer; the replay publishes through the
  default exchange to the origin queue with publisher confirms and
  ``mandatory=True``, so a destination that does not exist refuses the message
  and it stays in the DLQ.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mqlab.faults.checks import check_count
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.rabbitmq import ID_HEADER, message_id_of
from mqlab.faults.standin import DeadLetter
from mqlab.patterns.backoff import RetryPolicy
from mqlab.patterns.dlq import DLQReplayer, NoSuchDeadLetter
from mqlab.rabbitmq.errors import AMQPError
from mqlab.rabbitmq.properties import BasicProperties

if TYPE_CHECKING:
    from mqlab.rabbitmq.broker import Broker
    from mqlab.rabbitmq.channel import Channel

__all__ = ["RabbitDeadLetters", "RetryQueues", "declare_with_dlq", "rabbit_replayer"]

EXCEPTION_HEADER = "x-exception-message"
"""Where a recoverer puts the error of a message it parks (Spring AMQP's header name)."""


def declare_with_dlq(
    channel: Channel,
    queue: str,
    *,
    delivery_limit: int | None = 5,
    quorum: bool = True,
    dlx: str | None = None,
    dlq: str | None = None,
) -> tuple[str, str]:
    """Declare ``queue`` with a dead-letter exchange ``dlx`` (``<queue>.dlx``) and queue ``dlq`` (``<queue>.dlq``).

    ``quorum=True`` declares a durable quorum queue with ``x-delivery-limit``
    (``None`` keeps the broker's default: 20 on RabbitMQ 4.x). A classic queue
    cannot limit deliveries: pass ``delivery_limit=None`` with ``quorum=False``.
    Returns ``(dlx, dlq)``.
    """
    if not quorum and delivery_limit is not None:
        raise InvalidParameter(
            f"queue {queue!r}: x-delivery-limit needs a quorum queue (quorum=True); a classic queue "
            f"dead-letters only what a consumer rejects with requeue=False, so pass delivery_limit=None"
        )
    if delivery_limit is not None:
        check_count("delivery_limit", delivery_limit)
    dlx = dlx or f"{queue}.dlx"
    dlq = dlq or f"{queue}.dlq"
    channel.exchange_declare(dlx, "fanout", durable=True)
    channel.queue_declare(dlq, durable=True)
    channel.queue_bind(dlq, dlx)
    arguments: dict[str, Any] = {"x-dead-letter-exchange": dlx}
    if quorum:
        arguments["x-queue-type"] = "quorum"
        if delivery_limit is not None:
            arguments["x-delivery-limit"] = delivery_limit
    channel.queue_declare(queue, durable=True, arguments=arguments)
    return dlx, dlq


def _deaths(properties: Any) -> list[dict[str, Any]]:
    headers = getattr(properties, "headers", None) or {}
    return [d for d in headers.get("x-death") or () if isinstance(d, dict)]


class RetryQueues:
    """Retries with exponential backoff through TTL wait queues and a dead-letter exchange, then a parking lot.

    ``declare()`` creates, for ``queue``: a wait queue ``<queue>.wait.<n>`` per
    level n = 1 .. ``levels`` (``x-message-ttl`` = the policy's delay ceiling for
    retry n, ``x-dead-letter-exchange`` = ``""`` with the work queue as
    routing key) and the parking-lot queue ``<queue>.parking-lot``. Use
    :meth:`on_error` as a :class:`~mqlab.faults.rabbitmq_worker.RabbitWorker`'s
    ``on_error``. ``retried`` counts republished retries, ``parked`` messages
    given up on, ``delays`` the expiration (seconds) given to each retry.
    """

    def __init__(self, channel: Channel, queue: str, policy: RetryPolicy, *, rng: random.Random,
                 levels: int | None = None) -> None:
        if not isinstance(policy, RetryPolicy):
            raise InvalidParameter(f"policy must be a RetryPolicy, got {policy!r}")
        if policy.max_attempts is None:
            raise InvalidParameter(
                "policy.max_attempts must be set: without it a poison message circulates through the wait "
                "queues forever; RetryPolicy(..., max_attempts=5)"
            )
        self.channel = channel
        self.queue = queue
        self.policy = policy
        self.rng = rng
        self.levels = check_count("levels", levels, minimum=1) if levels is not None else policy.max_attempts - 1
        self.parking_lot = f"{queue}.parking-lot"
        self.retried = 0
        self.parked = 0
        self.delays: list[float] = []

    def wait_queue(self, level: int) -> str:
        return f"{self.queue}.wait.{level}"

    def declare(self) -> None:
        channel = self.channel
        channel.queue_declare(self.parking_lot, durable=True)
        for level in range(1, max(1, self.levels) + 1):
            ttl_ms = max(1, round(self.policy.ceiling(level) * 1000))
            channel.queue_declare(self.wait_queue(level), durable=True, arguments={
                "x-message-ttl": ttl_ms,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue,
            })

    @staticmethod
    def attempts_so_far(properties: Any) -> int:
        """Tries already made: 1 + the times it expired out of a wait queue (from ``x-death``)."""
        return 1 + sum(int(d.get("count", 0)) for d in _deaths(properties) if d.get("reason") == "expired")

    def on_error(self, channel: Channel, delivery_tag: int, properties: Any, body: bytes, error: str) -> None:
        """Schedule a retry of a failed delivery (or park it), then ack the original."""
        attempts = self.attempts_so_far(properties)
        headers = dict(properties.headers or {})
        headers[EXCEPTION_HEADER] = error
        if self.policy.gives_up_after(attempts):
            headers["x-original-queue"] = self.queue
            channel.basic_publish("", self.parking_lot, body, properties.copy(headers=headers))
            self.parked += 1
        else:
            level = min(attempts, self.levels)
            delay = self.policy.delay(attempts, self.rng)
            ttl_ms = max(1, round(self.policy.ceiling(level) * 1000))
            expiration = str(min(ttl_ms, max(1, round(delay * 1000))))
            self.delays.append(int(expiration) / 1000)
            channel.basic_publish("", self.wait_queue(level), body,
                                  properties.copy(headers=headers, expiration=expiration))
            self.retried += 1
        channel.basic_ack(delivery_tag)


class RabbitDeadLetters:
    """A RabbitMQ dead-letter queue as a :class:`~mqlab.patterns.dlq.DeadLetterStore`.

    Reason and origin come from ``x-death`` (the most recent death first, as
    RabbitMQ orders it; the origin is ``x-first-death-queue``, or
    ``x-original-queue`` for a parked message); the error from
    ``x-exception-message`` or, failing that, ``errors`` (message id -> text,
    such as ``worker.last_errors()``). ``attempts`` is the origin queue's
    delivery limit + 1 for a ``delivery_limit`` death (the dead-lettered copy
    does not carry ``x-delivery-count``), the tries counted from the wait
    queues' ``x-death`` for a parked message, else the ``x-death`` count.
    Messages are held unacknowledged on this store's own connection until removed.
    """

    def __init__(self, broker: Broker, dlq: str, *, errors: Mapping[Any, str] | None = None) -> None:
        self.broker = broker
        self.sim = broker.sim
        self.dlq = dlq
        self.errors = errors if errors is not None else {}
        self.channel = broker.connect(name=f"dlq-tool:{dlq}", latency=0.0).channel()
        self._held: dict[Any, tuple[int, DeadLetter]] = {}
        self.removed = 0

    def _pull(self) -> None:
        channel = self.channel
        while True:
            method, properties, body = channel.basic_get(self.dlq, auto_ack=False)
            if method is None:
                return
            letter = self._letter(method.delivery_tag, properties, body)
            previous = self._held.pop(letter.message_id, None)
            if previous is not None:  # dead again under the same id: the newest record wins
                channel.basic_ack(previous[0])
            self._held[letter.message_id] = (method.delivery_tag, letter)

    def _letter(self, tag: int, properties: Any, body: bytes) -> DeadLetter:
        headers = properties.headers or {}
        deaths = _deaths(properties)
        last = deaths[0] if deaths else {}
        message_id = message_id_of(properties)
        if message_id is None:
            message_id = f"{self.dlq}#{tag}"
        origin = headers.get("x-original-queue") or headers.get("x-first-death-queue") or last.get("queue") or "?"
        reason = "retries_exhausted" if "x-original-queue" in headers else str(last.get("reason", "unknown"))
        error = headers.get(EXCEPTION_HEADER) or self.errors.get(message_id)
        if reason == "delivery_limit":
            attempts = self._delivery_limit(origin) + 1
        elif reason == "retries_exhausted":
            attempts = RetryQueues.attempts_so_far(properties)
        else:
            attempts = sum(int(d.get("count", 0)) for d in deaths) or 1
        when = float(last.get("time", self.sim.now))
        return DeadLetter(message_id, body, reason, error, attempts, when, origin)

    def _delivery_limit(self, queue: str) -> int:
        """The origin quorum queue's delivery limit (the copy does not carry its delivery count)."""
        try:
            limit = self.broker.queue(queue).settings.delivery_limit
        except AMQPError:
            limit = None
        return limit if limit is not None else 0

    def messages(self) -> Sequence[DeadLetter]:
        self._pull()
        return tuple(letter for _, letter in self._held.values())

    def remove(self, message_id: Any) -> DeadLetter:
        self._pull()
        held = self._held.pop(message_id, None)
        if held is None:
            raise NoSuchDeadLetter(f"dead-letter queue {self.dlq!r} holds no message {message_id!r}")
        self.channel.basic_ack(held[0])
        self.removed += 1
        return held[1]

    def release(self) -> int:
        """Give back every held message unreplayed (close this store's connection: RabbitMQ requeues them)."""
        held = len(self._held)
        self._held.clear()
        connection = self.channel.connection
        if connection.is_open:
            connection.close()
        return held

    def __len__(self) -> int:
        return len(self.messages())


def rabbit_publish(broker: Broker) -> Callable[[str, DeadLetter], bool]:
    """A replay publish function: ``basic_publish`` to queue ``destination`` with confirms and ``mandatory``.

    Returns False (the message stays in the DLQ) when the broker nacks it or
    returns it as unroutable (no such queue).
    """
    channel = broker.connect(name="dlq-replay", latency=0.0).channel()
    channel.confirm_delivery()

    def publish(destination: str, letter: DeadLetter) -> bool:
        headers = {ID_HEADER: letter.message_id, "x-replayed-from": letter.origin, "x-replay-reason": letter.reason}
        properties = BasicProperties(message_id=str(letter.message_id), headers=headers, delivery_mode=2)
        try:
            channel.basic_publish("", destination, letter.body, properties, mandatory=True)
        except AMQPError:
            return False
        return True

    return publish


def rabbit_replayer(broker: Broker, dlq: str, *, errors: Mapping[Any, str] | None = None) -> DLQReplayer:
    """The DLQ replay tool on a RabbitMQ dead-letter queue (one interface on every model)."""
    store = RabbitDeadLetters(broker, dlq, errors=errors)
    return DLQReplayer(broker.sim, store, rabbit_publish(broker))
