"""One stored SQS message, its states, and the checks and digests SQS applies to it.

States (:class:`MessageState`) and legal moves::

    DELAYED ──delay over──▶ VISIBLE ──receive──▶ IN_FLIGHT ──delete──▶ DELETED
                              ▲                     │
                              └──visibility expires─┘
    VISIBLE / IN_FLIGHT / DELAYED ──▶ EXPIRED (retention), PURGED, QUEUE_DELETED
    VISIBLE ──receive with ApproximateReceiveCount == maxReceiveCount──▶ MOVED_TO_DLQ
    VISIBLE ──message move task──▶ MOVED_OUT

The last six are final: the message is gone from its queue and stays counted
in that place of the ledger. Invariant: a message is in exactly one state.

Digests follow AWS: ``MD5OfBody`` is the MD5 of the UTF-8 body;
``MD5OfMessageAttributes`` is the MD5 of the attributes encoded as SQS documents
(sorted by name; each name, data type and value prefixed by its 4-byte
big-endian length; a transport byte 1 for string values and 2 for binary).
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from mqlab.sqs import limits
from mqlab.sqs.errors import InvalidMessageContents, InvalidParameterValue

__all__ = [
    "FINAL_STATES",
    "Message",
    "MessageState",
    "attributes_md5",
    "body_md5",
    "check_body",
    "check_message_attributes",
]


class MessageState(Enum):
    """Where a message is; see the module docstring for the legal moves."""

    DELAYED = "delayed"
    VISIBLE = "visible"
    IN_FLIGHT = "in_flight"
    DELETED = "deleted"
    MOVED_TO_DLQ = "moved_to_dlq"
    MOVED_OUT = "moved_out"
    EXPIRED = "expired"
    PURGED = "purged"
    QUEUE_DELETED = "queue_deleted"


S = MessageState
FINAL_STATES = frozenset({S.DELETED, S.MOVED_TO_DLQ, S.MOVED_OUT, S.EXPIRED, S.PURGED, S.QUEUE_DELETED})
_VISIBLE, _IN_FLIGHT, _DELAYED = S.VISIBLE, S.IN_FLIGHT, S.DELAYED  # the states that are not final


class Message:
    """A message stored in one queue.

    ``seq`` orders messages within their queue (send order); ``sent_at`` is the
    virtual time of the send (``SentTimestamp``) and ``enqueued_at`` the virtual time
    retention counts from. ``receive_count`` is ``ApproximateReceiveCount``;
    ``handle`` is the receipt handle of the latest receive and
    ``received_at`` its virtual time (the 12-hour visibility cap counts from it).
    """

    __slots__ = (
        "attributes",
        "attributes_md5",
        "body",
        "body_md5",
        "dedup_id",
        "first_receive_at",
        "group_id",
        "handle",
        "message_id",
        "modified",
        "old_handles",
        "received_at",
        "receive_count",
        "seq",
        "sequence_number",
        "sent_at",
        "size",
        "source_arn",
        "state",
        "visible_at",
        "enqueued_at",
    )

    def __init__(
        self,
        seq: int,
        message_id: str,
        body: str,
        body_md5: str,
        size: int,
        sent_at: float,
        enqueued_at: float,
        state: MessageState,
        visible_at: float,
        attributes: dict[str, Any] | None = None,
        attributes_md5: str | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        self.seq = seq
        self.message_id = message_id
        self.body = body
        self.body_md5 = body_md5
        self.size = size
        self.sent_at = sent_at
        self.enqueued_at = enqueued_at
        self.state = state
        self.visible_at = visible_at
        self.attributes = attributes
        self.attributes_md5 = attributes_md5
        self.group_id = group_id
        self.dedup_id = dedup_id
        self.sequence_number = sequence_number
        self.receive_count = 0
        self.first_receive_at = 0.0
        self.received_at = 0.0
        self.handle: str | None = None
        self.old_handles: list[str] | None = None
        self.source_arn: str | None = None
        self.modified = False

    @property
    def is_final(self) -> bool:
        """True once the message has left its queue for good (deleted, expired, moved, purged)."""
        state = self.state  # identity tests: no Enum hashing on the hot path
        return state is not _VISIBLE and state is not _IN_FLIGHT and state is not _DELAYED

    @property
    def is_visible(self) -> bool:
        """True when a receive may return it (delay over, not in flight, not gone)."""
        return self.state is S.VISIBLE

    def __repr__(self) -> str:
        return (
            f"<Message {self.message_id} {self.state.value} receives={self.receive_count} "
            f"body={self.body[:20]!r}>"
        )


# -- body -------------------------------------------------------------------------------
INVALID_BODY_CHARACTER = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def check_body(body: str, operation: str) -> None:
    """Raise InvalidMessageContents if ``body`` has a character SQS does not accept; MissingParameter-like if empty."""
    if not body:
        raise InvalidParameterValue(
            "The request must contain a non-empty message body (MessageBody must be at least one character).",
            operation,
        )
    bad = INVALID_BODY_CHARACTER.search(body)
    if bad is not None:
        raise InvalidMessageContents(
            f"Invalid binary character '#x{ord(bad.group()):X}' was found in the message body, the set of "
            f"allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. "
            f"Fix: encode binary data (for example base64) before sending it.",
            operation,
        )


def body_md5(encoded: bytes) -> str:
    """``MD5OfBody`` / ``MD5OfMessageBody``: hex MD5 of the UTF-8 body."""
    return hashlib.md5(encoded).hexdigest()


# -- message attributes --------------------------------------------------------------------
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.\-]+\Z")
_TYPE_PREFIXES = ("String", "Number", "Binary")


def check_message_attributes(attributes: Mapping[str, Any], operation: str) -> int:
    """Validate ``MessageAttributes`` as SQS does; return their size in bytes (it counts towards the message size).

    Rules (SQS Developer Guide, "Amazon SQS message attributes"): at most 10
    attributes; names 1-256 characters from ``A-Za-z0-9_-.``, not starting with
    ``AWS.`` or ``Amazon.``, no leading/trailing period, no ``..``; ``DataType``
    ``String``, ``Number`` or ``Binary`` optionally followed by ``.custom``;
    String and Number need a non-empty ``StringValue``, Binary a ``BinaryValue``.
    """
    if not isinstance(attributes, Mapping):
        raise InvalidParameterValue(
            f"MessageAttributes must be a dict of name -> value, got {attributes!r}.", operation)
    if len(attributes) > limits.MAX_MESSAGE_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{limits.MAX_MESSAGE_ATTRIBUTES}]. Fix: put the rest in the message body.",
            operation,
        )
    size = 0
    for name, value in attributes.items():
        if (
            not isinstance(name, str)
            or not name
            or len(name) > limits.MAX_MESSAGE_ATTRIBUTE_NAME_LENGTH
            or _ATTRIBUTE_NAME.match(name) is None
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
            or name.lower().startswith(("aws.", "amazon."))
        ):
            raise InvalidParameterValue(
                f"Message attribute name '{name}' is invalid. Rule: 1-256 characters from A-Z a-z 0-9 _ - ., "
                f"not starting with AWS. or Amazon., no leading, trailing or doubled period.",
                operation,
            )
        if not isinstance(value, Mapping):
            raise InvalidParameterValue(
                f"The message attribute '{name}' must be a dict with DataType and StringValue or BinaryValue.",
                operation,
            )
        data_type = value.get("DataType")
        if not isinstance(data_type, str) or not data_type:
            raise InvalidParameterValue(f"The message attribute '{name}' must contain a DataType.", operation)
        prefix = data_type.split(".", 1)[0]
        if prefix not in _TYPE_PREFIXES:
            raise InvalidParameterValue(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported "
                f"type prefixes is Binary, Number, and String.",
                operation,
            )
        if "StringListValues" in value or "BinaryListValues" in value:
            raise InvalidParameterValue(
                f"The message attribute '{name}' uses StringListValues/BinaryListValues, which SQS reserves "
                f"for future use. Fix: send one StringValue or BinaryValue.",
                operation,
            )
        size += len(name.encode()) + len(data_type.encode())
        if prefix == "Binary":
            raw = value.get("BinaryValue")
            if not isinstance(raw, (bytes, bytearray)) or not raw:
                raise InvalidParameterValue(
                    f"The message attribute '{name}' with type 'Binary' must use field 'Binary' "
                    f"(a non-empty BinaryValue of bytes).",
                    operation,
                )
            size += len(raw)
        else:
            text = value.get("StringValue")
            if not isinstance(text, str) or not text:
                raise InvalidParameterValue(
                    f"The message attribute '{name}' must contain non-empty message attribute value for "
                    f"message attribute type '{prefix}'.",
                    operation,
                )
            if prefix == "Number":
                try:
                    number = Decimal(text)
                except InvalidOperation:
                    number = None
                if number is None or not number.is_finite():
                    raise InvalidParameterValue(
                        f"Can't cast the value of message (user) attribute '{name}' to a number: {text!r}.",
                        operation,
                    )
            size += len(text.encode())
    return size


def attributes_md5(attributes: Mapping[str, Any]) -> str:
    """``MD5OfMessageAttributes``, computed as SQS documents it."""
    digest = hashlib.md5()
    pack = struct.pack
    for name in sorted(attributes):
        value = attributes[name]
        data_type = value["DataType"]
        for part in (name.encode(), data_type.encode()):
            digest.update(pack(">I", len(part)))
            digest.update(part)
        if data_type.startswith("Binary"):
            raw = bytes(value["BinaryValue"])
            digest.update(b"\x02")
        else:
            raw = value["StringValue"].encode()
            digest.update(b"\x01")
        digest.update(pack(">I", len(raw)))
        digest.update(raw)
    return digest.hexdigest()
