"""Kafka's error vocabulary, shaped like ``confluent_kafka.KafkaError`` and ``KafkaException``.

A :class:`KafkaError` carries a numeric code and a name exactly as librdkafka
reports them (broker errors are positive, local client errors are negative and
start with an underscore), plus a human message that names the object and the fix.
Codes and the ``"Broker: ..."``/``"Local: ..."`` wording were checked against
confluent-kafka 2.16 / librdkafka 2.16 (``KafkaError(code).str()``).

Every error the model raises is a :class:`KafkaException` (so ``except KafkaException
as e: e.args[0].code()`` works as with confluent-kafka), and each cause has its own
subclass under :class:`mqlab.errors.MqlabError` (``UnknownTopicOrPartition``,
``OffsetOutOfRange``, ...), so a notebook can catch exactly one cause.
"""

from __future__ import annotations

from mqlab.errors import MqlabError

__all__ = [
    "CODES",
    "ClientClosed",
    "ConfigError",
    "FencedInstanceId",
    "GroupIdRequired",
    "IllegalGeneration",
    "InvalidPartitions",
    "InvalidReplicationFactor",
    "InvalidTopic",
    "InvalidTxnState",
    "KafkaError",
    "KafkaException",
    "MessageSizeTooLarge",
    "NotEnoughReplicas",
    "OffsetOutOfRange",
    "ProducerFenced",
    "RebalanceInProgress",
    "StateError",
    "TopicAlreadyExists",
    "UnknownMemberId",
    "UnknownTopicOrPartition",
    "exception_for",
]

# name -> (code, librdkafka's description). Checked against confluent_kafka.KafkaError 2.16.
CODES: dict[str, tuple[int, str]] = {
    "NO_ERROR": (0, "Success"),
    "UNKNOWN": (-1, "Unknown broker error"),
    "OFFSET_OUT_OF_RANGE": (1, "Broker: Offset out of range"),
    "INVALID_MSG": (2, "Broker: Invalid message"),
    "UNKNOWN_TOPIC_OR_PART": (3, "Broker: Unknown topic or partition"),
    "LEADER_NOT_AVAILABLE": (5, "Broker: Leader not available"),
    "NOT_LEADER_FOR_PARTITION": (6, "Broker: Not leader for partition"),
    "REQUEST_TIMED_OUT": (7, "Broker: Request timed out"),
    "MSG_SIZE_TOO_LARGE": (10, "Broker: Message size too large"),
    "NOT_COORDINATOR": (16, "Broker: Not coordinator"),
    "TOPIC_EXCEPTION": (17, "Broker: Invalid topic"),
    "NOT_ENOUGH_REPLICAS": (19, "Broker: Not enough in-sync replicas"),
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND": (
        20,
        "Broker: Message(s) written to insufficient number of in-sync replicas",
    ),
    "ILLEGAL_GENERATION": (22, "Broker: Specified group generation id is not valid"),
    "INVALID_GROUP_ID": (24, "Broker: Invalid group.id"),
    "UNKNOWN_MEMBER_ID": (25, "Broker: Unknown member"),
    "REBALANCE_IN_PROGRESS": (27, "Broker: Group rebalance in progress"),
    "INVALID_TIMESTAMP": (32, "Broker: Invalid timestamp"),
    "TOPIC_ALREADY_EXISTS": (36, "Broker: Topic already exists"),
    "INVALID_PARTITIONS": (37, "Broker: Invalid number of partitions"),
    "INVALID_REPLICATION_FACTOR": (38, "Broker: Invalid replication factor"),
    "INVALID_CONFIG": (40, "Broker: Configuration is invalid"),
    "INVALID_REQUEST": (42, "Broker: Invalid request"),
    "OUT_OF_ORDER_SEQUENCE_NUMBER": (45, "Broker: Broker received an out of order sequence number"),
    "DUPLICATE_SEQUENCE_NUMBER": (46, "Broker: Broker received a duplicate sequence number"),
    "INVALID_PRODUCER_EPOCH": (47, "Broker: Producer attempted an operation with an old epoch"),
    "INVALID_TXN_STATE": (48, "Broker: Producer attempted a transactional operation in an invalid state"),
    "GROUP_ID_NOT_FOUND": (69, "Broker: The group id does not exist"),
    "FENCED_INSTANCE_ID": (82, "Broker: Static consumer fenced by other consumer with same group.instance.id"),
    "INVALID_RECORD": (87, "Broker: Broker failed to validate record"),
    "PRODUCER_FENCED": (
        90,
        "Broker: There is a newer producer with the same transactionalId which fences the current one",
    ),
    "INVALID_RECORD_STATE": (121, "Broker: The record state is invalid"),
    "_AUTO_OFFSET_RESET": (-140, "Local: No offset to automatically reset to"),
    "_FENCED": (-144, "Local: This instance has been fenced by a newer instance"),
    "_MAX_POLL_EXCEEDED": (-147, "Local: Maximum application poll interval (max.poll.interval.ms) exceeded"),
    "_NOENT": (-156, "Local: No such entry"),
    "_NO_OFFSET": (-168, "Local: No offset stored"),
    "_STATE": (-172, "Local: Erroneous state"),
    "_TIMED_OUT": (-185, "Local: Timed out"),
    "_INVALID_ARG": (-186, "Local: Invalid argument or configuration"),
    "_UNKNOWN_TOPIC": (-188, "Local: Unknown topic"),
    "_UNKNOWN_PARTITION": (-190, "Local: Unknown partition"),
    "_PARTITION_EOF": (-191, "Broker: No more messages"),
    "_MSG_TIMED_OUT": (-192, "Local: Message timed out"),
}
_NAMES = {code: name for name, (code, _) in CODES.items()}
_RETRIABLE = frozenset(
    {
        "LEADER_NOT_AVAILABLE",
        "NOT_LEADER_FOR_PARTITION",
        "REQUEST_TIMED_OUT",
        "NOT_COORDINATOR",
        "NOT_ENOUGH_REPLICAS",
        "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        "REBALANCE_IN_PROGRESS",
        "_TIMED_OUT",
    }
)
_FATAL = frozenset({"_FENCED", "PRODUCER_FENCED", "FENCED_INSTANCE_ID", "INVALID_PRODUCER_EPOCH"})


