"""How a blocking client call passes virtual time.

confluent-kafka's ``flush()``, ``poll(timeout)`` and ``commit_transaction()`` block the
calling thread while the client works. In the simulator, nothing happens unless the
kernel runs. So a blocking call made **from the top level** (a notebook cell, a test,
a script, outside any kernel process) *drives the simulation*: it runs the agenda, one
entry at a time, until its condition holds or its timeout (virtual seconds) passes.
Everything else scheduled in that window happens too, as it would in real time.

Inside a **kernel process** a plain call cannot block; the clients offer event-returning
twins to ``yield`` on instead (``producer.flush_event()``, ``consumer.poll_event(timeout)``,
``share_consumer.poll_event(timeout)``), and their plain calls return at once.

A blocking call with no timeout stops with ``BudgetExceeded`` after the simulation's
``max_events`` entries rather than hang a notebook (other models may keep the agenda busy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from mqlab.sim.errors import BudgetExceeded

if TYPE_CHECKING:
    from mqlab.sim import Simulation

__all__ = ["drive", "in_process"]


def in_process(sim: Simulation) -> bool:
    """True when called from inside a running kernel process."""
    return sim.active_process is not None


def drive(sim: Simulation, done: Callable[[], bool], timeout: float | None) -> bool:
    """Run the simulation until ``done()`` or ``timeout`` virtual seconds pass; returns ``done()``.

    ``timeout=None`` or a negative timeout waits as long as there is something scheduled.
    """
    if done():
        return True
    deadline = math.inf if timeout is None or timeout < 0 else sim.now + timeout
    step = sim.step
    budget = sim.max_events
    steps = 0
    while True:
        upcoming = sim.peek()
        if upcoming > deadline or upcoming == math.inf:
            if deadline != math.inf and sim.now < deadline:
                sim.run(until=deadline)
            return done()
        step()
        if done():
            return True
        steps += 1
        if steps >= budget:
            raise BudgetExceeded(
                f"a blocking Kafka client call ran {steps:,} events at t={sim.now:g} without its condition "
                f"becoming true (the simulation's max_events budget); pass a finite timeout, e.g. poll(1.0), "
                f"or check that something will produce what it waits for",
                budget="max_events", limit=budget, now=sim.now,
            )
