"""Queue attributes: names, defaults, validation, and the queue's configuration record.

``CreateQueue`` and ``SetQueueAttributes`` take attribute values as *strings*
(boto3 rejects ``{"VisibilityTimeout": 30}`` before sending; use ``"30"``).
Unknown names raise ``InvalidAttributeName``; out-of-range or malformed values
raise ``InvalidAttributeValue``, as SQS does. FIFO-only attributes on a standard
queue are unknown attributes there. Queue names follow the CreateQueue rules.

Cross-queue rules of ``RedrivePolicy`` (the DLQ exists, has the same type and
allows this source) are checked by the service, which knows the other queues.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mqlab.sqs import limits
from mqlab.sqs.errors import InvalidAttributeName, InvalidAttributeValue, InvalidParameterValue
from mqlab.sqs.redrive import (
    RedriveAllowPolicy,
    RedrivePolicy,
    parse_redrive_allow_policy,
    parse_redrive_policy,
)

__all__ = [
    "READ_ONLY_ATTRIBUTES",
    "SETTABLE_ATTRIBUTES",
    "QueueConfig",
    "check_queue_name",
    "parse_attributes",
]

_INT_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (limits.MIN_DELAY_SECONDS, limits.MAX_DELAY_SECONDS),
    "MaximumMessageSize": (limits.MIN_MAXIMUM_MESSAGE_SIZE, limits.MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": (limits.MIN_RETENTION_PERIOD, limits.MAX_RETENTION_PERIOD),
    "ReceiveMessageWaitTimeSeconds": (limits.MIN_WAIT_TIME_SECONDS, limits.MAX_WAIT_TIME_SECONDS),
    "VisibilityTimeout": (limits.MIN_VISIBILITY_TIMEOUT, limits.MAX_VISIBILITY_TIMEOUT),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
_BOOLEANS = ("SqsManagedSseEnabled", "ContentBasedDeduplication", "FifoQueue")
_FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
SETTABLE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
READ_ONLY_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)


@dataclass(slots=True)
class QueueConfig:
    """A queue's settings, in Python types (seconds, bytes, booleans, parsed policies)."""

    fifo: bool = False
    visibility_timeout: int = limits.DEFAULT_VISIBILITY_TIMEOUT
    retention_period: int = limits.DEFAULT_RETENTION_PERIOD
    delay_seconds: int = limits.DEFAULT_DELAY_SECONDS
    maximum_message_size: int = limits.MAX_MESSAGE_SIZE
    receive_wait_time: int = limits.DEFAULT_RECEIVE_WAIT_TIME
    redrive_policy: RedrivePolicy | None = None
    redrive_allow_policy: RedriveAllowPolicy | None = None
    content_based_deduplication: bool = False
    deduplication_scope: str = "queue"
    fifo_throughput_limit: str = "perQueue"
    sqs_managed_sse: bool = True
    policy: str | None = None
    kms_master_key_id: str | None = None
    kms_data_key_reuse: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def apply(self, values: Mapping[str, Any]) -> None:
        """Store already-validated values (from :func:`parse_attributes`)."""
        for name, value in values.items():
            setattr(self, _FIELD[name], value)

    def as_strings(self) -> dict[str, str]:
        """The settable attributes as GetQueueAttributes reports them (strings; absent when unset)."""
        out = {
            "VisibilityTimeout": str(self.visibility_timeout),
            "MaximumMessageSize": str(self.maximum_message_size),
            "MessageRetentionPeriod": str(self.retention_period),
            "DelaySeconds": str(self.delay_seconds),
            "ReceiveMessageWaitTimeSeconds": str(self.receive_wait_time),
            "SqsManagedSseEnabled": "true" if self.sqs_managed_sse else "false",
        }
        if self.redrive_policy is not None:
            out["RedrivePolicy"] = self.redrive_policy.to_json()
        if self.redrive_allow_policy is not None:
            out["RedriveAllowPolicy"] = self.redrive_allow_policy.to_json()
        if self.policy is not None:
            out["Policy"] = self.policy
        if self.kms_master_key_id is not None:
            out["KmsMasterKeyId"] = self.kms_master_key_id
        if self.kms_data_key_reuse is not None:
            out["KmsDataKeyReusePeriodSeconds"] = str(self.kms_data_key_reuse)
        if self.fifo:
            out["FifoQueue"] = "true"
            out["ContentBasedDeduplication"] = "true" if self.content_based_deduplication else "false"
            out["DeduplicationScope"] = self.deduplication_scope
            out["FifoThroughputLimit"] = self.fifo_throughput_limit
        return out


