"""mqlab.sim: the deterministic virtual-time kernel every model runs on.

Start here::

    from mqlab.sim import Simulation
    sim = Simulation(seed=7)

    def ticker():
        while True:
            yield sim.timeout(1.0)
            print("tick at", sim.now)

    sim.process(ticker())
    sim.run(until=3)
"""

from mqlab.sim.errors import (
    BudgetExceeded,
    EventAlreadyTriggered,
    Interrupt,
    InvalidYield,
    SchedulingError,
    SimulationError,
)
from mqlab.sim.events import AllOf, AnyOf, Condition, Event, Process, ProcessGenerator, Timeout
from mqlab.sim.kernel import DEFAULT_MAX_EVENTS, Handle, Simulation
from mqlab.sim.live import LiveRun
from mqlab.sim.metrics import Counter, Gauge, Metrics, TimeSeries
from mqlab.sim.trace import Trace, TraceRecord

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "AllOf",
    "AnyOf",
    "BudgetExceeded",
    "Condition",
    "Counter",
    "Event",
    "EventAlreadyTriggered",
    "Gauge",
    "Handle",
    "Interrupt",
    "InvalidYield",
    "LiveRun",
    "Metrics",
    "Process",
    "ProcessGenerator",
    "SchedulingError",
    "Simulation",
    "SimulationError",
    "TimeSeries",
    "Timeout",
    "Trace",
    "TraceRecord",
]