class KafkaError:
    """An error as confluent-kafka reports it: ``code()``, ``name()``, ``str()``, ``retriable()``, ``fatal()``.

    ``KafkaError.UNKNOWN_TOPIC_OR_PART`` and friends are the numeric codes, as on
    confluent-kafka's class, so ``err.code() == KafkaError.OFFSET_OUT_OF_RANGE`` works.
    """

    __slots__ = ("_code", "_reason", "_fatal", "_retriable", "_txn_requires_abort")

    def __init__(self, error: int | str, reason: str | None = None, fatal: bool | None = None,
                 retriable: bool | None = None, txn_requires_abort: bool = False) -> None:
        name = error if isinstance(error, str) else _NAMES.get(error, "UNKNOWN")
        if name not in CODES:
            raise ValueError(f"unknown Kafka error name {error!r}; use one of KafkaError's constants")
        self._code = CODES[name][0]
        self._reason = reason if reason is not None else CODES[name][1]
        self._fatal = name in _FATAL if fatal is None else fatal
        self._retriable = name in _RETRIABLE if retriable is None else retriable
        self._txn_requires_abort = txn_requires_abort

    def code(self) -> int:
        return self._code

    def name(self) -> str:
        return _NAMES[self._code]

    def str(self) -> str:
        return self._reason

    def retriable(self) -> bool:
        return self._retriable

    def fatal(self) -> bool:
        return self._fatal

    def txn_requires_abort(self) -> bool:
        return self._txn_requires_abort

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KafkaError):
            return self._code == other._code
        if isinstance(other, int):
            return self._code == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._code)

    def __repr__(self) -> str:
        return f'KafkaError{{code={self.name()},val={self._code},str="{self._reason}"}}'

    __str__ = __repr__


for _name, (_code, _) in CODES.items():
    setattr(KafkaError, _name, _code)


class KafkaException(MqlabError):
    """Raised by the model; ``args[0]`` is the :class:`KafkaError`, as in confluent-kafka."""

    error_name = "UNKNOWN"

    def __init__(self, error: KafkaError | str, reason: str | None = None) -> None:
        if not isinstance(error, KafkaError):
            error = KafkaError(error, reason)
        super().__init__(error)

    @property
    def error(self) -> KafkaError:
        return self.args[0]  # type: ignore[no-any-return]

    def __str__(self) -> str:
        return str(self.args[0])



class UnknownTopicOrPartition(KafkaException):
    """UNKNOWN_TOPIC_OR_PART: the topic does not exist, or the partition number is not in it."""

    error_name = "UNKNOWN_TOPIC_OR_PART"


