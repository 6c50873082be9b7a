"""mqlab.backends: the same client-shaped code on the simulator or on a real broker, by one setting.

::

    from mqlab.backends import RabbitMQBackend, KafkaBackend, SQSBackend

    rabbit = RabbitMQBackend()     # $MQLAB_RABBITMQ_URL     e.g. amqp://guest:guest@127.0.0.1:5672/
    kafka = KafkaBackend()         # $MQLAB_KAFKA_BOOTSTRAP  e.g. 127.0.0.1:9092
    sqs = SQSBackend()             # $MQLAB_SQS_ENDPOINT     e.g. http://127.0.0.1:5000, or aws

Each takes the setting as its first argument too (a notebook's papermill parameter); the argument
wins over the environment, and ``"simulator"`` forces the simulator. With no setting the simulator
is used and nothing touches the network; the real clients (pika, confluent-kafka, boto3: the
``real`` extra) are imported only when a real broker is named.

What exists only in the simulator (virtual time, fault injection, the trace, the ledger, the
model objects) raises :class:`NotAvailableOnRealBroker` on a real broker instead of being faked.
A broker that does not answer raises :class:`BrokerUnreachable`, naming the address tried and how
to start a local one (``tools/brokers.py``).
"""

from __future__ import annotations

from mqlab.backends.base import SIMULATOR, Backend, resolve_setting
from mqlab.backends.errors import BrokerUnreachable, InvalidBrokerSetting, NotAvailableOnRealBroker, RealClientMissing
from mqlab.backends.kafka import KafkaBackend
from mqlab.backends.rabbitmq import RabbitMQBackend
from mqlab.backends.sqs import SQSBackend

__all__ = [
    "SIMULATOR",
    "Backend",
    "BrokerUnreachable",
    "InvalidBrokerSetting",
    "KafkaBackend",
    "NotAvailableOnRealBroker",
    "RabbitMQBackend",
    "RealClientMissing",
    "SQSBackend",
    "resolve_setting",
]
