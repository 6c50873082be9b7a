"""A Hypothesis state machine on a FIFO queue: the ordering rules that emulators have got wrong.

Rules checked on every receive: a message of a group is delivered only when every earlier message of its group
is gone (deleted) or delivered by the same receive; a group with a message in flight delivers nothing to another
receive; duplicates (same deduplication id within 5 minutes) are never stored. After every step the ledger
balances and the queue's counts equal the model's.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mqlab.sim import Simulation
from mqlab.sqs import SQS


class FifoAgainstModel(RuleBasedStateMachine):
    @initialize(scope=st.sampled_from(["queue", "messageGroup"]))
    def setup(self, scope: str) -> None:
        self.sim = Simulation(seed=0)
        self.sqs = SQS(self.sim)
        self.client = self.sqs.client()
        self.url = self.client.create_queue(QueueName="q.fifo", Attributes={
            "FifoQueue": "true", "DeduplicationScope": scope})["QueueUrl"]
        self.scope = scope
        self.order: dict[str, list[str]] = {}  # group -> message ids in send order
        self.group_of: dict[str, str] = {}
        self.deleted: set[str] = set()
        self.in_flight: dict[str, tuple[float, str]] = {}  # message id -> (visible again at, latest handle)
        self.dedup: dict[tuple, tuple[float, str]] = {}  # key -> (sent at, message id)

    def alive_in_flight(self, message_id: str) -> bool:
        entry = self.in_flight.get(message_id)
        return entry is not None and entry[0] > self.sim.now

    @rule(group=st.sampled_from("abc"), dedup=st.sampled_from(["d1", "d2", "d3", "d4", "d5", "d6"]))
    def send(self, group: str, dedup: str) -> None:
        response = self.client.send_message(QueueUrl=self.url, MessageBody=f"{group}-{dedup}", MessageGroupId=group,
                                            MessageDeduplicationId=dedup)
        key = (dedup,) if self.scope == "queue" else (group, dedup)
        now = self.sim.now
        first = self.dedup.get(key)
        if first is not None and now < first[0] + 300:
            assert response["MessageId"] == first[1], "a duplicate within 5 minutes returns the first MessageId"
            return
        assert response["MessageId"] not in self.group_of, "a new message has a new id"
        self.dedup[key] = (now, response["MessageId"])
        self.order.setdefault(group, []).append(response["MessageId"])
        self.group_of[response["MessageId"]] = group

    @rule(n=st.integers(1, 10), vt=st.sampled_from([0, 3, 30]))
    def receive(self, n: int, vt: int) -> None:
        busy_groups = {self.group_of[m] for m in self.in_flight if self.alive_in_flight(m)}
        response = self.client.receive_message(QueueUrl=self.url, MaxNumberOfMessages=n, VisibilityTimeout=vt)
        delivered = [m["MessageId"] for m in response.get("Messages", [])]
        assert len(delivered) <= n
        for message_id in delivered:
            group = self.group_of[message_id]
            assert group not in busy_groups, f"group {group} had a message in flight"
            earlier = self.order[group][: self.order[group].index(message_id)]
            for other in earlier:
                assert other in self.deleted or other in delivered, f"{message_id} overtook {other} in {group}"
        for message in response.get("Messages", []):
            self.in_flight[message["MessageId"]] = (self.sim.now + vt, message["ReceiptHandle"])

    @rule(data=st.data())
    def delete(self, data) -> None:
        live = sorted(m for m in self.in_flight if self.alive_in_flight(m))
        if not live:
            return
        message_id = data.draw(st.sampled_from(live))
        self.client.delete_message(QueueUrl=self.url, ReceiptHandle=self.in_flight.pop(message_id)[1])
        self.deleted.add(message_id)

    @rule(data=st.data(), vt=st.sampled_from([0, 5, 60]))
    def extend(self, data, vt: int) -> None:
        live = sorted(m for m in self.in_flight if self.alive_in_flight(m))
        if not live:
            return
        message_id = data.draw(st.sampled_from(live))
        handle = self.in_flight[message_id][1]
        self.client.change_message_visibility(QueueUrl=self.url, ReceiptHandle=handle, VisibilityTimeout=vt)
        self.in_flight[message_id] = (self.sim.now + vt, handle)

    @rule(seconds=st.sampled_from([1, 3, 30, 200]))
    def advance(self, seconds: float) -> None:
        self.sim.run(until=self.sim.now + seconds)

    @invariant()
    def counts_and_ledger(self) -> None:
        self.sqs.ledger().check()
        stats = self.sqs.statistics(self.url)
        stored = sum(len(ids) for ids in self.order.values())
        in_flight = sum(1 for m in self.in_flight if self.alive_in_flight(m) and m not in self.deleted)
        assert stats.deleted == len(self.deleted)
        assert stats.in_flight == in_flight
        assert stats.visible == stored - len(self.deleted) - in_flight


TestFifoAgainstModel = FifoAgainstModel.TestCase
