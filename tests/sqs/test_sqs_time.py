"""What happens by itself in virtual time: retention, long polls, and consumers that wait."""

from __future__ import annotations

import pytest

from mqlab.sqs import QueueDoesNotExist, Worker


def bodies(response):
    return [m["Body"] for m in response.get("Messages", [])]


def test_retention_expires_messages(sim, client, sqs):
    """A message not deleted within MessageRetentionPeriod is removed (visible or in flight) and counted expired."""
    url = client.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="a")
    client.send_message(QueueUrl=url, MessageBody="b")
    client.receive_message(QueueUrl=url, VisibilityTimeout=3600)
    sim.run(until=59)
    assert sqs.statistics(url).expired == 0
    sim.run(until=60)
    stats = sqs.statistics(url)
    assert (stats.visible, stats.in_flight, stats.expired) == (0, 0, 2)
    assert [r.time for r in sim.trace.select(action="expired")] == [60, 60]
    sqs.ledger().check()


def test_default_retention_is_four_days(sim, client, url, sqs):
    """With the default retention a message lives 345,600 s."""
    client.send_message(QueueUrl=url, MessageBody="m")
    sim.run(until=345_599)
    assert sqs.statistics(url).visible == 1
    sim.run(until=345_600)
    assert sqs.statistics(url).expired == 1


def test_plain_receive_with_wait_returns_at_once(sim, client, url):
    """From plain code a long poll cannot wait: it returns immediately (and the clock does not move)."""
    assert "Messages" not in client.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    assert sim.now == 0


def test_long_poll_returns_as_soon_as_a_message_arrives(sim, client, url):
    """A waiting long poll fires at the instant a message is sent, not at the end of its wait."""
    results = []

    def consumer():
        response = yield client.receive_message_event(QueueUrl=url, WaitTimeSeconds=20)
        results.append((sim.now, bodies(response)))

    def producer():
        yield sim.timeout(7)
        client.send_message(QueueUrl=url, MessageBody="late")

    sim.process(consumer())
    sim.process(producer())
    sim.run(until=30)
    assert results == [(7, ["late"])]


def test_long_poll_times_out_empty_and_is_billed_as_an_empty_receive(sim, client, url, sqs):
    """With nothing to deliver the long poll answers after WaitTimeSeconds with no Messages key."""
    results = []

    def consumer():
        response = yield client.receive_message_event(QueueUrl=url, WaitTimeSeconds=20)
        results.append((sim.now, "Messages" in response))

    sim.process(consumer())
    sim.run()
    assert results == [(20, False)]
    assert sqs.cost(url).empty_receives == 1


def test_long_poll_wakes_when_visibility_ends(sim, client, url):
    """A message coming back from in flight wakes a waiting long poll at that instant."""
    client.send_message(QueueUrl=url, MessageBody="m")
    client.receive_message(QueueUrl=url, VisibilityTimeout=5)
    times = []

    def consumer():
        response = yield client.receive_message_event(QueueUrl=url, WaitTimeSeconds=20)
        times.append((sim.now, bodies(response)))

    sim.process(consumer())
    sim.run(until=20)
    assert times == [(5, ["m"])]


def test_queue_wait_time_attribute_makes_receives_long_polls(sim, client):
    """ReceiveMessageWaitTimeSeconds on the queue applies when WaitTimeSeconds is not given."""
    url = client.create_queue(QueueName="lp", Attributes={"ReceiveMessageWaitTimeSeconds": "10"})["QueueUrl"]
    done = []

    def consumer():
        yield client.receive_message_event(QueueUrl=url)
        done.append(sim.now)

    sim.process(consumer())
    sim.run()
    assert done == [10]


def test_deleting_the_queue_fails_waiting_long_polls(sim, client, url):
    """A long poll on a queue deleted meanwhile fails with QueueDoesNotExist inside the process."""
    seen = []

    def consumer():
        try:
            yield client.receive_message_event(QueueUrl=url, WaitTimeSeconds=20)
        except QueueDoesNotExist:
            seen.append(sim.now)

    sim.process(consumer())
    sim.call_at(3, lambda: client.delete_queue(QueueUrl=url))
    sim.run()
    assert seen == [3]


