"""Dead-letter queues: when messages move there, the policies' rules, and move tasks back."""

from __future__ import annotations

import json

import pytest

from mqlab.sqs import InvalidAttributeValue, InvalidParameterValue, ResourceNotFoundException


def bodies(response):
    return [m["Body"] for m in response.get("Messages", [])]


def arn_of(client, url):
    return client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def with_dlq(client, max_receive_count=2, fifo=False, name="work"):
    suffix = ".fifo" if fifo else ""
    extra = {"FifoQueue": "true"} if fifo else {}
    dlq = client.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=extra)["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(client, dlq), "maxReceiveCount": str(max_receive_count)})
    source = client.create_queue(QueueName=f"{name}{suffix}", Attributes={**extra, "RedrivePolicy": policy})["QueueUrl"]
    return source, dlq


def fail_once(sim, client, url, seconds=1):
    """Receive and let the visibility timeout run out (a consumer that failed)."""
    response = client.receive_message(QueueUrl=url, VisibilityTimeout=seconds)
    sim.run(until=sim.now + seconds)
    return response


def test_message_moves_to_dlq_on_the_receive_after_max_receive_count(sim, client, sqs):
    """With maxReceiveCount=2 a message is delivered twice; the third receive moves it to the DLQ instead."""
    source, dlq = with_dlq(client, 2)
    client.send_message(QueueUrl=source, MessageBody="poison")
    assert bodies(fail_once(sim, client, source)) == ["poison"]
    assert bodies(fail_once(sim, client, source)) == ["poison"]
    assert sqs.statistics(source).visible == 1  # still in the source until someone asks again
    assert "Messages" not in client.receive_message(QueueUrl=source)
    moved = client.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert moved["Body"] == "poison"
    assert moved["Attributes"]["ApproximateReceiveCount"] == "3"  # counted across queues, plus this receive
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(client, source)
    assert sim.trace.select(action="moved_to_dlq")[0].details["receive_count"] == 2
    sqs.ledger().check()
    assert sqs.ledger().total("moved_to_dlq") == sqs.ledger().total("redriven_in") == 1


def test_message_keeps_its_id_in_the_dlq(sim, client):
    """The DLQ copy has the same MessageId as the original."""
    source, dlq = with_dlq(client, 1)
    message_id = client.send_message(QueueUrl=source, MessageBody="m")["MessageId"]
    fail_once(sim, client, source)
    client.receive_message(QueueUrl=source)
    assert client.receive_message(QueueUrl=dlq)["Messages"][0]["MessageId"] == message_id


def test_standard_dlq_keeps_the_original_enqueue_time(sim, client, sqs):
    """Standard queues: retention in the DLQ counts from the first send (AWS: enqueue timestamp unchanged)."""
    source, dlq = with_dlq(client, 1)
    client.set_queue_attributes(QueueUrl=dlq, Attributes={"MessageRetentionPeriod": "100"})
    client.send_message(QueueUrl=source, MessageBody="m")
    sim.run(until=60)
    fail_once(sim, client, source)
    client.receive_message(QueueUrl=source)  # moved at t=61
    assert sqs.statistics(dlq).visible == 1
    sim.run(until=100)
    assert sqs.statistics(dlq).expired == 1


def test_fifo_dlq_resets_the_enqueue_time(sim, client, sqs):
    """FIFO queues: the enqueue time resets in the DLQ, so retention starts again."""
    source, dlq = with_dlq(client, 1, fifo=True)
    client.set_queue_attributes(QueueUrl=dlq, Attributes={"MessageRetentionPeriod": "100"})
    client.send_message(QueueUrl=source, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="d")
    sim.run(until=60)
    fail_once(sim, client, source)
    client.receive_message(QueueUrl=source)  # moved at t=61
    sim.run(until=160)
    assert sqs.statistics(dlq).visible == 1
    sim.run(until=161)
    assert sqs.statistics(dlq).expired == 1


def test_fifo_redrive_unblocks_the_group(sim, client):
    """In a FIFO queue the poison head goes to the DLQ and the next message of its group is delivered."""
    source, dlq = with_dlq(client, 1, fifo=True)
    for body in ("poison", "next"):
        client.send_message(QueueUrl=source, MessageBody=body, MessageGroupId="g", MessageDeduplicationId=body)
    fail_once(sim, client, source)
    assert bodies(client.receive_message(QueueUrl=source)) == ["next"]
    message = client.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"][0]
    assert message["Attributes"]["MessageDeduplicationId"] == message["MessageId"]  # replaced, as AWS does


def test_dlq_must_exist_and_match_the_type(client):
    """RedrivePolicy needs an existing DLQ of the same type and maxReceiveCount 1-1000."""
    standard = client.create_queue(QueueName="s")["QueueUrl"]
    fifo = client.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    missing = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:nope", "maxReceiveCount": 3})
    with pytest.raises(InvalidParameterValue, match="Dead letter target does not exist"):
        client.set_queue_attributes(QueueUrl=standard, Attributes={"RedrivePolicy": missing})
    wrong_type = json.dumps({"deadLetterTargetArn": arn_of(client, fifo), "maxReceiveCount": 3})
    with pytest.raises(InvalidParameterValue, match="same type of queue"):
        client.set_queue_attributes(QueueUrl=standard, Attributes={"RedrivePolicy": wrong_type})
    for count in (0, 1001, "x"):
        bad = json.dumps({"deadLetterTargetArn": arn_of(client, standard), "maxReceiveCount": count})
        with pytest.raises(InvalidAttributeValue, match="maxReceiveCount"):
            client.create_queue(QueueName="other", Attributes={"RedrivePolicy": bad})
    with pytest.raises(InvalidAttributeValue, match="JSON object"):
        client.set_queue_attributes(QueueUrl=standard, Attributes={"RedrivePolicy": "{not json"})


def test_redrive_allow_policy(client):
    """A DLQ with denyAll or byQueue refuses sources it does not allow."""
    dlq = client.create_queue(QueueName="dlq", Attributes={
        "RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(client, dlq), "maxReceiveCount": 3})
    with pytest.raises(InvalidParameterValue, match="does not allow"):
        client.create_queue(QueueName="a", Attributes={"RedrivePolicy": policy})
    allowed = "arn:aws:sqs:us-east-1:123456789012:b"
    client.set_queue_attributes(QueueUrl=dlq, Attributes={
        "RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [allowed]})})
    client.create_queue(QueueName="b", Attributes={"RedrivePolicy": policy})
    with pytest.raises(InvalidParameterValue, match="does not allow"):
        client.create_queue(QueueName="c", Attributes={"RedrivePolicy": policy})
    with pytest.raises(InvalidAttributeValue, match="sourceQueueArns"):
        client.set_queue_attributes(QueueUrl=dlq, Attributes={
            "RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue"})})


def test_list_dead_letter_source_queues(client):
    """ListDeadLetterSourceQueues names the queues whose RedrivePolicy targets the DLQ (key 'queueUrls')."""
    source, dlq = with_dlq(client)
    assert client.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]
    assert client.list_dead_letter_source_queues(QueueUrl=source)["queueUrls"] == []


def test_move_task_redrives_back_to_the_source_at_the_rate(sim, client, sqs):
    """A move task with 2 messages/s moves 5 DLQ messages back in three ticks, then COMPLETED; moved messages
    are new messages (new MessageId, receive count 0)."""
    source, dlq = with_dlq(client, 1)
    ids = []
    for i in range(5):
        ids.append(client.send_message(QueueUrl=source, MessageBody=f"m{i}")["MessageId"])
    client.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=1)
    sim.run(until=sim.now + 1)
    assert "Messages" not in client.receive_message(QueueUrl=source, MaxNumberOfMessages=10)  # all five moved
    assert sqs.statistics(dlq).visible == 5
    handle = client.start_message_move_task(SourceArn=arn_of(client, dlq), MaxNumberOfMessagesPerSecond=2)["TaskHandle"]
    start = sim.now
    sim.run(until=start)
    task = client.list_message_move_tasks(SourceArn=arn_of(client, dlq))["Results"][0]
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"], task["TaskHandle"]) == ("RUNNING", 2, handle)
    assert task["ApproximateNumberOfMessagesToMove"] == 5
    sim.run(until=start + 2)
    task = client.list_message_move_tasks(SourceArn=arn_of(client, dlq))["Results"][0]
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("COMPLETED", 5)
    assert "TaskHandle" not in task
    back = client.receive_message(QueueUrl=source, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"])
    assert sorted(bodies(back)) == [f"m{i}" for i in range(5)]
    assert not set(m["MessageId"] for m in back["Messages"]) & set(ids)
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in back["Messages"]} == {"1"}
    assert len(sim.trace.select(action="moved_back")) == 5
    ledger = sqs.ledger()
    ledger.check()
    assert ledger.total("moved_out") == ledger.total("moved_in") == 5


def test_move_task_to_a_custom_destination_and_cancel(sim, client, sqs):
    """A task may target another queue; cancelling stops it (CANCELLING, then CANCELLED) and keeps moved ones."""
    source, dlq = with_dlq(client, 1)
    other = client.create_queue(QueueName="elsewhere")["QueueUrl"]
    for i in range(6):
        client.send_message(QueueUrl=source, MessageBody=f"m{i}")
    client.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=1)
    sim.run(until=1)
    client.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    dlq_arn = arn_of(client, dlq)
    handle = client.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(client, other),
                                            MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    with pytest.raises(InvalidParameterValue, match="Only one active task"):
        client.start_message_move_task(SourceArn=dlq_arn)
    sim.run(until=2.5)
    moved = client.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert moved == 2
    assert client.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "CANCELLING"
    sim.run(until=3)
    assert client.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "CANCELLED"
    sim.run(until=10)
    assert sqs.statistics(other).visible == 2
    assert sqs.statistics(dlq).visible == 4
    sqs.ledger().check()


