"""The lossy-network sweep: what each delivery guarantee does to the *effects*.

For each loss rate, ``messages`` messages go from a producer to a consumer
through a generic broker. The producer's link loses messages and confirms
alike with probability ``loss_rate`` (each direction). The consumer's link is
reliable, so every difference comes from the producing side. Strategies:

* ``at_most_once``: fire and forget. Lost messages are lost effects; nothing is
  ever duplicated.
* ``at_least_once``: retry until confirmed. Nothing is lost; every lost confirm
  makes a duplicate effect.
* ``at_least_once_idempotent``: the same, and the consumer skips ids it has
  processed: zero lost, zero duplicated, exactly-once effects.
* ``outbox``: the service writes the order and its message in one local
  transaction; a relay publishes with confirms and retries, and crashes after
  publishing with probability ``relay_crash_rate``; the consumer writes its
  effect and the message id in one transaction (an inbox): exactly-once effects.
* ``dual_write``: commit, then publish; the service dies between the two with
  probability ``relay_crash_rate`` and those messages are lost for good.

Every run is checked against the broker's ledger and the fault ledger; the
result holds, per strategy, one point per loss rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mqlab.faults.adapter import Connection
from mqlab.faults.checks import check_count, check_duration, check_probability
from mqlab.faults.errors import InvalidParameter
from mqlab.faults.link import HopFaults, Link
from mqlab.faults.standin import GenericBroker, StandInConsumer
from mqlab.patterns.audit import EffectAuditor
from mqlab.patterns.backoff import RetryPolicy
from mqlab.patterns.idempotent import IdempotentConsumer
from mqlab.patterns.outbox import Database, DualWrite, Inbox, Outbox, OutboxRelay
from mqlab.patterns.producers import AtLeastOnceProducer, AtMostOnceProducer
from mqlab.scenarios._running import ProgressBar
from mqlab.sim import Simulation

__all__ = ["STRATEGIES", "GuaranteePoint", "GuaranteesSweep", "guarantees_sweep", "run_guarantee"]

STRATEGIES = ("at_most_once", "at_least_once", "at_least_once_idempotent", "outbox", "dual_write")
DEFAULT_STRATEGIES = STRATEGIES[:4]


@dataclass(frozen=True)
class GuaranteePoint:
    """One strategy at one loss rate: effects, and what the network and the broker saw."""

    strategy: str
    loss_rate: float
    messages: int
    exactly_once: int
    lost: int
    duplicated: int
    extra_effects: int
    publishes: int
    broker_accepted: int
    lost_by_faults: int
    unsettled: int
    broker_balances: bool


@dataclass(frozen=True)
class GuaranteesSweep:
    loss_rates: tuple[float, ...]
    strategies: tuple[str, ...]
    points: tuple[GuaranteePoint, ...]
    interrupted: bool

    def series(self, strategy: str, field: str) -> tuple[float, ...]:
        """One value per loss rate, e.g. ``series("at_least_once", "duplicated")``, ready to plot."""
        if strategy not in self.strategies:
            raise KeyError(f"no strategy {strategy!r} in this sweep; strategies: {list(self.strategies)}")
        return tuple(getattr(p, field) for p in self.points if p.strategy == strategy)


def guarantees_sweep(
    loss_rates: Sequence[float] = (0.0, 0.05, 0.1, 0.2, 0.3),
    *,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    messages: int = 200,
    relay_crash_rate: float = 0.02,
    seed: int = 0,
    progress: bool = False,
) -> GuaranteesSweep:
    """Run every strategy at every loss rate; see the module docstring."""
    rates = tuple(check_probability("each loss rate", r) for r in loss_rates)
    if not rates:
        raise InvalidParameter("loss_rates must name at least one loss rate, for example (0.0, 0.1, 0.2)")
    for rate in rates:
        if rate >= 1.0:
            raise InvalidParameter("a loss rate of 1 loses every confirm: retries would never end; use < 1")
    chosen = tuple(strategies)
    for strategy in chosen:
        if strategy not in STRATEGIES:
            raise InvalidParameter(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    bar = ProgressBar(len(rates) * len(chosen), enabled=progress, desc="guarantees sweep", unit="run")
    points: list[GuaranteePoint] = []
    interrupted = False
    try:
        for strategy in chosen:
            for rate in rates:
                points.append(run_guarantee(strategy, rate, messages=messages,
                                            relay_crash_rate=relay_crash_rate, seed=seed))
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    return GuaranteesSweep(rates, chosen, tuple(points), interrupted)


def run_guarantee(
    strategy: str,
    loss_rate: float,
    *,
    messages: int = 200,
    relay_crash_rate: float = 0.02,
    send_interval: float = 0.001,
    settle: float = 30.0,
    seed: int = 0,
) -> GuaranteePoint:
    """One strategy at one loss rate (one point of the sweep)."""
    if strategy not in STRATEGIES:
        raise InvalidParameter(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    check_probability("loss_rate", loss_rate)
    check_count("messages", messages, minimum=1)
    check_probability("relay_crash_rate", relay_crash_rate)
    check_duration("send_interval", send_interval)
    check_duration("settle", settle, allow_zero=False)
    sim = Simulation(seed=seed)
    broker = GenericBroker(sim)
    hop = HopFaults(loss=loss_rate, latency=0.005)
    link = Link(sim, "link", to_broker=hop, to_client=hop)
    producer_side = Connection(link, broker)
    ids = [f"m{i}" for i in range(messages)]
    auditor = EffectAuditor(ids)
    retry = RetryPolicy(base=0.05, cap=1.0, jitter="full")

    def effect(message_id: Any, body: Any) -> None:
        auditor.effect(message_id)

    handler: Any = effect
    unsettled: Any = lambda: 0  # noqa: E731
    publishes: Any
    if strategy in ("outbox", "dual_write"):
        db = Database("orders-db")

        def inbox_effect(tx: Any, message_id: Any, body: Any) -> None:
            tx.put("stock", message_id, -1)
            tx.on_commit(lambda: auditor.effect(message_id))

        consumer_db = Database("inventory-db")
        handler = Inbox(consumer_db, inbox_effect)
        if strategy == "outbox":
            outbox = Outbox(db)
            relay = OutboxRelay(sim, outbox, producer_side, confirm_timeout=0.2,
                                crash_probability=relay_crash_rate, restart_after=0.1, ledger=link.ledger)

            def place(index: int) -> None:
                with db.begin() as tx:
                    tx.insert("orders", ids[index], {"qty": 1})
                    outbox.add(tx, ids[index], b"{}")

            unsettled = outbox.pending
            publishes = lambda: relay.published  # noqa: E731
        else:
            producer = AtLeastOnceProducer(sim, producer_side, timeout=0.2, retry=retry)
            writer = DualWrite(sim, db, producer, crash_probability=relay_crash_rate, ledger=link.ledger)

            def place(index: int) -> None:
                writer.write(lambda tx: tx.insert("orders", ids[index], {"qty": 1}), ids[index], b"{}")

            unsettled = lambda: producer.pending  # noqa: E731
            publishes = lambda: producer.attempts  # noqa: E731
    else:
        if strategy == "at_most_once":
            simple: Any = AtMostOnceProducer(sim, producer_side)
        else:
            simple = AtLeastOnceProducer(sim, producer_side, timeout=0.2, retry=retry)
            unsettled = lambda: simple.pending  # noqa: E731
        if strategy == "at_least_once_idempotent":
            handler = IdempotentConsumer(effect)

        def place(index: int) -> None:
            simple.send(ids[index], b"{}")

        publishes = lambda: simple.statistics().attempts  # noqa: E731

    StandInConsumer(sim, broker, handler, service_time=0.0005)
    for index in range(messages):
        sim.call_at(index * send_interval, place, index)
    sim.run(until=messages * send_interval + settle)
    report = auditor.report()
    ledger = broker.ledger()
    return GuaranteePoint(
        strategy=strategy,
        loss_rate=loss_rate,
        messages=messages,
        exactly_once=report.exactly_once,
        lost=report.lost,
        duplicated=report.duplicated,
        extra_effects=report.extra_effects,
        publishes=publishes(),
        broker_accepted=ledger.accepted,
        lost_by_faults=link.ledger.counts().total_lost,
        unsettled=unsettled(),
        broker_balances=ledger.balances(),
    )
