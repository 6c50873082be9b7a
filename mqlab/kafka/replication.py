"""Replication of one partition: replicas, leader, in-sync replicas (ISR) and the high watermark.

Every partition has ``replication.factor`` replicas on distinct brokers. One replica is
the **leader**: producers write to it and consumers read from it. **Followers** copy the
leader's log by fetching, ``replication_delay`` seconds of virtual time after the data
arrives. The **ISR** is the leader plus the followers that are caught up. The **high
watermark** (HW) is the smallest log end offset in the ISR: consumers never read past it,
and ``acks=all`` is acknowledged only when the HW covers the batch.

Storage is shared: the model keeps one copy of the leader's records and, per replica, its
log end offset (LEO): a replica holds the prefix ``[0, leo)``. That is exact because Kafka
replicas are prefixes of the leader after truncation, and it keeps memory per record
independent of the replication factor.

Leader election on failure: the first live replica in ISR order becomes leader (clean).
If none is alive, the partition is *offline* unless ``unclean.leader.election.enable`` is
true, in which case the first live out-of-sync replica takes over and every record past its
LEO is lost (``unclean_leader_election``). A clean election also truncates records past the
new leader's LEO: they were above the HW, so only ``acks=0``/``acks=1`` records that had been
acknowledged are lost (``leader_failover``): the acks=1 window.

Simplifications: a broker's failure is detected at once (Kafka waits for the broker session
timeout, ``broker.session.timeout.ms``, 9 s in KRaft); followers never fall out of the ISR
for slowness (``replica.lag.time.max.ms``) while alive; preferred-leader rebalancing is not
modelled.
"""

from __future__ import annotations

__all__ = ["ReplicaState"]


class ReplicaState:
    """Who holds a partition and how far each replica got.

    Invariants: ``leader`` is ``None`` (offline) or a member of ``isr``; ``isr`` is never
    empty (the last leader stays in it while offline, as Kafka keeps it); ``hw`` never
    exceeds any ISR member's LEO.
    """

    __slots__ = ("replicas", "leader", "isr", "leo", "hw", "epoch")

    def __init__(self, replicas: list[int]) -> None:
        self.replicas = list(replicas)
        self.leader: int | None = replicas[0]
        self.isr = list(replicas)
        self.leo = dict.fromkeys(replicas, 0)
        self.hw = 0
        self.epoch = 0

    def update_hw(self) -> int:
        leo = self.leo
        self.hw = min(leo[b] for b in self.isr)
        return self.hw

    def follower_fetch(self, target: int, alive: dict[int, bool]) -> bool:
        """Live followers copy up to ``target``; caught-up ones rejoin the ISR. Returns True if the ISR grew."""
        leader = self.leader
        if leader is None:
            return False
        grew = False
        leo = self.leo
        top = leo[leader]
        if target > top:
            target = top
        for broker in self.replicas:
            if broker == leader or not alive[broker]:
                continue
            if leo[broker] < target:
                leo[broker] = target
            if leo[broker] == top and broker not in self.isr:
                self.isr.append(broker)
                grew = True
        return grew

    def lagging_followers(self, alive: dict[int, bool]) -> bool:
        leader = self.leader
        if leader is None:
            return False
        top = self.leo[leader]
        return any(b != leader and alive[b] and self.leo[b] < top for b in self.replicas)

    def remove(self, broker: int) -> None:
        """Take a failed broker out of the ISR (kept if it is the last member)."""
        if broker in self.isr and len(self.isr) > 1:
            self.isr.remove(broker)
        if self.leader == broker:
            self.leader = None

    def elect(self, alive: dict[int, bool], unclean: bool) -> tuple[int | None, bool]:
        """Choose a leader among live replicas; returns ``(leader, was_clean)``.

        Clean: the first live ISR member. Unclean (only if allowed): the live replica with
        the longest log among the others.
        """
        for broker in self.isr:
            if alive[broker]:
                self._lead(broker)
                return broker, True
        if unclean:
            candidates = [b for b in self.replicas if alive[b]]
            if candidates:
                best = max(candidates, key=lambda b: (self.leo[b], -self.replicas.index(b)))
                self.isr = [best]
                self._lead(best)
                return best, False
        return None, True

    def _lead(self, broker: int) -> None:
        self.leader = broker
        self.epoch += 1
        if broker not in self.isr:
            self.isr.insert(0, broker)

    def truncate_all(self, offset: int) -> None:
        """Every replica's log now ends at most at ``offset`` (divergent tails are discarded)."""
        for broker, end in self.leo.items():
            if end > offset:
                self.leo[broker] = offset
        if self.hw > offset:
            self.hw = offset
