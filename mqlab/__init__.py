"""mqlab: see and break what really happens to a message.

A deterministic, in-process simulator of message brokers (RabbitMQ, Kafka, SQS)
with APIs shaped like their real clients, built for the mqlab course.
"""

from mqlab.errors import MqlabError
from mqlab.sim import Simulation

__version__ = "0.1.0"

__all__ = ["MqlabError", "Simulation", "__version__"]
