"""mqlab.flow: backpressure, the ways a slow consumer pushes back on a fast producer.

* :class:`BoundedBuffer` with an :class:`OverflowPolicy` (block, fail, drop_oldest, drop_newest).
* :class:`BrokerMemory`: RabbitMQ's memory alarm blocking publishers, or an
  unbounded broker killed by the OOM killer.
* :class:`Autoscaler`: consumers added above a depth or lag threshold and
  removed below another, with cooldown, bounds and consumer-seconds.
* :class:`Subscription`: credit-based flow control with Reactive Streams rules.
"""

from mqlab.flow.autoscaler import Autoscaler, ScalingAction
from mqlab.flow.buffer import BoundedBuffer, BufferStatistics, OverflowPolicy
from mqlab.flow.credit import UNBOUNDED, CreditStatistics, Subscription
from mqlab.flow.errors import BufferEmpty, BufferFull, CreditExceeded, NonPositiveRequest, PublisherBlocked
from mqlab.flow.memory import MEMORY_POLICIES, BrokerMemory, MemoryStatistics

__all__ = [
    "MEMORY_POLICIES",
    "UNBOUNDED",
    "Autoscaler",
    "BoundedBuffer",
    "BrokerMemory",
    "BufferEmpty",
    "BufferFull",
    "BufferStatistics",
    "CreditExceeded",
    "CreditStatistics",
    "MemoryStatistics",
    "NonPositiveRequest",
    "OverflowPolicy",
    "PublisherBlocked",
    "ScalingAction",
    "Subscription",
]
