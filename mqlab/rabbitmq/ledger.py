"""The message ledger: where every published message is, and the two balances that must close.

Publishes (each ``basic_publish`` that left a client, plus each extra copy a faulty
network delivered, ``duplicated``)::

    published + duplicated == in_transit + lost_in_transit + publish_errors + unroutable + returned + routed

Copies: every copy routing made (from a publish or a dead-lettering) reached its
queue, and every copy a queue was offered is somewhere::

    routed_copies + dead_letter_copies == offered
    offered == ready + unacked + acked + auto_acked + expired + refused + lost_on_restart
               + sum(dead_lettered.values()) + sum(dropped.values())

(``routed_copies`` and ``dead_letter_copies`` are counted by the router, ``offered``
by the queues, so the first equation checks the hand-over between them.)

``in_transit`` are publishes still on the network (latency); ``lost_in_transit``
publishes that arrived at a closed channel or connection (after a channel error or a
broker restart) or that a fault layer dropped; ``lost_in_transit_by`` splits them by cause
(``channel_closed``, or the name of the fault that dropped them), and always sums to
``lost_in_transit``; ``duplicated`` counts extra copies of publish frames a fault layer
delivered (``Connection.duplicate``); ``publish_errors`` publishes the broker refused with a channel error
(no such exchange, an internal exchange, a bad ``expiration``). ``unacked`` includes
deliveries still travelling to their consumer.
``auto_acked`` copies were forgotten by the broker the moment it sent them: if the
consumer crashed before handling them they are lost, and nothing else records it.
``dead_lettered`` copies left their queue for a dead-letter exchange; where they
went is counted again as ``dead_letter_copies`` (zero if the DLX routed nowhere, or
the cycle rule dropped them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mqlab.rabbitmq.errors import LedgerImbalance

__all__ = ["Ledger"]


@dataclass(frozen=True)
class Ledger:
    """A frozen snapshot of the broker's accounts; ``balances`` says whether both equations hold."""

    time: float
    published: int
    in_transit: int
    lost_in_transit: int
    publish_errors: int
    unroutable: int
    returned: int
    routed: int
    routed_copies: int
    offered: int
    dead_letter_copies: int
    ready: int
    unacked: int
    acked: int
    auto_acked: int
    expired: int
    refused: int
    lost_on_restart: int
    dead_lettered: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    duplicated: int = 0
    lost_in_transit_by: dict[str, int] = field(default_factory=dict)

    @property
    def copies_in(self) -> int:
        """Copies the router made: ``routed_copies + dead_letter_copies``."""
        return self.routed_copies + self.dead_letter_copies

    @property
    def copies_accounted(self) -> int:
        return (
            self.ready + self.unacked + self.acked + self.auto_acked + self.expired + self.refused
            + self.lost_on_restart + sum(self.dead_lettered.values()) + sum(self.dropped.values())
        )

    @property
    def publishes_accounted(self) -> int:
        return (self.in_transit + self.lost_in_transit + self.publish_errors + self.unroutable + self.returned
                + self.routed)

    def imbalances(self) -> list[str]:
        """Each equation that does not hold, in words (empty when the ledger balances)."""
        problems = []
        if self.published + self.duplicated != self.publishes_accounted:
            problems.append(
                f"publishes: published + duplicated = {self.published + self.duplicated} but in_transit + "
                f"lost_in_transit + publish_errors + unroutable + returned + routed = {self.publishes_accounted}"
            )
        if self.lost_in_transit_by and sum(self.lost_in_transit_by.values()) != self.lost_in_transit:
            problems.append(
                f"lost in transit: lost_in_transit={self.lost_in_transit} but its causes add up to "
                f"{sum(self.lost_in_transit_by.values())}"
            )
        if self.copies_in != self.offered:
            problems.append(
                f"routing: {self.copies_in} copies were routed (publishes and dead-lettering) but queues were "
                f"offered {self.offered}"
            )
        if self.offered != self.copies_accounted:
            problems.append(
                f"copies: {self.offered} copies entered queues but {self.copies_accounted} are accounted for"
            )
        return problems

    @property
    def balances(self) -> bool:
        """True when every publish and every copy is accounted for."""
        return not self.imbalances()

    def check(self) -> Ledger:
        """Return self if the ledger balances; raise :class:`LedgerImbalance` naming the equation otherwise."""
        problems = self.imbalances()
        if problems:
            raise LedgerImbalance(
                f"the RabbitMQ ledger at t={self.time:g} does not balance: " + "; ".join(problems)
            )
        return self
