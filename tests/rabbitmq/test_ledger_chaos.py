"""The ledger balances whatever happens: TTLs, length limits, dead-lettering, quorum limits, latency, restarts.

A second Hypothesis state machine, with no model of where each message should be:
only the conservation laws (the ledger's two equations) and the cross-checks
between queue counters and channel state, after every step.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mqlab.rabbitmq import PERSISTENT, AMQPError, BasicProperties, Broker
from mqlab.sim import Simulation

QUEUES = ("work", "retry", "dead")
QUEUE_ARGUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "x-message-ttl": st.sampled_from([0, 50, 200]),
        "x-max-length": st.integers(0, 3),
        "x-overflow": st.sampled_from(["drop-head", "reject-publish", "reject-publish-dlx"]),
        "x-dead-letter-exchange": st.sampled_from(["dlx", "retry-x", "missing"]),
        "x-max-priority": st.just(3),
    },
)


class LedgerUnderChaos(RuleBasedStateMachine):
    @initialize(latency=st.sampled_from([0.0, 0.01]))
    def start(self, latency: float) -> None:
        self.sim = Simulation(seed=1)
        self.broker = Broker(self.sim, latency=latency, quorum_delivery_limit=2)
        self.rng = self.sim.substream("chaos")
        self.open_channels()

    def open_channels(self) -> None:
        connection = self.broker.connect()
        self.admin = connection.channel()
        self.admin.exchange_declare("dlx", "fanout", durable=True)
        self.admin.exchange_declare("retry-x", "direct", durable=True)
        self.workers = []

    def fresh_admin(self) -> None:
        if self.admin.is_closed:
            if self.admin.connection.is_closed:
                self.open_channels()
            else:
                self.admin = self.admin.connection.channel()

    @rule(name=st.sampled_from(QUEUES), arguments=QUEUE_ARGUMENTS, quorum=st.booleans())
    def declare(self, name: str, arguments: dict, quorum: bool) -> None:
        self.fresh_admin()
        if quorum:
            arguments = {k: v for k, v in arguments.items() if k not in ("x-max-priority",)}
            if arguments.get("x-overflow") == "reject-publish-dlx":
                arguments["x-overflow"] = "reject-publish"
            arguments["x-queue-type"] = "quorum"
        try:
            self.admin.queue_declare(name, durable=quorum or self.rng.random() < 0.5, arguments=arguments)
            self.admin.queue_bind(name, "dlx")
            self.admin.queue_bind(name, "retry-x", name)
        except AMQPError:
            pass  # 406 on an inequivalent redeclare closes the channel; the ledger must not care

    @rule(name=st.sampled_from((*QUEUES, "nowhere")), count=st.integers(1, 4), persistent=st.booleans(),
          expiration=st.sampled_from([None, "0", "30"]), mandatory=st.booleans())
    def publish(self, name: str, count: int, persistent: bool, expiration: str | None, mandatory: bool) -> None:
        self.fresh_admin()
        for _ in range(count):
            properties = BasicProperties(delivery_mode=PERSISTENT if persistent else None, expiration=expiration,
                                         priority=self.rng.randrange(5))
            try:
                self.admin.basic_publish("" if self.rng.random() < 0.7 else "dlx", name, b"x" * 3, properties,
                                         mandatory=mandatory)
            except AMQPError:
                return

    @rule(name=st.sampled_from(QUEUES), prefetch=st.integers(0, 3), auto_ack=st.booleans())
    def consume(self, name: str, prefetch: int, auto_ack: bool) -> None:
        if self.admin.connection.is_closed:
            return
        channel = self.admin.connection.channel()
        rng = self.rng

        def flaky(ch, method, properties, body):
            if auto_ack:
                return
            roll = rng.random()
            if roll < 0.5:
                ch.basic_ack(method.delivery_tag)
            elif roll < 0.7:
                ch.basic_nack(method.delivery_tag, requeue=True)
            elif roll < 0.85:
                ch.basic_reject(method.delivery_tag, requeue=False)
            # else: keep it unacked

        try:
            channel.basic_qos(prefetch_count=prefetch)
            channel.basic_consume(name, flaky, auto_ack=auto_ack)
            self.workers.append(channel)
        except AMQPError:
            pass

    @rule(seconds=st.sampled_from([0.0, 0.02, 0.1, 0.5]))
    def advance(self, seconds: float) -> None:
        self.sim.run(until=self.sim.now + seconds)

    @rule(data=st.data())
    def close_a_worker(self, data) -> None:
        open_workers = [w for w in self.workers if w.is_open]
        if open_workers:
            data.draw(st.sampled_from(open_workers)).close()

    @rule(name=st.sampled_from(QUEUES))
    def get_and_settle(self, name: str) -> None:
        self.fresh_admin()
        try:
            method, _, _ = self.admin.basic_get(name)
            if method is not None:
                if self.rng.random() < 0.5:
                    self.admin.basic_ack(method.delivery_tag)
                else:
                    self.admin.basic_nack(method.delivery_tag, requeue=self.rng.random() < 0.5)
        except AMQPError:
            pass

    @rule(name=st.sampled_from(QUEUES))
    def delete_or_purge(self, name: str) -> None:
        self.fresh_admin()
        try:
            if self.rng.random() < 0.5:
                self.admin.queue_purge(name)
            else:
                self.admin.queue_delete(name)
        except AMQPError:
            pass

    @rule()
    def restart(self) -> None:
        self.broker.restart()
        self.open_channels()

    @invariant()
    def ledger_balances(self) -> None:
        if hasattr(self, "broker"):
            self.broker.ledger().check()

    @invariant()
    def counters_agree_with_channels(self) -> None:
        if not hasattr(self, "broker"):
            return
        held: dict[str, int] = {}
        for connection in self.broker._connections:
            for channel in connection._channels.values():
                if channel._broker_open:
                    for entry in channel._unacked.values():
                        if not entry.queue.deleted:
                            held[entry.queue.name] = held.get(entry.queue.name, 0) + 1
        for name in self.broker.queues:
            stats = self.broker.queue_statistics(name)
            assert stats.unacked == held.get(name, 0), name
            assert stats.ready == len(self.broker.queue(name).ready_entries()), name


TestLedgerUnderChaos = LedgerUnderChaos.TestCase
