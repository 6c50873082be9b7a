"""Sending, receiving, deleting: the message life cycle and its validation."""

from __future__ import annotations

import hashlib

import pytest

from mqlab.sqs import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
    ReceiptHandleIsInvalid,
    TooManyEntriesInBatchRequest,
)


def bodies(response):
    return [m["Body"] for m in response.get("Messages", [])]


def test_send_receive_delete(client, url, sqs):
    """Given a sent message, when it is received and deleted, then the queue is empty and the ledger balances."""
    sent = client.send_message(QueueUrl=url, MessageBody="hello")
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest()
    message = client.receive_message(QueueUrl=url)["Messages"][0]
    assert set(message) == {"MessageId", "ReceiptHandle", "MD5OfBody", "Body"}
    assert message["MessageId"] == sent["MessageId"]
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    stats = sqs.statistics(url)
    assert (stats.visible, stats.in_flight, stats.deleted) == (0, 0, 1)
    sqs.ledger().check()


def test_empty_receive_has_no_messages_key(client, url):
    """As with boto3's JSON protocol, an empty receive has no 'Messages' key."""
    response = client.receive_message(QueueUrl=url)
    assert "Messages" not in response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_received_message_is_invisible_until_its_timeout(sim, client, url):
    """A received message is not returned again until its visibility timeout ends, then with a new handle."""
    client.send_message(QueueUrl=url, MessageBody="m")
    first = client.receive_message(QueueUrl=url, VisibilityTimeout=10, AttributeNames=["ApproximateReceiveCount"])
    sim.run(until=9.9)
    assert "Messages" not in client.receive_message(QueueUrl=url)
    sim.run(until=10)
    second = client.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])
    assert second["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert first["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "1"
    assert second["Messages"][0]["ReceiptHandle"] != first["Messages"][0]["ReceiptHandle"]
    assert [r.action for r in sim.trace.select(actor="sqs:orders")] == [
        "created", "sent", "received", "visible_again", "received"]


def test_queue_visibility_timeout_is_the_default(sim, client):
    """Without VisibilityTimeout on the receive, the queue's attribute applies."""
    url = client.create_queue(QueueName="slow", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="m")
    client.receive_message(QueueUrl=url)
    sim.run(until=5)
    assert bodies(client.receive_message(QueueUrl=url)) == ["m"]


def test_visibility_timeout_zero_on_receive(client, url):
    """VisibilityTimeout=0 on a receive leaves the message visible: the next receive gets it again."""
    client.send_message(QueueUrl=url, MessageBody="m")
    first = client.receive_message(QueueUrl=url, VisibilityTimeout=0)
    again = client.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])
    assert bodies(first) == bodies(again) == ["m"]
    assert again["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_change_visibility_extends_and_zero_releases(sim, client, url):
    """ChangeMessageVisibility counts from the call; 0 makes the message visible at once."""
    client.send_message(QueueUrl=url, MessageBody="m")
    handle = client.receive_message(QueueUrl=url, VisibilityTimeout=10)["Messages"][0]["ReceiptHandle"]
    sim.run(until=8)
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)
    sim.run(until=17)
    assert "Messages" not in client.receive_message(QueueUrl=url)
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    assert bodies(client.receive_message(QueueUrl=url)) == ["m"]
    assert sim.trace.select(action="visibility_changed")[0].details["visibility_timeout"] == 10


def test_total_visibility_is_capped_at_12_hours_from_receipt(sim, client, url):
    """Extending past 43,200 s counted from the receive is InvalidParameterValue, as AWS says."""
    client.send_message(QueueUrl=url, MessageBody="m")
    handle = client.receive_message(QueueUrl=url, VisibilityTimeout=43_200)["Messages"][0]["ReceiptHandle"]
    sim.run(until=100)
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_100)
    with pytest.raises(InvalidParameterValue, match=r"beyond the limit \[43200 seconds\]"):
        client.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_101)


