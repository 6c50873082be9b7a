"""mqlab.coupling: synchronous calls that cascade, and the same flow through a queue.

* :class:`Service`: a thread pool, an accept queue, a downstream call with a
  :class:`CallPolicy` (timeout, retries with or without backoff, circuit
  breaker, bulkhead).
* :class:`QueuedDependency`: the dependency behind a queue; the caller publishes and moves on.
* :class:`CircuitBreaker`: closed, open, half-open.
* :class:`LoadGenerator` and :func:`service_metrics`: requests in, per-service metrics out.

The ready-made comparison is :func:`mqlab.scenarios.cascade`.
"""

from mqlab.coupling.breaker import BreakerSettings, BreakerState, CircuitBreaker
from mqlab.coupling.load import LoadGenerator, ServiceMetrics, percentile, service_metrics
from mqlab.coupling.queued import QueuedDependency
from mqlab.coupling.service import CallPolicy, Completion, Downstream, Service

__all__ = [
    "BreakerSettings",
    "BreakerState",
    "CallPolicy",
    "CircuitBreaker",
    "Completion",
    "Downstream",
    "LoadGenerator",
    "QueuedDependency",
    "Service",
    "ServiceMetrics",
    "percentile",
    "service_metrics",
]
