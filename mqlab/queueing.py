"""Queueing theory: the rulers the course measures simulations against.

Two things live here:

* closed-form results for the M/M/1 and M/M/c queues (Poisson arrivals at rate
  ``arrival_rate``, exponential service at rate ``service_rate`` per server) and
  Little's law ``L = lambda * W``;
* one M/M/1 model written against a SimPy-shaped kernel API (``now``,
  ``timeout``, ``event``, ``process``, ``run``) in two styles, generator
  processes and plain callbacks. The same code runs on mqlab's kernel and on
  SimPy, which is how the benchmark compares the two kernels fairly and how the
  tests check the kernel against theory.

All rates are per second, all times in seconds.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MM1Result",
    "erlang_c",
    "littles_law_l",
    "mm1_callbacks",
    "mm1_number_in_system",
    "mm1_processes",
    "mm1_time_in_system",
    "mmc_time_in_system",
]


def _check_rates(arrival_rate: float, service_rate: float, servers: int = 1) -> None:
    if not (arrival_rate > 0 and math.isfinite(arrival_rate)):
        raise ValueError(f"arrival_rate must be a positive number per second, got {arrival_rate!r}")
    if not (service_rate > 0 and math.isfinite(service_rate)):
        raise ValueError(f"service_rate must be a positive number per second, got {service_rate!r}")
    if not (isinstance(servers, int) and servers >= 1):
        raise ValueError(f"servers must be a positive int, got {servers!r}")
    if arrival_rate >= servers * service_rate:
        raise ValueError(
            f"the queue is unstable: arrivals ({arrival_rate:g}/s) are not slower than total service "
            f"({servers} x {service_rate:g}/s); the backlog grows without bound and has no steady state"
        )


def mm1_time_in_system(arrival_rate: float, service_rate: float) -> float:
    """Mean time a customer spends waiting plus being served: ``1 / (mu - lambda)``."""
    _check_rates(arrival_rate, service_rate)
    return 1.0 / (service_rate - arrival_rate)


def mm1_number_in_system(arrival_rate: float, service_rate: float) -> float:
    """Mean number of customers present: ``rho / (1 - rho)`` with ``rho = lambda / mu``."""
    _check_rates(arrival_rate, service_rate)
    rho = arrival_rate / service_rate
    return rho / (1.0 - rho)


def littles_law_l(arrival_rate: float, time_in_system: float) -> float:
    """Little's law: the mean number in a stable system is arrival rate x mean time in it."""
    return arrival_rate * time_in_system


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Probability that an arriving customer has to wait in an M/M/c queue (Erlang's C formula)."""
    _check_rates(arrival_rate, service_rate, servers)
    offered = arrival_rate / service_rate  # in erlangs
    rho = offered / servers
    term = 1.0
    total = 1.0
    for k in range(1, servers):
        term *= offered / k
        total += term
    last = term * offered / servers / (1.0 - rho)
    return last / (total + last)


def mmc_time_in_system(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in an M/M/c system: queueing delay from Erlang C plus one service time."""
    wait = erlang_c(arrival_rate, service_rate, servers) / (servers * service_rate - arrival_rate)
    return wait + 1.0 / service_rate


@dataclass(frozen=True)
class MM1Result:
    """What one M/M/1 run measured.

    ``mean_time_in_system`` averages the customers' sojourn times;
    ``mean_number_in_system`` is the time-weighted average of the population;
    ``arrival_rate_observed`` is customers / elapsed time.
    """

    customers: int
    elapsed: float
    mean_time_in_system: float
    mean_number_in_system: float
    arrival_rate_observed: float


class _Population:
    """Integrates the number in system over time (for the time-average L)."""

    __slots__ = ("area", "count", "last")

    def __init__(self) -> None:
        self.count = 0
        self.area = 0.0
        self.last = 0.0

    def change(self, now: float, delta: int) -> None:
        self.area += self.count * (now - self.last)
        self.last = now
        self.count += delta


def _result(sojourn: list[float], population: _Population, elapsed: float) -> MM1Result:
    n = len(sojourn)
    return MM1Result(
        customers=n,
        elapsed=elapsed,
        mean_time_in_system=sum(sojourn) / n if n else math.nan,
        mean_number_in_system=population.area / elapsed if elapsed > 0 else math.nan,
        arrival_rate_observed=n / elapsed if elapsed > 0 else math.nan,
    )


def mm1_processes(env: Any, rng: random.Random, arrival_rate: float, service_rate: float,
                  customers: int) -> MM1Result:
    """Run an M/M/1 queue as two generator processes (a source and a server) on ``env``.

    ``env`` is an mqlab :class:`~mqlab.sim.Simulation` or a ``simpy.Environment``.
    """
    _check_rates(arrival_rate, service_rate)
    waiting: deque[float] = deque()
    sojourn: list[float] = []
    wake: list[Any] = []
    population = _Population()

    def source() -> Generator[Any, Any, None]:
        expo = rng.expovariate
        timeout = env.timeout
        for _ in range(customers):
            yield timeout(expo(arrival_rate))
            waiting.append(env.now)
            population.change(env.now, +1)
            if wake:
                wake.pop().succeed()

    def server() -> Generator[Any, Any, None]:
        expo = rng.expovariate
        timeout = env.timeout
        while True:
            if not waiting:
                idle = env.event()
                wake.append(idle)
                yield idle
                continue
            arrived = waiting.popleft()
            yield timeout(expo(service_rate))
            sojourn.append(env.now - arrived)
            population.change(env.now, -1)

    start = env.now
    env.process(source())
    env.process(server())
    env.run()
    return _result(sojourn, population, env.now - start)


def mm1_callbacks(schedule: Callable[[float, Callable[[Any], None]], Any], clock: Callable[[], float],
                  run: Callable[[], Any], rng: random.Random, arrival_rate: float, service_rate: float,
                  customers: int) -> MM1Result:
    """Run an M/M/1 queue with plain callbacks: ``schedule(delay, fn)`` calls ``fn(x)`` later.

    On mqlab: ``schedule=lambda d, fn: sim.call_later(d, fn, None)``; on SimPy:
    ``schedule=lambda d, fn: env.timeout(d).callbacks.append(fn)``.
    """
    _check_rates(arrival_rate, service_rate)
    waiting: deque[float] = deque()
    sojourn: list[float] = []
    state = {"busy": False, "arrived": 0}
    population = _Population()
    expo = rng.expovariate

    def arrival(_: Any) -> None:
        now = clock()
        waiting.append(now)
        population.change(now, +1)
        state["arrived"] += 1
        if state["arrived"] < customers:
            schedule(expo(arrival_rate), arrival)
        if not state["busy"]:
            state["busy"] = True
            schedule(expo(service_rate), departure)

    def departure(_: Any) -> None:
        now = clock()
        sojourn.append(now - waiting.popleft())
        population.change(now, -1)
        if waiting:
            schedule(expo(service_rate), departure)
        else:
            state["busy"] = False

    start = clock()
    schedule(expo(arrival_rate), arrival)
    run()
    return _result(sojourn, population, clock() - start)
