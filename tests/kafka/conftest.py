"""Fixtures for the Kafka model's tests: a simulation, a cluster, and small helpers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mqlab.kafka import Cluster, Consumer, Producer
from mqlab.sim import Simulation


@pytest.fixture
def sim() -> Simulation:
    return Simulation(seed=7, trace=True)


@pytest.fixture
def cluster(sim: Simulation) -> Cluster:
    return Cluster(sim, brokers=3)


def _produce_all(cluster: Cluster, topic: str, records: list[tuple[bytes | None, bytes]], **config: object) -> list:
    """Produce ``(key, value)`` records, flush, and return the delivery reports ``(err, partition, offset)``."""
    reports: list = []
    producer = Producer(cluster, dict(config))
    for key, value in records:
        producer.produce(topic, value, key, on_delivery=lambda e, m: reports.append((e, m.partition(), m.offset())))
    producer.flush()
    return reports


def _drain(consumer: Consumer, timeout: float = 5.0, limit: int = 100_000) -> list:
    """Poll until a poll returns None; returns the records (errors skipped)."""
    out = []
    while len(out) < limit:
        message = consumer.poll(timeout)
        if message is None:
            return out
        if message.error() is None:
            out.append(message)
    return out


@pytest.fixture
def produce_all() -> Callable[..., list]:
    """``produce_all(cluster, topic, [(key, value)], **config)`` -> delivery reports ``(err, partition, offset)``."""
    return _produce_all


@pytest.fixture
def drain() -> Callable[..., list]:
    """``drain(consumer, timeout=5.0)`` -> the records polled until a poll returns None."""
    return _drain
