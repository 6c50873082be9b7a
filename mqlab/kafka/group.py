"""The group coordinator: membership, rebalances, generations, fencing and committed offsets.

A consumer that ``subscribe()``s joins its ``group.id``; the coordinator then runs a
**rebalance**: it waits for the members to (re)join, bumps the **generation**, has the
assignor split the subscribed partitions among the members, and hands each member its
share. Kafka's classic protocol is modelled with its group states:

* ``EMPTY``: no members (committed offsets are kept);
* ``PREPARING_REBALANCE``: a member joined, left, timed out or the topics changed; the
  coordinator waits ``group.initial.rebalance.delay.ms`` (3 s) when the group was empty, or
  one ``heartbeat.interval.ms`` otherwise (members learn of a rebalance from their next
  heartbeat), before computing the new assignment. Joins in that window fold into one rebalance;
* ``STABLE``: everyone has an assignment for the current generation.

Eager strategies (``range``, ``roundrobin``) revoke every partition from every member when a
rebalance starts (nobody consumes until it ends). ``cooperative-sticky`` revokes only the
partitions that move, in a first rebalance, and assigns them in a second one right after:
the other partitions are consumed throughout.

Fencing: a commit carrying a generation older than the group's fails with
``ILLEGAL_GENERATION``; one from a member the coordinator removed fails with
``UNKNOWN_MEMBER_ID``; a static member (``group.instance.id``) replaced by a newer instance
with the same id gets ``FENCED_INSTANCE_ID``.

Failure detection: a member that stops heartbeating (``consumer.crash()``, a simulator extra)
is removed after ``session.timeout.ms`` (45 s) or at the end of a rebalance it did not rejoin,
whichever comes first; a member that does not poll for ``max.poll.interval.ms`` (5 min) leaves
the group (librdkafka does this on the client side). A static member that closes does not
leave: its partitions wait for it until the session timeout, without a rebalance.

Simplifications: ``group.protocol=consumer`` (KIP-848) is accepted but runs the classic
protocol described here; the coordinator is not tied to a broker (coordinator failover is not
modelled); committed offsets never expire (``offsets.retention.minutes`` is not modelled);
assignors order members by member id (join order, as ids are ``client.id-0001``, ...).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from mqlab.kafka.assignors import cooperative_sticky, range_assign, roundrobin_assign
from mqlab.kafka.errors import (
    FencedInstanceId,
    IllegalGeneration,
    KafkaError,
    RebalanceInProgress,
    UnknownMemberId,
)

if TYPE_CHECKING:
    from mqlab.kafka.cluster import Cluster

__all__ = ["GroupCoordinator", "GroupState", "Member"]


class GroupState(Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"


class Member:
    """One member of a group, as the coordinator knows it."""

    __slots__ = ("member_id", "consumer", "client_id", "instance_id", "topics", "strategies", "assignment",
                 "crashed", "expiry", "heartbeat_ms", "session_ms")

    def __init__(self, member_id: str, consumer: Any, topics: list[str], strategies: tuple[str, ...],
                 instance_id: str | None) -> None:
        self.member_id = member_id
        self.consumer = consumer
        self.client_id: str = consumer.client_id
        self.instance_id = instance_id
        self.topics = list(topics)
        self.strategies = strategies
        self.assignment: list[tuple[str, int]] = []
        self.crashed = False
        self.expiry: Any = None
        self.heartbeat_ms: int = consumer.config["heartbeat.interval.ms"]
        self.session_ms: int = consumer.config["session.timeout.ms"]

    def __repr__(self) -> str:
        return f"<Member {self.member_id} {self.assignment}>"


class GroupCoordinator:
    """The coordinator of one consumer group. See the module docstring for the protocol."""

    def __init__(self, cluster: Cluster, group_id: str) -> None:
        self.cluster = cluster
        self.sim = cluster.sim
        self.group_id = group_id
        self.state = GroupState.EMPTY
        self.generation = 0
        self.protocol: str | None = None
        self.members: dict[str, Member] = {}
        self.committed: dict[tuple[str, int], tuple[int, str | None]] = {}
        self.rebalances = 0
        self._next_member = 0
        self._handle: Any = None
        self._reasons: list[str] = []

    # -- membership ---------------------------------------------------------------------
    def join(self, consumer: Any, topics: list[str], strategies: tuple[str, ...],
             instance_id: str | None = None) -> str:
        """A consumer joins (or a static member comes back); returns its member id."""
        if instance_id is not None:
            for member in self.members.values():
                if member.instance_id == instance_id:
                    old = member.consumer
                    if member.expiry is not None:
                        member.expiry.cancel()
                        member.expiry = None
                    member.crashed = False
                    member.consumer = consumer
                    if old is not consumer and not old.closed_or_crashed:
                        old.fenced_by_instance()
                    if self.sim.tracing:
                        self.sim.log(self.group_id, "static_rejoin", member=member.member_id, instance=instance_id)
                    if sorted(member.topics) != sorted(topics):
                        member.topics = list(topics)
                        self._prepare(f"member {member.member_id} changed its subscription")
                    elif self.state is GroupState.STABLE:
                        consumer.member_id = member.member_id
                        consumer.assignment_received(self, self.generation, member.member_id, list(member.assignment))
                    return member.member_id
        self._next_member += 1
        member_id = f"{consumer.client_id}-{self._next_member:04d}"
        self.members[member_id] = Member(member_id, consumer, topics, strategies, instance_id)
        if self.sim.tracing:
            self.sim.log(self.group_id, "joined", member=member_id, topics=list(topics))
        self._prepare(f"member {member_id} joined")
        return member_id

    def leave(self, member_id: str, reason: str = "left the group") -> None:
        member = self.members.pop(member_id, None)
        if member is None:
            return
        if member.expiry is not None:
            member.expiry.cancel()
        if self.sim.tracing:
            self.sim.log(self.group_id, "left", member=member_id, reason=reason)
        self._prepare(f"member {member_id} {reason}")

    def update_subscription(self, member_id: str, topics: list[str]) -> None:
        member = self._member(member_id, -1)
        if sorted(member.topics) != sorted(topics):
            member.topics = list(topics)
            self._prepare(f"member {member_id} changed its subscription")

    def member_crashed(self, member_id: str) -> None:
        """A member stopped heartbeating: it is removed after ``session.timeout.ms``."""
        member = self.members.get(member_id)
        if member is None or member.crashed:
            return
        member.crashed = True
        member.expiry = self.sim.call_later(member.session_ms / 1000.0, self._expire, member_id)

    def _expire(self, member_id: str) -> None:
        member = self.members.get(member_id)
        if member is not None and member.crashed:
            member.expiry = None
            self.leave(member_id, f"missed heartbeats for session.timeout.ms={member.session_ms}")

    def metadata_changed(self, topic: str) -> None:
        if any(topic in m.topics for m in self.members.values()):
            self._prepare(f"metadata of topic {topic!r} changed")

    # -- rebalancing ------------------------------------------------------------------------
    def _prepare(self, reason: str) -> None:
        self._reasons.append(reason)
        if self.state is GroupState.PREPARING_REBALANCE:
            return
        was_empty = self.state is GroupState.EMPTY or not any(m.assignment for m in self.members.values())
        self.state = GroupState.PREPARING_REBALANCE
        if was_empty:
            delay = self.cluster.group_initial_rebalance_delay_ms / 1000.0
        else:
            delay = max((m.heartbeat_ms for m in self.members.values()), default=3000) / 1000.0
        if self.sim.tracing:
            self.sim.log(self.group_id, "rebalance_started", generation=self.generation, reason=reason)
        for member in list(self.members.values()):
            if not member.crashed:
                member.consumer.rebalance_started(self, self._eager(member))
        self._handle = self.sim.call_later(delay, self._complete)

    def _eager(self, member: Member) -> bool:
        return "cooperative-sticky" not in member.strategies

    def _choose_protocol(self) -> str | None:
        members = list(self.members.values())
        if not members:
            return None
        for strategy in members[0].strategies:
            if all(strategy in m.strategies for m in members):
                return strategy
        return members[0].strategies[0]

    def _complete(self) -> None:
        self._handle = None
        for member_id in [m.member_id for m in self.members.values() if m.crashed]:
            member = self.members.pop(member_id)
            if member.expiry is not None:
                member.expiry.cancel()
            if self.sim.tracing:
                self.sim.log(self.group_id, "left", member=member_id, reason="did not rejoin the rebalance")
        self.generation += 1
        self.rebalances += 1
        reasons, self._reasons = self._reasons, []
        if not self.members:
            self.state = GroupState.EMPTY
            self.protocol = None
            return
        self.protocol = protocol = self._choose_protocol()
        counts = {}
        for member in self.members.values():
            for topic in member.topics:
                if topic in self.cluster.topics:
                    counts[topic] = len(self.cluster.topics[topic].partitions)
        subscriptions = {m.member_id: m.topics for m in self.members.values()}
        follow_up = False
        if protocol == "cooperative-sticky":
            current = {m.member_id: m.assignment for m in self.members.values()}
            target = cooperative_sticky(counts, subscriptions, current)
            owner = {tp: m.member_id for m in self.members.values() for tp in m.assignment}
            result = {}
            for member_id, tps in target.items():
                keep = [tp for tp in tps if owner.get(tp, member_id) == member_id]
                follow_up = follow_up or len(keep) < len(tps)
                result[member_id] = keep
        elif protocol == "roundrobin":
            result = roundrobin_assign(counts, subscriptions)
        else:
            result = range_assign(counts, subscriptions)
        self.state = GroupState.STABLE
        generation = self.generation
        if self.sim.tracing:
            self.sim.log(self.group_id, "rebalanced", generation=generation, protocol=protocol,
                         assignment={m: list(tps) for m, tps in result.items()}, reasons=reasons)
        for member in list(self.members.values()):
            member.assignment = list(result.get(member.member_id, []))
            member.consumer.assignment_received(self, generation, member.member_id, list(member.assignment))
        if follow_up:
            self._prepare("cooperative follow-up: assign the partitions just revoked")

    # -- offsets ----------------------------------------------------------------------------------
    def _member(self, member_id: str | None, generation: int) -> Member:
        member = self.members.get(member_id) if member_id is not None else None
        if member is None:
            raise UnknownMemberId(KafkaError(
                "UNKNOWN_MEMBER_ID",
                f"group {self.group_id!r}: member {member_id} is not in the group (it was removed after a "
                f"session timeout, max.poll.interval.ms, or it left); its partitions belong to others now: "
                f"poll() to rejoin, and make processing idempotent because they will re-read from the "
                f"last committed offset",
            ))
        return member

    def commit_offsets(self, offsets: dict[tuple[str, int], Any], member_id: str | None, generation: int,
                       transactional: bool = False, consumer: Any = None) -> None:
        """Store committed offsets, after Kafka's fencing checks (skipped for transactional commits)."""
        if not transactional:
            if member_id is None or generation < 0:
                if self.members:
                    raise UnknownMemberId(KafkaError(
                        "UNKNOWN_MEMBER_ID",
                        f"group {self.group_id!r} has active members, so a commit from a consumer outside "
                        f"the group (assign() without subscribe()) is refused; use a different group.id",
                    ))
            else:
                member = self._member(member_id, generation)
                if member.consumer.fenced or (consumer is not None and member.consumer is not consumer):
                    raise FencedInstanceId(KafkaError(
                        "FENCED_INSTANCE_ID",
                        f"group {self.group_id!r}: another consumer joined with group.instance.id "
                        f"{member.instance_id!r}; this instance is fenced: close it",
                    ))
                if generation != self.generation:
                    raise IllegalGeneration(KafkaError(
                        "ILLEGAL_GENERATION",
                        f"group {self.group_id!r}: commit from generation {generation} but the group is at "
                        f"generation {self.generation}: a rebalance happened and these partitions may now be "
                        f"someone else's; poll() to get the new assignment, then commit what you process",
                    ))
                if self.state is GroupState.COMPLETING_REBALANCE:
                    raise RebalanceInProgress(KafkaError(
                        "REBALANCE_IN_PROGRESS",
                        f"group {self.group_id!r} is rebalancing; commit again after the new assignment",
                    ))
        for tp, value in offsets.items():
            offset, metadata = value if isinstance(value, tuple) else (value, None)
            self.committed[tp] = (offset, metadata)
            if self.sim.tracing:
                self.sim.log(self.group_id, "committed", topic=tp[0], partition=tp[1], offset=offset,
                             member=member_id, generation=generation)

    def committed_offset(self, topic: str, partition: int) -> int | None:
        entry = self.committed.get((topic, partition))
        return None if entry is None else entry[0]

    def assignment_of(self, member_id: str) -> list[tuple[str, int]]:
        member = self.members.get(member_id)
        return [] if member is None else list(member.assignment)

    def __repr__(self) -> str:
        return f"<Group {self.group_id!r} {self.state.value} generation={self.generation} members={len(self.members)}>"
