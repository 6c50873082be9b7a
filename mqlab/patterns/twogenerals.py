"""The lost acknowledgement, step by step: why at-least-once makes duplicates.

One message (``order-42``) is published by an at-least-once producer. The
broker stores it and confirms it, and the confirm is lost on the way back (a
scripted fault, ``lost-ack``). The producer cannot know whether the message or
the confirm went missing (the Two Generals situation: no finite exchange of
messages over a lossy channel lets both sides be sure), so after its timeout it
sends the message again. The broker, which cannot tell a retry from a new
message, stores it a second time and the consumer charges the card twice,
unless it is idempotent and skips the repeat.

:func:`lost_ack_walkthrough` runs that story and returns its protocol trace
(:class:`~mqlab.patterns.protocol.ProtocolStep` records for a sequence
diagram) and the effect report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mqlab.faults.adapter import Connection
from mqlab.faults.checks import check_duration
from mqlab.faults.link import HopFaults, Link
from mqlab.faults.standin import BrokerLedger, GenericBroker, StandInConsumer
from mqlab.patterns.audit import EffectAuditor, EffectReport
from mqlab.patterns.backoff import RetryPolicy
from mqlab.patterns.idempotent import IdempotentConsumer
from mqlab.patterns.producers import AtLeastOnceProducer, ProducerStatistics
from mqlab.patterns.protocol import ProtocolRecorder, ProtocolStep
from mqlab.sim import Simulation

__all__ = ["Walkthrough", "lost_ack_walkthrough"]

MESSAGE_ID = "order-42"


@dataclass(frozen=True)
class Walkthrough:
    """The steps in time order, the effects per message, and the broker's and producer's books."""

    steps: tuple[ProtocolStep, ...]
    effects: EffectReport
    broker: BrokerLedger
    producer: ProducerStatistics
    mermaid: str

    def format(self) -> str:
        """One line per step, for printing in a notebook."""
        lines = []
        for s in self.steps:
            if s.fate == "note":
                lines.append(f"t={s.time:6.3f}  {s.source:<9} {s.text}")
            else:
                fate = f"LOST ({s.fault})" if s.fate == "lost" else s.fate
                lines.append(f"t={s.time:6.3f}  {s.source:<9}-> {s.target:<9} {s.kind} {s.message_id}: {fate}")
        return "\n".join(lines)


def lost_ack_walkthrough(
    *, idempotent: bool = False, timeout: float = 0.5, latency: float = 0.01, seed: int = 0
) -> Walkthrough:
    """Publish one message whose confirm is lost; the retry makes a duplicate (skipped if ``idempotent``)."""
    check_duration("timeout", timeout, allow_zero=False)
    check_duration("latency", latency)
    sim = Simulation(seed=seed, trace=True)
    recorder = ProtocolRecorder()
    broker = GenericBroker(sim)
    hop = HopFaults(latency=latency)
    producer_link = Link(sim, "link", to_broker=hop, to_client=hop)
    producer_link.drop_next("to_client", "ack", 1, fault="lost-ack")
    consumer_link = Link(sim, "consumer-link", to_broker=hop, to_client=hop, ledger=producer_link.ledger)
    recorder.watch(producer_link, "producer")
    recorder.watch(consumer_link, "consumer")
    auditor = EffectAuditor([MESSAGE_ID])

    def charge(message_id: Any, body: Any) -> None:
        auditor.effect(message_id)
        recorder.note(sim.now, "consumer", f"charge card for {message_id} (effect #{auditor.count(message_id)})")

    handler: Any = charge
    if idempotent:
        remembered = IdempotentConsumer(charge)

        def handler(message_id: Any, body: Any) -> None:
            if not remembered(message_id, body):
                recorder.note(sim.now, "consumer", f"{message_id} seen before: skipped")

    StandInConsumer(sim, Connection(consumer_link, broker), handler, service_time=0.005)
    producer = AtLeastOnceProducer(
        sim, Connection(producer_link, broker), timeout=timeout, retry=RetryPolicy(base=0.0, cap=0.0, jitter="none")
    )
    producer.send(MESSAGE_ID, b'{"amount": 30}')
    sim.run()
    for record in sim.trace.select(actor="producer", action="timeout"):  # type: ignore[union-attr]
        recorder.note(record.time, "producer", f"no confirm after {timeout:g} s: resend {record.details['id']}")
    # Stable sort by time; the producer's timeout note goes before the resend it causes at the same instant.
    steps = tuple(sorted(recorder.steps(), key=lambda s: (s.time, 0 if s.source == s.target == "producer" else 1)))
    ordered = ProtocolRecorder()
    ordered._steps = list(steps)
    return Walkthrough(steps, auditor.report(), broker.ledger(), producer.statistics(), ordered.mermaid())
