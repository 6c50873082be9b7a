"""Kernel speed: the same M/M/1 model on mqlab's kernel and on SimPy.

The model code is shared (mqlab.queueing), so the difference is the kernel's
own cost per event: scheduling, the agenda, resuming processes. Both styles are
measured: generator processes, and plain callbacks.
"""

from __future__ import annotations

import random

from harness import Row, interleaved_best, rate

from mqlab.queueing import mm1_callbacks, mm1_processes
from mqlab.sim import Simulation

ARRIVAL, SERVICE = 0.8, 1.0


def _events(customers: int) -> int:
    # Each customer is one arrival timeout and one service timeout; idle wake-ups are extra
    # events on both kernels alike, so customers x 2 is a fair common count.
    return customers * 2


def run(quick: bool = False) -> list[Row]:
    import simpy

    customers = 20_000 if quick else 200_000
    events = _events(customers)
    rows = []

    def mqlab_processes() -> None:
        mm1_processes(Simulation(seed=1, max_events=10**9), random.Random(1), ARRIVAL, SERVICE, customers)

    def simpy_processes() -> None:
        mm1_processes(simpy.Environment(), random.Random(1), ARRIVAL, SERVICE, customers)

    def mqlab_callbacks() -> None:
        sim = Simulation(seed=1, max_events=10**9)
        call_later = sim.call_later
        mm1_callbacks(lambda d, fn: call_later(d, fn, None), lambda: sim.now, sim.run,
                      random.Random(1), ARRIVAL, SERVICE, customers)

    def simpy_callbacks() -> None:
        env = simpy.Environment()
        timeout = env.timeout
        mm1_callbacks(lambda d, fn: timeout(d).callbacks.append(fn), lambda: env.now, env.run,
                      random.Random(1), ARRIVAL, SERVICE, customers)

    repeat = 3 if quick else 7
    goal = "goal: mqlab >= 2x simpy (CPU time, interleaved runs)"
    processes = interleaved_best({"mqlab": mqlab_processes, "simpy": simpy_processes}, repeat)
    for label, seconds in processes.items():
        rows.append(Row("kernel M/M/1, generator processes", label, rate(events, seconds), "events/s", note=goal))
    callbacks = interleaved_best({"mqlab": mqlab_callbacks, "simpy": simpy_callbacks}, repeat)
    for label, seconds in callbacks.items():
        rows.append(Row("kernel M/M/1, callbacks", label, rate(events, seconds), "events/s", note=goal))
    return rows
