"""What the model workers share: a handler that may fail, a crash schedule, and the counts.

A *model worker* consumes from one of the three broker models with its real
client API (:class:`~mqlab.faults.rabbitmq_worker.RabbitWorker`,
:class:`~mqlab.faults.kafka.KafkaWorker`, :class:`~mqlab.faults.sqs.SQSWorker`),
handles one message at a time for ``service_time`` seconds, calls the learner's
``handler(message_id, body)`` (the side effect) and acknowledges it the model's
way: ``basic_ack``, a Kafka offset commit, an SQS ``DeleteMessage``. This base
holds what does not depend on the model:

* ``ack_mode``: ``"after_effect"`` (at-least-once processing) or
  ``"before_effect"`` (acknowledge on receipt: auto-ack, commit before
  processing, delete on receipt: at-most-once);
* a :class:`~mqlab.faults.crash.CrashSchedule`, drawn once per delivery from
  the worker's own random stream; what a crash costs is counted in the fault
  ledger as ``crash-<point>`` (an effect lost when the worker had already
  acknowledged it);
* a handler that raises never crashes the run: the error is kept in
  :attr:`ModelWorker.errors` (a :class:`~mqlab.faults.standin.HandlerError`)
  and the subclass does what its model does with a failed message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mqlab.faults.checks import check_choice, check_duration
from mqlab.faults.crash import CrashPoint, CrashSchedule
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.ledger import FaultLedger
from mqlab.faults.slow import LatencyProfile
from mqlab.faults.standin import HandlerError

if TYPE_CHECKING:
    from mqlab.sim import Simulation

__all__ = ["ACK_MODES", "DeliveryRecord", "ModelWorker"]

ACK_MODES = ("after_effect", "before_effect")


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery a worker received: when, which message, the attempt number and the redelivered flag."""

    time: float
    message_id: Any
    attempt: int
    redelivered: bool


class ModelWorker:
    """Counters, crash decisions and handler calls shared by the model workers.

    ``handled`` counts handler calls (effects attempted), ``received`` deliveries,
    ``crashes`` crashes, ``busy_time`` seconds spent handling, ``lost_in_crash``
    messages the worker had acknowledged but not handled when it died.
    """

    def __init__(
        self,
        sim: Simulation,
        handler: Callable[[Any, Any], Any],
        *,
        name: str,
        service_time: LatencyProfile | float,
        ack_mode: str,
        crash: CrashSchedule | None,
        ledger: FaultLedger | None,
    ) -> None:
        if not callable(handler):
            raise InvalidParameter(f"handler must be callable as handler(message_id, body), got {handler!r}")
        if crash is not None and not isinstance(crash, CrashSchedule):
            raise InvalidParameter(f"crash must be a CrashSchedule or None, got {crash!r}")
        self.sim = sim
        self.handler = handler
        self.name = name
        if not isinstance(service_time, LatencyProfile):
            service_time = LatencyProfile.constant(check_duration("service_time", service_time))
        self.service_time = service_time
        self.ack_mode = check_choice("ack_mode", ack_mode, ACK_MODES)
        self.crash = crash
        self.ledger = ledger if ledger is not None else FaultLedger(sim)
        self._rng = sim.substream(f"worker:{name}")
        self.errors: list[HandlerError] = []
        self.deliveries: list[DeliveryRecord] = []
        self.handled = self.received = self.crashes = self.lost_in_crash = 0
        self.busy_time = 0.0
        self._taken = 0
        self.up = True

    def last_errors(self, *, kind_only: bool = False) -> dict[Any, str]:
        """The last handler error of each message that failed (for a DLQ store's ``errors``).

        ``kind_only`` keeps just the exception's class name, so dead messages that
        failed the same way fall into one group.
        """
        return {e.message_id: e.error.split(":", 1)[0] if kind_only else e.error for e in self.errors}

    def _service_seconds(self) -> float:
        seconds = self.service_time.sample(self.sim.now, self._rng)
        self.busy_time += seconds
        return seconds

    def _record(self, message_id: Any, attempt: int, redelivered: bool) -> None:
        self.received += 1
        self.deliveries.append(DeliveryRecord(self.sim.now, message_id, attempt, redelivered))

    def _crash_point(self) -> CrashPoint | None:
        """Whether the delivery now being handled (the n-th taken in hand) ends in a crash, and where."""
        self._taken += 1
        crash = self.crash
        if crash is not None and crash.crashes_on(self._taken, self._rng):
            return crash.point  # type: ignore[return-value]
        return None

    def _handle(self, message_id: Any, body: Any, attempt: int) -> str | None:
        """Call the handler; return None on success or the error text (recorded in ``errors``)."""
        self.handled += 1
        try:
            self.handler(message_id, body)
        except Exception as error:  # a learner's handler never crashes the run
            text = f"{type(error).__name__}: {error}"
            self.errors.append(HandlerError(self.sim.now, message_id, attempt, text))
            if self.sim.tracing:
                self.sim.log(self.name, "handler-error", id=message_id, error=text)
            return text
        return None

    def _log_crash(self, message_id: Any, point: CrashPoint) -> None:
        self.crashes += 1
        self.up = False
        if self.sim.tracing:
            self.sim.log(self.name, "crash", id=message_id, point=point.value)

    def _lose(self, message_id: Any, why: str, fault: str | None = None) -> None:
        """Count one message this worker acknowledged and will never handle (as lost by ``fault``)."""
        self.lost_in_crash += 1
        if fault is None:
            fault = self.crash.fault if self.crash is not None else "crash"
        self.ledger.lost(fault, "effect", id=message_id, why=why)
