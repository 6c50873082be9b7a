"""Fixtures for the SQS tests: a simulation, an exact service (no simulated randomness) and a client."""

from __future__ import annotations

import pytest

from mqlab.sim import Simulation
from mqlab.sqs import SQS, SQSClient


@pytest.fixture
def sim() -> Simulation:
    return Simulation(seed=7, trace=True)


@pytest.fixture
def sqs(sim: Simulation) -> SQS:
    """A service whose standard queues neither duplicate, reorder nor sample: behaviour tests stay exact."""
    return SQS(sim, duplicate_probability=0.0, reorder_probability=0.0, short_poll_sample=1.0)


@pytest.fixture
def client(sqs: SQS) -> SQSClient:
    return sqs.client()


@pytest.fixture
def url(client: SQSClient) -> str:
    return client.create_queue(QueueName="orders")["QueueUrl"]


@pytest.fixture
def fifo_url(client: SQSClient) -> str:
    return client.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]