def test_delay_seconds_per_message_and_per_queue(sim, client, sqs):
    """A delayed message is counted as delayed and becomes receivable when the delay ends."""
    url = client.create_queue(QueueName="later", Attributes={"DelaySeconds": "5"})["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="queue-delay")
    client.send_message(QueueUrl=url, MessageBody="no-delay", DelaySeconds=0)
    client.send_message(QueueUrl=url, MessageBody="long-delay", DelaySeconds=900)
    counts = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesDelayed"]) == ("1", "2")
    assert bodies(client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=3600)) == ["no-delay"]
    sim.run(until=5)
    assert bodies(client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=3600)) == [
        "queue-delay"]
    sim.run(until=900)
    assert bodies(client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["long-delay"]
    with pytest.raises(InvalidParameterValue, match="DelaySeconds must be >= 0 and <= 900"):
        client.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"MaxNumberOfMessages": 11}, "Value 11 for parameter MaxNumberOfMessages is invalid"),
        ({"MaxNumberOfMessages": 0}, "Must be between 1 and 10"),
        ({"WaitTimeSeconds": 21}, "Must be >= 0 and <= 20"),
        ({"VisibilityTimeout": 43_201}, "parameter VisibilityTimeout is invalid"),
        ({"VisibilityTimeout": -1}, "parameter VisibilityTimeout is invalid"),
    ],
)
def test_receive_parameters_out_of_range(client, url, kwargs, pattern):
    """ReceiveMessage limits: 1-10 messages, 0-20 s wait, 0-43,200 s visibility."""
    with pytest.raises(InvalidParameterValue, match=pattern):
        client.receive_message(QueueUrl=url, **kwargs)


def test_unknown_message_system_attribute_is_rejected(client, url):
    """Asking for a message attribute SQS does not have is InvalidAttributeName."""
    with pytest.raises(InvalidAttributeName):
        client.receive_message(QueueUrl=url, MessageSystemAttributeNames=["Colour"])


