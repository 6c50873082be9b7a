"""Queue management: names, URLs, attributes, listing, deletion, purge, tags."""

from __future__ import annotations

import json

import pytest

from mqlab.sqs import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
    limits,
)


def test_urls_and_arns_look_like_aws(client, sqs):
    """Given a queue, its URL and ARN carry region, account and name as AWS writes them."""
    url = client.create_queue(QueueName="orders")["QueueUrl"]
    assert url == "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert attributes == {"QueueArn": "arn:aws:sqs:us-east-1:123456789012:orders"}
    assert client.get_queue_url(QueueName="orders")["QueueUrl"] == url


def test_default_attributes_are_aws_defaults(client, url):
    """A new queue has AWS's defaults: 30 s visibility, 4 days retention, 1 MiB, no delay, short polling."""
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"
    assert attributes["MessageRetentionPeriod"] == "345600"
    assert attributes["MaximumMessageSize"] == "1048576"
    assert attributes["DelaySeconds"] == "0"
    assert attributes["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert "FifoQueue" not in attributes


def test_legacy_maximum_message_size_is_a_setting(sim):
    """SQS(max_message_size=LEGACY_MAX_MESSAGE_SIZE) models the pre-2025 256 KiB ceiling."""
    from mqlab.sqs import SQS

    client = SQS(sim, max_message_size=limits.LEGACY_MAX_MESSAGE_SIZE).client()
    url = client.create_queue(QueueName="old")["QueueUrl"]
    size = client.get_queue_attributes(QueueUrl=url, AttributeNames=["MaximumMessageSize"])["Attributes"]
    assert size == {"MaximumMessageSize": "262144"}
    with pytest.raises(InvalidAttributeValue):
        client.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1048576"})
    with pytest.raises(InvalidParameterValue, match="shorter than 262144 bytes"):
        client.send_message(QueueUrl=url, MessageBody="x" * 262_145)


@pytest.mark.parametrize("name", ["", "a" * 81, "has space", "dot.name", "ünicode", "orders.fifo"])
def test_bad_standard_queue_names_are_rejected(client, name):
    """Names are 1-80 characters of letters, digits, hyphen and underscore (.fifo only for FIFO queues)."""
    with pytest.raises(InvalidParameterValue, match="Can only include alphanumeric characters"):
        client.create_queue(QueueName=name)


def test_fifo_names_need_the_suffix_and_the_attribute(client):
    """FifoQueue=true needs a .fifo name, the suffix counts towards the 80 characters."""
    with pytest.raises(InvalidParameterValue, match=r"must end with \.fifo"):
        client.create_queue(QueueName="orders", Attributes={"FifoQueue": "true"})
    with pytest.raises(InvalidParameterValue, match=r"must end with \.fifo"):
        client.create_queue(QueueName="a" * 76 + ".fifo", Attributes={"FifoQueue": "true"})
    url = client.create_queue(QueueName="a" * 75 + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    assert url.endswith(".fifo")


def test_create_is_idempotent_only_with_equal_attributes(client, url):
    """Creating an existing queue returns its URL; with a different attribute value it is QueueNameExists."""
    assert client.create_queue(QueueName="orders")["QueueUrl"] == url
    assert client.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "30"})["QueueUrl"] == url
    with pytest.raises(QueueNameExists, match="different value for attribute VisibilityTimeout") as caught:
        client.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "60"})
    assert caught.value.response["Error"]["Code"] == "QueueAlreadyExists"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VisibilityTimeout", "43201"),
        ("VisibilityTimeout", "-1"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("DelaySeconds", "901"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("VisibilityTimeout", "thirty"),
    ],
)
def test_attribute_values_out_of_range_are_invalid(client, url, name, value):
    """Every range from the CreateQueue reference is enforced with InvalidAttributeValue."""
    with pytest.raises(InvalidAttributeValue, match=f"Invalid value for the parameter {name}"):
        client.set_queue_attributes(QueueUrl=url, Attributes={name: value})


def test_attribute_limits_are_inclusive(client, url):
    """The documented bounds themselves are accepted."""
    client.set_queue_attributes(QueueUrl=url, Attributes={
        "VisibilityTimeout": "43200", "MessageRetentionPeriod": "60", "DelaySeconds": "900",
        "ReceiveMessageWaitTimeSeconds": "20", "MaximumMessageSize": "1024"})
    client.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0",
                                                          "MessageRetentionPeriod": "1209600"})


