"""SQS errors, shaped like the ``botocore.exceptions.ClientError`` boto3 raises.

Which code string a boto3 user sees today
-----------------------------------------
boto3 talks to SQS with the JSON protocol (botocore's SQS model has
``"protocol": "json"`` and the ``awsQueryCompatible`` trait). An error response
carries the shape name (``QueueDoesNotExist``) in its body and the legacy query
code in the ``x-amzn-query-error`` header (``AWS.SimpleQueueService.NonExistentQueue;Sender``).
botocore's parser puts the *legacy query code* in ``response["Error"]["Code"]``,
keeps the shape name in ``response["Error"]["QueryErrorCode"]`` and uses the
shape name to pick the exception class (``client.exceptions.QueueDoesNotExist``).

This module does the same: each class is named after the shape, ``code`` is the
string boto3 users find in ``e.response["Error"]["Code"]`` (the query code from
the SQS Smithy model's ``awsQueryError`` trait), and ``QueryErrorCode`` holds the
shape name. Two common errors are not modelled SQS shapes and keep their plain codes:
``InvalidParameterValue`` and ``MissingParameter`` (their ``QueryErrorCode`` is the
AWS common error shape, ``InvalidParameterValueException`` and
``MissingRequiredParameterException``). Checked against botocore 1.44 parsing
moto's responses: codes and exception classes agree for every modelled error.

``str(error)`` reads like botocore's: ``An error occurred (Code) when calling the
Operation operation: message``. Messages start with AWS's own wording and then
name the queue, the rule and the fix.

Missing or wrongly typed keyword arguments are caught by botocore on the client
before any request is sent; they raise :class:`ParamValidationError`, as boto3 does.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mqlab.errors import MqlabError

__all__ = [
    "ERROR_CLASSES",
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "ClientError",
    "EmptyBatchRequest",
    "InvalidAddress",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidBatchEntryId",
    "InvalidIdFormat",
    "InvalidMessageContents",
    "InvalidParameterValue",
    "LedgerImbalance",
    "MessageNotInflight",
    "MissingParameter",
    "OverLimit",
    "ParamValidationError",
    "PurgeQueueInProgress",
    "QueueDeletedRecently",
    "QueueDoesNotExist",
    "QueueNameExists",
    "ReceiptHandleIsInvalid",
    "ResourceNotFoundException",
    "SQSError",
    "TooManyEntriesInBatchRequest",
    "UnsupportedOperation",
    "client_exceptions",
]


class SQSError(MqlabError):
    """Base class for everything :mod:`mqlab.sqs` raises on purpose."""


class ClientError(SQSError):
    """An error response from the (simulated) SQS service.

    ``response`` is shaped like botocore's parsed error response::

        {"Error": {"Code": ..., "Message": ..., "Type": "Sender", "QueryErrorCode": ...},
         "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 0}}

    ``operation_name`` is the API action (``"SendMessage"``), as in botocore.
    """

    code: ClassVar[str] = "Unknown"
    """The string boto3 users see in ``response["Error"]["Code"]``."""
    query_error_code: ClassVar[str] = ""
    """The shape name botocore keeps in ``response["Error"]["QueryErrorCode"]`` (the class name unless set)."""
    http_status: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True

    MSG_TEMPLATE = "An error occurred ({error_code}) when calling the {operation_name} operation: {error_message}"

    def __init__(self, message: str, operation_name: str = "Unknown") -> None:
        cls = type(self)
        error: dict[str, Any] = {
            "Code": cls.code,
            "Message": message,
            "Type": "Sender" if cls.sender_fault else "Receiver",
        }
        if cls is not ClientError:
            error["QueryErrorCode"] = cls.query_error_code or cls.__name__
        self.response: dict[str, Any] = {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": cls.http_status, "RetryAttempts": 0},
        }
        self.operation_name = operation_name
        super().__init__(
            self.MSG_TEMPLATE.format(error_code=cls.code, operation_name=operation_name, error_message=message)
        )

    @property
    def message(self) -> str:
        """The error's ``Message`` (without the botocore prefix)."""
        return str(self.response["Error"]["Message"])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.operation_name))


def _error(name: str, code: str | None = None, status: int = 400, doc: str = "", shape: str = "") -> type[ClientError]:
    namespace = {"code": code or name, "http_status": status, "__doc__": doc, "query_error_code": shape or name}
    cls = type(name, (ClientError,), namespace)
    cls.__module__ = __name__
    return cls