def test_max_number_of_messages_caps_a_receive(client, url):
    """A receive returns at most MaxNumberOfMessages (default 1), oldest first on an exact queue."""
    for i in range(12):
        client.send_message(QueueUrl=url, MessageBody=str(i))
    assert bodies(client.receive_message(QueueUrl=url)) == ["0"]
    assert bodies(client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == [str(i) for i in range(1, 11)]


def test_body_rules(client, url):
    """Empty bodies, characters outside the XML set and oversized messages are refused."""
    with pytest.raises(InvalidParameterValue):
        client.send_message(QueueUrl=url, MessageBody="")
    with pytest.raises(InvalidMessageContents, match="#x0"):
        client.send_message(QueueUrl=url, MessageBody="nul\x00")
    client.send_message(QueueUrl=url, MessageBody="tab\tnewline\n emoji \U0001f600")
    with pytest.raises(InvalidParameterValue, match="Message must be shorter than 1048576 bytes"):
        client.send_message(QueueUrl=url, MessageBody="x" * 1_048_577)
    client.send_message(QueueUrl=url, MessageBody="x" * 1_048_576)


def test_message_attributes_round_trip_with_aws_md5(client, url):
    """Message attributes come back when asked for, with the MD5 SQS computes (the boto3 docs' example value)."""
    attributes = {"City": {"DataType": "String", "StringValue": "Any City"},
                  "Population": {"DataType": "Number", "StringValue": "1250800"}}
    sent = client.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attributes)
    received = client.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert received["MessageAttributes"] == attributes
    assert received["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert sent["MD5OfMessageAttributes"] == _reference_md5(attributes)


def _reference_md5(attributes):
    """The algorithm from the SQS Developer Guide, written independently of the model."""
    out = b""
    for name in sorted(attributes):
        value = attributes[name]
        for part in (name.encode(), value["DataType"].encode()):
            out += len(part).to_bytes(4, "big") + part
        raw = value["StringValue"].encode()
        out += b"\x01" + len(raw).to_bytes(4, "big") + raw
    return hashlib.md5(out).hexdigest()


def test_message_attribute_selection(client, url):
    """MessageAttributeNames selects by name, by prefix 'x.*', or all; unrequested attributes are left out."""
    attributes = {"a.one": {"DataType": "String", "StringValue": "1"},
                  "a.two": {"DataType": "String", "StringValue": "2"},
                  "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    client.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attributes)
    message = client.receive_message(QueueUrl=url, MessageAttributeNames=["a.*"], VisibilityTimeout=0)["Messages"][0]
    assert sorted(message["MessageAttributes"]) == ["a.one", "a.two"]
    message = client.receive_message(QueueUrl=url, MessageAttributeNames=["b"], VisibilityTimeout=0)["Messages"][0]
    assert message["MessageAttributes"] == {"b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    message = client.receive_message(QueueUrl=url)["Messages"][0]
    assert "MessageAttributes" not in message


@pytest.mark.parametrize(
    "attributes",
    [
        {"AWS.name": {"DataType": "String", "StringValue": "x"}},
        {"bad name": {"DataType": "String", "StringValue": "x"}},
        {"n": {"DataType": "Text", "StringValue": "x"}},
        {"n": {"DataType": "String", "StringValue": ""}},
        {"n": {"DataType": "Number", "StringValue": "twelve"}},
        {"n": {"DataType": "Binary", "StringValue": "x"}},
        {f"k{i}": {"DataType": "String", "StringValue": "x"} for i in range(11)},
    ],
)
def test_bad_message_attributes_are_refused(client, url, attributes):
    """Attribute names, types, values and the limit of 10 are checked as SQS documents."""
    with pytest.raises(InvalidParameterValue):
        client.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attributes)


def test_system_attributes(sim, client, url, sqs):
    """SentTimestamp and ApproximateFirstReceiveTimestamp are epoch milliseconds of virtual time."""
    sim.run(until=2.5)
    client.send_message(QueueUrl=url, MessageBody="m")
    sim.run(until=4)
    attributes = client.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"][0]["Attributes"]
    assert attributes["SentTimestamp"] == str(int((sqs.epoch + 2.5) * 1000))
    assert attributes["ApproximateFirstReceiveTimestamp"] == str(int((sqs.epoch + 4) * 1000))
    assert attributes["ApproximateReceiveCount"] == "1"
    assert "SequenceNumber" not in attributes


def test_receipt_handle_that_was_never_issued_is_invalid(client, url):
    """A made-up handle (or a MessageId) is ReceiptHandleIsInvalid, for delete and for visibility changes."""
    message_id = client.send_message(QueueUrl=url, MessageBody="m")["MessageId"]
    with pytest.raises(ReceiptHandleIsInvalid, match="is not a valid receipt handle"):
        client.delete_message(QueueUrl=url, ReceiptHandle=message_id)
    with pytest.raises(ReceiptHandleIsInvalid):
        client.change_message_visibility(QueueUrl=url, ReceiptHandle="AQEBnonsense", VisibilityTimeout=5)


def test_stale_handle_on_standard_queue_succeeds_without_deleting(sim, client, url, sqs):
    """An older handle of a message received again deletes nothing (AWS: 'the request will succeed, but the
    message might not be deleted'); the latest handle deletes."""
    client.send_message(QueueUrl=url, MessageBody="m")
    old = client.receive_message(QueueUrl=url, VisibilityTimeout=5)["Messages"][0]["ReceiptHandle"]
    sim.run(until=5)
    new = client.receive_message(QueueUrl=url, VisibilityTimeout=5)["Messages"][0]["ReceiptHandle"]
    client.delete_message(QueueUrl=url, ReceiptHandle=old)
    assert sqs.statistics(url).in_flight == 1
    assert sqs.statistics(url).stale_deletes == 1
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=old, VisibilityTimeout=0)  # a no-op
    assert sqs.statistics(url).in_flight == 1
    client.delete_message(QueueUrl=url, ReceiptHandle=new)
    assert sqs.statistics(url).deleted == 1
    client.delete_message(QueueUrl=url, ReceiptHandle=new)  # deleting again is fine
    with pytest.raises(InvalidParameterValue, match="Message does not exist or is not available"):
        client.change_message_visibility(QueueUrl=url, ReceiptHandle=new, VisibilityTimeout=5)


def test_latest_handle_after_timeout_still_deletes_on_standard_queue(sim, client, url, sqs):
    """On a standard queue the latest handle deletes the message even after its visibility timeout ended."""
    client.send_message(QueueUrl=url, MessageBody="m")
    handle = client.receive_message(QueueUrl=url, VisibilityTimeout=5)["Messages"][0]["ReceiptHandle"]
    sim.run(until=6)
    client.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert sqs.statistics(url).deleted == 1
    assert "Messages" not in client.receive_message(QueueUrl=url)


def test_send_batch_reports_each_entry(client, url):
    """A batch stores the good entries and reports the bad ones in Failed with SQS's code."""
    response = client.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "MessageBody": "a"},
        {"Id": "bad", "MessageBody": "b", "DelaySeconds": 1000},
        {"Id": "ok2", "MessageBody": "c", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
    ])
    assert [e["Id"] for e in response["Successful"]] == ["ok", "ok2"]
    assert "MD5OfMessageAttributes" in response["Successful"][1]
    assert response["Failed"] == [{"Id": "bad", "SenderFault": True, "Code": "InvalidParameterValue",
                                   "Message": response["Failed"][0]["Message"]}]
    assert bodies(client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["a", "c"]


def test_batch_request_errors(client, url):
    """Empty, too large (11), repeated ids, bad ids and oversized batches fail as a whole."""
    with pytest.raises(EmptyBatchRequest) as caught:
        client.send_message_batch(QueueUrl=url, Entries=[])
    assert caught.value.response["Error"]["Code"] == "AWS.SimpleQueueService.EmptyBatchRequest"
    with pytest.raises(TooManyEntriesInBatchRequest, match="You have sent 11"):
        client.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "m"} for i in range(11)])
    with pytest.raises(BatchEntryIdsNotDistinct, match="Id a repeated"):
        client.delete_message_batch(QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": "x"}] * 2)
    with pytest.raises(InvalidBatchEntryId):
        client.change_message_visibility_batch(QueueUrl=url, Entries=[{"Id": "no spaces", "ReceiptHandle": "x"}])
    with pytest.raises(BatchRequestTooLong, match="cannot be longer than 1048576 bytes"):
        client.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x" * 200_000}
                                                         for i in range(6)])