_FIELD = {
    "VisibilityTimeout": "visibility_timeout",
    "MessageRetentionPeriod": "retention_period",
    "DelaySeconds": "delay_seconds",
    "MaximumMessageSize": "maximum_message_size",
    "ReceiveMessageWaitTimeSeconds": "receive_wait_time",
    "RedrivePolicy": "redrive_policy",
    "RedriveAllowPolicy": "redrive_allow_policy",
    "ContentBasedDeduplication": "content_based_deduplication",
    "DeduplicationScope": "deduplication_scope",
    "FifoThroughputLimit": "fifo_throughput_limit",
    "SqsManagedSseEnabled": "sqs_managed_sse",
    "Policy": "policy",
    "KmsMasterKeyId": "kms_master_key_id",
    "KmsDataKeyReusePeriodSeconds": "kms_data_key_reuse",
    "FifoQueue": "fifo",
}

_INTEGER = re.compile(r"[0-9]+\Z")


def parse_attributes(
    attributes: Mapping[str, str],
    *,
    fifo: bool,
    creating: bool,
    operation: str,
    max_message_size: int = limits.MAX_MESSAGE_SIZE,
) -> dict[str, Any]:
    """Validate attribute strings; return ``{name: value}`` in Python types, in the given order.

    ``max_message_size`` is the service's ceiling for ``MaximumMessageSize``
    (1 MiB today; 256 KiB for a service built with the pre-2025 limit).
    """
    values: dict[str, Any] = {}
    for name, text in attributes.items():
        if name not in SETTABLE_ATTRIBUTES or (name in _FIFO_ONLY and not fifo):
            extra = ""
            if name in READ_ONLY_ATTRIBUTES:
                extra = f" {name} is read-only: GetQueueAttributes reports it, nothing sets it."
            elif name in _FIFO_ONLY:
                extra = f" {name} applies only to FIFO queues (names ending in .fifo, FifoQueue=true)."
            raise InvalidAttributeName(f"Unknown Attribute {name}.{extra}", operation)
        if name == "FifoQueue" and not creating:
            raise InvalidAttributeName(
                "Unknown Attribute FifoQueue. The queue type is fixed at creation; to change it, create a new "
                "queue (FIFO queue names end in .fifo).",
                operation,
            )
        if name in _INT_RANGES:
            low, high = _INT_RANGES[name]
            if name == "MaximumMessageSize":
                high = max_message_size
            if not isinstance(text, str) or _INTEGER.match(text) is None or not low <= int(text) <= high:
                raise InvalidAttributeValue(
                    f"Invalid value for the parameter {name}. Reason: must be an integer from {low} to {high}, "
                    f"got {text!r}.",
                    operation,
                )
            values[name] = int(text)
        elif name in _BOOLEANS:
            if text not in ("true", "false"):
                raise InvalidAttributeValue(
                    f"Invalid value for the parameter {name}. Reason: must be 'true' or 'false', got {text!r}.",
                    operation,
                )
            values[name] = text == "true"
        elif name == "DeduplicationScope":
            if text not in ("messageGroup", "queue"):
                raise InvalidAttributeValue(
                    f"Invalid value for the parameter DeduplicationScope. Reason: must be messageGroup or queue, "
                    f"got {text!r}.",
                    operation,
                )
            values[name] = text
        elif name == "FifoThroughputLimit":
            if text not in ("perQueue", "perMessageGroupId"):
                raise InvalidAttributeValue(
                    f"Invalid value for the parameter FifoThroughputLimit. Reason: must be perQueue or "
                    f"perMessageGroupId, got {text!r}.",
                    operation,
                )
            values[name] = text
        elif name == "RedrivePolicy":
            values[name] = parse_redrive_policy(text, operation)
        elif name == "RedriveAllowPolicy":
            values[name] = parse_redrive_allow_policy(text, operation)
        else:  # Policy, KmsMasterKeyId: stored as given
            values[name] = text
    if values.get("FifoThroughputLimit") == "perMessageGroupId" and values.get("DeduplicationScope", "") == "queue":
        raise InvalidAttributeValue(
            "Invalid value for the parameter FifoThroughputLimit. Reason: perMessageGroupId is allowed only when "
            "DeduplicationScope is messageGroup.",
            operation,
        )
    return values


_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}\Z")


def check_queue_name(name: Any, fifo: bool, operation: str) -> None:
    """Raise InvalidParameterValue unless ``name`` is a legal queue name for this queue type."""
    if fifo:
        base = name[: -len(limits.FIFO_SUFFIX)] if isinstance(name, str) and name.endswith(limits.FIFO_SUFFIX) else None
        if base is None or len(name) > limits.MAX_QUEUE_NAME_LENGTH or _NAME.match(base) is None:
            raise InvalidParameterValue(
                f"The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must "
                f"end with .fifo suffix and be 1 to 80 in length. Got {name!r}.",
                operation,
            )
        return
    if not isinstance(name, str) or _NAME.match(name) is None:
        hint = ""
        if isinstance(name, str) and name.endswith(limits.FIFO_SUFFIX):
            hint = " A name ending in .fifo needs Attributes={'FifoQueue': 'true'}."
        raise InvalidParameterValue(
            f"Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length. "
            f"Got {name!r}.{hint}",
            operation,
        )
