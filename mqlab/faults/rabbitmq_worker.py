"""A RabbitMQ consumer that can crash: ``basic_consume`` with a handler, a crash schedule and reconnects.

:class:`RabbitWorker` opens its own connection (over a faulty
:class:`~mqlab.faults.link.Link` when given one), sets ``basic_qos``, consumes
one queue with a pika-style callback and works through its deliveries one at a
time. What happens to a message depends on where a crash hits, and the model
decides, by its own rules:

* ``auto_ack=True``: the broker forgot each message when it sent it. A crash
  loses the message in hand and every delivery buffered in the worker (RabbitMQ
  ignores the prefetch limit for auto-ack consumers, so the buffer can be
  large); each is counted in the fault ledger as lost by ``crash-<point>``.
* manual acks: a crash closes the connection; the broker requeues every
  unacknowledged delivery with ``redelivered=True`` (and, on a quorum queue,
  ``x-delivery-count``), so the next delivery is a duplicate if the effect had
  already happened (crash ``before_ack``).

A handler that raises is recorded and the delivery is ``basic_nack``-ed with
``requeue=True`` (``on_error="requeue"``, the retry storm) or ``basic_reject``-ed
with ``requeue=False`` (``on_error="reject"``: dead-lettered through the queue's
``x-dead-letter-exchange``, with an ``x-death`` header). When the broker closes
the connection (``broker.restart()``, a channel error such as a double ack), the
worker reconnects after ``reconnect_after`` seconds (``close_reasons`` keeps why).

``attempt`` in each :class:`~mqlab.faults.worker.DeliveryRecord` is
``x-delivery-count`` + 1 on a quorum queue; a classic queue only says
``redelivered``, so there attempt 2 means "at least the second".
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mqlab.faults.checks import check_choice, check_count, check_duration
from mqlab.faults.crash import CrashPoint, CrashSchedule
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.ledger import FaultLedger
from mqlab.faults.link import Link
from mqlab.faults.rabbitmq import connect_faulty, message_id_of
from mqlab.faults.slow import LatencyProfile
from mqlab.faults.standin import HandlerError
from mqlab.faults.worker import ModelWorker
from mqlab.rabbitmq.errors import AMQPError

if TYPE_CHECKING:
    from mqlab.rabbitmq.broker import Broker
    from mqlab.rabbitmq.channel import Channel
    from mqlab.rabbitmq.connection import Connection

__all__ = ["ON_ERROR", "RabbitWorker"]

ON_ERROR = ("requeue", "reject")


class RabbitWorker(ModelWorker):
    """A single-threaded consumer of ``queue`` on the RabbitMQ model. States: up -> down (crashed) -> up."""

    def __init__(
        self,
        broker: Broker,
        queue: str,
        handler: Callable[[Any, Any], Any],
        *,
        name: str = "worker",
        link: Link | None = None,
        prefetch: int = 1,
        service_time: LatencyProfile | float = 0.01,
        auto_ack: bool = False,
        ack_mode: str = "after_effect",
        on_error: str | Callable[[Channel, int, Any, bytes, str], Any] = "requeue",
        crash: CrashSchedule | None = None,
        ledger: FaultLedger | None = None,
        reconnect_after: float = 1.0,
    ) -> None:
        super().__init__(
            broker.sim, handler, name=name, service_time=service_time, ack_mode=ack_mode, crash=crash,
            ledger=ledger if ledger is not None else (link.ledger if link is not None else None),
        )
        if link is not None and not isinstance(link, Link):
            raise InvalidParameter(f"link must be a mqlab.faults.Link or None, got {link!r}")
        self.broker = broker
        self.queue = queue
        self.link = link
        self.prefetch = check_count("prefetch", prefetch)
        self.auto_ack = bool(auto_ack)
        self.on_error = on_error if callable(on_error) else check_choice("on_error", on_error, ON_ERROR)
        self.reconnect_after = check_duration("reconnect_after", reconnect_after)
        self._inbox: deque[tuple[int, int, Any, Any, int, Any]] = deque()
        self._busy = False
        self._in_hand: tuple[int, int, Any, Any, int, Any] | None = None
        self._epoch = 0
        self._closing = False
        self.reconnects = 0
        self.close_reasons: list[str] = []
        """Why the broker closed this worker's channel or connection, each time (the AMQP reply text)."""
        self.connection: Connection
        self.channel: Channel
        self._connect()

    # -- connection --------------------------------------------------------------------------------
    def _connect(self) -> None:
        self._epoch += 1
        if self.link is not None:
            connection: Connection = connect_faulty(self.broker, self.link, name=self.name)
        else:
            connection = self.broker.connect(name=self.name)
        self.connection = connection
        connection.add_on_close_callback(self._closed_elsewhere)
        channel = connection.channel()
        channel.add_on_close_callback(self._closed_elsewhere)
        self.channel = channel
        channel.basic_qos(prefetch_count=self.prefetch)
        epoch = self._epoch
        channel.basic_consume(
            self.queue, lambda ch, method, properties, body: self._on_message(epoch, method, properties, body),
            auto_ack=self.auto_ack,
        )

    def _closed_elsewhere(self, _source: Any, reason: Any) -> None:
        """The broker closed the connection or channel (a restart, a channel error): reconnect later."""
        if self._closing or not self.up:
            return
        self.close_reasons.append(str(reason))
        self._drop_in_hand("connection closed by the broker", f"{self.broker.name}.connection-closed")
        self.up = False
        if self.connection.is_open:
            self._close()
        self.sim.call_later(self.reconnect_after, self._restart)

    def _close(self) -> None:
        self._closing = True
        try:
            if self.connection.is_open:
                self.connection.close()
        finally:
            self._closing = False

    def _restart(self) -> None:
        self.up = True
        self.reconnects += 1
        if self.sim.tracing:
            self.sim.log(self.name, "restart")
        try:
            self._connect()
        except AMQPError as error:  # the queue is gone after a restart, say: stay down, keep the error
            self.up = False
            self.close_reasons.append(f"reconnect failed: {error}")

    # -- deliveries --------------------------------------------------------------------------------
    def _on_message(self, epoch: int, method: Any, properties: Any, body: bytes) -> None:
        if epoch != self._epoch or not self.up:
            return
        message_id = message_id_of(properties)
        if message_id is None:
            message_id = f"{self.name}/tag-{method.delivery_tag}"
        headers = properties.headers or {}
        attempt = 1 + int(headers.get("x-delivery-count", 1 if method.redelivered else 0))
        self._record(message_id, attempt, bool(method.redelivered))
        self._inbox.append((epoch, method.delivery_tag, message_id, body, attempt, properties))
        if not self._busy:
            self._next()

    def _next(self) -> None:
        if not self._inbox or not self.up:
            self._busy = False
            return
        self._busy = True
        item = self._inbox.popleft()
        self._in_hand = item
        self.sim.call_later(self._service_seconds(), self._finish, item)

    def _settle(self, method: str, tag: int, **kwargs: Any) -> None:
        channel = self.channel
        if channel.is_closed:
            return
        with contextlib.suppress(AMQPError):  # the channel just closed (a double ack's 406): we reconnect
            getattr(channel, method)(tag, **kwargs)

    def _finish(self, item: tuple[int, int, Any, Any, int, Any]) -> None:
        epoch, tag, message_id, body, attempt, properties = item
        self._in_hand = None
        if epoch != self._epoch or not self.up:
            return  # the connection went away while handling: the broker took the delivery back
        point = self._crash_point()
        if point is CrashPoint.BEFORE_EFFECT:
            if self.auto_ack:
                self._lose(message_id, "auto-ack, crashed before the effect")
            self._crash(message_id, point)
            return
        if self.auto_ack or self.ack_mode == "before_effect":
            if not self.auto_ack:
                self._settle("basic_ack", tag)
            if point is CrashPoint.AFTER_ACK:
                self._lose(message_id, "acknowledged, crashed before the effect")
                self._crash(message_id, point)
                return
            self._handle(message_id, body, attempt)  # a failure cannot be retried: it was acknowledged
            if point is CrashPoint.BEFORE_ACK:
                self._crash(message_id, point)
                return
        else:
            error = self._handle(message_id, body, attempt)
            if point is CrashPoint.BEFORE_ACK:
                self._crash(message_id, point)
                return
            if error is None:
                self._settle("basic_ack", tag)
            elif callable(self.on_error):
                self._recover(tag, properties, body, error)
            elif self.on_error == "requeue":
                self._settle("basic_nack", tag, requeue=True)
            else:
                self._settle("basic_reject", tag, requeue=False)
            if point is CrashPoint.AFTER_ACK:
                self._crash(message_id, point)
                return
        self._next()

    def _recover(self, tag: int, properties: Any, body: bytes, error: str) -> None:
        """Hand a failed delivery to the ``on_error`` callable (a retry or parking-lot recoverer), which settles it."""
        try:
            self.on_error(self.channel, tag, properties, body, error)  # type: ignore[operator]
        except Exception as failure:  # the learner's recoverer failed: requeue, and keep its error
            self.errors.append(HandlerError(self.sim.now, message_id_of(properties), 0, f"on_error: {failure!r}"))
            self._settle("basic_nack", tag, requeue=True)

    def _drop_in_hand(self, why: str, fault: str | None = None) -> None:
        self._epoch += 1
        self._busy = False
        if self.auto_ack:
            held = ([self._in_hand] if self._in_hand is not None else []) + list(self._inbox)
            for item in held:
                self._lose(item[2], f"auto-ack buffer, {why}", fault)
        self._in_hand = None
        self._inbox.clear()

    def _crash(self, message_id: Any, point: CrashPoint) -> None:
        self._log_crash(message_id, point)
        self._drop_in_hand("crashed")
        self._close()
        self.sim.call_later(self.crash.restart_after, self._restart)  # type: ignore[union-attr]
