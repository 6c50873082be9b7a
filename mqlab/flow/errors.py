"""Errors of the flow-control building blocks, in the vocabulary of the systems they mirror."""

from __future__ import annotations

from mqlab.errors import MqlabError

__all__ = ["BufferEmpty", "BufferFull", "CreditExceeded", "NonPositiveRequest", "PublisherBlocked"]


class BufferFull(MqlabError):
    """A put on a full bounded buffer whose policy is ``fail`` (or ``block`` via ``put_nowait``).

    RabbitMQ's counterpart is ``x-overflow: reject-publish`` (the publish is
    nacked); Kafka's is the producer's ``TimeoutException`` after ``max.block.ms``.
    """


class BufferEmpty(MqlabError):
    """A ``get_nowait`` on an empty buffer."""


class PublisherBlocked(MqlabError):
    """A publish while the broker's memory alarm is raised (RabbitMQ sends ``connection.blocked``)."""


class NonPositiveRequest(MqlabError, ValueError):
    """``request(n)`` with ``n <= 0``: Reactive Streams rule 3.9 says the subscription signals onError."""


class CreditExceeded(MqlabError):
    """A publisher sent more elements than were requested: Reactive Streams rule 1.1 forbids it."""
