"""FIFO queues: strict order per group, group blocking, deduplication, sequence numbers, receive attempts."""

from __future__ import annotations

import hashlib

import pytest

from mqlab.sqs import InvalidParameterValue, MissingParameter


def bodies(response):
    return [m["Body"] for m in response.get("Messages", [])]


def send(client, url, body, group="g", dedup=None):
    return client.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group,
                               MessageDeduplicationId=dedup or body)


def test_order_within_a_group_is_strict(client, fifo_url):
    """Messages of one group come out in send order, several per receive when asked."""
    for i in range(5):
        send(client, fifo_url, f"m{i}")
    assert bodies(client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=3)) == ["m0", "m1", "m2"]


def test_group_is_blocked_while_a_message_is_in_flight(sim, client, fifo_url):
    """Given m0 in flight, when another consumer receives, then nothing of that group comes back until m0's
    timeout ends; then m0 comes back first."""
    send(client, fifo_url, "m0")
    send(client, fifo_url, "m1")
    assert bodies(client.receive_message(QueueUrl=fifo_url, VisibilityTimeout=10)) == ["m0"]
    assert "Messages" not in client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)
    sim.run(until=10)
    assert bodies(client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)) == ["m0", "m1"]


def test_extending_an_earlier_message_keeps_the_group_blocked(sim, client, fifo_url, sqs):
    """While the visibility of m0 is extended, m1 stays undeliverable, past m0's first timeout."""
    send(client, fifo_url, "m0")
    send(client, fifo_url, "m1")
    handle = client.receive_message(QueueUrl=fifo_url, VisibilityTimeout=10)["Messages"][0]["ReceiptHandle"]
    sim.run(until=9)
    client.change_message_visibility(QueueUrl=fifo_url, ReceiptHandle=handle, VisibilityTimeout=30)
    sim.run(until=38)
    assert "Messages" not in client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)
    assert sqs.statistics(fifo_url).blocked_groups == 1
    client.delete_message(QueueUrl=fifo_url, ReceiptHandle=handle)
    assert bodies(client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)) == ["m1"]


def test_other_groups_proceed_while_one_is_blocked(client, fifo_url):
    """A blocked group does not hold back other groups; each still comes out in its own order."""
    send(client, fifo_url, "a0", group="a")
    send(client, fifo_url, "a1", group="a")
    send(client, fifo_url, "b0", group="b")
    send(client, fifo_url, "b1", group="b")
    assert bodies(client.receive_message(QueueUrl=fifo_url)) == ["a0"]
    assert bodies(client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)) == ["b0", "b1"]
    assert "Messages" not in client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)


def test_receive_fills_from_the_oldest_group_first(client, fifo_url):
    """A receive takes as many as it can from the group with the oldest message, then the next group."""
    send(client, fifo_url, "a0", group="a")
    send(client, fifo_url, "b0", group="b")
    send(client, fifo_url, "a1", group="a")
    assert bodies(client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)) == ["a0", "a1", "b0"]


def test_deleting_the_in_flight_message_unblocks_the_group(client, fifo_url):
    """Deleting m0 lets m1 be received at once."""
    send(client, fifo_url, "m0")
    send(client, fifo_url, "m1")
    handle = client.receive_message(QueueUrl=fifo_url)["Messages"][0]["ReceiptHandle"]
    client.delete_message(QueueUrl=fifo_url, ReceiptHandle=handle)
    assert bodies(client.receive_message(QueueUrl=fifo_url)) == ["m1"]


def test_deduplication_by_id_within_five_minutes(sim, client, fifo_url, sqs):
    """A second send with the same MessageDeduplicationId within 300 s is accepted, not stored, and answered
    with the first copy's MessageId; after 300 s the id is new again."""
    first = send(client, fifo_url, "a", dedup="d1")
    sim.run(until=299)
    again = send(client, fifo_url, "b", dedup="d1")
    assert again["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]
    assert sqs.statistics(fifo_url).deduplicated == 1
    assert len(sim.trace.select(action="deduplicated")) == 1
    sim.run(until=300)
    third = send(client, fifo_url, "c", dedup="d1")
    assert third["MessageId"] != first["MessageId"]
    assert bodies(client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)) == ["a", "c"]
    sqs.ledger().check()


