"""mqlab.sqs: Amazon SQS as a deterministic state machine, with a boto3-shaped client.

::

    from mqlab.sim import Simulation
    from mqlab.sqs import SQS

    sim = Simulation(seed=1)
    client = SQS(sim).client()
    url = client.create_queue(QueueName="orders")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="order 42")
    message = client.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"][0]
    client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

Modules: :mod:`~mqlab.sqs.limits` (every default and limit), :mod:`~mqlab.sqs.errors`
(ClientError and one class per error code), :mod:`~mqlab.sqs.message`,
:mod:`~mqlab.sqs.queue` (standard and FIFO state machines), :mod:`~mqlab.sqs.fifo`,
:mod:`~mqlab.sqs.redrive`, :mod:`~mqlab.sqs.attributes`, :mod:`~mqlab.sqs.cost`,
:mod:`~mqlab.sqs.ledger`, :mod:`~mqlab.sqs.statistics`, :mod:`~mqlab.sqs.service`
(the SQS service), :mod:`~mqlab.sqs.client` (the boto3-shaped client) and
:mod:`~mqlab.sqs.worker` (a polling consumer process).
"""

from __future__ import annotations

from typing import Any

from mqlab.sqs import limits
from mqlab.sqs.client import SQSClient
from mqlab.sqs.cost import CostReport
from mqlab.sqs.errors import (
    ERROR_CLASSES,
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    ClientError,
    EmptyBatchRequest,
    InvalidAddress,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidIdFormat,
    InvalidMessageContents,
    InvalidParameterValue,
    LedgerImbalance,
    MessageNotInflight,
    MissingParameter,
    OverLimit,
    ParamValidationError,
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiptHandleIsInvalid,
    ResourceNotFoundException,
    SQSError,
    TooManyEntriesInBatchRequest,
    UnsupportedOperation,
)
from mqlab.sqs.ledger import QueueLedger, ServiceLedger
from mqlab.sqs.message import MessageState
from mqlab.sqs.redrive import MoveTaskStatus, RedriveAllowPolicy, RedrivePolicy
from mqlab.sqs.service import SQS
from mqlab.sqs.statistics import QueueStatistics
from mqlab.sqs.worker import HandlerError, Worker, poll_loop


def client(sim_or_service: Any, **service_options: Any) -> SQSClient:
    """A boto3-shaped client: on an existing :class:`SQS` service, or on a new one for a Simulation."""
    if isinstance(sim_or_service, SQS):
        if service_options:
            raise TypeError("service options apply only when a new SQS service is created from a Simulation")
        return sim_or_service.client()
    return SQS(sim_or_service, **service_options).client()


__all__ = [
    "ERROR_CLASSES",
    "SQS",
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "ClientError",
    "CostReport",
    "EmptyBatchRequest",
    "HandlerError",
    "InvalidAddress",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidBatchEntryId",
    "InvalidIdFormat",
    "InvalidMessageContents",
    "InvalidParameterValue",
    "LedgerImbalance",
    "MessageNotInflight",
    "MessageState",
    "MissingParameter",
    "MoveTaskStatus",
    "OverLimit",
    "ParamValidationError",
    "PurgeQueueInProgress",
    "QueueDeletedRecently",
    "QueueDoesNotExist",
    "QueueLedger",
    "QueueNameExists",
    "QueueStatistics",
    "ReceiptHandleIsInvalid",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "ResourceNotFoundException",
    "SQSClient",
    "SQSError",
    "ServiceLedger",
    "TooManyEntriesInBatchRequest",
    "UnsupportedOperation",
    "Worker",
    "client",
    "limits",
    "poll_loop",
]
