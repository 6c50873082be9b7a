"""Replication: ISR, high watermark, acks, min.insync.replicas, failover and unclean election."""

from __future__ import annotations

from mqlab.kafka import Cluster, Consumer, Producer, TopicPartition
from mqlab.sim import Simulation


def produce_now(cluster: Cluster, records: int, acks: str, sim: Simulation, **config: object) -> Producer:
    producer = Producer(cluster, {"acks": acks, "linger.ms": 0, **config})
    for i in range(records):
        producer.produce("t", b"v%d" % i)
    return producer


def test_high_watermark_waits_for_followers(sim: Simulation) -> None:
    """The leader's log end moves at once; the HW only after every ISR follower copied the records."""
    cluster = Cluster(sim, brokers=3, replication_delay=0.1)
    cluster.create_topic("t", 1, 3)
    produce_now(cluster, 5, "1", sim)
    sim.run(until=0.01)
    partition = cluster.partition("t", 0)
    assert partition.log_end_offset == 5 and partition.high_watermark == 0
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition("t", 0)])
    assert consumer.poll(0) is None  # consumers never read above the HW
    sim.run(until=0.2)
    assert partition.high_watermark == 5
    assert consumer.poll(0).offset() == 0


def test_acks_1_record_is_lost_when_the_leader_dies_before_replication(sim: Simulation) -> None:
    """acks=1 is acknowledged by the leader alone; if it dies before followers copy, the record is gone."""
    cluster = Cluster(sim, brokers=3, replication_delay=0.5)
    cluster.create_topic("t", 1, 3)
    reports = []
    producer = Producer(cluster, {"acks": 1, "linger.ms": 0})
    producer.produce("t", b"important", on_delivery=lambda e, m: reports.append((e, m.offset())))
    sim.run(until=0.1)
    producer.poll(0)
    assert reports == [(None, 0)]  # acknowledged
    cluster.kill_broker(cluster.partition("t", 0).replicas.leader)
    ledger = cluster.ledger()
    assert ledger.acknowledged_lost["leader_failover"] == 1
    assert ledger.removed["leader_failover"] == 1
    assert cluster.partition("t", 0).log_end_offset == 0
    assert ledger.balanced


def test_acks_all_survives_the_same_failure(sim: Simulation) -> None:
    """acks=all is acknowledged only once the ISR has the record, so a leader failure loses nothing acked."""
    cluster = Cluster(sim, brokers=3, replication_delay=0.5)
    cluster.create_topic("t", 1, 3)
    reports = []
    producer = Producer(cluster, {"acks": "all", "linger.ms": 0})
    producer.produce("t", b"important", on_delivery=lambda e, m: reports.append((e, m.offset())))
    sim.run(until=0.1)
    producer.poll(0)
    assert reports == []  # not yet acknowledged
    cluster.kill_broker(0)
    producer.flush()
    assert reports == [(None, 0)]  # retried on the new leader
    ledger = cluster.ledger()
    assert ledger.lost == 0 and ledger.balanced
    assert cluster.partition("t", 0).replicas.leader != 0


def test_min_insync_replicas_refuses_acks_all(sim: Simulation) -> None:
    """With fewer in-sync replicas than min.insync.replicas, acks=all fails with NOT_ENOUGH_REPLICAS."""
    cluster = Cluster(sim, brokers=3)
    cluster.create_topic("t", 1, 3, {"min.insync.replicas": 2})
    cluster.kill_broker(1)
    cluster.kill_broker(2)
    errors = []
    producer = Producer(cluster, {"acks": "all", "message.timeout.ms": 1000})
    producer.produce("t", b"v", on_delivery=lambda e, m: errors.append(e))
    producer.flush()
    assert errors[0].name() == "_MSG_TIMED_OUT"  # NOT_ENOUGH_REPLICAS is retriable until the timeout
    assert sim.trace.select(action="retry")[0].details["error"] == "NOT_ENOUGH_REPLICAS"
    ok = []
    producer1 = Producer(cluster, {"acks": 1})
    producer1.produce("t", b"v", on_delivery=lambda e, m: ok.append(e))
    producer1.flush()
    assert ok == [None]  # acks=1 does not check min.insync.replicas


