"""Fixtures that give tests a real RabbitMQ, a Kafka (librdkafka's mock cluster) and an SQS (moto).

Each broker is started lazily, once per session, by the first test that asks for it, and stopped at
the end of the session (RabbitMQ is shared with other sessions on the machine: the last one out
stops it). A broker named by the environment is used as it is and never started or stopped:
``MQLAB_RABBITMQ_URL``, ``MQLAB_KAFKA_BOOTSTRAP``, ``MQLAB_SQS_ENDPOINT``.

``MQLAB_REAL_BROKERS`` chooses what happens when a broker cannot be had:

* ``auto`` (default): start what can be started here; skip the tests of the others, with a
  message that says how to start them;
* ``require`` (for CI): fail instead of skipping, and install missing clients and packages;
* ``off``: skip every real-broker test without touching the network.

Isolation: each test (each Hypothesis example, through the factories) gets a throwaway RabbitMQ
vhost, fresh Kafka topic and group names, and an emptied moto server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_TOOLS = Path(__file__).resolve().parents[2] / "tools" / "brokers.py"


def _load_tools() -> Any:
    name = "mqlab_tools_brokers"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _TOOLS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


brokers = _load_tools()
MODE = os.environ.get("MQLAB_REAL_BROKERS", "auto").strip().lower()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.realbroker)


def unavailable(message: str) -> None:
    """Skip (or, with MQLAB_REAL_BROKERS=require, fail) with a message that says how to start the broker."""
    if MODE == "require":
        pytest.fail(f"MQLAB_REAL_BROKERS=require but {message}", pytrace=False)
    pytest.skip(message)


def _need_clients(how_to_start: str) -> None:
    if MODE == "off":
        pytest.skip("real-broker tests are off (MQLAB_REAL_BROKERS=off)")
    missing = brokers.missing_clients()
    if not missing:
        return
    if MODE == "require" or brokers.is_root():
        try:
            brokers.install_clients()
            return
        except Exception as error:
            unavailable(f"the real clients are missing ({', '.join(missing)}) and installing them failed: {error}")
    unavailable(f"the real clients are missing ({', '.join(missing)}); {how_to_start}")


# -- RabbitMQ ------------------------------------------------------------------------------------
class RabbitMQHandle:
    """A reachable RabbitMQ and a factory of throwaway vhosts on it."""

    def __init__(self, server: Any) -> None:
        self.server = server

    @contextlib.contextmanager
    def vhost(self) -> Iterator[str]:
        """A fresh vhost, deleted afterwards; yields its AMQP URL."""
        name = f"mqlab-test-{uuid.uuid4().hex[:12]}"
        url = self.server.add_vhost(name)
        try:
            yield url
        finally:
            self.server.delete_vhost(name)


def _server_from_url(url: str) -> Any:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    server = brokers.RabbitMQ(host=parts.hostname or "127.0.0.1", port=parts.port or 5672)
    if parts.username:
        server.username = parts.username
    if parts.password:
        server.password = parts.password
    return server


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQHandle]:
    """A running RabbitMQ: the one in MQLAB_RABBITMQ_URL, one already on 127.0.0.1:5672, or one started here."""
    _need_clients(brokers.RABBITMQ_HOW_TO_START)
    url = os.environ.get("MQLAB_RABBITMQ_URL")
    if url:
        server = _server_from_url(url)
        if not server.is_reachable():
            unavailable(f"MQLAB_RABBITMQ_URL={url} does not answer; {brokers.RABBITMQ_HOW_TO_START}")
        yield RabbitMQHandle(server)
        return
    server = brokers.RabbitMQ()
    user = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        server.acquire(user, allow_start=True)
    except Exception as error:
        unavailable(str(error))
    try:
        yield RabbitMQHandle(server)
    finally:
        server.release(user)


@pytest.fixture
def rabbitmq_url(rabbitmq: RabbitMQHandle) -> Iterator[str]:
    """The AMQP URL of a throwaway vhost for one test."""
    with rabbitmq.vhost() as url:
        yield url


# -- Kafka ---------------------------------------------------------------------------------------
class KafkaHandle:
    """A reachable Kafka and fresh names, so that tests never see each other's records."""

    def __init__(self, bootstrap: str, partitions: int) -> None:
        self.bootstrap = bootstrap
        self.partitions = partitions
        """Partitions of an auto-created topic (4 on the mock cluster, which cannot create topics)."""

    def fresh(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaHandle]:
    """The Kafka in MQLAB_KAFKA_BOOTSTRAP, or librdkafka's mock cluster started for this session."""
    _need_clients(brokers.KAFKA_HOW_TO_START)
    bootstrap = os.environ.get("MQLAB_KAFKA_BOOTSTRAP")
    if bootstrap:
        host, _, port = bootstrap.split(",")[0].rpartition(":")
        if not brokers.port_open(host, int(port)):
            unavailable(f"MQLAB_KAFKA_BOOTSTRAP={bootstrap} does not answer; {brokers.KAFKA_HOW_TO_START}")
        partitions = int(os.environ.get("MQLAB_KAFKA_AUTO_PARTITIONS", str(brokers.KafkaMockCluster.PARTITIONS)))
        yield KafkaHandle(bootstrap, partitions)
        return
    cluster = brokers.KafkaMockCluster(num_brokers=3)
    try:
        cluster.start()
    except Exception as error:
        unavailable(f"librdkafka's mock cluster did not start: {error}; {brokers.KAFKA_HOW_TO_START}")
    try:
        yield KafkaHandle(cluster.bootstrap, cluster.PARTITIONS)
    finally:
        cluster.stop()


# -- SQS -----------------------------------------------------------------------------------------
class SqsHandle:
    """A reachable SQS endpoint (moto) and a way to empty it."""

    def __init__(self, endpoint: str, reset: Callable[[], None] | None) -> None:
        self.endpoint = endpoint
        self._reset = reset

    def reset(self) -> None:
        """Forget every queue (moto only; a real SQS endpoint is never reset)."""
        if self._reset is not None:
            self._reset()


@pytest.fixture(scope="session")
def sqs() -> Iterator[SqsHandle]:
    """The SQS endpoint in MQLAB_SQS_ENDPOINT, or a moto_server started for this session."""
    _need_clients(brokers.SQS_HOW_TO_START)
    endpoint = os.environ.get("MQLAB_SQS_ENDPOINT")
    if endpoint:
        from urllib.parse import urlsplit

        parts = urlsplit(endpoint)
        server = brokers.MotoServer(host=parts.hostname or "127.0.0.1", port=parts.port)
        if not brokers.port_open(server.host, server.port or 80):
            unavailable(f"MQLAB_SQS_ENDPOINT={endpoint} does not answer; {brokers.SQS_HOW_TO_START}")
        yield SqsHandle(endpoint, server.reset if server.is_reachable() else None)
        return
    server = brokers.MotoServer()
    try:
        server.start()
    except Exception as error:
        unavailable(f"moto_server did not start: {error}; {brokers.SQS_HOW_TO_START}")
    try:
        yield SqsHandle(server.endpoint, server.reset)
    finally:
        server.stop()


@pytest.fixture
def sqs_endpoint(sqs: SqsHandle) -> str:
    """An emptied SQS endpoint for one test."""
    sqs.reset()
    return sqs.endpoint
