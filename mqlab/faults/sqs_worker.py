"""An SQS consumer that can crash: long-poll, handle, delete, in a kernel process.

:class:`SQSWorker` receives up to ``max_messages`` messages per long poll
(``WaitTimeSeconds=20``), handles them one at a time and deletes each with its
receipt handle (``ack_mode="after_effect"``: at-least-once) or deletes it on
receipt (``"before_effect"``: at-most-once). SQS's own rules do the rest: a
message not deleted becomes visible again when its visibility timeout ends (30 s
by default), with ``ApproximateReceiveCount`` one higher, and the queue's
``RedrivePolicy`` moves it to the dead-letter queue once that count has reached
``maxReceiveCount``.

A crash abandons the batch in hand: every message not yet deleted comes back
after its visibility timeout (a duplicate when the effect had happened). A
message deleted on receipt whose effect never happened is counted in the fault
ledger as lost by ``crash-after_ack``. On a handler error (``on_error``):

* ``"visibility"``: do nothing; it comes back after the visibility timeout;
* ``"release"``: ``ChangeMessageVisibility`` to 0, visible again at once (SQS's
  nearest thing to a requeueing nack: the retry storm);
* ``"backoff"``: ``ChangeMessageVisibility`` to the ``retry`` policy's delay for
  this receive count (exponential backoff with jitter, whole seconds, at most
  12 hours, AWS's limit);
* ``"delete"``: give up on it (its effect is lost, on purpose).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from mqlab.errors import MqlabError
from mqlab.faults.checks import check_choice, check_count
from mqlab.faults.crash import CrashPoint, CrashSchedule
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.ledger import FaultLedger
from mqlab.faults.slow import LatencyProfile
from mqlab.faults.sqs import message_id_of
from mqlab.faults.worker import ModelWorker
from mqlab.patterns.backoff import RetryPolicy

if TYPE_CHECKING:
    from mqlab.sim import Event

__all__ = ["MAX_VISIBILITY_TIMEOUT", "SQS_ON_ERROR", "SQSWorker"]

SQS_ON_ERROR = ("visibility", "release", "backoff", "delete")
MAX_VISIBILITY_TIMEOUT = 43_200
"""SQS's largest visibility timeout: 12 hours, in seconds."""


class SQSWorker(ModelWorker):
    """One polling consumer of ``queue_url``. States: up -> down (crashed) -> up."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        handler: Callable[[Any, Any], Any],
        *,
        name: str = "worker",
        max_messages: int = 1,
        wait_time_seconds: int = 20,
        visibility_timeout: int | None = None,
        service_time: LatencyProfile | float = 0.01,
        ack_mode: str = "after_effect",
        on_error: str = "visibility",
        retry: RetryPolicy | None = None,
        crash: CrashSchedule | None = None,
        ledger: FaultLedger | None = None,
    ) -> None:
        super().__init__(
            client.sim, handler, name=name, service_time=service_time, ack_mode=ack_mode, crash=crash,
            ledger=ledger if ledger is not None else getattr(getattr(client, "link", None), "ledger", None),
        )
        self.client = client
        self.queue_url = queue_url
        self.max_messages = check_count("max_messages", max_messages, minimum=1)
        self.wait_time_seconds = check_count("wait_time_seconds", wait_time_seconds)
        self.visibility_timeout = visibility_timeout
        self.on_error = check_choice("on_error", on_error, SQS_ON_ERROR)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise InvalidParameter(f"retry must be a RetryPolicy, got {retry!r}")
        self.retry = retry if retry is not None else RetryPolicy(base=1.0, cap=900.0, jitter="full")
        self.call_errors: list[str] = []
        self.backoffs: list[tuple[Any, int, int]] = []  # (message id, receive count, seconds)
        self._generation = 0
        self._stopped = False
        self._start()

    def _start(self) -> None:
        self.up = True
        self._generation += 1
        self.sim.process(self._run(self._generation), name=f"{self.name}#{self._generation}")

    def stop(self) -> None:
        """Stop after the current long poll."""
        self._stopped = True

    def _call(self, method: str, **kwargs: Any) -> bool:
        try:
            getattr(self.client, method)(QueueUrl=self.queue_url, **kwargs)
        except MqlabError as error:  # a lost request, a stale handle: record it and carry on
            self.call_errors.append(f"{method}: {error}")
            return False
        return True

    def _receive(self) -> Event:
        kwargs: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": self.max_messages,
            "WaitTimeSeconds": self.wait_time_seconds,
            "MessageSystemAttributeNames": ["ApproximateReceiveCount"],
            "MessageAttributeNames": ["All"],
        }
        if self.visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = self.visibility_timeout
        return self.client.receive_message_event(**kwargs)  # type: ignore[no-any-return]

    def _run(self, generation: int) -> Generator[Event, Any, None]:
        sim = self.sim
        while not self._stopped and generation == self._generation:
            response = yield self._receive()
            for message in response.get("Messages", ()):
                message_id = message_id_of(message)
                attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
                self._record(message_id, attempt, attempt > 1)
                point = self._crash_point()
                handle = message["ReceiptHandle"]
                yield sim.timeout(self._service_seconds())
                if point is CrashPoint.BEFORE_EFFECT:
                    self._crash(message_id, point)
                    return
                if self.ack_mode == "before_effect":
                    self._call("delete_message", ReceiptHandle=handle)
                    if point is CrashPoint.AFTER_ACK:
                        self._lose(message_id, "deleted, crashed before the effect")
                        self._crash(message_id, point)
                        return
                    self._handle(message_id, message["Body"], attempt)
                    if point is CrashPoint.BEFORE_ACK:
                        self._crash(message_id, point)
                        return
                    continue
                error = self._handle(message_id, message["Body"], attempt)
                if point is CrashPoint.BEFORE_ACK:
                    self._crash(message_id, point)
                    return
                if error is None or self.on_error == "delete":
                    self._call("delete_message", ReceiptHandle=handle)
                elif self.on_error == "release":
                    self._call("change_message_visibility", ReceiptHandle=handle, VisibilityTimeout=0)
                elif self.on_error == "backoff":
                    seconds = min(MAX_VISIBILITY_TIMEOUT, math.ceil(self.retry.delay(attempt, self._rng)))
                    self.backoffs.append((message_id, attempt, seconds))
                    self._call("change_message_visibility", ReceiptHandle=handle, VisibilityTimeout=seconds)
                if point is CrashPoint.AFTER_ACK:
                    self._crash(message_id, point)
                    return

    def _crash(self, message_id: Any, point: CrashPoint) -> None:
        self._log_crash(message_id, point)
        self._generation += 1
        self.sim.call_later(self.crash.restart_after, self._start)  # type: ignore[union-attr]
