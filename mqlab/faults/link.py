"""A faulty network link between a client and a broker.

A :class:`Link` has two directions: ``TO_BROKER`` (publishes, acks from a
consumer) and ``TO_CLIENT`` (publisher confirms, deliveries). Each direction
carries *frames* of a kind (``"message"``, ``"ack"``, ``"nack"``, ``"delivery"``)
and has its own :class:`HopFaults`: a probability of losing a frame, of
duplicating it, and a latency with optional extra delay. A link can also be
partitioned for a window of virtual time (every frame sent in the window is
lost), and a scripted fault can drop the next N frames of a kind, which is how
the step-by-step "lost ACK" walkthrough is made to happen on cue.

Simplifications: a real TCP connection never duplicates or reorders bytes; the
duplicates and losses modelled here are those seen *above* the connection,
when a client reconnects and resends, or a connection dies with frames in its
buffers. A partition drops frames instead of holding them and then resetting
the connection; from the sender's side both look the same: no answer.

Every fault is counted in the :class:`~mqlab.faults.ledger.FaultLedger` under a
name such as ``"link.to_client.loss"`` or ``"link.partition"`` and, when the
simulation traces, logged with the frame's kind and id. Randomness comes from
``sim.substream("link:<name>")``, so adding a link never changes draws made
elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from mqlab.faults.checks import check_count, check_duration, check_probability
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.ledger import FaultLedger

if TYPE_CHECKING:
    from mqlab.sim import Simulation

__all__ = ["Direction", "FrameFate", "HopFaults", "Link", "LinkStatistics"]


class Direction(Enum):
    """Which way a frame travels."""

    TO_BROKER = "to_broker"
    TO_CLIENT = "to_client"


@dataclass(frozen=True)
class HopFaults:
    """The faults of one direction of a link.

    ``loss`` and ``duplicate`` are probabilities per frame; ``latency`` is the
    fixed one-way delay in seconds; ``delay_probability`` is the chance that a
    frame is held ``extra_delay`` seconds longer (a retransmission, a GC pause),
    which can reorder frames. ``kinds`` restricts the random faults to frames of
    those kinds (``None``: every kind), e.g. ``kinds=("ack",)`` loses only acks.
    """

    loss: float = 0.0
    duplicate: float = 0.0
    latency: float = 0.001
    delay_probability: float = 0.0
    extra_delay: float = 0.0
    kinds: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_probability("loss", self.loss)
        check_probability("duplicate", self.duplicate)
        check_duration("latency", self.latency)
        check_probability("delay_probability", self.delay_probability)
        check_duration("extra_delay", self.extra_delay)
        if self.kinds is not None and (
            not isinstance(self.kinds, tuple) or not all(isinstance(k, str) for k in self.kinds)
        ):
            raise InvalidParameter(f"kinds must be a tuple of frame kinds such as ('ack',) or None, got {self.kinds!r}")

    def applies_to(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


@dataclass(frozen=True)
class FrameFate:
    """What became of one frame, told to watchers when it is sent.

    ``fate`` is ``"delivered"``, ``"duplicated"`` (delivered twice) or
    ``"lost"``; ``arrives_at`` is None for a lost frame; ``fault`` names the
    fault that lost, delayed or duplicated it.
    """

    sent_at: float
    direction: Direction
    kind: str
    frame_id: object
    fate: str
    arrives_at: float | None
    fault: str | None


@dataclass(frozen=True)
class LinkStatistics:
    """Frames sent and what became of them, per direction (``to_broker_*`` and ``to_client_*``)."""

    to_broker_sent: int
    to_broker_delivered: int
    to_broker_lost: int
    to_broker_duplicated: int
    to_client_sent: int
    to_client_delivered: int
    to_client_lost: int
    to_client_duplicated: int


class Link:
    """A two-way link whose frames may be lost, duplicated, delayed or cut off by a partition.

    ``send(direction, kind, frame_id, deliver, *args)`` calls ``deliver(*args)``
    on the far side after the latency, zero, one or two times depending on the
    faults. Invariant per direction: ``delivered == sent - lost + duplicated``
    once nothing is in the air.
    """

    def __init__(
        self,
        sim: Simulation,
        name: str = "link",
        *,
        to_broker: HopFaults | None = None,
        to_client: HopFaults | None = None,
        ledger: FaultLedger | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.hops = {Direction.TO_BROKER: to_broker or HopFaults(), Direction.TO_CLIENT: to_client or HopFaults()}
        self.ledger = ledger if ledger is not None else FaultLedger(sim)
        self._rng = sim.substream(f"link:{name}")
        self._partitions: list[tuple[float, float]] = []
        self._scripted: list[list[Any]] = []  # [direction, kind, remaining, fault name]
        self._counts = {d: [0, 0, 0, 0] for d in Direction}  # sent, delivered, lost, duplicated
        self._watchers: list[Callable[[FrameFate], None]] = []
        self.last_fault: str | None = None
        """The fault that lost the most recent lost frame (for adapters that name it in their model's ledger)."""

    def watch(self, watcher: Callable[[FrameFate], None]) -> None:
        """Call ``watcher(FrameFate)`` for every frame sent from now on (for protocol diagrams)."""
        self._watchers.append(watcher)

    # -- scheduling faults ----------------------------------------------------
    def partition(self, start: float, duration: float) -> None:
        """Cut the link in both directions from ``start`` for ``duration`` seconds."""
        check_duration("start", start)
        check_duration("duration", duration, allow_zero=False)
        self._partitions.append((start, start + duration))
        if self.sim.tracing:
            self.sim.call_at(max(start, self.sim.now), self._log_partition, "partition-start", start + duration)
            self.sim.call_at(max(start + duration, self.sim.now), self._log_partition, "partition-end", None)

    def _log_partition(self, action: str, until: float | None) -> None:
        self.sim.log(self.name, action, until=until)

    def is_partitioned(self, now: float) -> bool:
        return any(start <= now < end for start, end in self._partitions)

    def drop_next(self, direction: Direction | str, kind: str, count: int = 1, *, fault: str | None = None) -> None:
        """Lose the next ``count`` frames of ``kind`` sent in ``direction`` (a scripted, certain fault)."""
        direction = _direction(direction)
        check_count("count", count, minimum=1)
        name = fault or f"{self.name}.{direction.value}.drop-{kind}"
        self._scripted.append([direction, kind, count, name])

    # -- carrying frames --------------------------------------------------------
    def send(
        self, direction: Direction | str, kind: str, frame_id: object, deliver: Callable[..., Any], *args: Any
    ) -> str:
        """Carry one frame; ``deliver(*args)`` runs on the far side for each copy that arrives.

        Returns the frame's fate: ``"delivered"``, ``"duplicated"`` or ``"lost"``
        (so an adapter can account for a lost frame in its model's own ledger).
        """
        fate, delay = self.decide(direction, kind, frame_id)
        if fate == "lost":
            return fate
        if direction.__class__ is not Direction:
            direction = _direction(direction)
        frame = (direction, kind, frame_id, deliver, args)
        self.sim.call_later(delay, self._arrive, frame)
        if fate == "duplicated":
            self.sim.call_later(delay, self._arrive, frame)
        return fate

    def decide(self, direction: Direction | str, kind: str, frame_id: object) -> tuple[str, float]:
        """Draw one frame's fate without carrying it: ``(fate, delay)``.

        For request/response APIs that complete at once (the SQS model's client),
        where the adapter performs the call itself: a ``"lost"`` frame is counted
        here, a delivered one is counted as delivered by the caller's
        :meth:`arrived` (``send`` does both). The faults are drawn in the same
        order as by ``send``, so a seed gives the same story either way.
        """
        if direction.__class__ is not Direction:
            direction = _direction(direction)  # type: ignore[arg-type]
        counts = self._counts[direction]  # type: ignore[index]
        counts[0] += 1
        sim = self.sim
        tracing = sim.tracing
        if tracing:
            sim.log(self.name, "send", direction=direction.value, kind=kind, id=frame_id)  # type: ignore[union-attr]
        fault = self._scripted_fault(direction, kind)  # type: ignore[arg-type]
        if fault is None and self._partitions and self.is_partitioned(sim.now):
            fault = f"{self.name}.partition"
        hop = self.hops[direction]  # type: ignore[index]
        applies = hop.applies_to(kind)
        rng = self._rng
        if fault is None and applies and hop.loss and rng.random() < hop.loss:
            fault = f"{self.name}.{direction.value}.loss"  # type: ignore[union-attr]
        if fault is not None:
            self.last_fault = fault
            counts[2] += 1
            self.ledger.lost(fault, kind, id=frame_id, direction=direction.value)  # type: ignore[union-attr]
            if self._watchers:
                self._tell(FrameFate(sim.now, direction, kind, frame_id, "lost", None, fault))  # type: ignore[arg-type]
            return "lost", 0.0
        delay = hop.latency
        noted = None
        if applies and hop.delay_probability and rng.random() < hop.delay_probability:
            delay += hop.extra_delay
            noted = f"{self.name}.{direction.value}.delay"  # type: ignore[union-attr]
            self.ledger.delayed(noted, kind, id=frame_id)
        fate = "delivered"
        if applies and hop.duplicate and rng.random() < hop.duplicate:
            counts[3] += 1
            fate = "duplicated"
            noted = f"{self.name}.{direction.value}.duplicate"  # type: ignore[union-attr]
            self.ledger.duplicated(noted, kind, id=frame_id)
        if self._watchers:
            self._tell(FrameFate(sim.now, direction, kind, frame_id, fate, sim.now + delay, noted))  # type: ignore[arg-type]
        return fate, delay

    def arrived(self, direction: Direction | str, kind: str, frame_id: object) -> None:
        """Count one copy of a frame as delivered (for frames carried by the caller after :meth:`decide`)."""
        if direction.__class__ is not Direction:
            direction = _direction(direction)  # type: ignore[arg-type]
        self._counts[direction][1] += 1  # type: ignore[index]
        if self.sim.tracing:
            self.sim.log(self.name, "arrive", direction=direction.value, kind=kind, id=frame_id)  # type: ignore[union-attr]

    def _tell(self, fate: FrameFate) -> None:
        for watcher in self._watchers:
            watcher(fate)

    def _scripted_fault(self, direction: Direction, kind: str) -> str | None:
        for entry in self._scripted:
            if entry[0] is direction and entry[1] == kind and entry[2] > 0:
                entry[2] -= 1
                return entry[3]  # type: ignore[no-any-return]
        return None

    def _arrive(self, frame: tuple[Direction, str, object, Callable[..., Any], tuple[Any, ...]]) -> None:
        direction, kind, frame_id, deliver, args = frame
        self._counts[direction][1] += 1
        if self.sim.tracing:
            self.sim.log(self.name, "arrive", direction=direction.value, kind=kind, id=frame_id)
        deliver(*args)

    def statistics(self) -> LinkStatistics:
        b, c = self._counts[Direction.TO_BROKER], self._counts[Direction.TO_CLIENT]
        return LinkStatistics(*b, *c)


def _direction(value: Direction | str) -> Direction:
    if isinstance(value, Direction):
        return value
    for member in Direction:
        if value == member.value:
            return member
    raise InvalidParameter(f"direction must be 'to_broker' or 'to_client' (or a Direction), got {value!r}")
