"""mqlab.faults: make things go wrong, on purpose and the same way every time.

* :class:`Link` between a client and a broker: loses, duplicates or delays
  frames (messages, confirms, deliveries, acks) in either direction, or is
  partitioned for a window; scripted drops (``drop_next``) make one exact
  frame vanish, such as the ACK of the Two Generals walkthrough.
* :class:`CrashSchedule`: a consumer dies before or after acknowledging;
  :meth:`GenericBroker.restart` restarts a broker with durable or transient messages.
* :class:`LatencyProfile`: a slow consumer or a slow (not dead) dependency.
* :class:`PoisonPredicate`: a message the handler can never process.
* :class:`FaultLedger`: what each fault lost, duplicated or delayed, by name.
* :mod:`mqlab.faults.adapter`: the two protocols a broker model implements to
  sit behind a faulty link; :mod:`mqlab.faults.standin` is a generic broker and
  consumer that implement them.

The same faults on the three broker models, through their real-shaped APIs
(import these modules directly; they load the models):

* :mod:`mqlab.faults.rabbitmq`: a pika connection whose frames cross a
  :class:`Link` (``connect_faulty``), a publisher with confirms, ``restart_rabbit``;
  :mod:`mqlab.faults.rabbitmq_worker`: ``RabbitWorker``, a consumer that crashes,
  reconnects and handles poison messages;
* :mod:`mqlab.faults.kafka`: ``KafkaFaults`` on the cluster's produce, response
  and fetch hooks, ``KafkaPublisher``, ``kill_kafka_broker`` /
  ``restart_kafka_broker``; :mod:`mqlab.faults.kafka_worker`: ``KafkaWorker``;
* :mod:`mqlab.faults.sqs`: ``FaultySQSClient`` around the boto3-shaped client,
  ``SQSPublisher``, and ``restart_sqs``, which says SQS has no restart;
  :mod:`mqlab.faults.sqs_worker`: ``SQSWorker``;
* :mod:`mqlab.faults.worker`: what the three workers share (ack modes, crash
  schedule, handler errors, counts).

Every fault draws from its own ``sim.substream``, so one seed gives one story.
"""

from mqlab.faults.adapter import BrokerEndpoint, Connection, Delivery, DeliverySource
from mqlab.faults.crash import CrashPoint, CrashSchedule
from mqlab.faults.errors import ConsumerCrashed, InvalidParameter, PoisonMessage
from mqlab.faults.ledger import FaultCounts, FaultLedger
from mqlab.faults.link import Direction, FrameFate, HopFaults, Link, LinkStatistics
from mqlab.faults.poison import PoisonPredicate
from mqlab.faults.slow import LatencyProfile
from mqlab.faults.standin import BrokerLedger, DeadLetter, GenericBroker, HandlerError, StandInConsumer

__all__ = [
    "BrokerEndpoint",
    "BrokerLedger",
    "Connection",
    "ConsumerCrashed",
    "CrashPoint",
    "CrashSchedule",
    "DeadLetter",
    "Delivery",
    "DeliverySource",
    "Direction",
    "FaultCounts",
    "FaultLedger",
    "FrameFate",
    "GenericBroker",
    "HandlerError",
    "HopFaults",
    "InvalidParameter",
    "LatencyProfile",
    "Link",
    "LinkStatistics",
    "PoisonMessage",
    "PoisonPredicate",
    "StandInConsumer",
]
