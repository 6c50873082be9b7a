"""Configuration: Kafka property names, librdkafka defaults, and errors as confluent-kafka raises them."""

from __future__ import annotations

import pytest

from mqlab.kafka import Cluster, Consumer, KafkaError, KafkaException, Producer
from mqlab.kafka.errors import ConfigError, GroupIdRequired


def test_unknown_property_is_invalid_arg(cluster: Cluster) -> None:
    """An unknown property raises KafkaException with _INVALID_ARG naming it, as librdkafka does."""
    with pytest.raises(KafkaException) as info:
        Producer(cluster, {"acks": "all", "lingerms": 5})
    error = info.value.args[0]
    assert error.code() == KafkaError._INVALID_ARG
    assert error.name() == "_INVALID_ARG"
    assert 'No such configuration property: "lingerms"' in error.str()
    assert isinstance(info.value, ConfigError)


def test_invalid_values_are_refused(cluster: Cluster) -> None:
    """Out-of-range or ill-typed values raise _INVALID_ARG naming the property."""
    for config in ({"acks": "most"}, {"linger.ms": -1}, {"enable.idempotence": "perhaps"},
                   {"partitioner": "md5"}):
        with pytest.raises(ConfigError, match=next(iter(config))):
            Producer(cluster, config)
    with pytest.raises(ConfigError, match="error"):
        Consumer(cluster, {"group.id": "g", "auto.offset.reset": "none"})


def test_librdkafka_defaults_and_aliases(cluster: Cluster) -> None:
    """Defaults are librdkafka's (acks=all, linger 5 ms, read_committed); aliases map to the canonical name."""
    producer = Producer(cluster, {"request.required.acks": 1, "queue.buffering.max.ms": 20})
    assert producer.acks == 1 and producer.linger == 0.02
    assert Producer(cluster, {}).acks == -1
    consumer = Consumer(cluster, {"group.id": "g", "auto.offset.reset": "smallest"})
    assert consumer.reset_policy == "earliest"
    assert consumer.read_committed
    assert consumer.config["session.timeout.ms"] == 45000
    assert consumer.strategies == ("range", "roundrobin")


def test_idempotence_requires_acks_all(cluster: Cluster) -> None:
    """enable.idempotence with acks=1 is refused, as librdkafka refuses it."""
    with pytest.raises(KafkaException, match="acks"):
        Producer(cluster, {"enable.idempotence": True, "acks": 1})


def test_consumer_needs_a_group_id(cluster: Cluster) -> None:
    """A Consumer without group.id raises ValueError (as confluent-kafka does)."""
    with pytest.raises(GroupIdRequired, match=r"group\.id must be set"):
        Consumer(cluster, {})
    with pytest.raises(ValueError):
        Consumer(cluster, {"auto.offset.reset": "earliest"})


def test_unknown_topic_config_is_invalid_config(cluster: Cluster) -> None:
    """A misspelt topic property is INVALID_CONFIG naming the topic."""
    with pytest.raises(KafkaException) as info:
        cluster.create_topic("t", 1, 1, {"retention.msec": 1})
    assert info.value.args[0].name() == "INVALID_CONFIG"
    assert "'t'" in info.value.args[0].str()


def test_error_codes_match_confluent_kafka() -> None:
    """Every error code and description equals confluent_kafka.KafkaError's."""
    ck = pytest.importorskip("confluent_kafka")
    from mqlab.kafka.errors import CODES

    for name, (code, text) in CODES.items():
        assert getattr(ck.KafkaError, name) == code, name
        assert ck.KafkaError(code).str() == text, name
