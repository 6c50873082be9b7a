"""mqlab.patterns: the delivery guarantees and failure patterns, built over faulty links.

* :class:`AtMostOnceProducer`, :class:`AtLeastOnceProducer`: fire and forget,
  or retry until confirmed (and make duplicates when a confirm is lost).
* :func:`lost_ack_walkthrough`: the lost-ACK story step by step, with a
  protocol trace (:class:`ProtocolStep`) for a sequence diagram.
* :class:`IdempotentConsumer`: skip ids already processed, with a bounded memory.
* :class:`Database`, :class:`Outbox`, :class:`OutboxRelay`, :class:`Inbox`,
  :class:`DualWrite`: the transactional outbox, the inbox and the dual write it replaces.
* :class:`EffectAuditor`: lost, duplicated and exactly-once *effects* per message id.
* :class:`RetryPolicy`: exponential backoff with none / full / equal / decorrelated jitter.
* :class:`DLQReplayer`, :class:`InMemoryDLQ`: list, group, inspect and replay dead messages.

On the broker models (import these modules directly; they load the models), the
same replay interface and each model's dead-lettering and retry mechanisms:

* :mod:`mqlab.patterns.rabbitmq_dlq`: ``declare_with_dlq`` (quorum
  ``x-delivery-limit`` + DLX), ``RetryQueues`` (TTL wait queues + DLX, then a
  parking lot), ``rabbit_replayer``;
* :mod:`mqlab.patterns.sqs_dlq`: ``create_with_dlq`` (RedrivePolicy),
  ``resend_with_delay``, ``sqs_replayer`` (visibility backoff is the SQS worker's
  ``on_error="backoff"``);
* :mod:`mqlab.patterns.kafka_dlt`: ``DeadLetterTopic``, ``RetryTopics``,
  ``ShareWorker`` / ``ShareArchive`` (share-group archiving), ``kafka_replayer``.
"""

from mqlab.patterns.audit import EffectAuditor, EffectReport
from mqlab.patterns.backoff import JITTERS, RetryPolicy
from mqlab.patterns.dlq import (
    DeadLetter,
    DeadLetterGroup,
    DeadLetterStore,
    DLQReplayer,
    InMemoryDLQ,
    NoSuchDeadLetter,
    ReplayJob,
    ReplayReport,
)
from mqlab.patterns.idempotent import IdempotenceStatistics, IdempotentConsumer
from mqlab.patterns.outbox import (
    Database,
    DualWrite,
    DuplicateKey,
    Inbox,
    Outbox,
    OutboxRelay,
    OutboxStatistics,
    Transaction,
    TransactionClosed,
)
from mqlab.patterns.producers import AtLeastOnceProducer, AtMostOnceProducer, ProducerStatistics
from mqlab.patterns.protocol import PARTICIPANTS, ProtocolRecorder, ProtocolStep
from mqlab.patterns.twogenerals import Walkthrough, lost_ack_walkthrough

__all__ = [
    "JITTERS",
    "PARTICIPANTS",
    "AtLeastOnceProducer",
    "AtMostOnceProducer",
    "DLQReplayer",
    "Database",
    "DeadLetter",
    "DeadLetterGroup",
    "DeadLetterStore",
    "DualWrite",
    "DuplicateKey",
    "EffectAuditor",
    "EffectReport",
    "IdempotenceStatistics",
    "IdempotentConsumer",
    "InMemoryDLQ",
    "Inbox",
    "NoSuchDeadLetter",
    "Outbox",
    "OutboxRelay",
    "OutboxStatistics",
    "ProducerStatistics",
    "ProtocolRecorder",
    "ProtocolStep",
    "ReplayJob",
    "ReplayReport",
    "RetryPolicy",
    "Transaction",
    "TransactionClosed",
    "Walkthrough",
    "lost_ack_walkthrough",
]
