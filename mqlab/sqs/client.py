# ruff: noqa: N803 - keyword arguments keep boto3's names (QueueUrl=..., MessageBody=...)
"""The boto3-shaped SQS client.

Method names, keyword arguments and response shapes are boto3's, so code
written here runs against ``boto3.client("sqs")``::

    client = SQS(sim).client()
    url = client.create_queue(QueueName="orders")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="hello")
    for m in client.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", []):
        client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

Responses are plain dicts shaped like boto3's (JSON protocol: keys with no
value are left out, so an empty receive has no ``"Messages"``). Every response
carries a minimal ``ResponseMetadata`` (``HTTPStatusCode`` and
``RetryAttempts``; no RequestId or HTTP headers). Errors are
:class:`~mqlab.sqs.errors.ClientError` subclasses, also reachable as
``client.exceptions.QueueDoesNotExist`` and so on; wrongly named, missing or
mistyped keyword arguments raise ``ParamValidationError`` or ``TypeError``
before anything happens, as botocore's client-side validation does.

Time is virtual. ``receive_message(..., WaitTimeSeconds=n)`` called from plain
code returns at once with what is there (a long poll, so no short-poll
sampling, but no waiting). To really wait in virtual time, call
:meth:`SQSClient.receive_message_event` from a kernel process and yield the
event: it fires as soon as a message can be delivered, or with an empty
response after ``WaitTimeSeconds``.

Billing: each call is metered on its queue (see :mod:`mqlab.sqs.cost`);
calls that fail with an error are not billed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mqlab.sqs import limits
from mqlab.sqs.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    ClientError,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidBatchEntryId,
    InvalidParameterValue,
    MissingParameter,
    ParamValidationError,
    TooManyEntriesInBatchRequest,
    client_exceptions,
)
from mqlab.sqs.fifo import content_dedup_id
from mqlab.sqs.message import (
    INVALID_BODY_CHARACTER,
    Message,
    attributes_md5,
    body_md5,
    check_body,
    check_message_attributes,
)
from mqlab.sqs.queue import Queue, Waiter

if TYPE_CHECKING:
    from mqlab.sim import Event
    from mqlab.sqs.service import SQS

__all__ = ["SQSClient"]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
_ID = re.compile(r"[A-Za-z0-9_-]{1,80}\Z")
_invalid_body_character = INVALID_BODY_CHARACTER.search  # bound once: the send hot path
_md5 = hashlib.md5
_TOKEN = re.compile(r"[!-~]{1,128}\Z")  # alphanumeric and punctuation, 1-128 characters
_SYSTEM_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)
_QUEUE_ATTRIBUTE_NAMES = (
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
)


def _meta() -> dict[str, Any]:
    return {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}


def _missing(*names: str) -> ParamValidationError:
    return ParamValidationError("\n".join(f'Missing required parameter in input: "{n}"' for n in names))


def _bad_type(name: str, value: Any, *types: type) -> ParamValidationError:
    valid = ", ".join(str(t) for t in types)
    return ParamValidationError(
        f"Invalid type for parameter {name}, value: {value!r}, type: {type(value)}, valid types: {valid}"
    )


def _check_int(name: str, value: Any) -> None:
    if not isinstance(value, int):
        raise _bad_type(name, value, int)


def _check_str(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _bad_type(name, value, str)


def _check_str_map(name: str, value: Any) -> None:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise _bad_type(name, value, dict)
    for key, text in value.items():
        if not isinstance(text, str):
            raise _bad_type(f"{name}.{key}", text, str)


def _check_list(name: str, value: Any) -> None:
    if type(value) is not list and not isinstance(value, (list, tuple)):
        raise _bad_type(name, value, list, tuple)


def _range(op: str, name: str, value: int, low: int, high: int, reason: str | None = None) -> None:
    if not low <= value <= high:
        raise InvalidParameterValue(
            f"Value {value} for parameter {name} is invalid. Reason: "
            f"{reason or f'Must be between {low} and {high}, if provided.'}",
            op,
        )


class SQSClient:
    """A boto3-shaped SQS client bound to one simulated :class:`~mqlab.sqs.service.SQS` service."""

    exceptions = client_exceptions
    """The error classes by name, like ``boto3.client("sqs").exceptions``."""

    def __init__(self, service: SQS) -> None:
        self._service = service
        self._by_url = service._by_url
        self.sim = service.sim

    @property
    def service(self) -> SQS:
        """The simulated service this client talks to (not part of boto3's API)."""
        return self._service

    def _queue(self, url: Any, op: str) -> Queue:
        if url is _MISSING:
            raise _missing("QueueUrl")
        queue = self._by_url.get(url)
        if queue is None:
            _check_str("QueueUrl", url)
            queue = self._service.queue(url, op)
        return queue

    # -- queues ---------------------------------------------------------------------------------------------
    def create_queue(self, *, QueueName: str = _MISSING, Attributes: Mapping[str, str] | None = None,
                     tags: Mapping[str, str] | None = None) -> dict[str, Any]:
        """CreateQueue: ``{"QueueUrl": ...}``; the existing URL when a queue with equal attributes exists."""
        if QueueName is _MISSING:
            raise _missing("QueueName")
        _check_str("QueueName", QueueName)
        if Attributes is not None:
            _check_str_map("Attributes", Attributes)
        if tags is not None:
            _check_str_map("tags", tags)
        queue = self._service.create_queue(QueueName, dict(Attributes or {}), dict(tags or {}))
        self._service.account_cost.record("CreateQueue")
        return {"QueueUrl": queue.url, **_meta()}

    def get_queue_url(self, *, QueueName: str = _MISSING, QueueOwnerAWSAccountId: str | None = None) -> dict[str, Any]:
        """GetQueueUrl: ``{"QueueUrl": ...}`` or QueueDoesNotExist."""
        if QueueName is _MISSING:
            raise _missing("QueueName")
        _check_str("QueueName", QueueName)
        service = self._service
        if QueueOwnerAWSAccountId not in (None, service.account_id):
            raise client_exceptions.QueueDoesNotExist(
                f"The specified queue does not exist. (The simulation has one account, {service.account_id}.)",
                "GetQueueUrl",
            )
        queue = service._queues.get(QueueName)
        if queue is None:
            raise client_exceptions.QueueDoesNotExist(
                f"The specified queue does not exist. (No queue named {QueueName!r}; names are case-sensitive and "
                f"FIFO queue names end in .fifo.)",
                "GetQueueUrl",
            )
        service.account_cost.record("GetQueueUrl")
        return {"QueueUrl": queue.url, **_meta()}

    def list_queues(self, *, QueueNamePrefix: str | None = None, NextToken: str | None = None,
                    MaxResults: int | None = None) -> dict[str, Any]:
        """ListQueues: up to 1,000 URLs (``QueueUrls`` is left out when there are none), paginated by MaxResults."""
        op = "ListQueues"
        urls = [q.url for q in self._service.queues if QueueNamePrefix is None or q.name.startswith(QueueNamePrefix)]
        page = self._page(urls, NextToken, MaxResults, op)
        self._service.account_cost.record(op)
        result: dict[str, Any] = {}
        if page[0]:
            result["QueueUrls"] = page[0]
        if page[1] is not None:
            result["NextToken"] = page[1]
        return {**result, **_meta()}

    @staticmethod
    def _page(items: list[str], token: str | None, max_results: int | None, op: str) -> tuple[list[str], str | None]:
        start = 0
        if token is not None:
            match = re.fullmatch(r"mqlab-page-([0-9]+)", token) if isinstance(token, str) else None
            if match is None:
                raise InvalidParameterValue(
                    f"Invalid NextToken value {token!r}. Use the NextToken of the previous page.", op)
            start = int(match.group(1))
        if max_results is None:
            return items[start:start + limits.MAX_LIST_RESULTS], None
        _check_int("MaxResults", max_results)
        _range(op, "MaxResults", max_results, 1, limits.MAX_LIST_RESULTS)
        end = start + max_results
        return items[start:end], (f"mqlab-page-{end}" if end < len(items) else None)

    def delete_queue(self, *, QueueUrl: str = _MISSING) -> dict[str, Any]:
        """DeleteQueue: the queue and its messages are gone; its name is reserved for 60 s."""
        op = "DeleteQueue"
        queue = self._queue(QueueUrl, op)
        queue.cost.record(op)
        self._service.delete_queue(queue)
        queue.drop_waiters(lambda w: w.event.fail(client_exceptions.QueueDoesNotExist(
            f"The specified queue does not exist. (Queue {queue.name!r} was deleted during the long poll.)",
            "ReceiveMessage")))
        return _meta()

    def get_queue_attributes(self, *, QueueUrl: str = _MISSING,
                             AttributeNames: Sequence[str] | None = None) -> dict[str, Any]:
        """GetQueueAttributes: the named attributes (``All`` for every one) as strings."""
        op = "GetQueueAttributes"
        queue = self._queue(QueueUrl, op)
        if not AttributeNames:
            queue.cost.record(op)
            return _meta()
        _check_list("AttributeNames", AttributeNames)
        for name in AttributeNames:
            if name != "All" and name not in _QUEUE_ATTRIBUTE_NAMES:
                raise InvalidAttributeName(f"Unknown Attribute {name}.", op)
        visible, in_flight, delayed = queue.counts()
        values = queue.config.as_strings()
        values.update(
            QueueArn=queue.arn,
            ApproximateNumberOfMessages=str(visible),
            ApproximateNumberOfMessagesNotVisible=str(in_flight),
            ApproximateNumberOfMessagesDelayed=str(delayed),
            CreatedTimestamp=str(queue.created_ms // 1000),
            LastModifiedTimestamp=str(queue.last_modified_ms // 1000),
        )
        wanted = _QUEUE_ATTRIBUTE_NAMES if "All" in AttributeNames else AttributeNames
        attributes = {name: values[name] for name in wanted if name in values}
        queue.cost.record(op)
        return {"Attributes": attributes, **_meta()}

    def set_queue_attributes(self, *, QueueUrl: str = _MISSING,
                             Attributes: Mapping[str, str] = _MISSING) -> dict[str, Any]:
        """SetQueueAttributes: change settable attributes (values are strings)."""
        op = "SetQueueAttributes"
        if Attributes is _MISSING:
            raise _missing("Attributes")
        queue = self._queue(QueueUrl, op)
        _check_str_map("Attributes", Attributes)
        self._service.set_attributes(queue, dict(Attributes), op)
        queue.cost.record(op)
        return _meta()

    def purge_queue(self, *, QueueUrl: str = _MISSING) -> dict[str, Any]:
        """PurgeQueue: delete every message now (once per 60 s per queue).

        AWS takes up to 60 s and may still hand out messages sent just before;
        the model purges at once.
        """
        op = "PurgeQueue"
        queue = self._queue(QueueUrl, op)
        self._service.purge_queue(queue, op)
        queue.cost.record(op)
        return _meta()

    def tag_queue(self, *, QueueUrl: str = _MISSING, Tags: Mapping[str, str] = _MISSING) -> dict[str, Any]:
        if Tags is _MISSING:
            raise _missing("Tags")
        queue = self._queue(QueueUrl, "TagQueue")
        _check_str_map("Tags", Tags)
        queue.tags.update(Tags)
        queue.cost.record("TagQueue")
        return _meta()

    def untag_queue(self, *, QueueUrl: str = _MISSING, TagKeys: Sequence[str] = _MISSING) -> dict[str, Any]:
        if TagKeys is _MISSING:
            raise _missing("TagKeys")
        queue = self._queue(QueueUrl, "UntagQueue")
        _check_list("TagKeys", TagKeys)
        for key in TagKeys:
            queue.tags.pop(key, None)
        queue.cost.record("UntagQueue")
        return _meta()

    def list_queue_tags(self, *, QueueUrl: str = _MISSING) -> dict[str, Any]:
        queue = self._queue(QueueUrl, "ListQueueTags")
        queue.cost.record("ListQueueTags")
        return ({"Tags": dict(queue.tags)} if queue.tags else {}) | _meta()

    # -- send ---------------------------------------------------------------------------------------------------
    def _prepare(self, queue: Queue, op: str, body: Any, delay: Any, attributes: Any, system_attributes: Any,
                 dedup_id: Any, group_id: Any, prefix: str = "") -> tuple[Any, ...]:
        """Validate one message for ``queue``; return what :meth:`Queue.send` needs plus its size."""
        if body is _MISSING:
            raise _missing(f"{prefix}MessageBody")
        if type(body) is not str:
            raise _bad_type(f"{prefix}MessageBody", body, str)
        check_body(body, op)
        encoded = body.encode()
        size = len(encoded)
        attrs = None
        attrs_md5 = None
        if attributes:
            size += check_message_attributes(attributes, op)
            attrs = {
                name: ({"StringValue": value["StringValue"], "DataType": value["DataType"]}
                       if "StringValue" in value else
                       {"BinaryValue": bytes(value["BinaryValue"]), "DataType": value["DataType"]})
                for name, value in attributes.items()
            }
            attrs_md5 = attributes_md5(attrs)
        if system_attributes:
            for name, value in system_attributes.items():
                if name != "AWSTraceHeader" or not isinstance(value, Mapping) or value.get("DataType") != "String":
                    raise InvalidParameterValue(
                        f"Message system attribute {name!r} is not supported: the only one is AWSTraceHeader, with "
                        f"DataType String.",
                        op,
                    )
            attrs = dict(attrs or {})
            attrs["AWSTraceHeader"] = {"StringValue": system_attributes["AWSTraceHeader"].get("StringValue", ""),
                                       "DataType": "String", "_system": True}
        limit = queue.config.maximum_message_size
        if size > limit:
            raise InvalidParameterValue(
                f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes. (This one "
                f"is {size} bytes, body and message attributes; store large payloads elsewhere, e.g. S3, and send "
                f"a reference.)",
                op,
            )
        if delay is not None:
            _check_int(f"{prefix}DelaySeconds", delay)
            if queue.fifo and delay != 0:
                raise InvalidParameterValue(
                    f"Value {delay} for parameter DelaySeconds is invalid. Reason: The request include parameter that "
                    f"is not valid for this queue type. (FIFO queue {queue.name!r}: set DelaySeconds on the queue, "
                    f"not per message.)",
                    op,
                )
            _range(op, "DelaySeconds", delay, limits.MIN_DELAY_SECONDS, limits.MAX_DELAY_SECONDS,
                   f"DelaySeconds must be >= {limits.MIN_DELAY_SECONDS} and <= {limits.MAX_DELAY_SECONDS}.")
        if group_id is not None:
            _check_str(f"{prefix}MessageGroupId", group_id)
            if _TOKEN.match(group_id) is None:
                raise InvalidParameterValue(
                    f"Value {group_id} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only "
                    f"include alphanumeric and punctuation characters. 1 to 128 in length.",
                    op,
                )
        if dedup_id is not None:
            _check_str(f"{prefix}MessageDeduplicationId", dedup_id)
            if not queue.fifo:
                raise InvalidParameterValue(
                    f"Value {dedup_id} for parameter MessageDeduplicationId is invalid. Reason: The request includes a "
                    f"parameter that is not valid for this queue type. (Standard queue {queue.name!r} does not "
                    f"deduplicate; make the consumer idempotent instead.)",
                    op,
                )
            if _TOKEN.match(dedup_id) is None:
                raise InvalidParameterValue(
                    f"Value {dedup_id} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId "
                    f"can only include alphanumeric and punctuation characters. 1 to 128 in length.",
                    op,
                )
        if queue.fifo:
            if group_id is None:
                raise MissingParameter(
                    f"The request must contain the parameter MessageGroupId. (FIFO queue {queue.name!r} orders "
                    f"messages per group; pass MessageGroupId=...)",
                    op,
                )
            if dedup_id is None:
                if not queue.config.content_based_deduplication:
                    raise InvalidParameterValue(
                        f"The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                        f"provided explicitly. (FIFO queue {queue.name!r}.)",
                        op,
                    )
                dedup_id = content_dedup_id(encoded)
        return body, body_md5(encoded), size, attrs, attrs_md5, delay, group_id, dedup_id

    def send_message(self, *, QueueUrl: str = _MISSING, MessageBody: str = _MISSING, DelaySeconds: int | None = None,
                     MessageAttributes: Mapping[str, Any] | None = None,
                     MessageSystemAttributes: Mapping[str, Any] | None = None,
                     MessageDeduplicationId: str | None = None, MessageGroupId: str | None = None) -> dict[str, Any]:
        """SendMessage: ``{"MD5OfMessageBody", "MessageId", ...}`` (plus ``SequenceNumber`` on FIFO queues).

        A FIFO send deduplicated within 5 minutes succeeds and returns the first copy's MessageId.
        """
        op = "SendMessage"
        queue = self._by_url.get(QueueUrl) or self._queue(QueueUrl, op)
        if (MessageAttributes is None and MessageSystemAttributes is None and DelaySeconds is None
                and type(MessageBody) is str and not queue.fifo and MessageGroupId is None
                and MessageDeduplicationId is None):
            # The common case, kept short: a plain body to a standard queue.
            if not MessageBody or _invalid_body_character(MessageBody) is not None:
                check_body(MessageBody, op)  # raises the full error
            encoded = MessageBody.encode()
            size = len(encoded)
            if size > queue.config.maximum_message_size:
                self._prepare(queue, op, MessageBody, None, None, None, None, None)  # raises the full error
            digest = _md5(encoded).hexdigest()
            message = queue.send(MessageBody, digest, size, None, None, None, None, None)
            cost = queue.cost  # CostMeter.record, inlined on the hot path
            cost.requests += 1
            billed = 1 if size <= 65_536 else -(-size // 65_536)
            cost.billed += billed
            by_action = cost._by_action
            by_action[op] = by_action.get(op, 0) + billed
            return {"MD5OfMessageBody": digest, "MessageId": message.message_id,  # type: ignore[union-attr]
                    "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
        prepared = self._prepare(queue, op, MessageBody, DelaySeconds, MessageAttributes, MessageSystemAttributes,
                                 MessageDeduplicationId, MessageGroupId)
        result = self._send_prepared(queue, prepared)
        queue.cost.record(op, prepared[2])
        return {**result, **_meta()}

    @staticmethod
    def _send_prepared(queue: Queue, prepared: tuple[Any, ...]) -> dict[str, Any]:
        body, digest, size, attrs, attrs_md5, delay, group_id, dedup_id = prepared
        outcome = queue.send(body, digest, size, attrs, attrs_md5, delay, group_id, dedup_id)
        result: dict[str, Any] = {"MD5OfMessageBody": digest}
        if attrs_md5 is not None:
            result["MD5OfMessageAttributes"] = attrs_md5
        if isinstance(outcome, Message):
            result["MessageId"] = outcome.message_id
            if outcome.sequence_number is not None:
                result["SequenceNumber"] = outcome.sequence_number
        else:
            result["MessageId"] = outcome[0]
            if outcome[1] is not None:
                result["SequenceNumber"] = outcome[1]
        return result

    def _batch_entries(self, op: str, entries: Any, kind: str) -> None:
        if entries is _MISSING:
            raise _missing("Entries")
        if type(entries) is not list:
            _check_list("Entries", entries)
        if not entries:
            raise EmptyBatchRequest(f"There should be at least one {kind}RequestEntry in the request.", op)
        if len(entries) > limits.MAX_BATCH_ENTRIES:
            raise TooManyEntriesInBatchRequest(
                f"Maximum number of entries per request are {limits.MAX_BATCH_ENTRIES}. You have sent {len(entries)}.",
                op,
            )
        ids = []
        match = _ID.match
        for index, entry in enumerate(entries):
            if type(entry) is not dict and not isinstance(entry, Mapping):
                raise _bad_type(f"Entries[{index}]", entry, dict)
            entry_id = entry.get("Id", _MISSING)
            if type(entry_id) is not str:
                if entry_id is _MISSING:
                    raise _missing(f"Entries[{index}].Id")
                raise _bad_type(f"Entries[{index}].Id", entry_id, str)
            if match(entry_id) is None:
                raise InvalidBatchEntryId(
                    f"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be "
                    f"at most {limits.MAX_BATCH_ENTRY_ID_LENGTH} letters long. (Got {entry_id!r}.)",
                    op,
                )
            ids.append(entry_id)
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            for entry_id in ids:
                if entry_id in seen:
                    raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.", op)
                seen.add(entry_id)

    @staticmethod
    def _failure(entry_id: str, error: ClientError) -> dict[str, Any]:
        return {"Id": entry_id, "SenderFault": True, "Code": type(error).code, "Message": error.message}

    def send_message_batch(self, *, QueueUrl: str = _MISSING,
                           Entries: Sequence[Mapping[str, Any]] = _MISSING) -> dict[str, Any]:
        """SendMessageBatch: up to 10 messages; each succeeds or fails on its own (``Successful`` / ``Failed``).

        Entries of a FIFO batch are stored in the order given.
        """
        op = "SendMessageBatch"
        queue = self._queue(QueueUrl, op)
        self._batch_entries(op, Entries, "SendMessageBatch")
        total = 0
        prepared_entries: list[tuple[str, Any]] = []
        plain = not queue.fifo
        limit = queue.config.maximum_message_size
        invalid_character = INVALID_BODY_CHARACTER.search
        md5 = hashlib.md5
        for index, entry in enumerate(Entries):
            body = entry.get("MessageBody", _MISSING)
            try:
                if plain and type(body) is str and len(entry) == 2:  # {"Id", "MessageBody"} to a standard queue
                    if not body or invalid_character(body) is not None:
                        check_body(body, op)
                    encoded = body.encode()
                    size = len(encoded)
                    if size > limit:
                        raise InvalidParameterValue(
                            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes. "
                            f"(This one is {size} bytes.)",
                            op,
                        )
                    prepared: Any = (body, md5(encoded).hexdigest(), size, None, None, None, None, None)
                else:
                    prepared = self._prepare(
                        queue, op, body, entry.get("DelaySeconds"), entry.get("MessageAttributes"),
                        entry.get("MessageSystemAttributes"), entry.get("MessageDeduplicationId"),
                        entry.get("MessageGroupId"), f"Entries[{index}].",
                    )
                total += prepared[2]
            except ClientError as error:
                prepared = error
                if type(body) is str:
                    total += len(body.encode())
            prepared_entries.append((entry["Id"], prepared))
        if total > self._service.max_message_size:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {self._service.max_message_size} bytes. You have sent {total} "
                f"bytes. (Split the batch, or send fewer or smaller messages per call.)",
                op,
            )
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        send = self._send_prepared
        queue_send = queue.send
        for entry_id, prepared in prepared_entries:
            if type(prepared) is tuple:
                if plain and prepared[3] is None and prepared[5] is None:
                    message = queue_send(*prepared)
                    successful.append({"Id": entry_id, "MessageId": message.message_id,  # type: ignore[union-attr]
                                       "MD5OfMessageBody": prepared[1]})
                    continue
                result = send(queue, prepared)
                successful.append({"Id": entry_id, **result})
            else:
                failed.append(self._failure(entry_id, prepared))
        queue.cost.record(op, total)
        return {"Successful": successful, "Failed": failed,
                "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}

    # -- receive ------------------------------------------------------------------------------------------------------
    def _receive_args(self, QueueUrl: Any, AttributeNames: Any, MessageSystemAttributeNames: Any,
                      MessageAttributeNames: Any, MaxNumberOfMessages: Any, VisibilityTimeout: Any,
                      WaitTimeSeconds: Any, ReceiveRequestAttemptId: Any) -> tuple[Any, ...]:
        op = "ReceiveMessage"
        queue = self._queue(QueueUrl, op)
        count = limits.DEFAULT_RECEIVE_MESSAGES
        if MaxNumberOfMessages is not None:
            _check_int("MaxNumberOfMessages", MaxNumberOfMessages)
            _range(op, "MaxNumberOfMessages", MaxNumberOfMessages, limits.MIN_RECEIVE_MESSAGES,
                   limits.MAX_RECEIVE_MESSAGES)
            count = MaxNumberOfMessages
        visibility = queue.config.visibility_timeout
        if VisibilityTimeout is not None:
            _check_int("VisibilityTimeout", VisibilityTimeout)
            _range(op, "VisibilityTimeout", VisibilityTimeout, limits.MIN_VISIBILITY_TIMEOUT,
                   limits.MAX_VISIBILITY_TIMEOUT)
            visibility = VisibilityTimeout
        wait = queue.config.receive_wait_time
        if WaitTimeSeconds is not None:
            _check_int("WaitTimeSeconds", WaitTimeSeconds)
            _range(op, "WaitTimeSeconds", WaitTimeSeconds, limits.MIN_WAIT_TIME_SECONDS, limits.MAX_WAIT_TIME_SECONDS,
                   f"Must be >= {limits.MIN_WAIT_TIME_SECONDS} and <= {limits.MAX_WAIT_TIME_SECONDS}, if provided.")
            wait = WaitTimeSeconds
        system: tuple[str, ...] = ()
        for param, names in (("AttributeNames", AttributeNames),
                             ("MessageSystemAttributeNames", MessageSystemAttributeNames)):
            if names:
                _check_list(param, names)
                for name in names:
                    if name == "All":
                        system = _SYSTEM_ATTRIBUTES
                    elif name in _SYSTEM_ATTRIBUTES or name in _QUEUE_ATTRIBUTE_NAMES:
                        if system is not _SYSTEM_ATTRIBUTES and name in _SYSTEM_ATTRIBUTES and name not in system:
                            system = (*system, name)
                    else:
                        raise InvalidAttributeName(f"Unknown Attribute {name}.", op)
        user: tuple[str, ...] | None = None
        if MessageAttributeNames:
            _check_list("MessageAttributeNames", MessageAttributeNames)
            user = tuple(MessageAttributeNames)
        attempt = ReceiveRequestAttemptId
        if attempt is not None:
            _check_str("ReceiveRequestAttemptId", attempt)
            if _TOKEN.match(attempt) is None:
                raise InvalidParameterValue(
                    f"Value {attempt} for parameter ReceiveRequestAttemptId is invalid. Reason: "
                    f"ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in "
                    f"length.",
                    op,
                )
            if not queue.fifo:
                attempt = None  # applies only to FIFO queues; standard queues ignore it
        return queue, count, visibility, wait, system, user, attempt

    def _receive_now(self, queue: Queue, count: int, visibility: int, wait: int,
                     attempt_id: str | None) -> list[Message]:
        if attempt_id is not None:
            repeated = queue.retry_attempt(attempt_id, visibility)
            if repeated is not None:
                return repeated
        messages = queue.receive(count, visibility, short_poll=wait == 0)
        if attempt_id is not None:
            queue.attempts.remember(attempt_id, self.sim.now, [(m, m.receive_count) for m in messages])
        return messages

    def _respond(self, queue: Queue, messages: list[Message], system: tuple[str, ...],
                 user: tuple[str, ...] | None) -> dict[str, Any]:
        queue.receive_requests += 1
        if not messages:
            queue.empty_receives += 1
            queue.cost.record_empty_receive()
            queue.cost.record("ReceiveMessage", 0)
            return _meta()
        if not system and user is None:  # the common case: no attributes asked for
            out = []
            payload = 0
            for m in messages:
                payload += m.size
                out.append({"MessageId": m.message_id, "ReceiptHandle": m.handle, "MD5OfBody": m.body_md5,
                            "Body": m.body})
            queue.cost.record("ReceiveMessage", payload)
            return {"Messages": out, "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
        out = []
        payload = 0
        for message in messages:
            payload += message.size
            entry = {
                "MessageId": message.message_id,
                "ReceiptHandle": message.handle,
                "MD5OfBody": message.body_md5,
                "Body": message.body,
            }
            if system:
                entry["Attributes"] = self._system_attributes(queue, message, system)
            if user is not None and message.attributes:
                selected = self._select_attributes(message.attributes, user)
                if selected:
                    entry["MD5OfMessageAttributes"] = attributes_md5(selected)
                    entry["MessageAttributes"] = selected
            out.append(entry)
        queue.cost.record("ReceiveMessage", payload)
        return {"Messages": out, "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}

    def _system_attributes(self, queue: Queue, message: Message, names: tuple[str, ...]) -> dict[str, str]:
        values: dict[str, str] = {}
        epoch = self._service.epoch
        for name in names:
            if name == "SenderId":
                values[name] = f"AIDA{self._service.account_id}MQLAB"
            elif name == "SentTimestamp":
                values[name] = str(int((epoch + message.sent_at) * 1000))
            elif name == "ApproximateReceiveCount":
                values[name] = str(message.receive_count)
            elif name == "ApproximateFirstReceiveTimestamp":
                values[name] = str(int((epoch + message.first_receive_at) * 1000))
            elif name == "SequenceNumber" and message.sequence_number is not None:
                values[name] = message.sequence_number
            elif name == "MessageDeduplicationId" and queue.fifo and message.dedup_id is not None:
                values[name] = message.dedup_id
            elif name == "MessageGroupId" and message.group_id is not None:
                values[name] = message.group_id
            elif name == "AWSTraceHeader" and message.attributes and "AWSTraceHeader" in message.attributes:
                values[name] = message.attributes["AWSTraceHeader"]["StringValue"]
            elif name == "DeadLetterQueueSourceArn" and message.source_arn is not None:
                values[name] = message.source_arn
        return values

    @staticmethod
    def _select_attributes(attributes: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, Any]:
        every = "All" in wanted or ".*" in wanted
        prefixes = tuple(w[:-1] for w in wanted if w.endswith(".*") and w != ".*")
        selected = {}
        for name, value in attributes.items():
            if value.get("_system"):
                continue
            if every or name in wanted or (prefixes and name.startswith(prefixes)):
                selected[name] = dict(value)
        return selected

    def receive_message(self, *, QueueUrl: str = _MISSING, AttributeNames: Sequence[str] | None = None,
                        MessageSystemAttributeNames: Sequence[str] | None = None,
                        MessageAttributeNames: Sequence[str] | None = None, MaxNumberOfMessages: int | None = None,
                        VisibilityTimeout: int | None = None, WaitTimeSeconds: int | None = None,
                        ReceiveRequestAttemptId: str | None = None) -> dict[str, Any]:
        """ReceiveMessage now: ``{"Messages": [...]}``, or no ``Messages`` key when nothing was delivered.

        With ``WaitTimeSeconds`` > 0 (or the queue's ReceiveMessageWaitTimeSeconds)
        this is a long poll: every server is asked, but plain code cannot wait,
        so it returns at once. Use :meth:`receive_message_event` in a process to wait.
        """
        if (AttributeNames is None and MessageSystemAttributeNames is None and MessageAttributeNames is None
                and VisibilityTimeout is None and ReceiveRequestAttemptId is None
                and (MaxNumberOfMessages is None
                     or (type(MaxNumberOfMessages) is int and 1 <= MaxNumberOfMessages <= 10))
                and (WaitTimeSeconds is None or (type(WaitTimeSeconds) is int and 0 <= WaitTimeSeconds <= 20))):
            # The common case, kept short: no attributes asked for, every value in range.
            queue = self._by_url.get(QueueUrl) or self._queue(QueueUrl, "ReceiveMessage")
            config = queue.config
            wait = config.receive_wait_time if WaitTimeSeconds is None else WaitTimeSeconds
            messages = queue.receive(MaxNumberOfMessages or 1, config.visibility_timeout, short_poll=wait == 0)
            return self._respond(queue, messages, (), None)
        queue, count, visibility, wait, system, user, attempt = self._receive_args(
            QueueUrl, AttributeNames, MessageSystemAttributeNames, MessageAttributeNames, MaxNumberOfMessages,
            VisibilityTimeout, WaitTimeSeconds, ReceiveRequestAttemptId)
        messages = self._receive_now(queue, count, visibility, wait, attempt)
        return self._respond(queue, messages, system, user)

    def receive_message_event(self, *, QueueUrl: str = _MISSING, AttributeNames: Sequence[str] | None = None,
                              MessageSystemAttributeNames: Sequence[str] | None = None,
                              MessageAttributeNames: Sequence[str] | None = None,
                              MaxNumberOfMessages: int | None = None, VisibilityTimeout: int | None = None,
                              WaitTimeSeconds: int | None = None,
                              ReceiveRequestAttemptId: str | None = None) -> Event:
        """The waiting twin of :meth:`receive_message` (not in boto3): a kernel event whose value is the response.

        In a process: ``response = yield client.receive_message_event(QueueUrl=url, WaitTimeSeconds=20)``.
        A long poll fires as soon as a message can be delivered (it does not wait
        to fill MaxNumberOfMessages), or with an empty response after the wait
        time. A short poll (wait 0) fires at once. Bad arguments raise at the call.
        """
        queue, count, visibility, wait, system, user, attempt = self._receive_args(
            QueueUrl, AttributeNames, MessageSystemAttributeNames, MessageAttributeNames, MaxNumberOfMessages,
            VisibilityTimeout, WaitTimeSeconds, ReceiveRequestAttemptId)
        event = self.sim.event()
        messages = self._receive_now(queue, count, visibility, wait, attempt)
        if messages or wait == 0:
            event.succeed(self._respond(queue, messages, system, user))
            return event

        def finish(delivered: list[Message]) -> None:
            if attempt is not None and delivered:
                queue.attempts.remember(attempt, self.sim.now, [(m, m.receive_count) for m in delivered])
            event.succeed(self._respond(queue, delivered, system, user))

        queue.add_waiter(Waiter(event, count, visibility, finish), wait)
        return event

    # -- delete and visibility ---------------------------------------------------------------------------------
    def delete_message(self, *, QueueUrl: str = _MISSING, ReceiptHandle: str = _MISSING) -> dict[str, Any]:
        """DeleteMessage with the handle of the latest receive (:mod:`mqlab.sqs.queue` describes stale handles)."""
        op = "DeleteMessage"
        queue = self._by_url.get(QueueUrl) or self._queue(QueueUrl, op)
        if ReceiptHandle is _MISSING:
            raise _missing("ReceiptHandle")
        queue.delete(ReceiptHandle, op)
        cost = queue.cost  # CostMeter.record(op), inlined on the hot path
        cost.requests += 1
        cost.billed += 1
        by_action = cost._by_action
        by_action[op] = by_action.get(op, 0) + 1
        return {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}

    def delete_message_batch(self, *, QueueUrl: str = _MISSING,
                             Entries: Sequence[Mapping[str, Any]] = _MISSING) -> dict[str, Any]:
        """DeleteMessageBatch: up to 10 handles; each succeeds or fails on its own."""
        op = "DeleteMessageBatch"
        queue = self._queue(QueueUrl, op)
        self._batch_entries(op, Entries, "DeleteMessageBatch")
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for index, entry in enumerate(Entries):
            handle = entry.get("ReceiptHandle", _MISSING)
            if handle is _MISSING:
                raise _missing(f"Entries[{index}].ReceiptHandle")
            try:
                queue.delete(handle, op)
            except ClientError as error:
                failed.append(self._failure(entry["Id"], error))
                continue
            successful.append({"Id": entry["Id"]})
        queue.cost.record(op)
        return {"Successful": successful, "Failed": failed,
                "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}

    def change_message_visibility(self, *, QueueUrl: str = _MISSING, ReceiptHandle: str = _MISSING,
                                  VisibilityTimeout: int = _MISSING) -> dict[str, Any]:
        """ChangeMessageVisibility: the new timeout counts from now; total visibility is capped at 12 h from receipt."""
        op = "ChangeMessageVisibility"
        queue = self._queue(QueueUrl, op)
        if ReceiptHandle is _MISSING or VisibilityTimeout is _MISSING:
            raise _missing(*[n for n, v in (("ReceiptHandle", ReceiptHandle), ("VisibilityTimeout", VisibilityTimeout))
                             if v is _MISSING])
        _check_int("VisibilityTimeout", VisibilityTimeout)
        _range(op, "VisibilityTimeout", VisibilityTimeout, limits.MIN_VISIBILITY_TIMEOUT, limits.MAX_VISIBILITY_TIMEOUT)
        queue.change_visibility(ReceiptHandle, VisibilityTimeout, op)
        queue.cost.record(op)
        return _meta()

    def change_message_visibility_batch(self, *, QueueUrl: str = _MISSING,
                                        Entries: Sequence[Mapping[str, Any]] = _MISSING) -> dict[str, Any]:
        """ChangeMessageVisibilityBatch: up to 10 entries; each succeeds or fails on its own."""
        op = "ChangeMessageVisibilityBatch"
        queue = self._queue(QueueUrl, op)
        self._batch_entries(op, Entries, "ChangeMessageVisibilityBatch")
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for index, entry in enumerate(Entries):
            handle = entry.get("ReceiptHandle", _MISSING)
            if handle is _MISSING:
                raise _missing(f"Entries[{index}].ReceiptHandle")
            timeout = entry.get("VisibilityTimeout", queue.config.visibility_timeout)
            _check_int(f"Entries[{index}].VisibilityTimeout", timeout)
            try:
                _range(op, "VisibilityTimeout", timeout, limits.MIN_VISIBILITY_TIMEOUT, limits.MAX_VISIBILITY_TIMEOUT)
                queue.change_visibility(handle, timeout, op)
            except ClientError as error:
                failed.append(self._failure(entry["Id"], error))
                continue
            successful.append({"Id": entry["Id"]})
        queue.cost.record(op)
        return {"Successful": successful, "Failed": failed,
                "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}

    # -- dead-letter queues ------------------------------------------------------------------------------------
    def list_dead_letter_source_queues(self, *, QueueUrl: str = _MISSING, NextToken: str | None = None,
                                       MaxResults: int | None = None) -> dict[str, Any]:
        """ListDeadLetterSourceQueues: ``{"queueUrls": [...]}`` (lower-case ``q``, as in boto3)."""
        op = "ListDeadLetterSourceQueues"
        queue = self._queue(QueueUrl, op)
        urls = [q.url for q in self._service.dead_letter_sources(queue)]
        page, token = self._page(urls, NextToken, MaxResults, op)
        queue.cost.record(op)
        result: dict[str, Any] = {"queueUrls": page}
        if token is not None:
            result["NextToken"] = token
        return {**result, **_meta()}

    def start_message_move_task(self, *, SourceArn: str = _MISSING, DestinationArn: str | None = None,
                                MaxNumberOfMessagesPerSecond: int | None = None) -> dict[str, Any]:
        """StartMessageMoveTask: move a DLQ's messages back to their sources (or to DestinationArn)."""
        op = "StartMessageMoveTask"
        if SourceArn is _MISSING:
            raise _missing("SourceArn")
        _check_str("SourceArn", SourceArn)
        if DestinationArn is not None:
            _check_str("DestinationArn", DestinationArn)
        if MaxNumberOfMessagesPerSecond is not None:
            _check_int("MaxNumberOfMessagesPerSecond", MaxNumberOfMessagesPerSecond)
        task = self._service.start_move_task(SourceArn, DestinationArn, MaxNumberOfMessagesPerSecond, op)
        self._service.account_cost.record(op)
        return {"TaskHandle": task.task_handle, **_meta()}

    def list_message_move_tasks(self, *, SourceArn: str = _MISSING, MaxResults: int | None = None) -> dict[str, Any]:
        """ListMessageMoveTasks: the most recent tasks of a source queue (1 by default, up to 10)."""
        op = "ListMessageMoveTasks"
        if SourceArn is _MISSING:
            raise _missing("SourceArn")
        _check_str("SourceArn", SourceArn)
        count = 1
        if MaxResults is not None:
            _check_int("MaxResults", MaxResults)
            _range(op, "MaxResults", MaxResults, 1, limits.MAX_LIST_MOVE_TASKS)
            count = MaxResults
        tasks = self._service.move_tasks(SourceArn, op)[:count]
        self._service.account_cost.record(op)
        return {"Results": [t.describe() for t in tasks], **_meta()}

    def cancel_message_move_task(self, *, TaskHandle: str = _MISSING) -> dict[str, Any]:
        """CancelMessageMoveTask: stop a RUNNING task (status CANCELLING, then CANCELLED); moved messages stay moved."""
        op = "CancelMessageMoveTask"
        if TaskHandle is _MISSING:
            raise _missing("TaskHandle")
        if not isinstance(TaskHandle, str):
            raise _bad_type("TaskHandle", TaskHandle, str)
        task = self._service.cancel_move_task(TaskHandle, op)
        self._service.account_cost.record(op)
        return {"ApproximateNumberOfMessagesMoved": task.moved, **_meta()}

    def __repr__(self) -> str:
        return f"<SQSClient {self._service!r}>"
