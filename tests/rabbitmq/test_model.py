"""The broker against a tiny model, driven by Hypothesis: the ledger balances after every step.

The model knows, for each queue, its durability and the ordered list of ready
messages (publish number, persistent?), the deliveries held by channel A
(``basic_get``) and by channel B (a push consumer with prefetch 2 that never acks),
and how many messages were acked, dropped and lost. Random programs declare, bind,
publish, get, ack, nack, consume, close channels, purge, delete and restart.
"""

from __future__ import annotations

import bisect

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mqlab.rabbitmq import PERSISTENT, BasicProperties, Broker
from mqlab.sim import Simulation

NAMES = ("a", "b")
PREFETCH = 2


class BrokerAgainstModel(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.sim = Simulation(seed=0)
        self.broker = Broker(self.sim)
        self.seq = 0
        self.queues: dict[str, dict] = {}      # name -> {"durable": bool, "ready": [(seq, persistent)]}
        self.fanout: list[str] = []            # queues bound to the durable fanout exchange "fan"
        self.held_a: dict[int, tuple[str, int, bool]] = {}
        self.held_b: list[tuple[str, int, bool]] = []
        self.b_queue: str | None = None
        self.acked = 0
        self.connect()
        self.a.exchange_declare("fan", "fanout", durable=True)
        self.declare("a", durable=True)

    def connect(self) -> None:
        connection = self.broker.connect()
        self.a = connection.channel()
        self.b = connection.channel()
        self.b.basic_qos(prefetch_count=PREFETCH)
        self.b_queue = None

    # -- model helpers ----------------------------------------------------------------------
    def requeue(self, queue: str, seq: int, persistent: bool) -> None:
        if queue in self.queues:
            ready = self.queues[queue]["ready"]
            bisect.insort(ready, (seq, persistent))

    def dispatch_b(self) -> None:
        queue = self.b_queue
        if queue is None or queue not in self.queues:
            return
        ready = self.queues[queue]["ready"]
        while ready and sum(1 for q, _, _ in self.held_b if q == queue) < PREFETCH:
            seq, persistent = ready.pop(0)
            self.held_b.append((queue, seq, persistent))

    def settle(self) -> None:
        self.dispatch_b()
        self.sim.run()

    # -- rules --------------------------------------------------------------------------------
    @rule(name=st.sampled_from(NAMES), durable=st.booleans())
    def declare(self, name: str, durable: bool) -> None:
        if name in self.queues:
            durable = self.queues[name]["durable"]
        else:
            self.queues[name] = {"durable": durable, "ready": []}
        ok = self.a.queue_declare(name, durable=durable).method
        assert ok.message_count == len(self.queues[name]["ready"])

    @rule(name=st.sampled_from(NAMES))
    def bind(self, name: str) -> None:
        if name not in self.queues:
            return
        self.a.queue_bind(name, "fan")
        if name not in self.fanout:
            self.fanout.append(name)

    @rule(via_fanout=st.booleans(), name=st.sampled_from(NAMES), persistent=st.booleans())
    def publish(self, via_fanout: bool, name: str, persistent: bool) -> None:
        self.seq += 1
        properties = BasicProperties(delivery_mode=PERSISTENT) if persistent else None
        if via_fanout:
            self.a.basic_publish("fan", "", str(self.seq).encode(), properties)
            targets = [q for q in self.fanout if q in self.queues]
        else:
            self.a.basic_publish("", name, str(self.seq).encode(), properties)
            targets = [name] if name in self.queues else []
        for queue in targets:
            self.queues[queue]["ready"].append((self.seq, persistent))
        self.settle()

    @rule(name=st.sampled_from(NAMES), count=st.integers(2, 4), persistent=st.booleans())
    def publish_batch(self, name: str, count: int, persistent: bool) -> None:
        for _ in range(count):
            self.publish(False, name, persistent)

    @rule(name=st.sampled_from(NAMES), count=st.integers(1, 3))
    def get_several(self, name: str, count: int) -> None:
        for _ in range(count):
            self.get(name)

    @rule(name=st.sampled_from(NAMES))
    def get(self, name: str) -> None:
        if name not in self.queues:
            return
        method, _, body = self.a.basic_get(name)
        ready = self.queues[name]["ready"]
        if not ready:
            assert method is None
            return
        seq, persistent = ready.pop(0)
        assert body == str(seq).encode()
        assert method.redelivered == (method.redelivered and True)
        self.held_a[method.delivery_tag] = (name, seq, persistent)

    @precondition(lambda self: self.held_a)
    @rule(data=st.data(), outcome=st.sampled_from(["ack", "requeue", "drop"]))
    def settle_a(self, data, outcome: str) -> None:
        tag = data.draw(st.sampled_from(sorted(self.held_a)))
        queue, seq, persistent = self.held_a.pop(tag)
        if outcome == "ack":
            self.a.basic_ack(tag)
            self.acked += 1
        elif outcome == "requeue":
            self.a.basic_nack(tag, requeue=True)
            self.requeue(queue, seq, persistent)
        else:
            self.a.basic_reject(tag, requeue=False)
        self.settle()

    @precondition(lambda self: self.b_queue is None)
    @rule(name=st.sampled_from(NAMES))
    def hold_with_consumer(self, name: str) -> None:
        if name not in self.queues:
            return
        self.b.basic_consume(name, lambda *args: None)
        self.b_queue = name
        self.settle()

    @rule()
    def close_b(self) -> None:
        self.b.close()
        for queue, seq, persistent in self.held_b:
            self.requeue(queue, seq, persistent)
        self.held_b = []
        self.b = self.a.connection.channel()
        self.b.basic_qos(prefetch_count=PREFETCH)
        self.b_queue = None
        self.settle()

    @rule(name=st.sampled_from(NAMES))
    def consume_everything(self, name: str) -> None:
        if name not in self.queues:
            return
        channel = self.a.connection.channel()

        def ack(ch, method, properties, body):
            ch.basic_ack(method.delivery_tag)

        channel.basic_consume(name, ack)
        self.sim.run()
        self.acked += len(self.queues[name]["ready"])
        self.queues[name]["ready"] = []
        channel.close()

    @rule(name=st.sampled_from(NAMES))
    def purge(self, name: str) -> None:
        if name not in self.queues:
            return
        count = self.a.queue_purge(name).method.message_count
        assert count == len(self.queues[name]["ready"])
        self.queues[name]["ready"] = []

    @rule(name=st.sampled_from(NAMES))
    def delete(self, name: str) -> None:
        self.a.queue_delete(name)
        self.queues.pop(name, None)
        self.fanout = [q for q in self.fanout if q != name]
        self.held_a = {t: h for t, h in self.held_a.items() if h[0] != name}
        self.held_b = [h for h in self.held_b if h[0] != name]
        if self.b_queue == name:
            self.b_queue = None

    @rule()
    def restart(self) -> None:
        self.broker.restart()
        for queue, seq, persistent in list(self.held_a.values()) + self.held_b:
            self.requeue(queue, seq, persistent)
        self.held_a = {}
        self.held_b = []
        for name in list(self.queues):
            if not self.queues[name]["durable"]:
                del self.queues[name]
            else:
                self.queues[name]["ready"] = [m for m in self.queues[name]["ready"] if m[1]]
        self.fanout = [q for q in self.fanout if q in self.queues]
        self.connect()

    # -- invariants -----------------------------------------------------------------------------
    @invariant()
    def ledger_balances(self) -> None:
        if not hasattr(self, "broker"):
            return
        ledger = self.broker.ledger().check()
        assert ledger.acked == self.acked

    @invariant()
    def queues_match_the_model(self) -> None:
        if not hasattr(self, "broker"):
            return
        assert sorted(self.broker.queues) == sorted(self.queues)
        for name, model in self.queues.items():
            stats = self.broker.queue_statistics(name)
            held = sum(1 for q, _, _ in self.held_a.values() if q == name)
            held += sum(1 for q, _, _ in self.held_b if q == name)
            assert (stats.ready, stats.unacked) == (len(model["ready"]), held), name
            entries = [int(e.message.body) for e in self.broker.queue(name).ready_entries()]
            assert entries == [seq for seq, _ in model["ready"]], name


TestBrokerAgainstModel = BrokerAgainstModel.TestCase
