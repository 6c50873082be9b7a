"""Retry delays: exponential backoff with jitter, as a pure policy object.

The formulas are the ones in the AWS Architecture Blog post "Exponential
Backoff And Jitter" (Marc Brooker, 2015), with ``attempt`` counted from 1 for
the first retry:

* ``none``:  ``min(cap, base * multiplier ** (attempt - 1))``
* ``full``:  ``uniform(0, that)``
* ``equal``: ``that / 2 + uniform(0, that / 2)``
* ``decorrelated``: ``min(cap, uniform(base, previous * 3))``

Jitter spreads the retries of many clients that failed together, so they do
not come back together and knock the recovering service over again (a retry
storm). The policy holds no state and draws only from the ``random.Random``
it is given, so a seed fixes every delay. The same shapes appear in the real
systems: RabbitMQ retry queues with growing TTLs and a dead-letter exchange,
SQS ``ChangeMessageVisibility`` with a growing timeout, Kafka retry topics with
growing delays, and client libraries (boto3's ``standard`` retry mode uses full
jitter with a 20 s cap).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mqlab.faults.checks import check_choice, check_count, check_duration, check_positive
from mqlab.faults.errors import InvalidParameter

__all__ = ["JITTERS", "RetryPolicy"]

JITTERS = ("none", "full", "equal", "decorrelated")


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before retry number ``attempt`` (1-based), and when to give up.

    ``max_attempts`` counts every try including the first (None: forever).
    ``base`` is the first delay in seconds, ``cap`` the largest.
    """

    base: float = 0.1
    cap: float = 20.0
    multiplier: float = 2.0
    jitter: str = "full"
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        check_duration("base", self.base)
        check_duration("cap", self.cap)
        if self.cap < self.base:
            raise InvalidParameter(f"cap ({self.cap}) must be >= base ({self.base}); the cap bounds every delay")
        check_positive("multiplier", self.multiplier)
        if self.multiplier < 1:
            raise InvalidParameter(f"multiplier must be >= 1 so delays never shrink, got {self.multiplier!r}")
        check_choice("jitter", self.jitter, JITTERS)
        if self.max_attempts is not None:
            check_count("max_attempts", self.max_attempts, minimum=1)

    @classmethod
    def immediate(cls, max_attempts: int | None = None) -> RetryPolicy:
        """Retry at once, every time: the retry storm."""
        return cls(base=0.0, cap=0.0, jitter="none", max_attempts=max_attempts)

    def ceiling(self, attempt: int) -> float:
        """The un-jittered exponential delay for retry ``attempt``, capped."""
        check_count("attempt", attempt, minimum=1)
        exponent = min(attempt - 1, 1024)
        try:
            value = self.base * self.multiplier**exponent
        except OverflowError:
            value = self.cap
        return min(self.cap, value)

    def delay(self, attempt: int, rng: random.Random, previous: float | None = None) -> float:
        """The delay before retry ``attempt``; ``previous`` is the last delay (for ``decorrelated``)."""
        ceiling = self.ceiling(attempt)
        jitter = self.jitter
        if jitter == "none":
            return ceiling
        if jitter == "full":
            return rng.uniform(0.0, ceiling)
        if jitter == "equal":
            return ceiling / 2 + rng.uniform(0.0, ceiling / 2)
        last = self.base if previous is None else previous
        return min(self.cap, rng.uniform(self.base, max(self.base, last * 3)))

    def delays(self, retries: int, rng: random.Random) -> list[float]:
        """The first ``retries`` delays, in order."""
        check_count("retries", retries)
        out: list[float] = []
        previous = None
        for attempt in range(1, retries + 1):
            previous = self.delay(attempt, rng, previous)
            out.append(previous)
        return out

    def gives_up_after(self, attempts: int) -> bool:
        """True when ``attempts`` tries have been made and no more are allowed."""
        return self.max_attempts is not None and attempts >= self.max_attempts
