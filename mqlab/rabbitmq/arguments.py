"""Queue arguments (``x-...``): parsing, validation and the equivalence check on redeclare.

RabbitMQ validates the optional arguments it knows and ignores the others. A wrong
type or value is a 406 PRECONDITION_FAILED channel error worded like the broker's
(``invalid arg 'x-max-length' for queue 'q' in vhost '/': {unacceptable_type,longstr}``).
Redeclaring a queue with a different value of one of these arguments is also a 406
(``inequivalent arg ...``); arguments the broker does not know are not compared.

Times are milliseconds, as on the wire (``x-message-ttl``); :class:`QueueSettings`
converts them to seconds of virtual time once.

Checked against the RabbitMQ docs (ttl.html, maxlength.html, dlx.html, priority.html,
quorum-queues.html, consumers.html#single-active-consumer). Not modelled: streams; lazy
mode is accepted and ignored (it changes no semantics here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mqlab.rabbitmq.errors import PRECONDITION_FAILED, InvalidArgument, NotImplementedFeature

__all__ = [
    "OVERFLOW_MODES",
    "QUEUE_TYPES",
    "QueueSettings",
    "amqp_type_name",
    "compared_arguments",
    "parse_queue_arguments",
]

OVERFLOW_MODES = ("drop-head", "reject-publish", "reject-publish-dlx")
QUEUE_TYPES = ("classic", "quorum")
MAX_PRIORITY = 255

# The arguments RabbitMQ checks for equivalence on redeclare (rabbit_amqqueue:declare_args/0).
_COMPARED = (
    "x-expires",
    "x-message-ttl",
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-max-length",
    "x-max-length-bytes",
    "x-max-priority",
    "x-overflow",
    "x-queue-mode",
    "x-queue-type",
    "x-single-active-consumer",
    "x-delivery-limit",
)


def compared_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of ``arguments`` the broker compares when a queue is redeclared."""
    return {key: arguments[key] for key in _COMPARED if key in arguments}


@dataclass(frozen=True)
class QueueSettings:
    """A queue's arguments, validated; times in seconds of virtual time.

    ``expires`` (``x-expires``) deletes the queue after it has been unused that long:
    no consumers, no ``basic_get``, no redeclare (RabbitMQ ttl.html, "Queue TTL").

    ``delivery_limit`` is None for "no limit" (classic queues, or a quorum queue with
    a negative ``x-delivery-limit`` or a broker whose default is None).
    """

    queue_type: str = "classic"
    message_ttl: float | None = None
    max_length: int | None = None
    max_length_bytes: int | None = None
    overflow: str = "drop-head"
    dead_letter_exchange: str | None = None
    dead_letter_routing_key: str | None = None
    max_priority: int | None = None
    single_active_consumer: bool = False
    delivery_limit: int | None = None
    expires: float | None = None


def _invalid(queue: str, key: str, detail: str) -> InvalidArgument:
    return InvalidArgument(
        PRECONDITION_FAILED,
        f"PRECONDITION_FAILED - invalid arg '{key}' for queue '{queue}' in vhost '/': {detail}",
        f"pass {key} as {_EXPECTED.get(key, 'a valid value')} in queue_declare(arguments=...)",
    )


_EXPECTED = {
    "x-message-ttl": "a non-negative int of milliseconds",
    "x-expires": "a positive int of milliseconds",
    "x-max-length": "a non-negative int",
    "x-max-length-bytes": "a non-negative int",
    "x-overflow": "one of 'drop-head', 'reject-publish', 'reject-publish-dlx'",
    "x-dead-letter-exchange": "an exchange name (str)",
    "x-dead-letter-routing-key": "a routing key (str), together with x-dead-letter-exchange",
    "x-max-priority": "an int from 0 to 255 (1 to 10 is recommended)",
    "x-single-active-consumer": "a bool",
    "x-delivery-limit": "an int (negative means no limit)",
    "x-queue-type": "'classic' or 'quorum'",
}


