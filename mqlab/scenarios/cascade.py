"""The cascade: a slow dependency takes its callers down, unless a queue stands between them.

Three services in a chain: ``web`` calls ``checkout``, which needs
``inventory``. Inventory does not fail; between ``slow_from`` and
``slow_until`` it answers in ``slow_latency`` (5 s) instead of
``normal_latency`` (50 ms). In the ``sync`` run checkout calls inventory and
waits, holding a thread; in the ``queue`` run checkout publishes an "order
placed" message and answers at once, and inventory's workers take the messages
from the queue. Both runs get the same requests (same seed, same arrivals).

What each run shows, as per-service :class:`~mqlab.coupling.load.ServiceMetrics`
(pool usage, throughput, errors, latency percentiles, per second):

* sync: checkout's pool fills, then its accept queue, and it rejects or times
  out; web's threads wait on checkout until web's pool is full too, and web's
  errors rise although web itself is healthy: the failure travels upstream;
* queue: web's and checkout's latency stays flat and they make no errors;
  the queue's backlog grows while inventory is slow and drains afterwards.

The mitigations are options of the sync run: ``timeout`` shorter than
``caller_timeout``, ``retries`` with or without ``backoff``, a
``circuit_breaker`` and a ``bulkhead``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mqlab.coupling.breaker import BreakerSettings
from mqlab.coupling.load import LoadGenerator, ServiceMetrics, service_metrics
from mqlab.coupling.queued import QueuedDependency
from mqlab.coupling.service import CallPolicy, Service
from mqlab.faults.checks import check_count, check_duration, check_probability, check_rate
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.slow import LatencyProfile
from mqlab.patterns.backoff import RetryPolicy
from mqlab.scenarios._running import run_in_slices
from mqlab.sim import Simulation

__all__ = ["CascadeResult", "CascadeRun", "cascade"]


@dataclass(frozen=True)
class CascadeRun:
    """One run (``mode`` is ``"sync"`` or ``"queue"``): each service's metrics, and the queue's when there is one."""

    mode: str
    services: tuple[ServiceMetrics, ...]
    times: tuple[float, ...]
    backlog: tuple[float, ...]
    max_backlog: int
    final_backlog: int
    job_delay_p99: float
    requests_sent: int
    client_errors: int
    interrupted: bool

    def service(self, name: str) -> ServiceMetrics:
        for metrics in self.services:
            if metrics.name == name:
                return metrics
        raise KeyError(f"no service {name!r} in this run; services: {[m.name for m in self.services]}")


@dataclass(frozen=True)
class CascadeResult:
    sync: CascadeRun
    queue: CascadeRun
    slow_from: float
    slow_until: float


def cascade(
    *,
    rate: float = 40.0,
    duration: float = 60.0,
    slow_from: float = 15.0,
    slow_until: float = 35.0,
    normal_latency: float = 0.05,
    slow_latency: float = 5.0,
    web_threads: int = 40,
    checkout_threads: int = 20,
    inventory_threads: int = 200,
    queue_size: int = 20,
    timeout: float = 2.0,
    caller_timeout: float = 3.0,
    retries: int = 1,
    backoff: bool = False,
    circuit_breaker: bool = False,
    bulkhead: int | None = None,
    dependency_share: float = 1.0,
    workers: int = 20,
    sample_interval: float = 1.0,
    seed: int = 0,
    progress: bool = False,
) -> CascadeResult:
    """Run the chain synchronously and through a queue; see the module docstring.

    ``timeout`` is checkout's timeout on inventory; ``caller_timeout`` is web's
    on checkout. ``workers`` is the number of consumers behind the queue.
    ``dependency_share`` is the fraction of checkout requests that need
    inventory (the rest show what a bulkhead protects).
    """
    check_rate("rate", rate)
    check_duration("duration", duration, allow_zero=False)
    check_duration("slow_from", slow_from)
    check_duration("slow_until", slow_until)
    if slow_until < slow_from:
        raise InvalidParameter(f"slow_until ({slow_until}) must not be before slow_from ({slow_from})")
    check_duration("sample_interval", sample_interval, allow_zero=False)
    check_probability("dependency_share", dependency_share)
    for name, value in (("web_threads", web_threads), ("checkout_threads", checkout_threads),
                        ("inventory_threads", inventory_threads), ("workers", workers)):
        check_count(name, value, minimum=1)
    latency = LatencyProfile.step(normal_latency, slow_latency, slow_from, slow_until)
    policy = CallPolicy(
        timeout=timeout,
        retries=retries,
        backoff=RetryPolicy(base=0.1, cap=2.0, jitter="full") if backoff else None,
        circuit_breaker=BreakerSettings() if circuit_breaker else None,
        bulkhead=bulkhead,
    )
    common = dict(rate=rate, duration=duration, web_threads=web_threads, checkout_threads=checkout_threads,
                  queue_size=queue_size, caller_timeout=caller_timeout, sample_interval=sample_interval,
                  seed=seed, progress=progress, dependency_share=dependency_share)
    sync = _run("sync", latency=latency, policy=policy, inventory_threads=inventory_threads, **common)  # type: ignore[arg-type]
    queued = _run(
        "queue", latency=latency, policy=CallPolicy(timeout=timeout), inventory_threads=workers,
        **common,  # type: ignore[arg-type]
    )
    return CascadeResult(sync, queued, slow_from, slow_until)


def _run(
    mode: str,
    *,
    rate: float,
    duration: float,
    latency: LatencyProfile,
    policy: CallPolicy,
    web_threads: int,
    checkout_threads: int,
    inventory_threads: int,
    queue_size: int,
    caller_timeout: float,
    dependency_share: float,
    sample_interval: float,
    seed: int,
    progress: bool,
) -> CascadeRun:
    sim = Simulation(seed=seed)
    queue: QueuedDependency | None = None
    if mode == "sync":
        inventory = Service(sim, "inventory", threads=inventory_threads, queue_size=10_000, work_time=latency)
        downstream = inventory
        services = [inventory]
    else:
        queue = QueuedDependency(sim, "orders", workers=inventory_threads, work_time=latency)
        downstream = queue  # type: ignore[assignment]
        services = []
    checkout = Service(sim, "checkout", threads=checkout_threads, queue_size=queue_size, downstream=downstream,
                       call=policy, dependency_share=dependency_share)
    web = Service(sim, "web", threads=web_threads, queue_size=queue_size, downstream=checkout,
                  call=CallPolicy(timeout=caller_timeout))
    services = [web, checkout, *services]
    load = LoadGenerator(sim, web, rate, duration)
    busy: dict[str, list[float]] = {s.name: [] for s in services}
    backlog: list[float] = []
    times: list[float] = []

    def sample() -> None:
        times.append(sim.now)
        for service in services:
            busy[service.name].append(service.busy)
        backlog.append(queue.backlog if queue is not None else 0)
        if sim.now + sample_interval < duration - 1e-9:
            sim.call_later(sample_interval, sample)

    sim.call_soon(sample)
    interrupted = run_in_slices(sim, duration, progress=progress, desc=f"cascade ({mode})")
    metrics = tuple(
        service_metrics(s.name, s.threads, s.completions, busy[s.name], sample_interval, duration, s.max_busy)
        for s in services
    )
    delays = sorted(d for _, d in queue.job_delays) if queue is not None else []
    p99 = delays[max(0, -(-99 * len(delays) // 100) - 1)] if delays else 0.0
    return CascadeRun(
        mode=mode,
        services=metrics,
        times=tuple(times),
        backlog=tuple(backlog),
        max_backlog=queue.max_backlog if queue is not None else 0,
        final_backlog=queue.backlog if queue is not None else 0,
        job_delay_p99=p99,
        requests_sent=load.sent,
        client_errors=load.answered_error,
        interrupted=interrupted,
    )
