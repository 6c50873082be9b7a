"""Load and measurement for the coupling models: a request source and per-service metrics.

:class:`LoadGenerator` sends requests to a service at ``rate`` per second
(Poisson arrivals from its own random stream) until ``until``.
:func:`service_metrics` turns a service's completions and the sampled pool
usage into a frozen :class:`ServiceMetrics`: totals, errors by reason, latency
percentiles, and per-interval series of throughput, errors, p99 latency and
busy threads, so the cascade can be plotted service by service.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mqlab.coupling.service import Completion, Downstream
from mqlab.faults.checks import check_duration, check_rate

if TYPE_CHECKING:
    from mqlab.sim import Simulation

__all__ = ["LoadGenerator", "ServiceMetrics", "percentile", "service_metrics"]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


class LoadGenerator:
    """Poisson arrivals at ``rate`` per second into ``target`` from ``start`` until ``until``."""

    def __init__(
        self, sim: Simulation, target: Downstream, rate: float, until: float, *, start: float = 0.0, name: str = "load"
    ) -> None:
        self.sim = sim
        self.target = target
        self.rate = check_rate("rate", rate)
        self.until = check_duration("until", until)
        self._rng = sim.substream(f"load:{name}")
        self.sent = 0
        self.answered_ok = 0
        self.answered_error = 0
        sim.call_at(check_duration("start", start), self._arrive)

    def _arrive(self) -> None:
        if self.sim.now >= self.until:
            return
        self.sent += 1
        self.target.handle(self._answer)
        self.sim.call_later(self._rng.expovariate(self.rate), self._arrive)

    def _answer(self, ok: bool, reason: str) -> None:
        if ok:
            self.answered_ok += 1
        else:
            self.answered_error += 1


@dataclass(frozen=True)
class ServiceMetrics:
    """One service's view of a run. Series are per ``interval`` seconds, stamped with the interval's start."""

    name: str
    threads: int
    requests: int
    ok: int
    errors: int
    errors_by_reason: dict[str, int]
    p50: float
    p95: float
    p99: float
    max_busy: int
    interval: float
    times: tuple[float, ...]
    busy: tuple[float, ...]
    throughput: tuple[float, ...]
    error_rate: tuple[float, ...]
    p99_series: tuple[float, ...]

    @property
    def error_fraction(self) -> float:
        total = self.ok + self.errors
        return self.errors / total if total else 0.0


def service_metrics(
    name: str,
    threads: int,
    completions: Sequence[Completion],
    busy_samples: Sequence[float],
    interval: float,
    duration: float,
    max_busy: int,
) -> ServiceMetrics:
    """Summarise completions (bucketed by the time they ended) and busy-thread samples taken every ``interval``."""
    buckets = max(1, math.ceil(duration / interval - 1e-9))
    ok_counts = [0] * buckets
    err_counts = [0] * buckets
    latencies: list[list[float]] = [[] for _ in range(buckets)]
    reasons: dict[str, int] = {}
    ok_total = 0
    all_ok_latency: list[float] = []
    for c in completions:
        index = min(buckets - 1, int((c.arrived + c.latency) / interval))
        if c.ok:
            ok_counts[index] += 1
            ok_total += 1
            all_ok_latency.append(c.latency)
        else:
            err_counts[index] += 1
            reasons[c.reason] = reasons.get(c.reason, 0) + 1
        latencies[index].append(c.latency)
    busy = tuple(busy_samples[:buckets]) + (math.nan,) * max(0, buckets - len(busy_samples))
    every = [c.latency for c in completions]
    return ServiceMetrics(
        name=name,
        threads=threads,
        requests=len(completions),
        ok=ok_total,
        errors=len(completions) - ok_total,
        errors_by_reason=dict(sorted(reasons.items())),
        p50=percentile(every, 50),
        p95=percentile(every, 95),
        p99=percentile(every, 99),
        max_busy=max_busy,
        interval=interval,
        times=tuple(i * interval for i in range(buckets)),
        busy=busy,
        throughput=tuple(n / interval for n in ok_counts),
        error_rate=tuple(n / interval for n in err_counts),
        p99_series=tuple(percentile(v, 99) for v in latencies),
    )
