"""Differential tests: random Kafka scenarios on mqlab's simulator and on librdkafka's mock cluster, compared.

One function, :func:`play`, runs a scenario through a :class:`~mqlab.backends.KafkaBackend`, so
the very same confluent-kafka-shaped calls reach the simulator and, through confluent-kafka, the
mock cluster (which speaks the real Kafka protocol). A scenario produces keyed records with an
explicit partitioner, reads part of one partition with a manually assigned consumer and commits,
lets a subscribed group member read the rest from the committed offsets, and finally seeks one
partition to an offset and reads from there. The observable outcome compared:

* each delivery report: which partition the key went to, at which offset;
* the committed offsets after the first reader;
* what the group member saw, per partition (partitions are fetched in no promised order);
* what the seek read.

What the mock cluster cannot do, and so is not compared here: topics are auto-created with 4
partitions (no admin topic creation, so the simulator's cluster auto-creates 4 as well), group
listing, ``offsets_for_times`` and read_committed filtering of aborted transactions.

librdkafka's default partitioner (``consistent_random``, CRC32) is not mqlab's default
(``murmur2_random``, the Java client's rule): every scenario names its partitioner, and the
different default is listed in docs/deviations.md. Records without a key are not produced: both
place them with a sticky random partition.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mqlab.backends import KafkaBackend

REAL_RUN = settings(
    max_examples=int(os.environ.get("MQLAB_DIFFERENTIAL_EXAMPLES", "8")),
    deadline=None,
    derandomize=os.environ.get("MQLAB_DIFFERENTIAL_EXAMPLES") is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PARTITIONS = 4
WAIT = 15.0
"""Seconds (virtual on the simulator, wall-clock on the cluster) a reader waits for what it expects."""


@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from([f"rider-{i}" for i in range(12)]), min_size=1, max_size=16))
    return {
        "partitioner": draw(st.sampled_from(("murmur2_random", "consistent_random", "fnv1a_random"))),
        "keys": keys,
        "first_partition": draw(st.integers(0, PARTITIONS - 1)),
        "first_count": draw(st.integers(0, 4)),
        "seek_partition": draw(st.integers(0, PARTITIONS - 1)),
        "seek_offset": draw(st.integers(0, 3)),
    }


def _read(consumer: Any, count: int, backend: KafkaBackend) -> list[tuple[int, int, str, str]]:
    """Poll until ``count`` records arrived or WAIT seconds passed; (partition, offset, key, value) each."""
    seen: list[tuple[int, int, str, str]] = []
    deadline = time.monotonic() + WAIT
    polls = 0
    while len(seen) < count:
        if backend.is_real and time.monotonic() > deadline:
            break
        if not backend.is_real and polls * 0.2 > WAIT:
            break
        polls += 1
        message = consumer.poll(0.2)
        if message is None or message.error() is not None:
            continue
        seen.append((message.partition(), message.offset(), message.key().decode(), message.value().decode()))
    return seen


def _by_partition(records: list[tuple[int, int, str, str]]) -> dict[int, list[tuple[int, str, str]]]:
    out: dict[int, list[tuple[int, str, str]]] = {}
    for partition, offset, key, value in sorted(records):
        out.setdefault(partition, []).append((offset, key, value))
    return out


def play(backend: KafkaBackend, scenario: dict[str, Any], topic: str, group: str) -> dict[str, Any]:
    """Run ``scenario`` on ``backend`` and return what the clients could observe."""
    tp = backend.TopicPartition
    producer = backend.producer({"partitioner": scenario["partitioner"]})
    reports: list[Any] = []

    def on_delivery(error: Any, message: Any) -> None:
        reports.append((error is None, message.key().decode(), message.partition(), message.offset()))

    for number, key in enumerate(scenario["keys"]):
        producer.produce(topic, key=key.encode(), value=f"v{number}".encode(), on_delivery=on_delivery)
    producer.flush(WAIT)
    sizes = {p: sum(1 for ok, _, q, _ in reports if ok and q == p) for p in range(PARTITIONS)}

    # A reader with a manual assignment reads part of one partition and commits where it stopped.
    first = backend.consumer({"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    partition = scenario["first_partition"]
    first.assign([tp(topic, partition, 0)])
    wanted = min(scenario["first_count"], sizes[partition])
    first_seen = _read(first, wanted, backend)
    if first_seen:
        first.commit(offsets=[tp(topic, partition, first_seen[-1][1] + 1)], asynchronous=False)
    committed = sorted(
        (c.partition, c.offset) for c in first.committed([tp(topic, p) for p in range(PARTITIONS)], timeout=WAIT)
    )
    first.close()

    # A group member subscribes and reads the rest, from the committed offsets.
    member = backend.consumer({"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    member.subscribe([topic])
    member_seen = _read(member, len(reports) - len(first_seen), backend)
    assignment = sorted(p.partition for p in member.assignment())
    member.close()

    # A seek: one partition from a chosen offset.
    seeker = backend.consumer({"group.id": f"{group}-seek", "enable.auto.commit": False})
    seek_partition = scenario["seek_partition"]
    offset = min(scenario["seek_offset"], sizes[seek_partition])
    seeker.assign([tp(topic, seek_partition, offset)])
    seek_seen = _read(seeker, sizes[seek_partition] - offset, backend)
    seeker.close()
    backend.close()
    return {
        "reports": sorted(reports, key=lambda r: (r[2], r[3])),  # partitions report in no promised order
        "first": first_seen,
        "committed": committed,
        "member": _by_partition(member_seen),
        "assignment": assignment,
        "seek": seek_seen,
    }


@REAL_RUN
@given(scenario=scenarios())
def test_random_kafka_scenarios_agree_with_the_mock_cluster(kafka: Any, scenario: dict[str, Any]) -> None:
    """Keyed produce (murmur2, CRC32 and FNV-1a partitioners), manual assignment, synchronous commits,
    a group member resuming from committed offsets, and seeks give the same observable outcome on the
    simulator as on librdkafka's mock Kafka cluster."""
    topic, group = kafka.fresh("rides"), kafka.fresh("billing")
    expected = play(KafkaBackend("simulator", num_partitions=kafka.partitions), scenario, topic, group)
    actual = play(KafkaBackend(kafka.bootstrap), scenario, topic, group)
    assert expected == actual


