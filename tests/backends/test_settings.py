"""mqlab.backends without a broker: the setting, the simulator default, and what a real backend refuses."""

from __future__ import annotations

import socket
import sys
from typing import Any

import pytest

from mqlab.backends import (
    BrokerUnreachable,
    InvalidBrokerSetting,
    KafkaBackend,
    NotAvailableOnRealBroker,
    RabbitMQBackend,
    RealClientMissing,
    SQSBackend,
    resolve_setting,
)
from mqlab.backends.base import redact
from mqlab.sim import Simulation

VARIABLES = ("MQLAB_RABBITMQ_URL", "MQLAB_KAFKA_BOOTSTRAP", "MQLAB_SQS_ENDPOINT")


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*VARIABLES, "MQLAB_RABBITMQ_USER", "MQLAB_RABBITMQ_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the simulator backend touched the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The explicit setting beats the environment variable; "simulator" forces the simulator."""
    monkeypatch.setenv("MQLAB_RABBITMQ_URL", "amqp://127.0.0.1/")
    assert resolve_setting(None, "MQLAB_RABBITMQ_URL") == "amqp://127.0.0.1/"
    assert resolve_setting("amqp://other/", "MQLAB_RABBITMQ_URL") == "amqp://other/"
    assert resolve_setting("simulator", "MQLAB_RABBITMQ_URL") is None
    assert resolve_setting("", "MQLAB_RABBITMQ_URL") is None


def test_without_a_setting_every_backend_is_the_simulator_and_stays_offline(no_network: None) -> None:
    """With no setting, the three backends run the simulator, import no real client and open no socket."""
    before = {name for name in ("pika", "confluent_kafka", "boto3") if name in sys.modules}
    rabbit, kafka, sqs = RabbitMQBackend(), KafkaBackend(), SQSBackend()
    assert not (rabbit.is_real or kafka.is_real or sqs.is_real)
    ch = rabbit.connect().channel()
    ch.queue_declare("tasks")
    ch.basic_publish("", "tasks", b"hello", rabbit.BasicProperties(delivery_mode=2))
    method, _, body = ch.basic_get("tasks", auto_ack=True)
    assert body == b"hello" and method.routing_key == "tasks"
    producer = kafka.producer({"partitioner": "murmur2_random"})
    producer.produce("rides", key=b"rider-1", value=b"trip")
    assert producer.flush(5) == 0
    client = sqs.client()
    url = client.create_queue(QueueName="orders")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="order 1")
    assert client.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "order 1"
    after = {name for name in ("pika", "confluent_kafka", "boto3") if name in sys.modules}
    assert after == before


def test_simulator_run_advances_virtual_time() -> None:
    """run(seconds) on the simulator is virtual time: the clock moves, the wall clock does not matter."""
    backend = RabbitMQBackend(sim=Simulation(seed=3))
    backend.run(3600)
    assert backend.sim.now == 3600
    assert "simulator" in backend.describe() and "seed 3" in backend.describe()


def test_simulator_extras_are_there_on_the_simulator() -> None:
    """The simulator's model objects, ledger and statistics are reachable through the backend."""
    backend = RabbitMQBackend()
    backend.connect().channel().queue_declare("q")
    assert backend.ledger() == backend.broker.ledger()
    assert SQSBackend().service is not None
    assert KafkaBackend().cluster is not None


def test_a_simulation_and_a_real_broker_cannot_both_be_given() -> None:
    """Passing a Simulation and naming a real broker is contradictory and refused."""
    with pytest.raises(InvalidBrokerSetting, match="pass one or the other"):
        RabbitMQBackend("amqp://127.0.0.1/", sim=Simulation())


def test_a_malformed_setting_names_the_expected_form() -> None:
    """A RabbitMQ setting must be an AMQP URL, an SQS setting an http(s) URL or 'aws'."""
    pytest.importorskip("pika")
    pytest.importorskip("boto3")
    with pytest.raises(InvalidBrokerSetting, match="amqp://"):
        RabbitMQBackend("http://127.0.0.1:5672/")
    with pytest.raises(InvalidBrokerSetting, match="http"):
        SQSBackend("127.0.0.1:5000")


