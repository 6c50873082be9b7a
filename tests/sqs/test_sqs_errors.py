"""ClientError and its subclasses look like botocore's."""

from __future__ import annotations

import pickle

import pytest

from mqlab import MqlabError
from mqlab.sqs import (
    ERROR_CLASSES,
    ClientError,
    ParamValidationError,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiptHandleIsInvalid,
)


def test_error_response_and_message_follow_botocore(client):
    """Code is the legacy query code, QueryErrorCode the shape name, str() botocore's sentence."""
    with pytest.raises(QueueDoesNotExist) as caught:
        client.get_queue_url(QueueName="missing")
    error = caught.value
    assert error.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert error.response["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
    assert error.response["Error"]["Message"].startswith("The specified queue does not exist.")
    assert error.response["Error"]["Type"] == "Sender"
    assert error.operation_name == "GetQueueUrl"
    assert str(error).startswith(
        "An error occurred (AWS.SimpleQueueService.NonExistentQueue) when calling the GetQueueUrl operation: "
        "The specified queue does not exist."
    )


def test_every_error_is_a_client_error_and_an_mqlab_error():
    """One class per code, all catchable as ClientError and as MqlabError."""
    assert len(ERROR_CLASSES) >= 20
    for name, cls in ERROR_CLASSES.items():
        assert cls.__name__ == name
        assert issubclass(cls, ClientError)
        assert issubclass(cls, MqlabError)
    assert issubclass(ParamValidationError, MqlabError)


def test_query_codes_match_the_sqs_model():
    """Codes that differ from the shape name use the awsQueryError code of the SQS Smithy model."""
    assert QueueNameExists.code == "QueueAlreadyExists"
    assert ERROR_CLASSES["TooManyEntriesInBatchRequest"].code == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    assert ERROR_CLASSES["PurgeQueueInProgress"].code == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert ERROR_CLASSES["PurgeQueueInProgress"].http_status == 403
    assert ReceiptHandleIsInvalid.code == "ReceiptHandleIsInvalid"
    assert ERROR_CLASSES["InvalidParameterValue"].code == "InvalidParameterValue"


def test_client_exceptions_namespace_like_boto3(client):
    """client.exceptions.X is the class raised, and from_code maps both names to it."""
    assert client.exceptions.QueueDoesNotExist is QueueDoesNotExist
    assert client.exceptions.from_code("AWS.SimpleQueueService.NonExistentQueue") is QueueDoesNotExist
    assert client.exceptions.from_code("QueueDoesNotExist") is QueueDoesNotExist
    assert client.exceptions.from_code("NoSuchThing") is ClientError
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.delete_queue(QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/nope")


def test_client_error_pickles():
    """Errors survive pickling (multiprocessing, notebooks) with their class and message."""
    error = ReceiptHandleIsInvalid("bad handle", "DeleteMessage")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ReceiptHandleIsInvalid
    assert str(again) == str(error)


def test_missing_and_mistyped_arguments_raise_param_validation_error(client, url):
    """As botocore does client-side: a missing required parameter or a wrong type fails before the call."""
    with pytest.raises(ParamValidationError, match='Missing required parameter in input: "MessageBody"'):
        client.send_message(QueueUrl=url)
    with pytest.raises(ParamValidationError, match="Invalid type for parameter MessageBody"):
        client.send_message(QueueUrl=url, MessageBody=b"bytes")
    with pytest.raises(ParamValidationError, match=r"Attributes\.VisibilityTimeout"):
        client.create_queue(QueueName="q2", Attributes={"VisibilityTimeout": 30})
    with pytest.raises(TypeError):
        client.send_message(QueueUrl=url, MesageBody="typo")  # an unknown keyword
