"""The lost-ACK walkthrough: the protocol trace of a duplicate, and of the idempotent fix."""

from __future__ import annotations

from mqlab.patterns import PARTICIPANTS, lost_ack_walkthrough


def test_lost_ack_produces_a_duplicate_step_by_step():
    """The confirm is lost, the producer times out and resends, the broker stores it twice, two effects."""
    w = lost_ack_walkthrough()
    arrows = [(s.source, s.target, s.kind, s.fate) for s in w.steps if s.fate != "note"]
    assert arrows[:2] == [("producer", "broker", "publish", "delivered"), ("broker", "producer", "ack", "lost")]
    assert ("broker", "producer", "ack", "delivered") in arrows
    assert sum(1 for a in arrows if a[2] == "publish") == 2
    assert w.effects.duplicated == 1 and w.effects.extra_effects == 1
    assert w.broker.accepted == 2 and w.producer.timeouts == 1
    lost = next(s for s in w.steps if s.fate == "lost")
    assert lost.fault == "lost-ack" and lost.arrives_at is None


def test_timeout_note_comes_before_the_resend():
    """In the trace the producer's timeout note precedes the second publish."""
    steps = lost_ack_walkthrough(timeout=0.3).steps
    note = next(i for i, s in enumerate(steps) if s.source == "producer" and s.fate == "note")
    second = [i for i, s in enumerate(steps) if s.kind == "publish"][1]
    assert note < second and steps[note].time == 0.3


def test_idempotent_consumer_turns_the_duplicate_into_one_effect():
    """With an idempotent consumer the second delivery is skipped: exactly one effect."""
    w = lost_ack_walkthrough(idempotent=True)
    assert w.effects.is_exactly_once
    assert any("skipped" in s.text for s in w.steps)
    assert w.broker.accepted == 2  # the broker still stored it twice: only the effect is exactly once


def test_mermaid_names_the_participants_and_the_lost_frame():
    """The Mermaid text declares producer, link, broker, consumer and draws the lost ack onto the link."""
    text = lost_ack_walkthrough().mermaid
    assert all(f"participant {p}" in text for p in PARTICIPANTS)
    assert "broker-x link" in text and "LOST (lost-ack)" in text


def test_walkthrough_is_deterministic():
    """Two runs give identical steps and text."""
    assert lost_ack_walkthrough().steps == lost_ack_walkthrough().steps
    assert lost_ack_walkthrough().format() == lost_ack_walkthrough().format()