def test_dedup_window_outlives_the_message(client, fifo_url):
    """Deleting a message does not forget its deduplication id (SQS keeps tracking it)."""
    send(client, fifo_url, "a", dedup="d")
    handle = client.receive_message(QueueUrl=fifo_url)["Messages"][0]["ReceiptHandle"]
    client.delete_message(QueueUrl=fifo_url, ReceiptHandle=handle)
    send(client, fifo_url, "a-again", dedup="d")
    assert "Messages" not in client.receive_message(QueueUrl=fifo_url)


def test_window_is_not_extended_by_duplicates(sim, client, fifo_url):
    """The 5 minutes count from the first accepted send, not from the latest duplicate."""
    send(client, fifo_url, "a", dedup="d")
    sim.run(until=200)
    send(client, fifo_url, "dup", dedup="d")
    sim.run(until=300)
    assert send(client, fifo_url, "new", dedup="d")["MessageId"]
    assert len(client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)["Messages"]) == 2


def test_content_based_deduplication_uses_sha256_of_the_body(client):
    """With ContentBasedDeduplication the id is the SHA-256 of the body; an explicit id still wins."""
    url = client.create_queue(QueueName="c.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    first = client.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert client.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")["MessageId"] == first["MessageId"]
    digest = hashlib.sha256(b"same").hexdigest()
    assert client.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="g",
                               MessageDeduplicationId=digest)["MessageId"] == first["MessageId"]
    explicit = client.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="x")
    assert explicit["MessageId"] != first["MessageId"]
    attributes = client.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]["Attributes"]
    assert attributes["MessageDeduplicationId"] == digest


def test_deduplication_scope_queue_versus_message_group(client):
    """With DeduplicationScope=messageGroup the same id in two groups is two messages; with queue scope, one."""
    group_scope = client.create_queue(QueueName="g.fifo", Attributes={
        "FifoQueue": "true", "DeduplicationScope": "messageGroup"})["QueueUrl"]
    queue_scope = client.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for url in (group_scope, queue_scope):
        send(client, url, "x", group="a", dedup="same")
        send(client, url, "y", group="b", dedup="same")
    assert bodies(client.receive_message(QueueUrl=group_scope, MaxNumberOfMessages=10)) == ["x", "y"]
    assert bodies(client.receive_message(QueueUrl=queue_scope, MaxNumberOfMessages=10)) == ["x"]


