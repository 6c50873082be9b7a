"""Kafka on the simulator or on a real cluster through confluent-kafka, behind one setting.

::

    from mqlab.backends import KafkaBackend

    backend = KafkaBackend()             # the simulator, unless MQLAB_KAFKA_BOOTSTRAP is set
    # KafkaBackend("127.0.0.1:9092")          a real cluster, through confluent-kafka
    producer = backend.producer({"acks": "all"})
    producer.produce("rides", key="rider-42", value=b"...")
    producer.flush()
    consumer = backend.consumer({"group.id": "billing", "auto.offset.reset": "earliest"})
    consumer.subscribe(["rides"])
    msg = consumer.poll(1.0)             # 1 s of virtual time, or of wall-clock time

mqlab's clients take the same configuration dictionaries as confluent-kafka's and have the
same methods, so the same code runs on both; ``bootstrap.servers`` is filled in from the setting
on a real cluster (and ignored by the simulator). ``backend.TopicPartition``, ``backend.KafkaError``
and ``backend.KafkaException`` are the matching classes.

One default differs on purpose: mqlab's producer partitions keyed records with
``murmur2_random`` (the Java client's rule, which Kafka's own tools follow); librdkafka's default
is ``consistent_random`` (CRC32). Set ``partitioner`` explicitly for the same placement on both.

On a real cluster, ``backend.cluster``, ``backend.sim``, the trace, ``ledger()``,
``statistics()`` and fault injection raise :class:`NotAvailableOnRealBroker`. Credentials (SASL)
come from the configuration the learner passes or from ``MQLAB_KAFKA_USERNAME`` /
``MQLAB_KAFKA_PASSWORD`` (with ``security.protocol=SASL_PLAINTEXT``/``SASL_SSL`` in the config).
"""

from __future__ import annotations

import os
from typing import Any

from mqlab.backends.base import Backend
from mqlab.backends.errors import BrokerUnreachable
from mqlab.sim import Simulation

__all__ = ["HOW_TO_START_KAFKA", "KafkaBackend"]

HOW_TO_START_KAFKA = (
    "start a local cluster with `python3 tools/brokers.py start kafka` (librdkafka's mock cluster) and set "
    "MQLAB_KAFKA_BOOTSTRAP to the address it prints, or unset MQLAB_KAFKA_BOOTSTRAP to use the simulator"
)


class KafkaBackend(Backend):
    """Kafka: mqlab's :class:`~mqlab.kafka.cluster.Cluster` and clients, or a real cluster through confluent-kafka."""

    broker_name = "Kafka"
    setting_variable = "MQLAB_KAFKA_BOOTSTRAP"
    client_module = "confluent_kafka"

    def __init__(self, bootstrap: str | None = None, *, sim: Simulation | None = None, seed: int = 0,
                 brokers: int = 3, **cluster_options: Any) -> None:
        """``bootstrap``: ``host:port[,host:port...]``, None for ``$MQLAB_KAFKA_BOOTSTRAP`` (unset: the simulator).

        ``brokers`` and ``cluster_options`` shape the simulated cluster (``num_partitions``,
        ``default_replication_factor``, ...); a real cluster has its own, so they are refused there.
        """
        super().__init__(bootstrap, sim, seed)
        self._cluster: Any = None
        self._clients: list[Any] = []
        self._checked = False
        if self.address is None:
            from mqlab.kafka.cluster import Cluster

            self._cluster = Cluster(self.sim, brokers=brokers, **cluster_options)
            return
        if cluster_options:
            raise self.not_available(f"simulator settings ({', '.join(sorted(cluster_options))})")
        self._kafka = self._client()

    def _real_config(self, config: dict[str, Any] | None) -> dict[str, Any]:
        merged = {"bootstrap.servers": self.address, **(config or {})}
        user = os.environ.get("MQLAB_KAFKA_USERNAME")
        if user and "sasl.username" not in merged:
            merged["sasl.username"] = user
            merged["sasl.password"] = os.environ.get("MQLAB_KAFKA_PASSWORD", "")
            merged.setdefault("sasl.mechanisms", "PLAIN")
        return merged

    def _check(self, client: Any) -> None:
        if self._checked:
            return
        try:
            client.list_topics(timeout=5)
        except self._kafka.KafkaException as error:
            raise BrokerUnreachable(
                f"could not reach Kafka at bootstrap.servers={self.address} within 5 s: {error}; {HOW_TO_START_KAFKA}"
            ) from error
        self._checked = True

    # -- what learners use -------------------------------------------------------------------
    def producer(self, config: dict[str, Any] | None = None) -> Any:
        """A producer: mqlab's, or ``confluent_kafka.Producer`` (checked to reach the cluster)."""
        if self._cluster is not None:
            from mqlab.kafka.producer import Producer

            producer = Producer(self._cluster, config)
        else:
            producer = self._kafka.Producer(self._real_config(config))
            self._check(producer)
        self._clients.append(producer)
        return producer

    def consumer(self, config: dict[str, Any]) -> Any:
        """A consumer: mqlab's, or ``confluent_kafka.Consumer`` (checked to reach the cluster)."""
        if self._cluster is not None:
            from mqlab.kafka.consumer import Consumer

            consumer = Consumer(self._cluster, config)
        else:
            consumer = self._kafka.Consumer(self._real_config(config))
            self._check(consumer)
        self._clients.append(consumer)
        return consumer

    def create_topic(self, name: str, num_partitions: int, replication_factor: int = 1) -> None:
        """Create a topic (the simulator's cluster, or ``AdminClient.create_topics`` on a real cluster)."""
        if self._cluster is not None:
            self._cluster.create_topic(name, num_partitions=num_partitions, replication_factor=replication_factor)
            return
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient(self._real_config(None))
        futures = admin.create_topics([NewTopic(name, num_partitions, replication_factor)], request_timeout=10)
        futures[name].result(timeout=15)

    @property
    def TopicPartition(self) -> type:  # noqa: N802 -- confluent-kafka's class name
        if self._cluster is not None:
            from mqlab.kafka.message import TopicPartition

            return TopicPartition
        return self._kafka.TopicPartition

    @property
    def KafkaError(self) -> type:  # noqa: N802 -- confluent-kafka's class name
        if self._cluster is not None:
            from mqlab.kafka.errors import KafkaError

            return KafkaError
        return self._kafka.KafkaError

    @property
    def KafkaException(self) -> type:  # noqa: N802 -- confluent-kafka's class name
        if self._cluster is not None:
            from mqlab.kafka.errors import KafkaException

            return KafkaException
        return self._kafka.KafkaException

    # -- simulator only ----------------------------------------------------------------------
    @property
    def cluster(self) -> Any:
        """The simulated cluster (topics, brokers to kill, log views): simulator only."""
        if self._cluster is None:
            raise self.not_available("the simulated cluster object (backend.cluster)")
        return self._cluster

    def ledger(self) -> Any:
        return self.cluster.ledger()

    def statistics(self) -> Any:
        return self.cluster.statistics()

    def close(self) -> None:
        for client in self._clients:
            close = getattr(client, "close", None)
            if close is not None and type(client).__name__ == "Consumer":
                try:
                    close()
                except Exception as error:  # already closed: nothing to do
                    if "closed" not in str(error).lower():
                        raise
        self._clients = []
