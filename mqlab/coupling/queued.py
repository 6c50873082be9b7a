"""The same dependency behind a queue: the caller publishes and moves on.

:class:`QueuedDependency` has the interface of a downstream service, but
``handle`` answers as soon as the message is published (``publish_latency``,
a few milliseconds), whatever the workers behind the queue are doing. Its
``workers`` take jobs in order and spend ``work_time`` on each. When the work
slows down or the workers are down (``outage``), jobs wait in the queue: the
backlog grows, then drains once the workers are fast again. The caller sees no
difference in its latency or errors: decoupled in time (the work happens
later), in availability (the workers may be down) and in speed (the slow side
does not hold the fast side's threads).

Simplification: the queue is unbounded and the broker never fails; bounding
it is the subject of :mod:`mqlab.flow`.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from mqlab.coupling.service import Done, Downstream
from mqlab.faults.checks import check_count, check_duration
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.slow import LatencyProfile

if TYPE_CHECKING:
    from mqlab.sim import Simulation

__all__ = ["QueuedDependency"]


class QueuedDependency(Downstream):
    """A queue in front of ``workers`` consumers; ``handle`` is the publish.

    ``job_delays`` holds, per job finished, the seconds from publish to the end
    of its processing. Invariant: ``published == processed + backlog + in_progress``.
    """

    def __init__(
        self,
        sim: Simulation,
        name: str = "queue",
        *,
        workers: int = 10,
        work_time: LatencyProfile | float = 0.05,
        publish_latency: float = 0.002,
        outage: tuple[float, float] | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.workers = check_count("workers", workers, minimum=1)
        if not isinstance(work_time, LatencyProfile):
            work_time = LatencyProfile.constant(check_duration("work_time", work_time))
        self.work_time = work_time
        self.publish_latency = check_duration("publish_latency", publish_latency)
        if outage is not None and not (isinstance(outage, tuple) and len(outage) == 2):
            raise InvalidParameter(f"outage must be a (start, end) tuple of seconds or None, got {outage!r}")
        self.outage = outage
        self._rng = sim.substream(f"queue:{name}")
        self._jobs: deque[float] = deque()
        self.in_progress = 0
        self.published = 0
        self.processed = 0
        self.max_backlog = 0
        self.job_delays: list[tuple[float, float]] = []  # (finished at, delay)
        self._wake_scheduled = False

    @property
    def backlog(self) -> int:
        return len(self._jobs)

    def handle(self, done: Done) -> None:
        self.sim.call_later(self.publish_latency, self._published, done)

    def _published(self, done: Done) -> None:
        self.published += 1
        self._jobs.append(self.sim.now)
        if len(self._jobs) > self.max_backlog:
            self.max_backlog = len(self._jobs)
        done(True, "ok")
        self._pump()

    def _is_down(self, now: float) -> bool:
        return self.outage is not None and self.outage[0] <= now < self.outage[1]

    def _pump(self) -> None:
        now = self.sim.now
        if self._is_down(now):
            if not self._wake_scheduled:
                self._wake_scheduled = True
                self.sim.call_at(self.outage[1], self._wake)  # type: ignore[index]
            return
        while self._jobs and self.in_progress < self.workers:
            published_at = self._jobs.popleft()
            self.in_progress += 1
            self.sim.call_later(self.work_time.sample(now, self._rng), self._done, published_at)

    def _wake(self) -> None:
        self._wake_scheduled = False
        self._pump()

    def _done(self, published_at: float) -> None:
        self.in_progress -= 1
        self.processed += 1
        self.job_delays.append((self.sim.now, self.sim.now - published_at))
        self._pump()