def test_sequence_numbers_increase(client, fifo_url):
    """SequenceNumber is returned on send and as an attribute, and grows with send order."""
    numbers = [int(send(client, fifo_url, f"m{i}")["SequenceNumber"]) for i in range(5)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    assert all(len(str(n)) == 20 for n in numbers)
    attributes = client.receive_message(QueueUrl=fifo_url, AttributeNames=["SequenceNumber"])["Messages"][0]
    assert attributes["Attributes"]["SequenceNumber"] == str(numbers[0])


def test_fifo_parameter_rules(client, fifo_url):
    """FIFO sends need MessageGroupId, a dedup id (or content-based dedup), and take no per-message delay."""
    with pytest.raises(MissingParameter, match="must contain the parameter MessageGroupId"):
        client.send_message(QueueUrl=fifo_url, MessageBody="m", MessageDeduplicationId="d")
    with pytest.raises(InvalidParameterValue, match="ContentBasedDeduplication enabled or MessageDeduplicationId"):
        client.send_message(QueueUrl=fifo_url, MessageBody="m", MessageGroupId="g")
    with pytest.raises(InvalidParameterValue, match="not valid for this queue type"):
        client.send_message(QueueUrl=fifo_url, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="d",
                            DelaySeconds=5)
    with pytest.raises(InvalidParameterValue, match="MessageGroupId can only include"):
        client.send_message(QueueUrl=fifo_url, MessageBody="m", MessageGroupId="é", MessageDeduplicationId="d")
    with pytest.raises(InvalidParameterValue, match="1 to 128 in length"):
        client.send_message(QueueUrl=fifo_url, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="d" * 129)


def test_queue_level_delay_applies_to_fifo(sim, client):
    """A FIFO queue's DelaySeconds delays every message, in order."""
    url = client.create_queue(QueueName="d.fifo", Attributes={"FifoQueue": "true", "DelaySeconds": "5"})["QueueUrl"]
    send(client, url, "m0")
    assert "Messages" not in client.receive_message(QueueUrl=url)
    sim.run(until=5)
    assert bodies(client.receive_message(QueueUrl=url)) == ["m0"]


def test_receive_request_attempt_id_retry_returns_the_same_messages(sim, client, fifo_url):
    """Retrying with the same ReceiveRequestAttemptId returns the same messages and handles and resets their
    visibility timeout; the receive count does not grow."""
    for i in range(3):
        send(client, fifo_url, f"m{i}")
    first = client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1",
                                   VisibilityTimeout=10, AttributeNames=["ApproximateReceiveCount"])
    sim.run(until=8)
    retry = client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1",
                                   VisibilityTimeout=10, AttributeNames=["ApproximateReceiveCount"])
    assert retry["Messages"] == first["Messages"]
    sim.run(until=15)  # past the first timeout, inside the reset one
    assert "Messages" not in client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)
    sim.run(until=18)
    assert bodies(client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)) == ["m0", "m1", "m2"]


def test_receive_attempt_after_a_change_is_a_fresh_receive(client, fifo_url):
    """Once a message of the earlier receive was deleted, the same attempt id no longer repeats it."""
    send(client, fifo_url, "m0")
    send(client, fifo_url, "m1")
    first = client.receive_message(QueueUrl=fifo_url, ReceiveRequestAttemptId="a")
    client.delete_message(QueueUrl=fifo_url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
    assert bodies(client.receive_message(QueueUrl=fifo_url, ReceiveRequestAttemptId="a")) == ["m1"]


def test_expired_fifo_receipt_handle_is_refused(sim, client, fifo_url, sqs):
    """On FIFO queues a handle whose visibility ended cannot delete: InvalidParameterValue, handle expired."""
    send(client, fifo_url, "m0")
    handle = client.receive_message(QueueUrl=fifo_url, VisibilityTimeout=5)["Messages"][0]["ReceiptHandle"]
    sim.run(until=5)
    with pytest.raises(InvalidParameterValue, match="The receipt handle has expired"):
        client.delete_message(QueueUrl=fifo_url, ReceiptHandle=handle)
    with pytest.raises(InvalidParameterValue, match="The receipt handle has expired"):
        client.change_message_visibility(QueueUrl=fifo_url, ReceiptHandle=handle, VisibilityTimeout=5)
    newer = client.receive_message(QueueUrl=fifo_url)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(InvalidParameterValue, match="The receipt handle has expired"):
        client.delete_message(QueueUrl=fifo_url, ReceiptHandle=handle)
    client.delete_message(QueueUrl=fifo_url, ReceiptHandle=newer)
    assert sqs.statistics(fifo_url).deleted == 1


def test_fifo_batch_keeps_entry_order(client, fifo_url):
    """Entries of a FIFO SendMessageBatch are stored in the order given."""
    client.send_message_batch(QueueUrl=fifo_url, Entries=[
        {"Id": str(i), "MessageBody": f"m{i}", "MessageGroupId": "g", "MessageDeduplicationId": str(i)}
        for i in range(10)])
    assert bodies(client.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)) == [f"m{i}" for i in range(10)]
