"""A Hypothesis state machine drives a producer, a consumer group (join, leave, crash, consume, commit,
seek) and broker failures against invariants.

Invariants checked after every step:

* the ledger balances (client side and log side);
* under acks=all without unclean election, no acknowledged record is lost and none has a gap: every
  acknowledged record is still in its partition at the offset it was acknowledged with;
* per-partition order: records one producer sent to one partition have increasing offsets, and a
  consumer reads each partition in increasing offset order (between seeks and reassignments);
* what a consumer reads is what the log holds at that offset.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mqlab.kafka import OFFSET_BEGINNING, Cluster, Consumer, Producer, TopicPartition
from mqlab.sim import Simulation

PARTITIONS = 3


class KafkaMachine(RuleBasedStateMachine):
    @initialize(seed=st.integers(0, 1000))
    def start(self, seed: int) -> None:
        self.sim = Simulation(seed=seed)
        self.cluster = Cluster(self.sim, brokers=3, replication_delay=0.02)
        self.cluster.create_topic("t", PARTITIONS, 3, {"min.insync.replicas": 2})
        self.producer = Producer(self.cluster, {"acks": "all", "enable.idempotence": True, "linger.ms": 1,
                                                "message.timeout.ms": 5000})
        self.sent = 0
        self.acked: dict[int, tuple[int, int]] = {}  # value id -> (partition, offset)
        self.consumers: list[Consumer] = []
        self.last_read: dict[tuple[int, int], int] = {}  # (consumer index, partition) -> last offset read
        self.read_values: list[tuple[int, int, bytes]] = []

    def _report(self, err, msg) -> None:
        if err is None:
            self.acked[int(msg.value())] = (msg.partition(), msg.offset())

    @rule(count=st.integers(1, 5), keyed=st.booleans())
    def produce(self, count: int, keyed: bool) -> None:
        for _ in range(count):
            key = b"k%d" % (self.sent % 5) if keyed else None
            self.producer.produce("t", b"%d" % self.sent, key, on_delivery=self._report)
            self.sent += 1

    @rule(dt=st.sampled_from([0.001, 0.01, 0.05, 0.5, 4.0]))
    def advance(self, dt: float) -> None:
        self.sim.run(until=self.sim.now + dt)
        self.producer.poll(0)

    @rule()
    def join(self) -> None:
        consumer = Consumer(self.cluster, {"group.id": "g", "auto.offset.reset": "earliest",
                                           "enable.auto.commit": False})
        consumer.subscribe(["t"], on_assign=self._forget, on_revoke=self._forget)
        self.consumers.append(consumer)

    def _forget(self, consumer: Consumer, partitions: list) -> None:
        index = self.consumers.index(consumer)
        for tp in partitions:
            self.last_read.pop((index, tp.partition), None)

    def _live(self) -> list[int]:
        return [i for i, c in enumerate(self.consumers) if not c.closed_or_crashed]

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        index = data.draw(st.sampled_from(self._live()))
        self.consumers[index].close()

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        index = data.draw(st.sampled_from(self._live()))
        self.consumers[index].crash()

    @precondition(lambda self: self._live())
    @rule(data=st.data(), count=st.integers(1, 20))
    def consume(self, data: st.DataObject, count: int) -> None:
        index = data.draw(st.sampled_from(self._live()))
        consumer = self.consumers[index]
        for _ in range(count):
            message = consumer.poll(0)
            if message is None:
                break
            if message.error() is not None:
                continue
            key = (index, message.partition())
            assert message.offset() > self.last_read.get(key, -1), "a partition is read in offset order"
            self.last_read[key] = message.offset()
            self.read_values.append((message.partition(), message.offset(), message.value()))

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def commit(self, data: st.DataObject) -> None:
        consumer = self.consumers[data.draw(st.sampled_from(self._live()))]
        if consumer.assignment():
            consumer.commit(asynchronous=True)

    @precondition(lambda self: self._live())
    @rule(data=st.data(), partition=st.integers(0, PARTITIONS - 1))
    def seek_to_beginning(self, data: st.DataObject, partition: int) -> None:
        index = data.draw(st.sampled_from(self._live()))
        consumer = self.consumers[index]
        if TopicPartition("t", partition) in consumer.assignment():
            consumer.seek(TopicPartition("t", partition, OFFSET_BEGINNING))
            self.last_read.pop((index, partition), None)

    @rule(broker=st.integers(0, 2))
    def kill_broker(self, broker: int) -> None:
        if sum(self.cluster.alive.values()) > 1:
            self.cluster.kill_broker(broker)

    @rule(broker=st.integers(0, 2))
    def restart_broker(self, broker: int) -> None:
        self.cluster.restart_broker(broker)

    @invariant()
    def ledger_balances(self) -> None:
        ledger = self.cluster.ledger()
        assert ledger.client_balance == 0, ledger
        assert ledger.log_balance == 0, ledger
        assert ledger.lost == 0, ledger
        assert ledger.duplicates == 0, ledger

    @invariant()
    def acknowledged_records_have_no_gaps(self) -> None:
        for value, (partition, offset) in self.acked.items():
            record = self.cluster.partition("t", partition).log.record_at(offset)
            assert record is not None and record[0] == offset and record[2] == b"%d" % value

    @invariant()
    def one_producer_keeps_partition_order(self) -> None:
        by_partition: dict[int, list[tuple[int, int]]] = {}
        for value, (partition, offset) in sorted(self.acked.items()):
            by_partition.setdefault(partition, []).append((value, offset))
        for pairs in by_partition.values():
            offsets = [o for _, o in pairs]
            assert offsets == sorted(offsets)

    @invariant()
    def consumers_read_what_the_log_holds(self) -> None:
        for partition, offset, value in self.read_values[-20:]:
            record = self.cluster.partition("t", partition).log.record_at(offset)
            assert record is not None and record[2] == value


TestKafkaMachine = KafkaMachine.TestCase
