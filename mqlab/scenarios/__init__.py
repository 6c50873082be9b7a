"""mqlab.scenarios: ready-made, deterministic runs for the notebooks.

Each function takes plain parameters (validated, with clear messages) and
returns a frozen result of counters and time series, ready to plot and to
check. At their default sizes each runs well under a second, so a widget can
rerun it on every slider move; ``progress=True`` shows a tqdm bar, and an
interrupt returns the partial result with ``interrupted=True``.

Scenarios in this package:

* :func:`cascade`: a slow dependency behind a synchronous chain versus the
  same flow through a queue, with timeouts, retries, backoff, circuit breaker
  and bulkhead as options (pillar 1);
* :func:`guarantees_sweep` (and :func:`run_guarantee` for one point): loss
  rate against lost, duplicated and exactly-once effects for at-most-once,
  at-least-once, at-least-once with an idempotent consumer, the transactional
  outbox with an inbox, and the dual write (pillar 3);
* :func:`lost_ack_walkthrough` (from :mod:`mqlab.patterns`): the lost
  acknowledgement step by step, as a protocol trace;
* :func:`retry_storm`: a poison message requeued forever versus a delivery
  limit and a DLQ (pillar 4);
* :func:`incident_3am`: producer 10,000/s, consumers 2,000/s each, with
  unbounded (OOM kill or memory alarm), bounded, autoscaled and credit-based
  variants (pillar 4).

These run on the generic broker stand-in of :mod:`mqlab.faults.standin`. The
fan-out bug (a work job on a fanout exchange with 50 workers sending 50
emails) needs the RabbitMQ model's exchanges and is not in this package yet.
"""

from mqlab.patterns.twogenerals import Walkthrough, lost_ack_walkthrough
from mqlab.scenarios.cascade import CascadeResult, CascadeRun, cascade
from mqlab.scenarios.guarantees import STRATEGIES, GuaranteePoint, GuaranteesSweep, guarantees_sweep, run_guarantee
from mqlab.scenarios.incident import VARIANTS, IncidentResult, incident_3am
from mqlab.scenarios.retry_storm import MODES, RetryStormResult, retry_storm

__all__ = [
    "MODES",
    "STRATEGIES",
    "VARIANTS",
    "CascadeResult",
    "CascadeRun",
    "GuaranteePoint",
    "GuaranteesSweep",
    "IncidentResult",
    "RetryStormResult",
    "Walkthrough",
    "cascade",
    "guarantees_sweep",
    "incident_3am",
    "lost_ack_walkthrough",
    "retry_storm",
    "run_guarantee",
]