def test_clean_failover_elects_an_in_sync_replica(sim: Simulation) -> None:
    """When the leader dies, the first live ISR member leads; the dead broker leaves the ISR."""
    cluster = Cluster(sim, brokers=3)
    cluster.create_topic("t", 1, 3)
    produce_now(cluster, 3, "all", sim).flush()
    cluster.kill_broker(0)
    state = cluster.partition("t", 0).replicas
    assert state.leader == 1 and 0 not in state.isr
    assert cluster.partition("t", 0).high_watermark == 3
    cluster.restart_broker(0)
    sim.run(until=sim.now + 1)
    assert sorted(state.isr) == [0, 1, 2]  # caught up and back in sync


def test_partition_is_offline_without_unclean_election(sim: Simulation) -> None:
    """If every ISR member is down, the partition has no leader unless unclean election is enabled."""
    cluster = Cluster(sim, brokers=2)
    cluster.create_topic("t", 1, 2)
    produce_now(cluster, 2, "all", sim).flush()
    cluster.kill_broker(1)  # follower leaves the ISR
    produce_now(cluster, 3, "all", sim).flush()  # only on broker 0
    cluster.kill_broker(0)
    cluster.restart_broker(1)
    assert cluster.partition("t", 0).replicas.leader is None
    assert cluster.statistics().offline_partitions == 1
    cluster.restart_broker(0)
    assert cluster.partition("t", 0).replicas.leader == 0  # the last ISR member returns: nothing lost
    assert cluster.ledger().lost == 0


def test_unclean_election_loses_acknowledged_records(sim: Simulation) -> None:
    """With unclean.leader.election.enable, an out-of-sync replica leads and acknowledged records vanish."""
    cluster = Cluster(sim, brokers=2)
    cluster.create_topic("t", 1, 2, {"unclean.leader.election.enable": True})
    produce_now(cluster, 2, "all", sim).flush()
    cluster.kill_broker(1)
    produce_now(cluster, 3, "all", sim).flush()  # acknowledged by broker 0 alone (ISR = {0})
    cluster.kill_broker(0)
    cluster.restart_broker(1)
    partition = cluster.partition("t", 0)
    assert partition.replicas.leader == 1
    assert partition.log_end_offset == 2
    ledger = cluster.ledger()
    assert ledger.acknowledged_lost["unclean_leader_election"] == 3 and ledger.balanced


def test_consumers_past_a_truncated_end_are_reset(sim: Simulation) -> None:
    """A consumer positioned past the new leader's log end gets OFFSET_OUT_OF_RANGE and resets."""
    cluster = Cluster(sim, brokers=2)
    cluster.create_topic("t", 1, 2, {"unclean.leader.election.enable": True})
    produce_now(cluster, 2, "all", sim).flush()
    cluster.kill_broker(1)
    produce_now(cluster, 3, "all", sim).flush()
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition("t", 0)])
    assert len(consumer.consume(10, 0)) == 5
    cluster.kill_broker(0)
    cluster.restart_broker(1)
    Producer(cluster, {}).produce("t", b"after")
    sim.run(until=sim.now + 1)
    message = consumer.poll(0)
    assert message.offset() == 0  # position 5 > log end 3: reset to earliest
    assert consumer.offset_resets[-1][3:] == (5, 0, "earliest")


def test_fault_hooks_can_be_wrapped(sim: Simulation) -> None:
    """handle_produce and fetch are plain methods a fault layer can wrap: here requests are delayed and
    fetches fail, and the clients cope (retry, read later)."""
    cluster = Cluster(sim, brokers=1)
    cluster.create_topic("t", 1, 1)
    original_produce, original_fetch = cluster.handle_produce, cluster.fetch
    seen = []

    def slow_link(request):
        seen.append(sim.now)
        sim.call_later(1.0, original_produce, request)

    cluster.handle_produce = slow_link  # type: ignore[method-assign]
    cluster.fetch = lambda client, partition, offset, limit, rc: ([], offset)  # type: ignore[method-assign]
    producer = Producer(cluster, {"linger.ms": 0})
    producer.produce("t", b"v")
    producer.flush()
    assert len(seen) == 1 and sim.now >= 1.0
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition("t", 0)])
    assert consumer.poll(0) is None
    cluster.fetch = original_fetch  # type: ignore[method-assign]
    assert consumer.poll(0).value() == b"v"