def test_move_task_fails_when_the_original_source_is_gone(sim, client, sqs):
    """Redriving to the original source after it was deleted fails the task (FAILED, with a reason)."""
    source, dlq = with_dlq(client, 1)
    client.send_message(QueueUrl=source, MessageBody="m")
    fail_once(sim, client, source)
    client.receive_message(QueueUrl=source)
    client.delete_queue(QueueUrl=source)
    dlq_arn = arn_of(client, dlq)
    with pytest.raises(InvalidParameterValue, match="Dead Letter Queue"):
        client.start_message_move_task(SourceArn=dlq_arn)  # no queue names it as DLQ any more


def test_move_task_failure_status(sim, client, sqs):
    """A task whose destination disappears mid-way ends FAILED with a FailureReason; nothing is lost."""
    source, dlq = with_dlq(client, 1)
    other = client.create_queue(QueueName="elsewhere")["QueueUrl"]
    for i in range(4):
        client.send_message(QueueUrl=source, MessageBody=f"m{i}")
    client.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=1)
    sim.run(until=1)
    client.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    dlq_arn = arn_of(client, dlq)
    client.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(client, other),
                                   MaxNumberOfMessagesPerSecond=1)
    sim.run(until=1)
    client.delete_queue(QueueUrl=other)
    sim.run(until=5)
    task = client.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"][0]
    assert task["Status"] == "FAILED"
    assert "does not exist" in task["FailureReason"]
    assert sqs.statistics(dlq).visible == 3
    sqs.ledger().check()


def test_move_task_validation(client):
    """Unknown ARNs are ResourceNotFoundException; a queue that is nobody's DLQ cannot be a source; rate 1-500."""
    source, dlq = with_dlq(client)
    with pytest.raises(ResourceNotFoundException):
        client.start_message_move_task(SourceArn="arn:aws:sqs:us-east-1:123456789012:nope")
    with pytest.raises(InvalidParameterValue, match="Dead Letter Queue"):
        client.start_message_move_task(SourceArn=arn_of(client, source))
    with pytest.raises(InvalidParameterValue, match="MaxNumberOfMessagesPerSecond"):
        client.start_message_move_task(SourceArn=arn_of(client, dlq), MaxNumberOfMessagesPerSecond=501)
    with pytest.raises(ResourceNotFoundException):
        client.cancel_message_move_task(TaskHandle="nope")
