"""Faults on the SQS model: a faulty network around the boto3-shaped client; no broker to restart.

SQS is an HTTPS API: every call is a request and a response. :class:`FaultySQSClient`
wraps an :class:`~mqlab.sqs.client.SQSClient` and draws, for each call, the fate
of its request and response on a :class:`~mqlab.faults.link.Link`:

=============================  ==========  ==========================================================
call                           link kind   what a loss does
=============================  ==========  ==========================================================
``send_message`` request       message     nothing is stored; the caller gets :class:`RequestLost`
                                           (an at-most-once sender has lost the message; an
                                           at-least-once sender retries)
``send_message`` response      ack         the message *is* stored, the caller gets
                                           :class:`RequestLost`: a retry stores a duplicate
``receive_message`` response   delivery    the messages went in flight (their receive count went up)
                                           but the caller sees none: they come back after the
                                           visibility timeout, one receive closer to the redrive
``delete_message`` request     ack         not deleted: the message comes back after the visibility
                                           timeout and is processed again
``change_message_visibility``  nack        the visibility stays as it was
=============================  ==========  ==========================================================

A duplicated ``send_message`` request stores the message twice (two MessageIds,
as a client resend does); a duplicated receive response hands the same messages
to the caller twice. The SQS model answers at once, so link latency does not
apply; loss, duplication and partitions do. botocore itself would retry a timed
out call (``standard`` retry mode: 3 attempts) and raise ``ReadTimeoutError`` or
``EndpointConnectionError`` at the end; :class:`RequestLost` stands for that end.

There is no broker restart on SQS: it is a managed, replicated service and the
model, like AWS, keeps every stored message. :func:`restart_sqs` says so. A
lost message on SQS can only be one that was never stored, so the SQS ledger
(which counts what came in) balances by itself, and what was lost shows in the
fault ledger only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mqlab.errors import MqlabError
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.link import Direction, Link

if TYPE_CHECKING:
    from mqlab.sim import Event
    from mqlab.sqs.client import SQSClient

__all__ = ["ID_ATTRIBUTE", "FaultySQSClient", "NoBrokerRestart", "RequestLost", "SQSPublisher", "restart_sqs"]

ID_ATTRIBUTE = "message-id"
"""The message attribute that carries a pattern's message id on SQS (MessageId is chosen by SQS)."""


class RequestLost(MqlabError):
    """An SQS call whose request or response the network lost (botocore: ``ReadTimeoutError`` after retries)."""

    def __init__(self, operation: str, fault: str | None, stored: bool) -> None:
        where = "its response" if stored else "the request"
        super().__init__(
            f"{operation}: {where} was lost by fault {fault!r}; the call "
            f"{'took effect' if stored else 'did not reach SQS'} but the caller cannot know which; "
            f"retry it (and make the consumer idempotent: a retried send can be a duplicate)"
        )
        self.operation = operation
        self.fault = fault
        self.stored = stored


class NoBrokerRestart(MqlabError):
    """Raised by :func:`restart_sqs`: SQS has no broker a learner can restart."""


def restart_sqs(*_: Any, **__: Any) -> None:
    """SQS has no restart: raise :class:`NoBrokerRestart` with what to do instead."""
    raise NoBrokerRestart(
        "SQS is a managed service with no broker to restart: AWS stores each message redundantly and keeps "
        "it through server failures. To show an outage, partition the client's link "
        "(link.partition(start, duration)) or crash the consumer (CrashSchedule)"
    )


