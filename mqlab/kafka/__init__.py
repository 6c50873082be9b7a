"""mqlab.kafka: Kafka as "the log", with a confluent-kafka-shaped API on a virtual clock.

::

    from mqlab.sim import Simulation
    from mqlab.kafka import Cluster, Producer, Consumer, AdminClient, NewTopic

    sim = Simulation(seed=7)
    cluster = Cluster(sim, brokers=3)
    AdminClient(cluster).create_topics([NewTopic("rides", num_partitions=3, replication_factor=3)])

    producer = Producer(cluster, {"acks": "all"})
    producer.produce("rides", key=b"rider-42", value=b"pickup")
    producer.flush()                               # runs virtual time until delivered

    consumer = Consumer(cluster, {"group.id": "billing", "auto.offset.reset": "earliest"})
    consumer.subscribe(["rides"])
    msg = consumer.poll(10.0)                      # the group rebalances (3 s), then the record
    print(msg.partition(), msg.offset(), msg.value())

Inside a kernel process, wait with ``yield consumer.poll_event(timeout)`` and
``yield producer.flush_event()`` (see :mod:`mqlab.kafka.driving`).

Differences from confluent-kafka are listed in each module's docstring; the main ones: the
cluster is passed first instead of ``bootstrap.servers``; time is virtual; the default
``partitioner`` is ``murmur2_random`` (the Java client's); admin futures are already complete;
``Message`` has no ``set_*`` mutators.

Modules: :mod:`~mqlab.kafka.murmur2` and :mod:`~mqlab.kafka.partitioner` (where a record goes),
:mod:`~mqlab.kafka.log` (segments, retention, compaction), :mod:`~mqlab.kafka.replication`
(leader, ISR, HW), :mod:`~mqlab.kafka.partition`, :mod:`~mqlab.kafka.cluster`,
:mod:`~mqlab.kafka.assignors`, :mod:`~mqlab.kafka.group`, :mod:`~mqlab.kafka.producer`,
:mod:`~mqlab.kafka.consumer`, :mod:`~mqlab.kafka.share`, :mod:`~mqlab.kafka.transactions`,
:mod:`~mqlab.kafka.admin`, :mod:`~mqlab.kafka.config`, :mod:`~mqlab.kafka.errors`,
:mod:`~mqlab.kafka.message`, :mod:`~mqlab.kafka.ledger`, :mod:`~mqlab.kafka.statistics`.
"""

from mqlab.kafka.admin import AdminClient, NewPartitions, NewTopic, OffsetSpec
from mqlab.kafka.assignors import assign
from mqlab.kafka.cluster import Cluster
from mqlab.kafka.consumer import Consumer
from mqlab.kafka.errors import KafkaError, KafkaException
from mqlab.kafka.ledger import Ledger
from mqlab.kafka.message import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_INVALID,
    OFFSET_STORED,
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    TIMESTAMP_NOT_AVAILABLE,
    Message,
    TopicPartition,
)
from mqlab.kafka.murmur2 import default_partition, murmur2
from mqlab.kafka.producer import Producer
from mqlab.kafka.share import AcknowledgeType, ArchivedRecord, ShareConsumer

__all__ = [
    "OFFSET_BEGINNING",
    "OFFSET_END",
    "OFFSET_INVALID",
    "OFFSET_STORED",
    "TIMESTAMP_CREATE_TIME",
    "TIMESTAMP_LOG_APPEND_TIME",
    "TIMESTAMP_NOT_AVAILABLE",
    "AcknowledgeType",
    "AdminClient",
    "ArchivedRecord",
    "Cluster",
    "Consumer",
    "KafkaError",
    "KafkaException",
    "Ledger",
    "Message",
    "NewPartitions",
    "NewTopic",
    "OffsetSpec",
    "Producer",
    "ShareConsumer",
    "TopicPartition",
    "assign",
    "default_partition",
    "murmur2",
]