def test_unknown_readonly_and_fifo_only_attributes_are_invalid_names(client, url):
    """Unknown names, read-only ones and FIFO-only ones on a standard queue raise InvalidAttributeName."""
    with pytest.raises(InvalidAttributeName, match="Unknown Attribute Colour"):
        client.set_queue_attributes(QueueUrl=url, Attributes={"Colour": "blue"})
    with pytest.raises(InvalidAttributeName, match="read-only"):
        client.set_queue_attributes(QueueUrl=url, Attributes={"ApproximateNumberOfMessages": "3"})
    with pytest.raises(InvalidAttributeName, match="only to FIFO"):
        client.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "true"})
    with pytest.raises(InvalidAttributeName, match="FifoQueue"):
        client.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    with pytest.raises(InvalidAttributeName, match="Unknown Attribute Nope"):
        client.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])


def test_high_throughput_fifo_needs_message_group_scope(client):
    """FifoThroughputLimit=perMessageGroupId is allowed only with DeduplicationScope=messageGroup."""
    with pytest.raises(InvalidAttributeValue, match="perMessageGroupId"):
        client.create_queue(QueueName="h.fifo", Attributes={
            "FifoQueue": "true", "DeduplicationScope": "queue", "FifoThroughputLimit": "perMessageGroupId"})
    url = client.create_queue(QueueName="h.fifo", Attributes={
        "FifoQueue": "true", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"})
    attributes = client.get_queue_attributes(QueueUrl=url["QueueUrl"], AttributeNames=["All"])["Attributes"]
    assert attributes["DeduplicationScope"] == "messageGroup"
    assert attributes["FifoQueue"] == "true"


def test_list_queues_filters_and_paginates(client):
    """ListQueues filters by prefix, pages by MaxResults with NextToken, and omits QueueUrls when empty."""
    assert "QueueUrls" not in client.list_queues()
    for name in ("a1", "a2", "a3", "b1"):
        client.create_queue(QueueName=name)
    assert [u.rsplit("/", 1)[1] for u in client.list_queues(QueueNamePrefix="a")["QueueUrls"]] == ["a1", "a2", "a3"]
    first = client.list_queues(MaxResults=3)
    assert len(first["QueueUrls"]) == 3
    second = client.list_queues(MaxResults=3, NextToken=first["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in second["QueueUrls"]] == ["b1"]
    assert "NextToken" not in second


def test_deleted_queue_is_gone_and_its_name_reserved_for_60_seconds(sim, client, url):
    """After DeleteQueue, the URL fails with QueueDoesNotExist; the name is free again after 60 s."""
    client.send_message(QueueUrl=url, MessageBody="lost")
    client.delete_queue(QueueUrl=url)
    with pytest.raises(QueueDoesNotExist):
        client.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(QueueDeletedRecently, match="wait 60 seconds"):
        client.create_queue(QueueName="orders")
    sim.run(until=60)
    assert client.create_queue(QueueName="orders")["QueueUrl"] == url


def test_purge_removes_everything_once_a_minute(sim, client, url, sqs):
    """PurgeQueue deletes visible, in-flight and delayed messages; a second purge within 60 s fails."""
    client.send_message(QueueUrl=url, MessageBody="a")
    client.send_message(QueueUrl=url, MessageBody="b", DelaySeconds=10)
    client.send_message(QueueUrl=url, MessageBody="c")
    client.receive_message(QueueUrl=url)
    client.purge_queue(QueueUrl=url)
    assert sqs.statistics(url).purged == 3
    assert client.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None
    with pytest.raises(PurgeQueueInProgress, match="Only one PurgeQueue operation on orders"):
        client.purge_queue(QueueUrl=url)
    sim.run(until=60)
    client.purge_queue(QueueUrl=url)


def test_tags_are_kept(client):
    """Tags given at creation and with tag_queue are listed; untag_queue removes them."""
    url = client.create_queue(QueueName="t", tags={"team": "a"})["QueueUrl"]
    client.tag_queue(QueueUrl=url, Tags={"env": "dev"})
    assert client.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "dev"}
    client.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert client.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}


def test_redrive_policy_round_trips_as_json(client, url):
    """A RedrivePolicy set as JSON text is returned as JSON text with the same content."""
    dlq = client.create_queue(QueueName="dlq")["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client.set_queue_attributes(QueueUrl=url, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})})
    policy = client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    assert json.loads(policy) == {"deadLetterTargetArn": arn, "maxReceiveCount": 3}
    client.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
