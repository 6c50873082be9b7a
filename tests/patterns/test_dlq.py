"""The DLQ replay tool: list, group, inspect, replay at a rate, report."""

from __future__ import annotations

import pytest

from mqlab.faults import GenericBroker, InvalidParameter, StandInConsumer
from mqlab.patterns import DeadLetter, DLQReplayer, InMemoryDLQ, NoSuchDeadLetter
from mqlab.sim import Simulation


def _dlq() -> InMemoryDLQ:
    dlq = InMemoryDLQ()
    rows = [
        ("a", "delivery_limit", "KeyError: sku", 0.0),
        ("b", "delivery_limit", "KeyError: sku", 1.0),
        ("c", "rejected", "ValueError: bad date", 2.0),
        ("d", "delivery_limit", "KeyError: sku", 3.0),
    ]
    for message_id, reason, error, t in rows:
        dlq.add(DeadLetter(message_id, b"{}", reason, error, 5, t, "orders"))
    return dlq


def test_groups_by_reason_and_error_largest_first():
    """Dead messages are grouped by (reason, error), biggest group first, ids oldest first."""
    groups = DLQReplayer(Simulation(), _dlq(), lambda d, m: True).groups()
    assert [(g.key, g.message_ids) for g in groups] == [
        (("delivery_limit", "KeyError: sku"), ("a", "b", "d")),
        (("rejected", "ValueError: bad date"), ("c",)),
    ]
    assert groups[0].first_time == 0.0 and groups[0].last_time == 3.0


def test_replay_a_filtered_subset_at_a_rate_limit():
    """Replaying the KeyError group at 2/s sends a, b, d back to their origin, half a second apart."""
    sim = Simulation()
    dlq = _dlq()
    sent: list[tuple[float, str, str]] = []
    replayer = DLQReplayer(sim, dlq, lambda dest, m: sent.append((sim.now, dest, m.message_id)) or True)
    job = replayer.replay(lambda m: m.error.startswith("KeyError"), rate=2.0)
    report = sim.run(until=job.done)
    assert sent == [(0.0, "orders", "a"), (0.5, "orders", "b"), (1.0, "orders", "d")]
    assert report.replayed == 3 and report.remaining_in_dlq == 1 and report.replayed_ids == ("a", "b", "d")
    assert report.by_group == {("delivery_limit", "KeyError: sku"): 3}


def test_refused_replays_stay_in_the_dlq_and_limit_caps_a_run():
    """A message the destination refuses stays dead; ``limit`` replays only the first N."""
    sim = Simulation()
    dlq = _dlq()
    replayer = DLQReplayer(sim, dlq, lambda dest, m: m.message_id != "a")
    report = sim.run(until=replayer.replay(limit=2, destination="orders.retry").done)
    assert report.selected == 2 and report.replayed == 1 and report.refused == 1
    assert [m.message_id for m in dlq.messages()] == ["a", "c", "d"]


def test_cancel_stops_a_replay_midway():
    """Cancelling a job stops it; what it replayed stays replayed."""
    sim = Simulation()
    replayer = DLQReplayer(sim, _dlq(), lambda d, m: True)
    job = replayer.replay(rate=1.0)
    sim.run(until=1.5)
    job.cancel()
    report = sim.run(until=job.done)
    assert report.replayed == 2 and report.remaining_in_dlq == 2


def test_inspect_and_errors():
    """inspect returns one dead message; unknown ids, bad group fields and bad rates are refused."""
    replayer = DLQReplayer(Simulation(), _dlq(), lambda d, m: True)
    assert replayer.inspect("c").reason == "rejected"
    with pytest.raises(NoSuchDeadLetter):
        replayer.inspect("zzz")
    with pytest.raises(InvalidParameter, match="group"):
        replayer.groups(by=("colour",))
    with pytest.raises(InvalidParameter, match="rate"):
        replayer.replay(rate=0)


def test_poison_dead_lettered_by_the_broker_replays_after_the_fix():
    """End to end: a message dead-lettered after 3 failures is replayed once the handler is fixed, and handled."""
    sim = Simulation()
    dlq = InMemoryDLQ()
    broker = GenericBroker(sim, "orders", delivery_limit=3, on_dead_letter=dlq.add)
    fixed = [False]
    handled: list[str] = []

    def handler(message_id, body):
        if not fixed[0]:
            raise ValueError("unknown field 'sku2'")
        handled.append(message_id)

    StandInConsumer(sim, broker, handler)
    broker.accept("order-7", b"{}")
    sim.run()
    assert len(dlq) == 1 and dlq.messages()[0].error == "ValueError: unknown field 'sku2'"
    fixed[0] = True
    replayer = DLQReplayer(sim, dlq, lambda dest, m: broker.accept(m.message_id, m.body))
    sim.run(until=replayer.replay().done)
    sim.run()
    assert handled == ["order-7"] and len(dlq) == 0


def test_replaying_twice_is_safe_with_an_idempotent_consumer():
    """A replay run twice (the DLQ refilled from a backup) gives one effect per message with an idempotent consumer."""
    from mqlab.patterns import EffectAuditor, IdempotentConsumer

    sim = Simulation()
    broker = GenericBroker(sim, "orders")
    auditor = EffectAuditor(["a", "b", "c", "d"])
    StandInConsumer(sim, broker, IdempotentConsumer(lambda i, b: auditor.effect(i)))
    for _ in range(2):
        replayer = DLQReplayer(sim, _dlq(), lambda dest, m: broker.accept(m.message_id, m.body))
        sim.run(until=replayer.replay(rate=100).done)
    sim.run()
    assert broker.ledger().accepted == 8 and auditor.report().is_exactly_once


def test_a_publish_function_that_raises_counts_as_refused():
    """A replay publish that raises does not crash the run: the message stays dead and the error is reported."""
    sim = Simulation()

    def broken(dest, m):
        raise ConnectionError("broker unreachable")

    report = sim.run(until=DLQReplayer(sim, _dlq(), broken).replay(limit=1).done)
    assert report.refused == 1 and report.errors == (("a", "ConnectionError: broker unreachable"),)
