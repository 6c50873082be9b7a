"""The ledger accounts for every message; the trace names every state change with its MessageId."""

from __future__ import annotations

import json

import pytest

from mqlab.sqs import LedgerImbalance, OverLimit, limits
from mqlab.sqs.ledger import QueueLedger, ServiceLedger

TRACED_ACTIONS = ("sent", "deduplicated", "received", "visibility_changed", "visible_again", "deleted",
                  "moved_to_dlq", "moved_back", "expired", "purged")


def test_every_place_of_the_ledger(sim, client, sqs):
    """Messages in every place (delayed, visible, in flight, deleted, DLQ, moved back, expired, purged, lost with
    a deleted queue, deduplicated) are all counted, and the ledger balances."""
    dlq = client.create_queue(QueueName="dlq")["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = client.create_queue(QueueName="src", Attributes={
        "MessageRetentionPeriod": "60",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})})["QueueUrl"]
    for i in range(4):
        client.send_message(QueueUrl=src, MessageBody=f"m{i}")
    client.receive_message(QueueUrl=src, MaxNumberOfMessages=2, VisibilityTimeout=1)
    sim.run(until=1)
    client.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=100)  # 2 to the DLQ, 2 in flight
    client.start_message_move_task(SourceArn=arn, MaxNumberOfMessagesPerSecond=1)
    sim.run(until=200)  # both moved back (t=1, t=2); then all four in src expire by retention
    other = client.create_queue(QueueName="other")["QueueUrl"]
    client.send_message(QueueUrl=other, MessageBody="p")
    client.purge_queue(QueueUrl=other)
    gone = client.create_queue(QueueName="gone")["QueueUrl"]
    client.send_message(QueueUrl=gone, MessageBody="lost")
    client.delete_queue(QueueUrl=gone)
    fifo = client.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for _ in range(2):
        client.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d")
    client.send_message(QueueUrl=fifo, MessageBody="y", MessageGroupId="g", MessageDeduplicationId="e")
    handle = client.receive_message(QueueUrl=fifo)["Messages"][0]["ReceiptHandle"]
    client.delete_message(QueueUrl=fifo, ReceiptHandle=handle)
    delayed = client.create_queue(QueueName="later", Attributes={"DelaySeconds": "900"})["QueueUrl"]
    client.send_message(QueueUrl=delayed, MessageBody="d")

    ledger = sqs.ledger()
    ledger.check()
    assert ledger.balanced
    by_name = {q.queue: q for q in ledger.queues}
    assert (by_name["src"].moved_to_dlq, by_name["src"].expired, by_name["src"].moved_in) == (2, 4, 2)
    assert (by_name["dlq"].redriven_in, by_name["dlq"].moved_out, by_name["dlq"].visible) == (2, 2, 0)
    assert by_name["other"].purged == 1
    assert by_name["gone (deleted)"].queue_deleted == 1
    assert (by_name["f.fifo"].deduplicated, by_name["f.fifo"].deleted, by_name["f.fifo"].visible) == (1, 1, 1)
    assert by_name["later"].delayed == 1
    assert ledger.total("sent") == 4 + 1 + 1 + 2 + 1


def test_an_imbalance_is_reported_naming_the_queue():
    """check() names the queue whose counts do not add up."""
    broken = QueueLedger("q", sent=2, deduplicated=0, redriven_in=0, moved_in=0, delayed=0, visible=1, in_flight=0,
                         deleted=0, moved_to_dlq=0, moved_out=0, expired=0, purged=0, queue_deleted=0)
    with pytest.raises(LedgerImbalance, match="queue 'q': 2 messages came in"):
        ServiceLedger((broken,)).check()


def test_trace_names_every_state_change_with_the_message_id(sim, client):
    """Each documented trace action appears, and each carries the MessageId."""
    dlq = client.create_queue(QueueName="dlq")["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})
    src = client.create_queue(QueueName="src", Attributes={"MessageRetentionPeriod": "100", "RedrivePolicy": policy})[
        "QueueUrl"]
    client.send_message(QueueUrl=src, MessageBody="a")
    handle = client.receive_message(QueueUrl=src)["Messages"][0]["ReceiptHandle"]
    client.change_message_visibility(QueueUrl=src, ReceiptHandle=handle, VisibilityTimeout=1)
    sim.run(until=1)
    client.receive_message(QueueUrl=src)  # moved to the DLQ
    client.start_message_move_task(SourceArn=arn)
    sim.run(until=2)
    client.send_message(QueueUrl=src, MessageBody="b")
    handle = client.receive_message(QueueUrl=src, MaxNumberOfMessages=10)["Messages"][0]["ReceiptHandle"]
    client.delete_message(QueueUrl=src, ReceiptHandle=handle)
    sim.run(until=200)  # the moved-back message expires
    client.send_message(QueueUrl=src, MessageBody="c")
    client.purge_queue(QueueUrl=src)
    fifo = client.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for _ in range(2):
        client.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d")
    for action in TRACED_ACTIONS:
        records = sim.trace.select(action=action)
        assert records, f"no {action!r} record"
        assert all("message_id" in r.details for r in records), action


def test_standard_in_flight_limit_is_over_limit(client, url, monkeypatch):
    """At the in-flight limit a standard queue's receive fails with OverLimit."""
    monkeypatch.setattr(limits, "MAX_IN_FLIGHT_STANDARD", 2)
    for i in range(3):
        client.send_message(QueueUrl=url, MessageBody=str(i))
    client.receive_message(QueueUrl=url, MaxNumberOfMessages=2)
    with pytest.raises(OverLimit) as caught:
        client.receive_message(QueueUrl=url)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_fifo_in_flight_limit_returns_nothing(client, fifo_url, monkeypatch):
    """At the in-flight limit a FIFO queue returns no messages and no error (AWS: 'returns no error messages')."""
    monkeypatch.setattr(limits, "MAX_IN_FLIGHT_FIFO", 1)
    for group in ("a", "b"):
        client.send_message(QueueUrl=fifo_url, MessageBody=group, MessageGroupId=group, MessageDeduplicationId=group)
    assert len(client.receive_message(QueueUrl=fifo_url)["Messages"]) == 1
    assert "Messages" not in client.receive_message(QueueUrl=fifo_url)
