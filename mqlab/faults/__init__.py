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