def amqp_type_name(value: Any) -> str:
    """The AMQP field type pika encodes ``value`` as, in RabbitMQ's words (``signedint``, ``longstr`` ...)."""
    if value is None:
        return "void"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "signedint" if -(2**31) <= value < 2**31 else "long"
    if isinstance(value, (str, bytes)):
        return "longstr"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _int_arg(queue: str, arguments: Mapping[str, Any], key: str, *, zero_ok: bool = True,
             maximum: int | None = None, negative_ok: bool = False) -> int | None:
    if key not in arguments:
        return None
    value = arguments[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(queue, key, f'"expected integer, got {amqp_type_name(value)}"')
    if value < 0 and not negative_ok:
        raise _invalid(queue, key, f"{{value_negative,{value}}}")
    if value == 0 and not zero_ok:
        raise _invalid(queue, key, f"{{value_zero,{value}}}")
    if maximum is not None and value > maximum:
        raise _invalid(queue, key, f"{{max_value_exceeded,{value}}}")
    return value


def _str_arg(queue: str, arguments: Mapping[str, Any], key: str) -> str | None:
    if key not in arguments:
        return None
    value = arguments[key]
    if isinstance(value, str):
        return value
    if key in ("x-dead-letter-exchange", "x-dead-letter-routing-key"):
        raise InvalidArgument(
            PRECONDITION_FAILED,
            f"PRECONDITION_FAILED - invalid type '{amqp_type_name(value)}' for arg '{key}' in queue '{queue}' "
            f"in vhost '/'",
            f"pass {key} as {_EXPECTED[key]} in queue_declare(arguments=...)",
        )
    raise _invalid(queue, key, f"{{unacceptable_type,{amqp_type_name(value)}}}")


def _not_for_type(queue: str, key: str, queue_type: str) -> InvalidArgument:
    return InvalidArgument(
        PRECONDITION_FAILED,
        f"PRECONDITION_FAILED - invalid arg '{key}' for queue '{queue}' in vhost '/' of queue type "
        f"rabbit_{queue_type}_queue",
        f"{key} is not supported by {queue_type} queues; remove it, or use the other queue type",
    )


def parse_queue_arguments(queue: str, arguments: Mapping[str, Any], durable: bool, exclusive: bool,
                          auto_delete: bool, quorum_delivery_limit: int | None) -> QueueSettings:
    """Validate ``arguments`` of ``queue_declare`` as RabbitMQ does; raise a 406 on the first problem.

    The reply texts are RabbitMQ 3.10's, checked against a live broker.
    """
    if not isinstance(arguments, Mapping):
        raise _invalid(queue, "arguments", f"{{unacceptable_type,{amqp_type_name(arguments)}}}")
    queue_type = _str_arg(queue, arguments, "x-queue-type") or "classic"
    if queue_type == "stream":
        raise NotImplementedFeature(
            540, "NOT_IMPLEMENTED - stream queues are not modelled",
            "mqlab models classic and quorum queues; use x-queue-type 'classic' or 'quorum'",
        )
    if queue_type not in QUEUE_TYPES:
        raise _invalid(queue, "x-queue-type", f'"unsupported queue type \'{queue_type}\'"')
    if queue_type == "classic" and "x-delivery-limit" in arguments:
        raise _not_for_type(queue, "x-delivery-limit", "classic")
    if queue_type == "quorum" and "x-max-priority" in arguments:
        raise _not_for_type(queue, "x-max-priority", "quorum")
    expires_ms = _int_arg(queue, arguments, "x-expires", zero_ok=False)
    ttl_ms = _int_arg(queue, arguments, "x-message-ttl")
    max_length = _int_arg(queue, arguments, "x-max-length")
    max_bytes = _int_arg(queue, arguments, "x-max-length-bytes")
    overflow = _str_arg(queue, arguments, "x-overflow") or "drop-head"
    if overflow not in OVERFLOW_MODES:
        raise _invalid(queue, "x-overflow", "invalid_overflow")
    dlx = _str_arg(queue, arguments, "x-dead-letter-exchange")
    dlrk = _str_arg(queue, arguments, "x-dead-letter-routing-key")
    if dlrk is not None and dlx is None:
        raise _invalid(queue, "x-dead-letter-routing-key", "routing_key_but_no_dlx_defined")
    max_priority = _int_arg(queue, arguments, "x-max-priority", maximum=MAX_PRIORITY)
    sac = False
    if "x-single-active-consumer" in arguments:
        sac = arguments["x-single-active-consumer"]
        if not isinstance(sac, bool):
            raise _invalid(queue, "x-single-active-consumer", f"{{unacceptable_type,{amqp_type_name(sac)}}}")
    delivery_limit: int | None = None
    if queue_type == "quorum":
        for prop, bad in (("non-durable", not durable), ("exclusive-owner", exclusive), ("auto-delete", auto_delete)):
            if bad:
                raise InvalidArgument(
                    PRECONDITION_FAILED,
                    f"PRECONDITION_FAILED - invalid property '{prop}' for queue '{queue}' in vhost '/'",
                    "quorum queues are always durable, never exclusive or auto-delete; "
                    "declare with durable=True, exclusive=False, auto_delete=False",
                )
        if overflow == "reject-publish-dlx":
            overflow = "drop-head"  # RabbitMQ logs "Invalid overflow strategy" and keeps the default
        limit = quorum_delivery_limit
        if "x-delivery-limit" in arguments:
            limit = _int_arg(queue, arguments, "x-delivery-limit", negative_ok=True)
        delivery_limit = None if limit is None or limit < 0 else limit
    return QueueSettings(
        queue_type=queue_type,
        message_ttl=None if ttl_ms is None else ttl_ms / 1000.0,
        max_length=max_length,
        max_length_bytes=max_bytes,
        overflow=overflow,
        dead_letter_exchange=dlx,
        dead_letter_routing_key=dlrk,
        max_priority=max_priority or None,
        single_active_consumer=sac,
        delivery_limit=delivery_limit,
        expires=None if expires_ms is None else expires_ms / 1000.0,
    )