def test_worker_processes_and_deletes(sim, client, url, sqs):
    """A Worker long-polls, hands each message to the handler and deletes it after the handler returns."""
    handled = []
    for i in range(3):
        client.send_message(QueueUrl=url, MessageBody=f"m{i}")
    worker = Worker(client, url, lambda m: handled.append(m["Body"]), stop_when_idle=True)
    sim.run()
    assert handled == ["m0", "m1", "m2"]
    assert worker.processed == 3 and not worker.is_running
    assert sqs.statistics(url).deleted == 3


def test_worker_handler_taking_virtual_time(sim, client, url):
    """A generator handler spends virtual time; messages are deleted when it finishes."""
    finished = []

    def slow(message):
        yield sim.timeout(2.5)
        finished.append((message["Body"], sim.now))

    client.send_message(QueueUrl=url, MessageBody="a")
    client.send_message(QueueUrl=url, MessageBody="b")
    Worker(client, url, slow, stop_when_idle=True, max_messages=10)
    sim.run()
    assert finished == [("a", 2.5), ("b", 5.0)]


def test_failing_handler_does_not_crash_and_the_message_returns(sim, client, url, sqs):
    """A handler that raises is recorded in .errors; the message is not deleted and comes back after its
    visibility timeout, with a higher receive count, until the handler succeeds."""
    calls = []

    def flaky(message):
        calls.append((sim.now, message["Attributes"]["ApproximateReceiveCount"]))
        if len(calls) < 3:
            raise ValueError("boom")

    client.send_message(QueueUrl=url, MessageBody="m")
    worker = Worker(client, url, flaky, visibility_timeout=10)
    sim.run(until=60)
    assert calls == [(0, "1"), (10, "2"), (20, "3")]
    assert [(e.time, e.receive_count, str(e.error)) for e in worker.errors] == [(0, 1, "boom"), (10, 2, "boom")]
    assert worker.processed == 1 and worker.failed == 2
    assert sqs.statistics(url).deleted == 1
    assert len(sim.trace.select(action="handler_failed")) == 2


def test_failing_handler_with_redrive_ends_in_the_dlq(sim, client):
    """With a RedrivePolicy, a message its handler always fails on ends in the DLQ after maxReceiveCount."""
    import json

    dlq = client.create_queue(QueueName="dlq")["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = client.create_queue(QueueName="work", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})})["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="poison")

    def always_fails(message):
        raise RuntimeError("cannot parse")

    worker = Worker(client, url, always_fails, visibility_timeout=5, wait_time_seconds=20)
    sim.run(until=100)
    assert len(worker.errors) == 3
    assert bodies(client.receive_message(QueueUrl=dlq)) == ["poison"]


@pytest.mark.parametrize("wait", [0, 20])
def test_worker_short_and_long_polling_costs(sim, client, url, sqs, wait):
    """An idle worker short-polling once a second pays for 60 empty receives in a minute; long polling for 2."""
    Worker(client, url, lambda m: None, wait_time_seconds=wait, idle_backoff=1.0)
    sim.run(until=59.5)
    expected = 60 if wait == 0 else 2
    assert sqs.cost(url).empty_receives == expected


def test_fifo_worker_does_not_let_a_group_overtake_a_failure(sim, client, fifo_url):
    """On a FIFO queue a failure skips the rest of its group in the batch; the group is retried in order."""
    handled = []

    def fails_first_time(message):
        handled.append(message["Body"])
        if message["Body"] == "a0" and handled.count("a0") == 1:
            raise ValueError("transient")

    for body in ("a0", "a1", "b0"):
        client.send_message(QueueUrl=fifo_url, MessageBody=body, MessageGroupId=body[0], MessageDeduplicationId=body)
    worker = Worker(client, fifo_url, fails_first_time, visibility_timeout=5)
    sim.run(until=30)
    assert handled == ["a0", "b0", "a0", "a1"]
    assert worker.skipped == 1 and worker.processed == 3
