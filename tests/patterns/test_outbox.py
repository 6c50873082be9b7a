"""Transactions, the outbox and its relay, the dual write it replaces, and the inbox."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqlab.faults import Connection, GenericBroker, HopFaults, Link, StandInConsumer
from mqlab.patterns import (
    AtLeastOnceProducer,
    Database,
    DualWrite,
    DuplicateKey,
    EffectAuditor,
    Inbox,
    Outbox,
    OutboxRelay,
    TransactionClosed,
)
from mqlab.sim import Simulation


def test_a_transaction_commits_all_or_nothing():
    """Writes are invisible until commit; an exception inside ``with`` rolls every write back."""
    db = Database()
    with pytest.raises(RuntimeError), db.begin() as tx:
        tx.insert("orders", 1, "row")
        assert tx.get("orders", 1) == "row" and db.get("orders", 1) is None
        raise RuntimeError("crash mid-transaction")
    assert db.count("orders") == 0 and db.rollbacks == 1
    with db.begin() as tx:
        tx.insert("orders", 1, "row")
        tx.insert("outbox", 1, "msg")
    assert db.count("orders") == db.count("outbox") == 1


def test_insert_of_an_existing_key_fails_and_closed_transactions_refuse_work():
    """A unique key cannot be inserted twice; a committed transaction cannot be written to."""
    db = Database()
    with db.begin() as tx:
        tx.insert("t", "k", 1)
    tx2 = db.begin()
    with pytest.raises(DuplicateKey, match="put"):
        tx2.insert("t", "k", 2)
    with pytest.raises(TransactionClosed, match="begin"):
        tx.put("t", "x", 1)


def test_on_commit_runs_only_after_a_commit():
    """Callbacks registered with on_commit run after commit and never after a rollback."""
    db = Database()
    ran: list[str] = []
    with db.begin() as tx:
        tx.on_commit(lambda: ran.append("committed"))
    tx = db.begin()
    tx.on_commit(lambda: ran.append("rolled back"))
    tx.rollback()
    assert ran == ["committed"]


def _pipeline(seed: int, *, loss: float, crash: float, n: int = 40):
    sim = Simulation(seed=seed)
    broker = GenericBroker(sim)
    hop = HopFaults(loss=loss)
    link = Link(sim, to_broker=hop, to_client=hop)
    db, consumer_db = Database("orders"), Database("inventory")
    outbox = Outbox(db)
    relay = OutboxRelay(sim, outbox, Connection(link, broker), confirm_timeout=0.1,
                        crash_probability=crash, restart_after=0.2, ledger=link.ledger)
    auditor = EffectAuditor(range(n))

    def reserve(tx, message_id, body):
        tx.put("stock", message_id, -1)
        tx.on_commit(lambda: auditor.effect(message_id))

    inbox = Inbox(consumer_db, reserve)
    StandInConsumer(sim, broker, inbox, service_time=0.001)
    for i in range(n):
        with db.begin() as tx:
            tx.insert("orders", i, {"qty": 1})
            outbox.add(tx, i, b"{}")
    sim.run(until=30)
    relay.stop()
    return auditor.report(), relay, inbox, outbox, broker


@given(seed=st.integers(0, 2**20))
def test_outbox_with_inbox_gives_exactly_once_effects_despite_loss_and_relay_crashes(seed):
    """Loss on the link and a relay that crashes after publishing: every effect happens exactly once."""
    report, _, _, outbox, broker = _pipeline(seed, loss=0.2, crash=0.05)
    assert report.is_exactly_once
    assert outbox.pending() == 0 and broker.ledger().balances()


def test_relay_crash_after_publish_republishes_and_the_inbox_skips_it():
    """A relay crash between publish and mark-published sends the message again; the inbox skips the repeat."""
    report, relay, inbox, _, _ = _pipeline(3, loss=0.0, crash=0.1)
    assert relay.crashes > 0 and relay.republished > 0 and inbox.skipped > 0
    assert report.is_exactly_once
    assert relay.ledger.counts().duplicated["relay-crash-after-publish"] == relay.crashes


def test_dual_write_loses_the_message_when_the_service_crashes_between_commit_and_publish():
    """Commit then publish: a crash in between leaves the order committed and its message lost for good."""
    sim = Simulation(seed=2)
    broker = GenericBroker(sim)
    db = Database()
    producer = AtLeastOnceProducer(sim, Connection(Link(sim), broker))
    writer = DualWrite(sim, db, producer, crash_probability=1.0)
    assert writer.write(lambda tx: tx.insert("orders", 1, {}), 1, b"{}") is False
    sim.run()
    assert db.count("orders") == 1 and broker.ledger().accepted == 0
    assert writer.ledger.counts().lost == {"crash-between-commit-and-publish": 1}


def test_inbox_rolls_back_the_effect_and_the_id_together():
    """If the handler raises, neither its writes nor the inbox entry commit, so a retry processes it."""
    db = Database()
    attempts: list[int] = []

    def handler(tx, message_id, body):
        tx.put("stock", message_id, -1)
        attempts.append(message_id)
        if len(attempts) == 1:
            raise RuntimeError("constraint violated")

    inbox = Inbox(db, handler)
    with pytest.raises(RuntimeError):
        inbox(7, None)
    assert db.count("stock") == 0 and db.count("inbox") == 0
    assert inbox(7, None) is True and inbox(7, None) is False
    assert db.count("stock") == 1 and inbox.skipped == 1
