"""Dead-lettering: the ``x-death`` header and the cycle rule.

When a queue dead-letters a copy (reasons ``rejected``, ``expired``, ``maxlen``,
``delivery_limit``), the broker republishes it to the queue's
``x-dead-letter-exchange`` with ``x-dead-letter-routing-key`` if set, else with its
original routing key. The copy's properties change (RabbitMQ dlx.html):

* ``x-death`` is a list with one table per ``(queue, reason)``: ``queue``, ``reason``,
  ``count``, ``time``, ``exchange``, ``routing-keys`` and, when the message had a
  per-message TTL, ``original-expiration``. A repeated ``(queue, reason)`` increments
  ``count`` and moves that table to the front (the most recent death comes first);
  its other fields keep the values of the first such death (checked on RabbitMQ 3.10).
* ``x-first-death-queue``, ``-reason``, ``-exchange`` are set once, on the first death;
  ``x-last-death-queue``, ``-reason``, ``-exchange`` on every death (RabbitMQ 3.13+).
* ``expiration`` is removed, so the copy does not expire again where it lands.

``time`` is the virtual time in seconds (RabbitMQ writes an AMQP timestamp, which pika
decodes to a ``datetime``).

Cycles: a copy that would be dead-lettered into a queue it already died in, with no
``rejected`` death anywhere in its history, is dropped (a fully automatic cycle),
as ``rabbit_dead_letter`` does.
"""

from __future__ import annotations

from typing import Any

from mqlab.rabbitmq.properties import BasicProperties

__all__ = ["REASONS", "dead_letter_properties", "is_cycle"]

REASONS = ("rejected", "expired", "maxlen", "delivery_limit")


def dead_letter_properties(properties: BasicProperties, queue: str, reason: str, exchange: str,
                           routing_keys: list[str], now: float) -> BasicProperties:
    """New properties for a copy dead-lettered from ``queue`` for ``reason`` at time ``now``."""
    headers: dict[str, Any] = dict(properties.headers) if properties.headers else {}
    deaths: list[dict[str, Any]] = [dict(d) for d in headers.get("x-death") or () if isinstance(d, dict)]
    found = None
    for index, death in enumerate(deaths):
        if death.get("queue") == queue and death.get("reason") == reason:
            found = deaths.pop(index)
            break
    if found is None:
        found = {"count": 1, "reason": reason, "queue": queue, "time": now, "exchange": exchange,
                 "routing-keys": list(routing_keys)}
        if properties.expiration is not None:
            found["original-expiration"] = properties.expiration
    else:
        found["count"] = int(found.get("count", 0)) + 1
    deaths.insert(0, found)
    headers["x-death"] = deaths
    if "x-first-death-queue" not in headers:
        headers["x-first-death-queue"] = queue
        headers["x-first-death-reason"] = reason
        headers["x-first-death-exchange"] = exchange
    headers["x-last-death-queue"] = queue
    headers["x-last-death-reason"] = reason
    headers["x-last-death-exchange"] = exchange
    return properties.copy(headers=headers, expiration=None)


def is_cycle(properties: BasicProperties, target_queue: str) -> bool:
    """True if dead-lettering into ``target_queue`` closes a cycle with no rejection in it."""
    headers = properties.headers
    if not headers:
        return False
    deaths = headers.get("x-death") or ()
    seen = False
    for death in deaths:
        if not isinstance(death, dict):
            continue
        if death.get("reason") == "rejected":
            return False
        if death.get("queue") == target_queue:
            seen = True
    return seen
