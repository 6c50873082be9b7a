"""The circuit breaker: stop calling a dependency that keeps failing, and try again later.

States and moves (the pattern as in resilience4j and Hystrix):

* ``closed``: calls go through; the outcome of the last ``window`` calls is
  kept, and when at least ``minimum_calls`` were made and the failure rate
  reaches ``failure_rate``, the breaker opens;
* ``open``: calls fail at once, without using a thread for the wait, for
  ``open_for`` seconds; then the breaker is half-open;
* ``half_open``: up to ``trial_calls`` calls go through; if they all succeed
  the breaker closes, if one fails it opens again.

resilience4j's defaults for comparison: failure rate threshold 50 %, sliding
window of 100 calls, 60 s wait in open state, 10 permitted calls in half-open.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

from mqlab.faults.checks import check_count, check_duration, check_fraction

__all__ = ["BreakerSettings", "BreakerState", "CircuitBreaker"]


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerSettings:
    failure_rate: float = 0.5
    window: int = 20
    minimum_calls: int = 10
    open_for: float = 5.0
    trial_calls: int = 3

    def __post_init__(self) -> None:
        check_fraction("failure_rate", self.failure_rate)
        check_count("window", self.window, minimum=1)
        check_count("minimum_calls", self.minimum_calls, minimum=1)
        check_duration("open_for", self.open_for, allow_zero=False)
        check_count("trial_calls", self.trial_calls, minimum=1)


class CircuitBreaker:
    """One breaker guarding calls to one dependency; time is passed in."""

    def __init__(self, settings: BreakerSettings | None = None) -> None:
        self.settings = settings or BreakerSettings()
        self.state = BreakerState.CLOSED
        self._outcomes: deque[bool] = deque(maxlen=self.settings.window)
        self._opened_at = 0.0
        self._trials = 0
        self._trial_successes = 0
        self.opened = 0
        self.short_circuited = 0

    def allow(self, now: float) -> bool:
        """May a call go through at ``now``? Counts the calls it refuses."""
        if self.state is BreakerState.OPEN:
            if now - self._opened_at >= self.settings.open_for:
                self.state = BreakerState.HALF_OPEN
                self._trials = self._trial_successes = 0
            else:
                self.short_circuited += 1
                return False
        if self.state is BreakerState.HALF_OPEN:
            if self._trials >= self.settings.trial_calls:
                self.short_circuited += 1
                return False
            self._trials += 1
        return True

    def record(self, now: float, ok: bool) -> None:
        """The outcome of a call that was allowed."""
        settings = self.settings
        if self.state is BreakerState.HALF_OPEN:
            if not ok:
                self._open(now)
                return
            self._trial_successes += 1
            if self._trial_successes >= settings.trial_calls:
                self.state = BreakerState.CLOSED
                self._outcomes.clear()
            return
        if self.state is BreakerState.OPEN:
            return  # a late answer to a call made before the breaker opened
        self._outcomes.append(ok)
        calls = len(self._outcomes)
        if calls >= settings.minimum_calls:
            failures = calls - sum(self._outcomes)
            if failures / calls >= settings.failure_rate:
                self._open(now)

    def _open(self, now: float) -> None:
        self.state = BreakerState.OPEN
        self._opened_at = now
        self.opened += 1
        self._outcomes.clear()