def _join_two(backend: KafkaBackend, topic: str, group: str, strategy: str) -> list[list[int]]:
    producer = backend.producer({"partitioner": "murmur2_random"})
    for number in range(8):
        producer.produce(topic, key=f"k{number}".encode(), value=b"v")
    producer.flush(WAIT)
    config = {"group.id": group, "auto.offset.reset": "earliest", "partition.assignment.strategy": strategy}
    members = [backend.consumer(dict(config)) for _ in range(2)]
    for member in members:
        member.subscribe([topic])
    deadline = time.monotonic() + 2 * WAIT
    for _ in range(400):
        for member in members:
            member.poll(0.1)
        split = sorted(sorted(p.partition for p in m.assignment()) for m in members)
        if sum(len(s) for s in split) == PARTITIONS and all(split):
            break
        if backend.is_real and time.monotonic() > deadline:
            break
    for member in members:
        member.close()
    backend.close()
    return split


@pytest.mark.parametrize("strategy", ["range", "roundrobin"])
def test_two_group_members_split_partitions_as_the_mock_cluster(kafka: Any, strategy: str) -> None:
    """Two members of one group subscribed to a 4-partition topic end with the same split of
    partitions under the range and round-robin assignors on the simulator as on the mock cluster."""
    topic, group = kafka.fresh("rides"), kafka.fresh("billing")
    expected = _join_two(KafkaBackend("simulator", num_partitions=kafka.partitions), topic, group, strategy)
    actual = _join_two(KafkaBackend(kafka.bootstrap), topic, group, strategy)
    assert expected == actual
