"""A consumer that polls a queue in virtual time and hands each message to a handler.

::

    def handle(message):
        print(message["Body"])

    worker = Worker(client, url, handle)        # starts a kernel process
    sim.run(until=60)
    worker.errors                                # what the handler raised, if anything

A handler is called with the message dict as ``receive_message`` returns it.
It may be a plain function, or a generator function that yields kernel events
to spend virtual time (``yield sim.timeout(2.5)`` for 2.5 s of work). When it
returns, the worker deletes the message. When it raises, the simulation goes
on, as with a real consumer that catches and logs: the message is *not*
deleted, so it becomes visible again when its visibility timeout ends and is
received again (or moved to the dead-letter queue by the redrive policy); the
error is recorded in :attr:`Worker.errors`. On a FIFO queue the worker then
skips the rest of that message group in the batch (they come back after their
visibility timeout, behind the failed one), as AWS Lambda's FIFO integration
does, so a failure never lets later messages of a group overtake it.

A worker long-polls forever (an empty receive every ``wait_time_seconds``), so
run the simulation with ``run(until=...)``, call :meth:`Worker.stop`, or pass
``stop_when_idle=True`` to stop after the first empty receive.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from mqlab.sim import Event, Process
from mqlab.sqs.client import SQSClient
from mqlab.sqs.errors import ClientError, QueueDoesNotExist

__all__ = ["HandlerError", "Worker", "poll_loop"]

Handler = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class HandlerError:
    """One message the handler failed on: when, which message, which receive, and the exception."""

    time: float
    message_id: str
    receive_count: int
    error: BaseException

    def __str__(self) -> str:
        return (f"t={self.time:g} message {self.message_id} (receive #{self.receive_count}): "
                f"{type(self.error).__name__}: {self.error}")


class Worker:
    """A polling consumer running as a kernel process.

    States: running (``is_running``) until stopped, idle-stopped, or its queue
    is deleted. Counters: ``processed`` (handled and deleted), ``failed``
    (handler raised), ``skipped`` (FIFO messages left after a failure in their
    group), ``receives`` and ``empty_receives``.
    """

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        handler: Handler,
        *,
        max_messages: int = 10,
        wait_time_seconds: int = 20,
        visibility_timeout: int | None = None,
        idle_backoff: float = 1.0,
        delete: bool = True,
        stop_when_idle: bool = False,
        name: str | None = None,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable (it gets each message dict), got {handler!r}")
        if not idle_backoff > 0:
            raise ValueError(
                f"idle_backoff must be > 0 seconds (the pause after an empty short poll), got {idle_backoff!r}")
        self.client = client
        self.sim = client.sim
        self.queue_url = queue_url
        self.handler = handler
        self.max_messages = max_messages
        self.wait_time_seconds = wait_time_seconds
        self.visibility_timeout = visibility_timeout
        self.idle_backoff = idle_backoff
        self.delete = delete
        self.stop_when_idle = stop_when_idle
        self.errors: list[HandlerError] = []
        self.client_errors: list[ClientError] = []
        self.processed = 0
        self.failed = 0
        self.receives = 0
        self.empty_receives = 0
        self.skipped = 0
        self._stopping = False
        self.name = name or f"worker:{queue_url.rsplit('/', 1)[-1]}"
        self.process: Process = self.sim.process(self._run(), name=self.name)

    @property
    def is_running(self) -> bool:
        return self.process.is_alive

    def stop(self) -> None:
        """Stop after the current receive and message (a long poll in progress still completes)."""
        self._stopping = True

    def _receive(self) -> Event:
        kwargs: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": self.max_messages,
            "WaitTimeSeconds": self.wait_time_seconds,
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if self.visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = self.visibility_timeout
        return self.client.receive_message_event(**kwargs)

    def _run(self) -> Generator[Event, Any, None]:
        sim = self.sim
        while not self._stopping:
            try:
                response = yield self._receive()
            except QueueDoesNotExist as error:
                self.client_errors.append(error)
                return
            self.receives += 1
            messages = response.get("Messages", [])
            if not messages:
                self.empty_receives += 1
                if self.stop_when_idle:
                    return
                if self.wait_time_seconds == 0:
                    yield sim.timeout(self.idle_backoff)
                continue
            failed_groups: set[str] = set()
            for message in messages:
                group = message.get("Attributes", {}).get("MessageGroupId")
                if group is not None and group in failed_groups and self.queue_url.endswith(".fifo"):
                    self.skipped += 1
                    continue
                ok = True
                try:
                    result = self.handler(message)
                    if isinstance(result, Generator):
                        yield from result
                except Exception as error:  # a learner's handler: record it, never crash the run
                    ok = False
                    self.failed += 1
                    count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0))
                    self.errors.append(HandlerError(sim.now, message["MessageId"], count, error))
                    if group is not None:
                        failed_groups.add(group)
                    if sim.tracing:
                        sim.log(self.name, "handler_failed", message_id=message["MessageId"],
                                error=f"{type(error).__name__}: {error}")
                if ok:
                    if self.delete:
                        try:
                            self.client.delete_message(QueueUrl=self.queue_url,
                                                       ReceiptHandle=message["ReceiptHandle"])
                        except ClientError as error:  # e.g. a FIFO handle that expired while processing
                            self.client_errors.append(error)
                            continue
                    self.processed += 1

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<Worker {self.name} {state} processed={self.processed} failed={self.failed}>"


def poll_loop(client: SQSClient, queue_url: str, handler: Handler, **options: Any) -> Worker:
    """Start a :class:`Worker` on ``queue_url`` (same options) and return it."""
    return Worker(client, queue_url, handler, **options)
