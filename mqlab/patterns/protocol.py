"""A protocol trace: who sent what to whom, and what the network did with it.

:class:`ProtocolRecorder` watches links and collects one
:class:`ProtocolStep` per frame (with its fate: delivered, duplicated, lost)
plus notes from participants (a timeout, an effect, a skipped duplicate). The
steps are plain data in time order, ready for a sequence diagram with the
participants ``producer``, ``link``, ``broker`` and ``consumer``: a lost frame
is an arrow that ends on the link's lifeline. :meth:`ProtocolRecorder.mermaid`
renders them as Mermaid ``sequenceDiagram`` text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mqlab.faults.link import Direction, FrameFate, Link

__all__ = ["PARTICIPANTS", "ProtocolRecorder", "ProtocolStep"]

PARTICIPANTS = ("producer", "link", "broker", "consumer")

_LABELS = {"message": "publish", "ack": "ack", "nack": "nack", "delivery": "deliver"}


@dataclass(frozen=True)
class ProtocolStep:
    """One arrow (``source`` -> ``target``) or, when ``source == target``, one note.

    ``fate`` is ``"delivered"``, ``"duplicated"``, ``"lost"`` or ``"note"``;
    ``fault`` names the fault responsible for a loss; ``arrives_at`` is None
    for a lost frame and for notes.
    """

    time: float
    source: str
    target: str
    kind: str
    message_id: Any
    fate: str
    arrives_at: float | None = None
    fault: str | None = None
    text: str = ""


class ProtocolRecorder:
    """Collects the steps of one run from the links it watches and the notes it is given."""

    def __init__(self) -> None:
        self._steps: list[ProtocolStep] = []

    def watch(self, link: Link, client: str, broker: str = "broker") -> None:
        """Record every frame of ``link``, whose client end is the participant ``client``."""

        def record(frame: FrameFate) -> None:
            if frame.direction is Direction.TO_BROKER:
                source, target = client, broker
            else:
                source, target = broker, client
            self._steps.append(
                ProtocolStep(
                    frame.sent_at,
                    source,
                    target,
                    _LABELS.get(frame.kind, frame.kind),
                    frame.frame_id,
                    frame.fate,
                    frame.arrives_at,
                    frame.fault,
                )
            )

        link.watch(record)

    def note(self, time: float, participant: str, text: str, message_id: Any = None) -> None:
        self._steps.append(ProtocolStep(time, participant, participant, "note", message_id, "note", text=text))

    def steps(self) -> tuple[ProtocolStep, ...]:
        return tuple(self._steps)

    def mermaid(self) -> str:
        """The steps as a Mermaid sequence diagram; lost frames end on the link with a cross."""
        lines = ["sequenceDiagram"]
        lines.extend(f"    participant {p}" for p in PARTICIPANTS)
        for step in self._steps:
            label = f"{step.kind} {step.message_id}" if step.message_id is not None else step.kind
            if step.fate == "note":
                lines.append(f"    Note over {step.source}: t={step.time:g} {step.text}")
            elif step.fate == "lost":
                lines.append(f"    {step.source}-x link: t={step.time:g} {label} LOST ({step.fault})")
            else:
                twice = " (twice)" if step.fate == "duplicated" else ""
                lines.append(f"    {step.source}->>{step.target}: t={step.time:g} {label}{twice}")
        return "\n".join(lines)
