"""The service object: construction, the client helper, settings validation."""

from __future__ import annotations

import pytest

import mqlab.sqs
from mqlab.sim import Simulation
from mqlab.sqs import SQS, SQSClient, Worker, poll_loop


def test_client_helper_accepts_a_simulation_or_a_service():
    """mqlab.sqs.client(sim) builds a service; client(service) binds to the existing one."""
    sim = Simulation()
    from_sim = mqlab.sqs.client(sim, region="eu-west-1")
    assert isinstance(from_sim, SQSClient)
    url = from_sim.create_queue(QueueName="q")["QueueUrl"]
    assert url == "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
    service = SQS(sim)
    assert mqlab.sqs.client(service).service is service
    with pytest.raises(TypeError, match="service options"):
        mqlab.sqs.client(service, region="x")


@pytest.mark.parametrize(
    ("option", "value"),
    [("duplicate_probability", 1.5), ("reorder_probability", -0.1), ("short_poll_sample", 0),
     ("max_message_size", 100), ("account_id", "abc")],
)
def test_bad_settings_are_refused(option, value):
    """Settings out of range raise ValueError naming the setting and its range."""
    with pytest.raises(ValueError, match=option):
        SQS(Simulation(), **{option: value})


def test_queue_url_forms(client, url):
    """The full URL, the bare name, or another host with the same account and name all find the queue."""
    client.send_message(QueueUrl=url, MessageBody="a")
    client.send_message(QueueUrl="orders", MessageBody="b")
    client.send_message(QueueUrl="http://localhost:4566/123456789012/orders", MessageBody="c")
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.send_message(QueueUrl="http://localhost:4566/000000000000/orders", MessageBody="d")


def test_worker_stops_when_its_queue_is_deleted(sim, client, url):
    """A worker whose queue disappears records QueueDoesNotExist and stops instead of crashing the run."""
    worker = poll_loop(client, url, lambda m: None)
    sim.call_at(5, lambda: client.delete_queue(QueueUrl=url))
    sim.run(until=30)
    assert not worker.is_running
    assert [type(e).__name__ for e in worker.client_errors] == ["QueueDoesNotExist"]


def test_worker_stop(sim, client, url):
    """stop() ends the worker after its current poll."""
    worker = Worker(client, url, lambda m: None, wait_time_seconds=5)
    sim.run(until=3)
    worker.stop()
    sim.run(until=20)
    assert not worker.is_running and worker.receives == 1
