"""Dead-letter queues, backoff and DLQ replay on the SQS model.

* :func:`create_with_dlq`: a queue and its dead-letter queue joined by a
  ``RedrivePolicy`` (``{"deadLetterTargetArn": ..., "maxReceiveCount": "N"}``).
  SQS moves a message to the DLQ when a receive would make its
  ``ApproximateReceiveCount`` exceed ``maxReceiveCount`` (1..1000): after N
  failed receives, whether the consumer failed, crashed or timed out.
* Retry with backoff is the consumer's choice on SQS: on a failure,
  ``ChangeMessageVisibility`` to a growing timeout (``on_error="backoff"`` of
  :class:`~mqlab.faults.sqs_worker.SQSWorker`, with a
  :class:`~mqlab.patterns.backoff.RetryPolicy`), or a new copy sent with
  ``DelaySeconds`` (at most 900 s) while the original is deleted
  (:func:`resend_with_delay`).
* :class:`SQSDeadLetters`: the DLQ as a :class:`~mqlab.patterns.dlq.DeadLetterStore`.
  It receives what the DLQ holds with the longest visibility timeout (12 h), so
  the messages stay invisible to anyone else while a learner looks at them, and
  deletes a message once it is replayed. The origin is the queue named in the
  message's ``DeadLetterQueueSourceArn``; the reason is always
  ``maxReceiveCount`` (SQS records no other); the error comes from ``errors``
  (message id -> text, e.g. ``worker.last_errors()``), since SQS keeps none.
  The real service also offers ``StartMessageMoveTask`` (at most 500 messages
  per second, all messages, back to the source); the replay tool adds grouping,
  filtering and a report on top of plain sends, as the same tool does on the
  other models.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mqlab.errors import MqlabError
from mqlab.faults.checks import check_count
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.sqs import ID_ATTRIBUTE, message_id_of
from mqlab.faults.standin import DeadLetter
from mqlab.patterns.backoff import RetryPolicy
from mqlab.patterns.dlq import DLQReplayer, NoSuchDeadLetter

__all__ = [
    "MAX_DELAY_SECONDS",
    "SQSDeadLetters",
    "create_with_dlq",
    "resend_with_delay",
    "sqs_publish",
    "sqs_replayer",
]

MAX_DELAY_SECONDS = 900
"""The longest ``DelaySeconds`` SQS accepts (15 minutes)."""
HOLD_SECONDS = 43_200
"""How long the store keeps a listed message invisible: SQS's maximum visibility timeout (12 h)."""


def create_with_dlq(
    client: Any, name: str, *, max_receive_count: int = 5, visibility_timeout: int = 30, dlq_name: str | None = None
) -> tuple[str, str]:
    """Create ``dlq_name`` (``<name>-dlq``) and ``name`` with a RedrivePolicy to it; returns ``(url, dlq_url)``."""
    check_count("max_receive_count", max_receive_count, minimum=1)
    if max_receive_count > 1000:
        raise InvalidParameter(f"max_receive_count must be 1..1000 (SQS's range), got {max_receive_count}")
    dlq_url = client.create_queue(QueueName=dlq_name or f"{name}-dlq")["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(max_receive_count)})
    url = client.create_queue(QueueName=name, Attributes={
        "RedrivePolicy": policy, "VisibilityTimeout": str(visibility_timeout),
    })["QueueUrl"]
    return url, dlq_url


def resend_with_delay(client: Any, queue_url: str, message: dict[str, Any], attempt: int, policy: RetryPolicy,
                      rng: Any) -> int:
    """Retry by a delayed copy: send the message again with ``DelaySeconds`` from ``policy``, delete the original.

    The copy is a new message (receive count 0), so the redrive policy never sees
    these retries: count attempts yourself (an ``attempt`` message attribute here).
    Returns the delay in whole seconds (at most 900).
    """
    delay = min(MAX_DELAY_SECONDS, math.ceil(policy.delay(attempt, rng)))
    attributes = dict(message.get("MessageAttributes") or {})
    attributes["attempt"] = {"DataType": "Number", "StringValue": str(attempt + 1)}
    client.send_message(QueueUrl=queue_url, MessageBody=message["Body"], DelaySeconds=delay,
                        MessageAttributes=attributes)
    client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return delay


class SQSDeadLetters:
    """An SQS dead-letter queue as a :class:`~mqlab.patterns.dlq.DeadLetterStore` (see the module docstring)."""

    def __init__(self, client: Any, dlq_url: str, *, errors: Mapping[Any, str] | None = None) -> None:
        self.client = client
        self.sim = client.sim
        self.dlq_url = dlq_url
        self.errors = errors if errors is not None else {}
        self._held: dict[Any, tuple[str, DeadLetter]] = {}
        self.removed = 0

    def _pull(self) -> None:
        while True:
            response = self.client.receive_message(
                QueueUrl=self.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=20, VisibilityTimeout=HOLD_SECONDS,
                MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
            )
            messages = response.get("Messages")
            if not messages:
                return
            for message in messages:
                letter = self._letter(message)
                previous = self._held.pop(letter.message_id, None)
                if previous is not None:
                    self.client.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=previous[0])
                self._held[letter.message_id] = (message["ReceiptHandle"], letter)

    def _letter(self, message: dict[str, Any]) -> DeadLetter:
        attributes = message.get("Attributes", {})
        message_id = message_id_of(message)
        source = attributes.get("DeadLetterQueueSourceArn", "?")
        receives = int(attributes.get("ApproximateReceiveCount", 1)) - 1  # this store's own receive added one
        return DeadLetter(message_id, message["Body"], "maxReceiveCount", self.errors.get(message_id), receives,
                          self.sim.now, source.rsplit(":", 1)[-1])

    def messages(self) -> Sequence[DeadLetter]:
        self._pull()
        return tuple(letter for _, letter in self._held.values())

    def remove(self, message_id: Any) -> DeadLetter:
        self._pull()
        held = self._held.pop(message_id, None)
        if held is None:
            raise NoSuchDeadLetter(f"dead-letter queue {self.dlq_url!r} holds no message {message_id!r}")
        self.client.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=held[0])
        self.removed += 1
        return held[1]

    def release(self) -> int:
        """Give back every held message unreplayed (visibility 0: visible in the DLQ again at once)."""
        held = list(self._held.values())
        self._held.clear()
        for handle, _ in held:
            self.client.change_message_visibility(QueueUrl=self.dlq_url, ReceiptHandle=handle, VisibilityTimeout=0)
        return len(held)

    def __len__(self) -> int:
        return len(self.messages())


def sqs_publish(client: Any) -> Callable[[str, DeadLetter], bool]:
    """A replay publish function: ``send_message`` to the queue *named* ``destination``; False if it fails."""

    def publish(destination: str, letter: DeadLetter) -> bool:
        kind = "Number" if isinstance(letter.message_id, int) and not isinstance(letter.message_id, bool) else "String"
        try:
            url = client.get_queue_url(QueueName=destination)["QueueUrl"]
            client.send_message(QueueUrl=url, MessageBody=letter.body, MessageAttributes={
                ID_ATTRIBUTE: {"DataType": kind, "StringValue": str(letter.message_id)},
                "replayed-from": {"DataType": "String", "StringValue": destination},
            })
        except MqlabError:
            return False
        return True

    return publish


def sqs_replayer(client: Any, dlq_url: str, *, errors: Mapping[Any, str] | None = None) -> DLQReplayer:
    """The DLQ replay tool on an SQS dead-letter queue (one interface on every model)."""
    return DLQReplayer(client.sim, SQSDeadLetters(client, dlq_url, errors=errors), sqs_publish(client))
