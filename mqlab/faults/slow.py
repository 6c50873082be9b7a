"""Latency profiles: how long a handler or a dependency takes, and when it slows down.

The cascade scenario needs a dependency that goes from 50 ms to 5 s without
failing; the backpressure scenarios need a consumer that becomes slow for a
while. A :class:`LatencyProfile` is a pure description, read with the current
time (and a random stream when it has jitter), so the same profile can drive a
stand-in consumer, a synchronous service or a model's handler.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mqlab.faults.checks import check_duration, check_probability
from mqlab.faults.errors import InvalidParameter

__all__ = ["LatencyProfile"]


@dataclass(frozen=True)
class LatencyProfile:
    """``normal`` seconds, or ``slow`` seconds from ``slow_from`` until ``slow_until`` (None: for good).

    ``jitter`` spreads each sample uniformly over ``[1 - jitter, 1 + jitter]``
    times the base value (0: every call takes exactly the base value).
    """

    normal: float = 0.05
    slow: float | None = None
    slow_from: float = 0.0
    slow_until: float | None = None
    jitter: float = 0.0

    def __post_init__(self) -> None:
        check_duration("normal", self.normal)
        if self.slow is not None:
            check_duration("slow", self.slow)
        check_duration("slow_from", self.slow_from)
        if self.slow_until is not None:
            check_duration("slow_until", self.slow_until)
            if self.slow_until < self.slow_from:
                raise InvalidParameter(
                    f"slow_until ({self.slow_until}) must not be before slow_from ({self.slow_from})"
                )
        check_probability("jitter", self.jitter)

    @classmethod
    def constant(cls, seconds: float) -> LatencyProfile:
        return cls(normal=seconds)

    @classmethod
    def step(cls, normal: float, slow: float, start: float, end: float | None = None) -> LatencyProfile:
        """Normal latency, then ``slow`` from ``start`` (until ``end``): the slow, not dead, dependency."""
        return cls(normal=normal, slow=slow, slow_from=start, slow_until=end)

    def is_slow(self, now: float) -> bool:
        return self.slow is not None and now >= self.slow_from and (self.slow_until is None or now < self.slow_until)

    def base(self, now: float) -> float:
        return self.slow if self.is_slow(now) else self.normal  # type: ignore[return-value]

    def sample(self, now: float, rng: random.Random | None = None) -> float:
        """One latency at ``now``; ``rng`` is needed only when ``jitter`` > 0."""
        base = self.base(now)
        if self.jitter and rng is not None:
            return base * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))
        return base
