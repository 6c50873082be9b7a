"""AdminClient: topics, partitions, groups and offsets, with confluent-kafka's future-shaped results."""

from __future__ import annotations

import pytest

from mqlab.kafka import (
    AdminClient,
    Cluster,
    Consumer,
    KafkaException,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    TopicPartition,
)
from mqlab.sim import Simulation


def test_create_topics_returns_completed_futures(cluster: Cluster) -> None:
    """create_topics returns {topic: future}; result() is None, or raises the Kafka error."""
    admin = AdminClient(cluster)
    fs = admin.create_topics([NewTopic("a", 3, 2), NewTopic("bad", 0, 1), NewTopic("big", 1, 5)])
    assert fs["a"].result() is None and fs["a"].done()
    with pytest.raises(KafkaException) as info:
        fs["bad"].result()
    assert info.value.args[0].name() == "INVALID_PARTITIONS"
    assert fs["big"].exception().args[0].name() == "INVALID_REPLICATION_FACTOR"
    again = admin.create_topics([NewTopic("a", 1, 1)])["a"]
    assert again.exception().args[0].name() == "TOPIC_ALREADY_EXISTS"
    metadata = admin.list_topics()
    assert sorted(metadata.topics["a"].partitions) == [0, 1, 2]
    assert len(metadata.topics["a"].partitions[0].replicas) == 2


def test_bad_topic_names_are_refused(cluster: Cluster) -> None:
    """Names outside [a-zA-Z0-9._-], '.', '..' or longer than 249 characters are refused."""
    for name in ("has space", "..", "x" * 250, ""):
        future = AdminClient(cluster).create_topics([NewTopic(name, 1, 1)])[name]
        assert future.exception().args[0].name() == "TOPIC_EXCEPTION"


def test_create_partitions_only_grows(cluster: Cluster) -> None:
    """A topic can gain partitions, never lose them."""
    admin = AdminClient(cluster)
    admin.create_topics([NewTopic("t", 2, 1)])
    assert admin.create_partitions([NewPartitions("t", 4)])["t"].result() is None
    assert len(cluster.topic("t").partitions) == 4
    assert admin.create_partitions([NewPartitions("t", 3)])["t"].exception().args[0].name() == "INVALID_PARTITIONS"


def test_delete_topics_counts_records_in_the_ledger(cluster: Cluster, produce_all) -> None:
    """Deleting a topic removes its records, counted as topic_deleted; the ledger still balances."""
    admin = AdminClient(cluster)
    admin.create_topics([NewTopic("t", 2, 1)])
    produce_all(cluster, "t", [(None, b"v")] * 5)
    assert admin.delete_topics(["t"])["t"].result() is None
    assert "t" not in cluster.topics
    ledger = cluster.ledger()
    assert ledger.removed["topic_deleted"] == 5 and ledger.retained == 0 and ledger.balanced
    assert admin.delete_topics(["t"])["t"].exception().args[0].name() == "UNKNOWN_TOPIC_OR_PART"


def test_describe_groups_and_list_offsets(sim: Simulation, cluster: Cluster, produce_all) -> None:
    """describe_consumer_groups shows members and assignment; list_offsets answers earliest/latest/time."""
    admin = AdminClient(cluster)
    admin.create_topics([NewTopic("t", 1, 1)])
    produce_all(cluster, "t", [(None, b"a")])
    sim.run(until=10)
    produce_all(cluster, "t", [(None, b"b")])
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "earliest"})
    consumer.subscribe(["t"])
    consumer.poll(5.0)
    description = admin.describe_consumer_groups(["g"])["g"].result()
    assert description.state == "Stable" and description.partition_assignor == "range"
    assert description.members[0].assignment == [TopicPartition("t", 0)]
    tp = TopicPartition("t", 0)
    assert admin.list_offsets({tp: OffsetSpec.earliest()})[tp].result().offset == 0
    assert admin.list_offsets({tp: OffsetSpec.latest()})[tp].result().offset == 2
    assert admin.list_offsets({tp: OffsetSpec.for_timestamp(5000)})[tp].result().offset == 1


def test_negative_partition_counts_are_refused(cluster: Cluster) -> None:
    """A negative partition count (other than -1, the broker default) is INVALID_PARTITIONS."""
    future = AdminClient(cluster).create_topics([NewTopic("neg", -3, 1)])["neg"]
    assert future.exception().args[0].name() == "INVALID_PARTITIONS"
    assert "at least 1 partition" in future.exception().args[0].str()


def test_cluster_arguments_are_checked(sim: Simulation) -> None:
    """A cluster needs at least one broker, a replication factor it can hold, and non-negative delays."""
    with pytest.raises(ValueError, match="at least one broker"):
        Cluster(sim, brokers=0)
    with pytest.raises(KafkaException, match=r"choose 1\.\.2"):
        Cluster(sim, brokers=2, default_replication_factor=3)
    with pytest.raises(ValueError, match="replication_delay"):
        Cluster(sim, brokers=1, replication_delay=-1)