class OffsetOutOfRange(KafkaException):
    """OFFSET_OUT_OF_RANGE: the offset is below the log start offset or above the log end offset."""

    error_name = "OFFSET_OUT_OF_RANGE"


class MessageSizeTooLarge(KafkaException):
    """MSG_SIZE_TOO_LARGE: a record is larger than message.max.bytes / max.message.bytes."""

    error_name = "MSG_SIZE_TOO_LARGE"


class NotEnoughReplicas(KafkaException):
    """NOT_ENOUGH_REPLICAS: acks=all and fewer in-sync replicas than min.insync.replicas."""

    error_name = "NOT_ENOUGH_REPLICAS"


class IllegalGeneration(KafkaException):
    """ILLEGAL_GENERATION: a commit or heartbeat from a generation the group has left behind."""

    error_name = "ILLEGAL_GENERATION"


class UnknownMemberId(KafkaException):
    """UNKNOWN_MEMBER_ID: the coordinator removed this member (session timeout, poll interval, leave)."""

    error_name = "UNKNOWN_MEMBER_ID"


class RebalanceInProgress(KafkaException):
    """REBALANCE_IN_PROGRESS: the group is rebalancing; commit after the new assignment."""

    error_name = "REBALANCE_IN_PROGRESS"


class FencedInstanceId(KafkaException):
    """FENCED_INSTANCE_ID: another consumer joined with the same group.instance.id."""

    error_name = "FENCED_INSTANCE_ID"


class ProducerFenced(KafkaException):
    """_FENCED / PRODUCER_FENCED: a newer producer with the same transactional.id took over."""

    error_name = "_FENCED"


class InvalidTxnState(KafkaException):
    """INVALID_TXN_STATE / _STATE: a transactional call out of order (commit without begin, ...)."""

    error_name = "_STATE"


class StateError(KafkaException):
    """_STATE: the client is in the wrong state for the call (closed consumer, not subscribed, ...)."""

    error_name = "_STATE"


class InvalidTopic(KafkaException):
    """TOPIC_EXCEPTION: a topic name Kafka refuses (empty, too long, '.'/'..', characters outside [a-zA-Z0-9._-])."""

    error_name = "TOPIC_EXCEPTION"


class ConfigError(KafkaException):
    """_INVALID_ARG: an unknown configuration property or an invalid value (as confluent-kafka raises)."""

    error_name = "_INVALID_ARG"


class GroupIdRequired(MqlabError, ValueError):
    """A Consumer needs a group.id (confluent-kafka raises ValueError too)."""


class ClientClosed(MqlabError, RuntimeError):
    """A call on a closed (or crashed) consumer; confluent-kafka raises RuntimeError too."""


class TopicAlreadyExists(KafkaException):
    """TOPIC_ALREADY_EXISTS: create_topics for a name that is taken."""

    error_name = "TOPIC_ALREADY_EXISTS"


class InvalidPartitions(KafkaException):
    """INVALID_PARTITIONS: a partition count that is not positive, or that would shrink a topic."""

    error_name = "INVALID_PARTITIONS"


class InvalidReplicationFactor(KafkaException):
    """INVALID_REPLICATION_FACTOR: more replicas than live brokers, or fewer than one."""

    error_name = "INVALID_REPLICATION_FACTOR"


_BY_NAME: dict[str, type[KafkaException]] = {
    cls.error_name: cls
    for cls in (
        UnknownTopicOrPartition,
        OffsetOutOfRange,
        MessageSizeTooLarge,
        NotEnoughReplicas,
        IllegalGeneration,
        UnknownMemberId,
        RebalanceInProgress,
        FencedInstanceId,
        ProducerFenced,
        ConfigError,
        TopicAlreadyExists,
        InvalidPartitions,
        InvalidReplicationFactor,
        InvalidTopic,
    )
}
_BY_NAME["PRODUCER_FENCED"] = ProducerFenced
_BY_NAME["INVALID_TXN_STATE"] = InvalidTxnState
_BY_NAME["_STATE"] = StateError
_BY_NAME["_UNKNOWN_TOPIC"] = UnknownTopicOrPartition
_BY_NAME["_UNKNOWN_PARTITION"] = UnknownTopicOrPartition
_BY_NAME["INVALID_CONFIG"] = ConfigError


def exception_for(name: str, reason: str) -> KafkaException:
    """The exception of the right class for the Kafka error ``name``, carrying ``reason``."""
    cls = _BY_NAME.get(name, KafkaException)
    return cls(KafkaError(name, reason))
