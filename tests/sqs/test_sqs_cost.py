"""The request meter: 64 KiB chunks, empty receives, prices."""

from __future__ import annotations

import math

import pytest

from mqlab.sqs import SQS
from mqlab.sqs.cost import billed_requests


@pytest.mark.parametrize(("size", "billed"), [(0, 1), (1, 1), (65_536, 1), (65_537, 2), (262_144, 4),
                                              (1_048_576, 16)])
def test_each_64_kib_chunk_is_one_request(size, billed):
    """A payload is billed per started 64 KiB chunk, at least one request per call."""
    assert billed_requests(size) == billed


def test_meter_counts_requests_chunks_and_empty_receives(client, url, sqs):
    """Sends are billed by payload, receives by what they return, empty receives count, deletes are one each."""
    client.send_message(QueueUrl=url, MessageBody="x" * 200_000)  # 4 requests
    client.receive_message(QueueUrl=url)  # 4 requests (the payload returned)
    client.receive_message(QueueUrl=url)  # empty: 1 request
    report = sqs.cost(url)
    assert report.requests == 3
    assert report.billed_requests == 9
    assert report.empty_receives == 1
    assert dict(report.by_action) == {"SendMessage": 4, "ReceiveMessage": 5}
    assert report.dollars == pytest.approx(9 * 0.40 / 1_000_000)


def test_batch_is_billed_by_total_payload(client, url, sqs):
    """Ten small messages in one batch are one billed request."""
    client.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "m"} for i in range(10)])
    assert sqs.cost(url).billed_requests == 1


def test_fifo_and_configurable_prices(sim):
    """FIFO requests cost $0.50 per million by default; both prices are settings."""
    sqs = SQS(sim, price_per_million_standard=1.0, price_per_million_fifo=2.0)
    client = sqs.client()
    standard = client.create_queue(QueueName="s")["QueueUrl"]
    fifo = client.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    client.receive_message(QueueUrl=standard)
    client.receive_message(QueueUrl=fifo)
    assert sqs.cost(standard).dollars == pytest.approx(1.0 / 1_000_000)
    assert sqs.cost(fifo).dollars == pytest.approx(2.0 / 1_000_000)
    total = sqs.cost()
    assert total.requests == 4  # two CreateQueue calls on the account, two receives
    assert math.isnan(total.price_per_million)
    assert total.dollars == pytest.approx((2 * 1.0 + 1.0 + 2.0) / 1_000_000)
    assert SQS(sim).client().service.price_per_million_fifo == 0.50


def test_failed_calls_are_not_billed(client, url, sqs):
    """A call rejected with an error does not reach the meter."""
    with pytest.raises(Exception):  # noqa: B017 - any ClientError
        client.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert sqs.cost(url).requests == 0
