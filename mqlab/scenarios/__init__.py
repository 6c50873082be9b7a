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

* :func:`fanout_bug`: a work job on a fanout exchange with 50 workers sends 50
  emails per signup; the fix (one work queue, competing consumers) sends one,
  and the event version gives each interested service its own queue (RabbitMQ model);
* :func:`retry_storm_on`: the retry storm on the RabbitMQ and SQS models
  (immediate requeue versus a quorum delivery limit with a DLX, or a redrive policy);
* :func:`guarantees_on_model` (and :func:`run_guarantee_on_model`): the lossy-network
  sweep on the RabbitMQ, Kafka or SQS model.

The first five run on the generic broker stand-in of :mod:`mqlab.faults.standin`;
the last three on the broker models, through the adapters of :mod:`mqlab.faults`.
"""

from mqlab.patterns.twogenerals import Walkthrough, lost_ack_walkthrough
from mqlab.scenarios.cascade import CascadeResult, CascadeRun, cascade
from mqlab.scenarios.fanout_bug import FanoutBugResult, FanoutRun, fanout_bug
from mqlab.scenarios.guarantees import STRATEGIES, GuaranteePoint, GuaranteesSweep, guarantees_sweep, run_guarantee
from mqlab.scenarios.guarantees_models import MODEL_STRATEGIES, guarantees_on_model, run_guarantee_on_model
from mqlab.scenarios.incident import VARIANTS, IncidentResult, incident_3am
from mqlab.scenarios.retry_storm import MODES, RetryStormResult, retry_storm
from mqlab.scenarios.retry_storm_models import MODELS, ModelRetryStormResult, retry_storm_on

__all__ = [
    "MODELS",
    "MODEL_STRATEGIES",
    "MODES",
    "STRATEGIES",
    "VARIANTS",
    "CascadeResult",
    "CascadeRun",
    "FanoutBugResult",
    "FanoutRun",
    "GuaranteePoint",
    "GuaranteesSweep",
    "IncidentResult",
    "ModelRetryStormResult",
    "RetryStormResult",
    "Walkthrough",
    "cascade",
    "fanout_bug",
    "guarantees_on_model",
    "guarantees_sweep",
    "incident_3am",
    "lost_ack_walkthrough",
    "retry_storm",
    "retry_storm_on",
    "run_guarantee",
    "run_guarantee_on_model",
]
