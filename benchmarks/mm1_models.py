"""One M/M/1 queue, written once, run on any kernel with a SimPy-shaped API.

Both kernels expose ``now``, ``timeout(delay)``, ``event()`` and ``process(gen)``,
so the very same model functions drive SimPy and mqlab in the benchmark and
in the kernel's queueing-theory test.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import Any


def mm1_processes(env: Any, rng: random.Random, arrival_rate: float, service_rate: float,
                  customers: int) -> list[float]:
    """Generator-process style: a source process and a server process.

    Returns each customer's time in system (queueing + service), in seconds.
    """
    waiting: deque[float] = deque()
    sojourn: list[float] = []
    wake: list[Any] = []

    def source():
        expo = rng.expovariate
        for _ in range(customers):
            yield env.timeout(expo(arrival_rate))
            waiting.append(env.now)
            if wake:
                wake.pop().succeed()

    def server():
        expo = rng.expovariate
        while True:
            if not waiting:
                idle = env.event()
                wake.append(idle)
                yield idle
                continue
            arrived = waiting.popleft()
            yield env.timeout(expo(service_rate))
            sojourn.append(env.now - arrived)

    env.process(source())
    env.process(server())
    env.run()
    return sojourn


def mm1_callbacks(schedule: Callable[[float, Callable[[Any], None]], None], clock: Callable[[], float],
                  run: Callable[[], None], rng: random.Random, arrival_rate: float,
                  service_rate: float, customers: int) -> list[float]:
    """Callback style: arrivals and departures are callbacks scheduled after a delay.

    ``schedule(delay, fn)`` must call ``fn(x)`` after ``delay`` with any one argument.
    """
    waiting: deque[float] = deque()
    sojourn: list[float] = []
    busy = [False]
    arrived_count = [0]
    expo = rng.expovariate

    def arrival(_: Any) -> None:
        waiting.append(clock())
        arrived_count[0] += 1
        if arrived_count[0] < customers:
            schedule(expo(arrival_rate), arrival)
        if not busy[0]:
            start_service()

    def start_service() -> None:
        busy[0] = True
        schedule(expo(service_rate), departure)

    def departure(_: Any) -> None:
        sojourn.append(clock() - waiting.popleft())
        if waiting:
            start_service()
        else:
            busy[0] = False

    schedule(expo(arrival_rate), arrival)
    run()
    return sojourn