class FaultySQSClient:
    """An SQS client whose calls cross ``link``. Every method it does not fault is the wrapped client's own."""

    def __init__(self, client: SQSClient, link: Link) -> None:
        if not isinstance(link, Link):
            raise InvalidParameter(f"link must be a mqlab.faults.Link, got {link!r}")
        self.client = client
        self.link = link
        self.sim = client.sim
        self.lost = {"message": 0, "send-response": 0, "delivery": 0, "ack": 0, "nack": 0}
        self.duplicated_sends = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def _request(self, kind: str, frame_id: Any, operation: str) -> str:
        fate, _ = self.link.decide(Direction.TO_BROKER, kind, frame_id)
        if fate == "lost":
            self.lost[kind] += 1
            raise RequestLost(operation, self.link.last_fault, stored=False)
        self.link.arrived(Direction.TO_BROKER, kind, frame_id)
        return fate

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        frame_id = _id_attribute(kwargs.get("MessageAttributes")) or kwargs.get("MessageBody")
        fate = self._request("message", frame_id, "SendMessage")
        response = self.client.send_message(**kwargs)
        if fate == "duplicated":
            self.duplicated_sends += 1
            self.client.send_message(**kwargs)
        back, _ = self.link.decide(Direction.TO_CLIENT, "ack", frame_id)
        if back == "lost":
            self.lost["send-response"] += 1
            raise RequestLost("SendMessage", self.link.last_fault, stored=True)
        self.link.arrived(Direction.TO_CLIENT, "ack", frame_id)
        return response

    def _deliver(self, response: dict[str, Any]) -> dict[str, Any]:
        messages = response.get("Messages")
        if not messages:
            return response
        frame_id = tuple(m["MessageId"] for m in messages)
        fate, _ = self.link.decide(Direction.TO_CLIENT, "delivery", frame_id)
        if fate == "lost":
            self.lost["delivery"] += 1
            return {"ResponseMetadata": response.get("ResponseMetadata", {})}
        self.link.arrived(Direction.TO_CLIENT, "delivery", frame_id)
        if fate == "duplicated":
            return {**response, "Messages": [*messages, *messages]}
        return response

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        return self._deliver(self.client.receive_message(**kwargs))

    def receive_message_event(self, **kwargs: Any) -> Event:
        inner = self.client.receive_message_event(**kwargs)
        outer = self.sim.event()
        inner.add_callback(lambda event: outer.succeed(self._deliver(event.value)))
        return outer

    def delete_message(self, **kwargs: Any) -> dict[str, Any]:
        fate = self._request("ack", kwargs.get("ReceiptHandle"), "DeleteMessage")
        response = self.client.delete_message(**kwargs)
        if fate == "duplicated":
            with contextlib.suppress(MqlabError):  # a second delete with the same handle: its answer does not matter
                self.client.delete_message(**kwargs)
        return response

    def change_message_visibility(self, **kwargs: Any) -> dict[str, Any]:
        self._request("nack", kwargs.get("ReceiptHandle"), "ChangeMessageVisibility")
        return self.client.change_message_visibility(**kwargs)


def _id_attribute(attributes: Any) -> Any:
    if not attributes or ID_ATTRIBUTE not in attributes:
        return None
    value = attributes[ID_ATTRIBUTE]
    text = value.get("StringValue")
    return int(text) if value.get("DataType") == "Number" and text is not None and text.lstrip("-").isdigit() else text


def message_id_of(message: dict[str, Any]) -> Any:
    """A received message's pattern id (the ``message-id`` attribute), else its SQS ``MessageId``."""
    found = _id_attribute(message.get("MessageAttributes"))
    return found if found is not None else message.get("MessageId")


class SQSPublisher:
    """The publishing end the patterns' producers use, over an SQS client (faulty or not).

    ``publish(message_id, body, on_confirm)`` is ``send_message`` with the id in
    the ``message-id`` message attribute (``Number`` for ints). A response is the
    confirm: ``on_confirm(message_id, True)`` at once. A :class:`RequestLost`
    calls nothing, so an at-least-once producer times out and sends again, as
    it would after a botocore timeout.
    """

    def __init__(self, client: Any, queue_url: str, *, delay_seconds: int | None = None) -> None:
        self.client = client
        self.queue_url = queue_url
        self.delay_seconds = delay_seconds
        self.lost_requests = 0

    def publish(self, message_id: Any, body: Any, on_confirm: Callable[[Any, bool], None] | None = None) -> None:
        kind = "Number" if isinstance(message_id, int) and not isinstance(message_id, bool) else "String"
        kwargs: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MessageBody": body.decode() if isinstance(body, bytes) else str(body),
            "MessageAttributes": {ID_ATTRIBUTE: {"DataType": kind, "StringValue": str(message_id)}},
        }
        if self.delay_seconds is not None:
            kwargs["DelaySeconds"] = self.delay_seconds
        try:
            self.client.send_message(**kwargs)
        except RequestLost:
            self.lost_requests += 1
            return
        if on_confirm is not None:
            on_confirm(message_id, True)
