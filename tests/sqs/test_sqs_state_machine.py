"""A Hypothesis state machine drives a standard queue with a DLQ and checks it against a tiny model.

Operations: send, receive (from the queue and from its DLQ), delete (with the latest or an older handle),
change visibility, advance time, redrive (by receiving past maxReceiveCount) and move back (a move task).
After every step: the ledger balances and the queue's counts equal the model's.
"""

from __future__ import annotations

import json

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mqlab.sim import Simulation
from mqlab.sqs import SQS

RETENTION = 120
MAX_RECEIVES = 2


class Model:
    """What the model knows of one message in one queue."""

    def __init__(self, queue: str, message_id: str, enqueued: float, now: float, count: int = 0) -> None:
        self.queue = queue
        self.message_id = message_id
        self.enqueued = enqueued
        self.visible_at = now
        self.count = count
        self.place = "live"
        self.handles: list[str] = []

    def expired(self, now: float) -> bool:
        return now >= self.enqueued + RETENTION

    def visible(self, now: float) -> bool:
        return self.place == "live" and not self.expired(now) and self.visible_at <= now

    def in_flight(self, now: float) -> bool:
        return self.place == "live" and not self.expired(now) and self.visible_at > now


class QueueAgainstModel(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.sim = Simulation(seed=0, trace=True)
        self.sqs = SQS(self.sim, duplicate_probability=0.0, reorder_probability=0.0, short_poll_sample=1.0)
        self.client = self.sqs.client()
        attributes = {"MessageRetentionPeriod": str(RETENTION)}
        self.dlq = self.client.create_queue(QueueName="dlq", Attributes=attributes)["QueueUrl"]
        self.dlq_arn = "arn:aws:sqs:us-east-1:123456789012:dlq"
        policy = json.dumps({"deadLetterTargetArn": self.dlq_arn, "maxReceiveCount": MAX_RECEIVES})
        self.src = self.client.create_queue(QueueName="src", Attributes={**attributes, "RedrivePolicy": policy})[
            "QueueUrl"]
        self.messages: dict[tuple[str, str], Model] = {}
        self.seen_trace = len(self.sim.trace)
        self.sent = 0

    # -- helpers ---------------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.sim.now

    def url(self, queue: str) -> str:
        return self.src if queue == "src" else self.dlq

    def absorb_trace(self) -> None:
        """Apply the moves the service reported (to the DLQ, and back by move tasks), checking their rules."""
        records = self.sim.trace.records[self.seen_trace:]
        self.seen_trace = len(self.sim.trace)
        for record in records:
            if record.action in ("moved_to_dlq", "moved_back", "expired", "stale_delete"):
                event(record.action)
            if record.action == "moved_to_dlq":
                old = self.messages[("src", record.details["message_id"])]
                assert old.visible(record.time), "only a visible message can be redriven"
                assert old.count == MAX_RECEIVES, "redrive happens when the count already equals maxReceiveCount"
                old.place = "moved"
                new = Model("dlq", old.message_id, old.enqueued, record.time, old.count)
                self.messages[("dlq", new.message_id)] = new
            elif record.action == "moved_back":
                old = self.messages[("dlq", record.details["message_id"])]
                assert old.visible(record.time)
                old.place = "moved"
                new = Model("src", record.details["new_message_id"], record.time, record.time)
                self.messages[("src", new.message_id)] = new

    def count(self, queue: str, test) -> int:
        return sum(1 for m in self.messages.values() if m.queue == queue and test(m))

    # -- rules ---------------------------------------------------------------------------------------------
    @rule(body=st.text(alphabet="abc", min_size=1, max_size=3))
    def send(self, body: str) -> None:
        message_id = self.client.send_message(QueueUrl=self.src, MessageBody=body)["MessageId"]
        self.messages[("src", message_id)] = Model("src", message_id, self.now, self.now)
        self.sent += 1

    @rule(queue=st.sampled_from(["src", "dlq"]), n=st.integers(1, 10), vt=st.sampled_from([0, 1, 5, 30]))
    def receive(self, queue: str, n: int, vt: int) -> None:
        now = self.now
        response = self.client.receive_message(QueueUrl=self.url(queue), MaxNumberOfMessages=n, VisibilityTimeout=vt,
                                               AttributeNames=["ApproximateReceiveCount"])
        self.absorb_trace()
        returned = response.get("Messages", [])
        assert len(returned) <= n
        for message in returned:
            model = self.messages[(queue, message["MessageId"])]
            assert model.visible(now), f"{message['MessageId']} was not receivable"
            assert int(message["Attributes"]["ApproximateReceiveCount"]) == model.count + 1
            model.count += 1
            model.visible_at = now + vt
            model.handles.append(message["ReceiptHandle"])
            if queue == "src":
                assert model.count <= MAX_RECEIVES
        if len(returned) < n:
            returned_ids = {m["MessageId"] for m in returned}
            leftover = [m.message_id for m in self.messages.values()
                        if m.queue == queue and m.visible(now) and m.message_id not in returned_ids]
            assert not leftover, f"an exact queue returns everything receivable up to n; left {leftover}"

    @rule(data=st.data(), latest=st.booleans())
    def delete(self, data, latest: bool) -> None:
        candidates = [m for m in self.messages.values() if m.handles]
        if not candidates:
            return
        model = data.draw(st.sampled_from(candidates))
        handle = model.handles[-1] if latest else data.draw(st.sampled_from(model.handles))
        self.client.delete_message(QueueUrl=self.url(model.queue), ReceiptHandle=handle)
        if handle == model.handles[-1] and model.place == "live" and not model.expired(self.now):
            model.place = "deleted"

    @rule(data=st.data(), vt=st.integers(0, 60))
    def change_visibility(self, data, vt: int) -> None:
        candidates = [m for m in self.messages.values() if m.handles and m.in_flight(self.now)]
        if not candidates:
            return
        model = data.draw(st.sampled_from(candidates))
        self.client.change_message_visibility(QueueUrl=self.url(model.queue), ReceiptHandle=model.handles[-1],
                                              VisibilityTimeout=vt)
        model.visible_at = self.now + vt

    @rule(seconds=st.sampled_from([0.5, 1, 5, 30, 120]))
    def advance(self, seconds: float) -> None:
        self.sim.run(until=self.now + seconds)
        self.absorb_trace()

    @rule()
    def redrive(self) -> None:
        """A consumer that keeps failing: receive everything with VisibilityTimeout=0, MAX_RECEIVES + 1 times."""
        for _ in range(MAX_RECEIVES + 1):
            self.receive("src", 10, 0)

    @rule(rate=st.integers(1, 5))
    def move_back(self, rate: int) -> None:
        tasks = self.client.list_message_move_tasks(SourceArn=self.dlq_arn)["Results"]
        if (tasks and tasks[0]["Status"] in ("RUNNING", "CANCELLING")) or self.sqs.statistics(self.dlq).visible == 0:
            return
        self.client.start_message_move_task(SourceArn=self.dlq_arn, MaxNumberOfMessagesPerSecond=rate)
        event("move task started")
        self.advance(1)

    # -- invariants ----------------------------------------------------------------------------------------
    @invariant()
    def ledger_balances(self) -> None:
        ledger = self.sqs.ledger()
        ledger.check()
        assert ledger.total("sent") == self.sent

    @invariant()
    def counts_match_the_model(self) -> None:
        self.absorb_trace()
        now = self.now
        for queue in ("src", "dlq"):
            stats = self.sqs.statistics(self.url(queue))
            assert stats.visible == self.count(queue, lambda m: m.visible(now)), queue
            assert stats.in_flight == self.count(queue, lambda m: m.in_flight(now)), queue
            assert stats.deleted == self.count(queue, lambda m: m.place == "deleted"), queue
            assert stats.expired == self.count(queue, lambda m: m.place == "live" and m.expired(now)), queue


TestQueueAgainstModel = QueueAgainstModel.TestCase
