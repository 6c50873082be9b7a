"""SQS: redrive to a DLQ after maxReceiveCount, visibility backoff, delayed-copy retries, and DLQ replay."""

from __future__ import annotations

import itertools
import json

import pytest

from mqlab.faults import InvalidParameter, PoisonPredicate
from mqlab.faults.sqs import SQSPublisher
from mqlab.faults.sqs_worker import SQSWorker
from mqlab.patterns import EffectAuditor, IdempotentConsumer, RetryPolicy
from mqlab.patterns.sqs_dlq import create_with_dlq, resend_with_delay, sqs_replayer
from mqlab.sim import Simulation
from mqlab.sqs import SQS


class Orders:
    """Ten orders on a queue with a redrive policy; ids in ``poison`` fail until ``fixed``."""

    def __init__(self, poison: tuple[int, ...] = (3, 7), max_receive_count: int = 3,
                 on_error: str = "release") -> None:
        self.sim = Simulation(seed=0)
        self.service = SQS(self.sim, duplicate_probability=0.0)
        self.client = self.service.client()
        self.url, self.dlq_url = create_with_dlq(self.client, "orders", max_receive_count=max_receive_count,
                                                 visibility_timeout=5)
        self.poison = PoisonPredicate.ids(*poison)
        self.fixed = False
        self.audit = EffectAuditor(range(10))
        self.idempotent = IdempotentConsumer(lambda m, b: self.audit.effect(m))
        self.worker = SQSWorker(self.client, self.url, self.handle, on_error=on_error,
                                retry=RetryPolicy(base=2.0, cap=60.0, jitter="full"))
        publisher = SQSPublisher(self.client, self.url)
        for i in range(10):
            publisher.publish(i, "{}")
        self.sim.run(until=200)

    def handle(self, message_id: int, body: str) -> None:
        if not self.fixed:
            self.poison.check(message_id, body)
        self.idempotent(message_id, body)


def test_redrive_moves_a_message_after_max_receive_count_receives():
    """With maxReceiveCount=3 a poison message is received 3 times, then SQS moves it to the DLQ; the DLQ
    record names the source queue (DeadLetterQueueSourceArn) and the receives."""
    run = Orders()
    assert run.poison.hits == 6
    replayer = sqs_replayer(run.client, run.dlq_url, errors=run.worker.last_errors(kind_only=True))
    assert [(d.message_id, d.reason, d.origin, d.attempts, d.error) for d in replayer.list()] == [
        (3, "maxReceiveCount", "orders", 3, "PoisonMessage"), (7, "maxReceiveCount", "orders", 3, "PoisonMessage")]
    policy = json.loads(run.client.get_queue_attributes(QueueUrl=run.url, AttributeNames=["RedrivePolicy"])
                        ["Attributes"]["RedrivePolicy"])
    assert policy["maxReceiveCount"] in ("3", 3)
    assert run.service.ledger().balanced


def test_sqs_replay_moves_filtered_messages_back_at_the_rate():
    """Replaying only message 7 at 4/s moves exactly that one to 'orders' and deletes it from the DLQ; after the
    fix it is processed once; message 3 stays in the DLQ."""
    run = Orders()
    run.fixed = True
    replayer = sqs_replayer(run.client, run.dlq_url)
    job = replayer.replay(lambda d: d.message_id == 7, rate=4.0)
    run.sim.run(until=job.done)
    report = job.done.value
    assert report.replayed_ids == (7,) and report.remaining_in_dlq == 1
    run.sim.run(until=run.sim.now + 30)
    assert run.audit.count(7) == 1 and run.audit.count(3) == 0
    assert [d.message_id for d in replayer.list()] == [3]
    assert run.service.ledger().balanced


def test_sqs_replay_respects_the_rate_limit():
    """Three dead messages replayed at 1/s take 2 s between the first and the last publish (rate in virtual time)."""
    run = Orders(poison=(1, 2, 3))
    replayer = sqs_replayer(run.client, run.dlq_url)
    starts: list[float] = []
    original = replayer.publish

    def timed(destination, letter):
        starts.append(run.sim.now)
        return original(destination, letter)

    replayer.publish = timed
    job = replayer.replay(rate=1.0)
    run.sim.run(until=job.done)
    assert [b - a for a, b in itertools.pairwise(starts)] == [1.0, 1.0]


def test_visibility_backoff_grows_with_the_receive_count():
    """on_error='backoff' sets a visibility timeout from the policy for each receive: full jitter below the
    exponential ceiling, so later retries may wait longer."""
    run = Orders(poison=(5,), max_receive_count=5, on_error="backoff")
    backoffs = [(count, seconds) for message_id, count, seconds in run.worker.backoffs if message_id == 5]
    assert [count for count, _ in backoffs] == [1, 2, 3, 4, 5]
    for count, seconds in backoffs:
        assert 0 <= seconds <= RetryPolicy(base=2.0, cap=60.0).ceiling(count) + 1


def test_resend_with_delay_counts_attempts_itself():
    """A delayed copy is a new message (receive count 1 again): the attempt travels in a message attribute and
    the copy becomes visible only after DelaySeconds."""
    sim = Simulation(seed=1)
    client = SQS(sim, duplicate_probability=0.0).client()
    url = client.create_queue(QueueName="q")["QueueUrl"]
    SQSPublisher(client, url).publish("a", "x")
    message = client.receive_message(QueueUrl=url, WaitTimeSeconds=20, MessageAttributeNames=["All"])["Messages"][0]
    delay = resend_with_delay(client, url, message, 3, RetryPolicy(base=10.0, cap=900.0, jitter="none"), sim.rng)
    assert delay == 40
    assert "Messages" not in client.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    sim.run(until=41)
    again = client.receive_message(QueueUrl=url, WaitTimeSeconds=20, MessageAttributeNames=["All"])["Messages"][0]
    assert again["MessageAttributes"]["attempt"]["StringValue"] == "4"


def test_max_receive_count_is_checked():
    """maxReceiveCount outside 1..1000 is refused with the range named."""
    client = SQS(Simulation()).client()
    with pytest.raises(InvalidParameter, match=r"1\.\.1000"):
        create_with_dlq(client, "q", max_receive_count=1001)