def test_delete_and_visibility_batches(sim, client, url, sqs):
    """Batch deletes and visibility changes succeed per entry; an invalid handle fails only its entry."""
    for i in range(3):
        client.send_message(QueueUrl=url, MessageBody=str(i))
    handles = [m["ReceiptHandle"] for m in client.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]]
    changed = client.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": handles[0], "VisibilityTimeout": 0},
        {"Id": "b", "ReceiptHandle": "junk", "VisibilityTimeout": 0}])
    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = client.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "x", "ReceiptHandle": handles[1]}, {"Id": "y", "ReceiptHandle": handles[2]}])
    assert [e["Id"] for e in deleted["Successful"]] == ["x", "y"]
    assert deleted["Failed"] == []
    assert sqs.statistics(url).deleted == 2


def test_standard_queue_accepts_group_id_but_not_dedup_id(client, url):
    """MessageGroupId on a standard queue is allowed (fair queues); MessageDeduplicationId is not."""
    client.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="tenant-1")
    attributes = client.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]["Attributes"]
    assert attributes["MessageGroupId"] == "tenant-1"
    with pytest.raises(InvalidParameterValue, match="not valid for this queue type"):
        client.send_message(QueueUrl=url, MessageBody="m", MessageDeduplicationId="d")
    assert MissingParameter.code == "MissingParameter"
