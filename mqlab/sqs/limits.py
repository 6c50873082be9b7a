"""Every SQS default and limit the model enforces, as one named constant each.

Checked against the AWS documentation (Amazon SQS Developer Guide, "Amazon SQS
quotas", "message quotas", "FIFO queue quotas", and the CreateQueue /
ReceiveMessage / SendMessage API reference as shipped in botocore's
``sqs/2012-11-05`` service model):

* ``VisibilityTimeout``: default 30 s, 0 to 43,200 s (12 hours); the total
  visibility of one receive may not pass 12 hours from the moment of receipt.
* ``MessageRetentionPeriod``: default 345,600 s (4 days), 60 s to 1,209,600 s (14 days).
* ``DelaySeconds``: 0 to 900 s, per queue and (standard queues only) per message.
* ``ReceiveMessageWaitTimeSeconds`` / ``WaitTimeSeconds``: 0 to 20 s.
* ``MaxNumberOfMessages``: 1 to 10, default 1; batch requests carry 1 to 10 entries.
* ``MaximumMessageSize``: 1,024 bytes to 1,048,576 bytes (1 MiB), default 1 MiB
  since 2025 (AWS What's New: "Amazon SQS increases maximum message payload
  size to 1 MiB"); before that the ceiling and default were 262,144 bytes
  (256 KiB), kept here as :data:`LEGACY_MAX_MESSAGE_SIZE` for
  ``SQS(max_message_size=LEGACY_MAX_MESSAGE_SIZE)``.
* In-flight messages: about 120,000 per standard queue (``OverLimit`` when reached)
  and 120,000 per FIFO queue (raised from 20,000; SQS returns no error, the
  receive simply returns nothing).
* FIFO deduplication interval: 5 minutes; ``ReceiveRequestAttemptId`` usable for 5 minutes.
* ``maxReceiveCount`` in a ``RedrivePolicy``: 1 to 1,000 (default 10 in the console).
* Queue names: 1 to 80 characters, alphanumeric, hyphen, underscore; FIFO queue
  names end in ``.fifo`` and the suffix counts towards the 80.
* Batch entry ids, MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId
  lengths and character sets as in the API reference.
* Message move tasks: at most 500 messages per second; one active task per source queue.
* PurgeQueue: one call per queue every 60 s; a deleted queue's name is reserved for 60 s.
* Billing: each 64 KiB chunk of a request's payload is one billed request;
  $0.40 per million standard-queue requests and $0.50 per million FIFO requests
  (us-east-1, first tier, before the monthly free tier).
"""

from __future__ import annotations

# -- visibility ---------------------------------------------------------------
DEFAULT_VISIBILITY_TIMEOUT = 30
MIN_VISIBILITY_TIMEOUT = 0
MAX_VISIBILITY_TIMEOUT = 43_200
"""12 hours; also the cap on total visibility counted from the moment of receipt."""

# -- retention ----------------------------------------------------------------
DEFAULT_RETENTION_PERIOD = 345_600
MIN_RETENTION_PERIOD = 60
MAX_RETENTION_PERIOD = 1_209_600

# -- delay ----------------------------------------------------------------------
DEFAULT_DELAY_SECONDS = 0
MIN_DELAY_SECONDS = 0
MAX_DELAY_SECONDS = 900

# -- long polling -----------------------------------------------------------------
DEFAULT_RECEIVE_WAIT_TIME = 0
MIN_WAIT_TIME_SECONDS = 0
MAX_WAIT_TIME_SECONDS = 20

# -- batches and receives ------------------------------------------------------------
MIN_BATCH_ENTRIES = 1
MAX_BATCH_ENTRIES = 10
MIN_RECEIVE_MESSAGES = 1
MAX_RECEIVE_MESSAGES = 10
DEFAULT_RECEIVE_MESSAGES = 1
MAX_BATCH_ENTRY_ID_LENGTH = 80

# -- message size -----------------------------------------------------------------------
MIN_MAXIMUM_MESSAGE_SIZE = 1_024
MAX_MESSAGE_SIZE = 1_048_576
"""1 MiB: today's ceiling and default for ``MaximumMessageSize`` and for a whole batch."""
LEGACY_MAX_MESSAGE_SIZE = 262_144
"""256 KiB: the ceiling before 2025; pass it as ``SQS(max_message_size=...)``."""
MAX_MESSAGE_ATTRIBUTES = 10
MAX_MESSAGE_ATTRIBUTE_NAME_LENGTH = 256

# -- in flight ----------------------------------------------------------------------------
MAX_IN_FLIGHT_STANDARD = 120_000
"""Standard queues: ReceiveMessage fails with OverLimit once this many messages are in flight."""
MAX_IN_FLIGHT_FIFO = 120_000
"""FIFO queues: SQS returns no error at this limit; receives return no messages until some are deleted."""

# -- FIFO ---------------------------------------------------------------------------------
DEDUPLICATION_INTERVAL = 300
"""Seconds during which a MessageDeduplicationId suppresses a second copy."""
RECEIVE_ATTEMPT_ID_INTERVAL = 300
"""Seconds during which a ReceiveRequestAttemptId can be retried."""
MAX_GROUP_ID_LENGTH = 128
MAX_DEDUPLICATION_ID_LENGTH = 128
MAX_RECEIVE_ATTEMPT_ID_LENGTH = 128
FIFO_SUFFIX = ".fifo"

# -- queue names -------------------------------------------------------------------------
MAX_QUEUE_NAME_LENGTH = 80
QUEUE_NAME_CHARACTERS = "alphanumeric characters, hyphens (-) and underscores (_)"
QUEUE_DELETION_COOLDOWN = 60
"""Seconds before a deleted queue's name can be used again (QueueDeletedRecently)."""
PURGE_COOLDOWN = 60
"""Seconds between two PurgeQueue calls on one queue (PurgeQueueInProgress)."""
MAX_LIST_RESULTS = 1_000

# -- redrive ---------------------------------------------------------------------------------
MIN_MAX_RECEIVE_COUNT = 1
MAX_MAX_RECEIVE_COUNT = 1_000
MAX_REDRIVE_ALLOW_SOURCES = 10
MAX_MOVE_RATE = 500
"""Messages per second, the ceiling of MaxNumberOfMessagesPerSecond."""
DEFAULT_MOVE_RATE = 500
"""When MaxNumberOfMessagesPerSecond is omitted AWS picks a rate; the model uses the ceiling."""
MAX_LIST_MOVE_TASKS = 10

# -- billing ------------------------------------------------------------------------------------
BILLING_CHUNK_BYTES = 65_536
"""Each 64 KiB chunk of a request's payload is billed as one request."""
PRICE_PER_MILLION_STANDARD = 0.40
PRICE_PER_MILLION_FIFO = 0.50

# -- simulator settings (not AWS limits) ---------------------------------------------------
DEFAULT_DUPLICATE_PROBABILITY = 0.01
"""Chance that a DeleteMessage on a standard queue misses one stored copy, so the message comes back."""
DEFAULT_REORDER_PROBABILITY = 0.05
"""Chance that a standard-queue receive passes over a ready message, so a later one overtakes it."""
DEFAULT_SHORT_POLL_SAMPLE = 0.9
"""Share of servers a short poll (WaitTimeSeconds=0) asks; messages on the others are not seen."""
DEFAULT_EPOCH = 1_767_225_600.0
"""Wall-clock seconds (2026-01-01T00:00:00Z) that virtual time 0 stands for in timestamps."""