def test_a_missing_client_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Naming a real broker without its client installed raises RealClientMissing naming the extra."""
    monkeypatch.setitem(sys.modules, "pika", None)
    with pytest.raises(RealClientMissing, match=r"pip install -e \.\[real\]"):
        RabbitMQBackend("amqp://127.0.0.1/")


def test_real_backends_refuse_what_only_the_simulator_has() -> None:
    """On a real broker, virtual time, the trace, the ledger, model objects and fault injection raise
    NotAvailableOnRealBroker (no connection is needed to find out)."""
    pytest.importorskip("pika")
    pytest.importorskip("confluent_kafka")
    pytest.importorskip("boto3")
    backends = [RabbitMQBackend("amqp://127.0.0.1:1/"), KafkaBackend("127.0.0.1:1"), SQSBackend("http://127.0.0.1:1")]
    for backend in backends:
        assert backend.is_real
        for attempt in (lambda b: b.sim, lambda b: b.trace, lambda b: b.ledger(), lambda b: b.faults(),
                        lambda b: b.run()):
            with pytest.raises(NotAvailableOnRealBroker, match="exists only in mqlab's simulator"):
                attempt(backend)
    with pytest.raises(NotAvailableOnRealBroker, match=r"backend\.broker"):
        _ = backends[0].broker
    with pytest.raises(NotAvailableOnRealBroker, match=r"backend\.cluster"):
        _ = backends[1].cluster
    with pytest.raises(NotAvailableOnRealBroker, match=r"backend\.service"):
        _ = backends[2].service
    with pytest.raises(NotAvailableOnRealBroker, match="simulator settings"):
        RabbitMQBackend("amqp://127.0.0.1:1/", latency=0.01)


def test_an_unreachable_rabbitmq_names_the_address_and_how_to_start_one() -> None:
    """A refused connection says which URL was tried (password hidden) and how to start a local broker."""
    pytest.importorskip("pika")
    backend = RabbitMQBackend("amqp://learner:s3cret@127.0.0.1:1/")
    with pytest.raises(BrokerUnreachable) as caught:
        backend.connect()
    message = str(caught.value)
    assert "127.0.0.1:1" in message and "s3cret" not in message
    assert "tools/brokers.py start rabbitmq" in message and "MQLAB_RABBITMQ_URL" in message


def test_an_unreachable_sqs_endpoint_names_it_and_how_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused SQS endpoint says which URL was tried and how to start moto_server."""
    pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(BrokerUnreachable, match=r"http://127\.0\.0\.1:1 .*tools/brokers.py start sqs"):
        SQSBackend("http://127.0.0.1:1").client()


def test_credentials_come_from_the_url_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """RabbitMQ: the URL's user wins, else MQLAB_RABBITMQ_USER/PASSWORD; SQS: the URL's key pair, else a
    loopback placeholder; and a password never appears in describe()."""
    pytest.importorskip("pika")
    pytest.importorskip("boto3")
    assert RabbitMQBackend("amqp://alice:pw@127.0.0.1/").address == "amqp://alice:pw@127.0.0.1/"
    monkeypatch.setenv("MQLAB_RABBITMQ_USER", "bob")
    monkeypatch.setenv("MQLAB_RABBITMQ_PASSWORD", "p@ss")
    backend = RabbitMQBackend("amqp://127.0.0.1:5672/")
    assert backend.address == "amqp://bob:p%40ss@127.0.0.1:5672/"
    assert "p%40ss" not in backend.describe() and "***" in backend.describe()
    assert SQSBackend("http://KEY:SECRET@127.0.0.1:5000")._credentials == {
        "aws_access_key_id": "KEY",
        "aws_secret_access_key": "SECRET",
    }
    assert SQSBackend("http://127.0.0.1:5000")._credentials["aws_access_key_id"] == "mqlab-local"
    assert SQSBackend("https://sqs.eu-west-1.amazonaws.com")._credentials == {}
    assert redact("amqp://u:secret@h:1/v") == "amqp://u:***@h:1/v"