# One class per error shape, named as botocore names the modelled exception.
# Codes and HTTP statuses from the SQS Smithy model's awsQueryError / httpError traits.
BatchEntryIdsNotDistinct = _error(
    "BatchEntryIdsNotDistinct",
    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    doc="Two or more batch entries in the request have the same Id.",
)
BatchRequestTooLong = _error(
    "BatchRequestTooLong",
    "AWS.SimpleQueueService.BatchRequestTooLong",
    doc="The length of all the messages put together is more than the limit.",
)
EmptyBatchRequest = _error(
    "EmptyBatchRequest",
    "AWS.SimpleQueueService.EmptyBatchRequest",
    doc="The batch request doesn't contain any entries.",
)
InvalidAddress = _error("InvalidAddress", status=404, doc="The specified ID is invalid.")
InvalidAttributeName = _error("InvalidAttributeName", doc="The specified attribute doesn't exist.")
InvalidAttributeValue = _error("InvalidAttributeValue", doc="A queue attribute value is invalid.")
InvalidBatchEntryId = _error(
    "InvalidBatchEntryId",
    "AWS.SimpleQueueService.InvalidBatchEntryId",
    doc="The Id of a batch entry in a batch request doesn't abide by the specification.",
)
InvalidIdFormat = _error("InvalidIdFormat", doc="The specified receipt handle isn't valid for the current version.")
InvalidMessageContents = _error(
    "InvalidMessageContents", doc="The message contains characters outside the allowed set."
)
MessageNotInflight = _error(
    "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", doc="The specified message isn't in flight."
)
OverLimit = _error("OverLimit", status=403, doc="The action violates a limit (for example in-flight messages).")
PurgeQueueInProgress = _error(
    "PurgeQueueInProgress",
    "AWS.SimpleQueueService.PurgeQueueInProgress",
    status=403,
    doc="The queue received a PurgeQueue request within the last 60 seconds.",
)
QueueDeletedRecently = _error(
    "QueueDeletedRecently",
    "AWS.SimpleQueueService.QueueDeletedRecently",
    doc="A queue with this name was deleted less than 60 seconds ago.",
)
QueueDoesNotExist = _error(
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    doc="The QueueUrl or QueueName does not name an existing queue.",
)
QueueNameExists = _error(
    "QueueNameExists", "QueueAlreadyExists", doc="A queue with this name exists with different attribute values."
)
ReceiptHandleIsInvalid = _error("ReceiptHandleIsInvalid", status=404, doc="The specified receipt handle isn't valid.")
ResourceNotFoundException = _error("ResourceNotFoundException", status=404, doc="A specified resource doesn't exist.")
TooManyEntriesInBatchRequest = _error(
    "TooManyEntriesInBatchRequest",
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    doc="The batch request contains more than 10 entries.",
)
UnsupportedOperation = _error(
    "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", doc="Unsupported operation."
)
# Common (not modelled) errors: boto3 raises plain ClientError subclasses with these codes.
InvalidParameterValue = _error("InvalidParameterValue", doc="A parameter is out of range, malformed or not allowed.",
                               shape="InvalidParameterValueException")
MissingParameter = _error("MissingParameter", doc="A parameter required in this context is missing.",
                          shape="MissingRequiredParameterException")

ERROR_CLASSES: dict[str, type[ClientError]] = {
    cls.__name__: cls
    for cls in (
        BatchEntryIdsNotDistinct,
        BatchRequestTooLong,
        EmptyBatchRequest,
        InvalidAddress,
        InvalidAttributeName,
        InvalidAttributeValue,
        InvalidBatchEntryId,
        InvalidIdFormat,
        InvalidMessageContents,
        InvalidParameterValue,
        MessageNotInflight,
        MissingParameter,
        OverLimit,
        PurgeQueueInProgress,
        QueueDeletedRecently,
        QueueDoesNotExist,
        QueueNameExists,
        ReceiptHandleIsInvalid,
        ResourceNotFoundException,
        TooManyEntriesInBatchRequest,
        UnsupportedOperation,
    )
}
"""Every error class by its boto3 exception name."""


class _Exceptions:
    """``client.exceptions``: the error classes by name, as on a boto3 client."""

    ClientError = ClientError

    def __init__(self) -> None:
        for name, cls in ERROR_CLASSES.items():
            setattr(self, name, cls)

    def from_code(self, code: str) -> type[ClientError]:
        """The class for a shape name or a query code (``ClientError`` if unknown), like botocore's."""
        for cls in ERROR_CLASSES.values():
            if code in (cls.__name__, cls.code):
                return cls
        return ClientError


client_exceptions = _Exceptions()


class ParamValidationError(SQSError, ValueError):
    """Raised before any request is sent when keyword arguments do not match the API, like botocore's.

    The message has botocore's form: ``Parameter validation failed:`` then one
    line per problem (``Missing required parameter in input: "QueueUrl"``).
    """

    def __init__(self, report: str) -> None:
        super().__init__(f"Parameter validation failed:\n{report}")
        self.report = report


class LedgerImbalance(SQSError):
    """The message ledger does not balance: some message is in no place or in two."""
