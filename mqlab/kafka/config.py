"""Client and topic configuration: Kafka's property names, librdkafka's defaults and ranges.

``Producer(cluster, {...})`` and ``Consumer(cluster, {...})`` take the same
dictionaries as confluent-kafka. As in librdkafka, an unknown property or an
invalid value raises ``KafkaException`` with ``_INVALID_ARG`` (here the
:class:`~mqlab.kafka.errors.ConfigError` subclass) at construction; string values
such as ``"all"``, ``"1000"`` or ``"true"`` are accepted and converted.

Defaults and ranges follow librdkafka's CONFIGURATION.md (2.x): for example
``acks=all``, ``linger.ms=5``, ``enable.idempotence=false``, ``auto.offset.reset=largest``,
``isolation.level=read_committed``, ``session.timeout.ms=45000``,
``partition.assignment.strategy=range,roundrobin``. Where mqlab differs it says so:

* ``partitioner`` defaults to ``murmur2_random`` (the Java client's rule) instead of
  librdkafka's ``consistent_random``, because the course compares with Java's partitioning;
* ``max.poll.records`` (default 500, as in Java) bounds how many records one fetch hands
  the consumer, and the share consumer's batches;
* ``auto.offset.reset=none`` (Java's name) is refused as librdkafka refuses it; use ``error``;
* connection properties (``bootstrap.servers``, ``security.protocol``, ...) are accepted and ignored.

Topic properties (``retention.ms``, ``cleanup.policy``, ``max.message.bytes``, ...) use
the broker defaults of Apache Kafka 3.x/4.x.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mqlab.kafka.errors import ConfigError, KafkaError
from mqlab.kafka.partitioner import PARTITIONERS

__all__ = [
    "CONSUMER_PROPERTIES",
    "PRODUCER_PROPERTIES",
    "SHARE_CONSUMER_PROPERTIES",
    "TOPIC_PROPERTIES",
    "parse_config",
    "parse_topic_config",
]

_INT_MAX = 2_147_483_647
_LONG_MAX = 9_223_372_036_854_775_807


class _Prop:
    """One property: its kind (int, bool, enum, str, callable, ignored), default and range."""

    __slots__ = ("name", "kind", "default", "low", "high", "choices", "alias_of")

    def __init__(self, name: str, kind: str, default: Any = None, low: int = 0, high: int = _INT_MAX,
                 choices: tuple[str, ...] = (), alias_of: str | None = None) -> None:
        self.name = name
        self.kind = kind
        self.default = default
        self.low = low
        self.high = high
        self.choices = choices
        self.alias_of = alias_of


def _table(*props: _Prop) -> dict[str, _Prop]:
    return {p.name: p for p in props}


_COMMON = (
    _Prop("bootstrap.servers", "ignored", ""),
    _Prop("metadata.broker.list", "ignored", ""),
    _Prop("client.id", "str", "rdkafka"),
    _Prop("security.protocol", "ignored", "plaintext"),
    _Prop("sasl.mechanism", "ignored"),
    _Prop("sasl.mechanisms", "ignored"),
    _Prop("sasl.username", "ignored"),
    _Prop("sasl.password", "ignored"),
    _Prop("socket.timeout.ms", "int", 60000, 10, 300000),
    _Prop("statistics.interval.ms", "int", 0, 0, 86400000),
    _Prop("error_cb", "callable"),
    _Prop("stats_cb", "callable"),
    _Prop("throttle_cb", "callable"),
    _Prop("logger", "ignored"),
    _Prop("debug", "ignored"),
    _Prop("message.max.bytes", "int", 1000000, 1000, 1000000000),
    _Prop("retry.backoff.ms", "int", 100, 1, 300000),
)

PRODUCER_PROPERTIES = _table(
    *_COMMON,
    _Prop("acks", "acks", -1),
    _Prop("request.required.acks", "acks", -1, alias_of="acks"),
    _Prop("enable.idempotence", "bool", False),
    _Prop("linger.ms", "float", 5.0, 0, 900000),
    _Prop("queue.buffering.max.ms", "float", 5.0, 0, 900000, alias_of="linger.ms"),
    _Prop("batch.num.messages", "int", 10000, 1, 1000000),
    _Prop("batch.size", "int", 1000000, 1, _INT_MAX),
    _Prop("queue.buffering.max.messages", "int", 100000, 0, _INT_MAX),
    _Prop("queue.buffering.max.kbytes", "int", 1048576, 1, _INT_MAX),
    _Prop("message.timeout.ms", "int", 300000, 0, _INT_MAX),
    _Prop("delivery.timeout.ms", "int", 300000, 0, _INT_MAX, alias_of="message.timeout.ms"),
    _Prop("request.timeout.ms", "int", 30000, 1, 900000),
    _Prop("retries", "int", _INT_MAX, 0, _INT_MAX),
    _Prop("message.send.max.retries", "int", _INT_MAX, 0, _INT_MAX, alias_of="retries"),
    _Prop("max.in.flight.requests.per.connection", "int", 1000000, 1, 1000000),
    _Prop("max.in.flight", "int", 1000000, 1, 1000000, alias_of="max.in.flight.requests.per.connection"),
    _Prop("partitioner", "enum", "murmur2_random", choices=PARTITIONERS),
    _Prop("sticky.partitioning.linger.ms", "int", 10, 0, 900000),
    _Prop("transactional.id", "str", None),
    _Prop("transaction.timeout.ms", "int", 60000, 1000, _INT_MAX),
    _Prop("compression.type", "enum", "none", choices=("none", "gzip", "snappy", "lz4", "zstd")),
    _Prop("compression.codec", "enum", "none", choices=("none", "gzip", "snappy", "lz4", "zstd"),
          alias_of="compression.type"),
    _Prop("delivery.report.only.error", "bool", False),
    _Prop("on_delivery", "callable"),
)

CONSUMER_PROPERTIES = _table(
    *_COMMON,
    _Prop("group.id", "str", None),
    _Prop("group.instance.id", "str", None),
    _Prop("group.protocol", "enum", "classic", choices=("classic", "consumer")),
    _Prop("partition.assignment.strategy", "strategies", ("range", "roundrobin")),
    _Prop("session.timeout.ms", "int", 45000, 1, 3600000),
    _Prop("heartbeat.interval.ms", "int", 3000, 1, 3600000),
    _Prop("max.poll.interval.ms", "int", 300000, 1, 86400000),
    _Prop("max.poll.records", "int", 500, 1, _INT_MAX),
    _Prop("enable.auto.commit", "bool", True),
    _Prop("auto.commit.interval.ms", "int", 5000, 0, 86400000),
    _Prop("enable.auto.offset.store", "bool", True),
    _Prop("auto.offset.reset", "reset", "latest"),
    _Prop("isolation.level", "enum", "read_committed", choices=("read_committed", "read_uncommitted")),
    _Prop("enable.partition.eof", "bool", False),
    _Prop("fetch.min.bytes", "int", 1, 1, 100000000),
    _Prop("fetch.max.bytes", "int", 52428800, 0, 2147483135),
    _Prop("max.partition.fetch.bytes", "int", 1048576, 1, 1000000000),
    _Prop("fetch.wait.max.ms", "int", 500, 0, 300000),
    _Prop("allow.auto.create.topics", "bool", False),
    _Prop("check.crcs", "bool", False),
    _Prop("on_commit", "callable"),
)

SHARE_CONSUMER_PROPERTIES = _table(
    *_COMMON,
    _Prop("group.id", "str", None),
    _Prop("share.acknowledgement.mode", "enum", "implicit", choices=("implicit", "explicit")),
    _Prop("max.poll.records", "int", 500, 1, _INT_MAX),
    _Prop("max.poll.interval.ms", "int", 300000, 1, 86400000),
    _Prop("session.timeout.ms", "int", 45000, 1, 3600000),
    _Prop("heartbeat.interval.ms", "int", 3000, 1, 3600000),
    _Prop("fetch.max.bytes", "int", 52428800, 0, 2147483135),
)

_DAY_MS = 86_400_000
TOPIC_PROPERTIES = _table(
    _Prop("cleanup.policy", "policy", ("delete",)),
    _Prop("retention.ms", "long", 7 * _DAY_MS, -1, _LONG_MAX),
    _Prop("retention.bytes", "long", -1, -1, _LONG_MAX),
    _Prop("segment.bytes", "int", 1073741824, 14, _INT_MAX),
    _Prop("segment.ms", "long", 7 * _DAY_MS, 1, _LONG_MAX),
    _Prop("max.message.bytes", "int", 1048588, 0, _INT_MAX),
    _Prop("min.insync.replicas", "int", 1, 1, _INT_MAX),
    _Prop("unclean.leader.election.enable", "bool", False),
    _Prop("min.cleanable.dirty.ratio", "float", 0.5, 0, 1),
    _Prop("delete.retention.ms", "long", _DAY_MS, 0, _LONG_MAX),
    _Prop("min.compaction.lag.ms", "long", 0, 0, _LONG_MAX),
    _Prop("message.timestamp.type", "enum", "CreateTime", choices=("CreateTime", "LogAppendTime")),
)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_RESETS = {
    "smallest": "earliest", "earliest": "earliest", "beginning": "earliest",
    "largest": "latest", "latest": "latest", "end": "latest",
    "error": "error",
}
_STRATEGIES = ("range", "roundrobin", "cooperative-sticky")


def _invalid(prop: str, value: Any, rule: str) -> ConfigError:
    return ConfigError(KafkaError(
        "_INVALID_ARG", f'Invalid value "{value}" for configuration property "{prop}": {rule}'
    ))


def _convert(prop: _Prop, value: Any) -> Any:
    kind = prop.kind
    name = prop.name
    if kind == "ignored":
        return value
    if kind == "callable":
        if value is not None and not callable(value):
            raise _invalid(name, value, "expected a callable")
        return value
    if kind == "str":
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise _invalid(name, value, "expected a non-empty string")
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise _invalid(name, value, "expected true or false")
    if kind in ("int", "long", "float"):
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value) if kind == "float" else int(value)
        except (TypeError, ValueError):
            raise _invalid(name, value, f"expected a number in {prop.low}..{prop.high}") from None
        if not prop.low <= number <= prop.high:
            raise _invalid(name, value, f"value must be in {prop.low}..{prop.high}")
        return number
    if kind == "enum":
        if value not in prop.choices:
            raise _invalid(name, value, f"expected one of {', '.join(prop.choices)}")
        return value
    if kind == "acks":
        if value in ("all", "-1", -1):
            return -1
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise _invalid(name, value, "expected all, -1, 0 or 1") from None
        if number not in (0, 1) and not 1 < number <= 1000:
            raise _invalid(name, value, "expected all, -1, 0 or 1")
        return number
    if kind == "reset":
        if value not in _RESETS:
            hint = " (Java's `none` is librdkafka's `error`)" if value == "none" else ""
            raise _invalid(name, value, f"expected smallest, earliest, beginning, largest, latest, end or error{hint}")
        return _RESETS[value]
    if kind == "strategies":
        names = value if isinstance(value, (list, tuple)) else [s.strip() for s in str(value).split(",")]
        if not names or any(n not in _STRATEGIES for n in names):
            raise _invalid(name, value, f"expected a comma-separated list of {', '.join(_STRATEGIES)}")
        if "cooperative-sticky" in names and len(names) > 1:
            raise _invalid(name, value, "cooperative-sticky cannot be mixed with eager strategies")
        return tuple(names)
    if kind == "policy":
        names = value if isinstance(value, (list, tuple)) else [s.strip() for s in str(value).split(",")]
        if not names or any(n not in ("delete", "compact") for n in names):
            raise _invalid(name, value, "expected delete, compact or delete,compact")
        return tuple(sorted(set(names)))
    raise AssertionError(kind)


def parse_config(table: Mapping[str, _Prop], config: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """Validate ``config`` against a property table; returns every property with its effective value.

    Raises :class:`ConfigError` (``_INVALID_ARG``) naming the property for an unknown
    name or a bad value, as librdkafka does when the client is constructed.
    """
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise TypeError(f"{what} config must be a dict of Kafka property names, got {type(config).__name__}")
    result = {p.name: p.default for p in table.values() if p.alias_of is None}
    for key in config:
        if key not in table:
            raise ConfigError(KafkaError(
                "_INVALID_ARG",
                f'No such configuration property: "{key}" (for a {what}; check the spelling against '
                f"librdkafka's CONFIGURATION.md)",
            ))
        prop = table[key]
        result[prop.alias_of or key] = _convert(prop, config[key])
    return result


def parse_topic_config(config: Mapping[str, Any] | None, topic: str,
                       defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate topic-level properties; an unknown one is INVALID_CONFIG, naming the topic."""
    result = {p.name: p.default for p in TOPIC_PROPERTIES.values()}
    if defaults:
        result.update(defaults)
    for key, value in (config or {}).items():
        if key not in TOPIC_PROPERTIES:
            raise ConfigError(KafkaError(
                "INVALID_CONFIG",
                f"topic {topic!r}: unknown topic configuration {key!r}; "
                f"known ones are {', '.join(sorted(TOPIC_PROPERTIES))}",
            ))
        result[key] = _convert(TOPIC_PROPERTIES[key], value)
    return result


def callable_or_none(value: Any) -> Callable[..., Any] | None:
    return value if callable(value) else None
