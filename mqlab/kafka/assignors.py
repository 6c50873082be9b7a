"""Partition assignors: which member of a consumer group reads which partition.

``assign(strategy, partitions_per_topic, subscriptions)`` computes the assignment the
group leader sends back in SyncGroup, with Kafka's own rules (checked against the
javadoc and source of ``RangeAssignor``, ``RoundRobinAssignor`` and
``AbstractStickyAssignor`` in apache/kafka):

* ``range``: per topic, partitions in numeric order and the members subscribed to it in
  lexicographic order; each gets ``n // m`` consecutive partitions and the first ``n % m``
  members one more. Topics are independent, so the first members are favoured on every topic.
* ``roundrobin``: all partitions of all subscribed topics, sorted by topic then partition,
  dealt one by one to the members in lexicographic order, skipping a member not subscribed
  to that partition's topic.
* ``cooperative-sticky``: balanced like roundrobin, but a member keeps the partitions it
  already owns whenever balance allows (``current`` assignment), so a rebalance moves as few
  partitions as possible. Kafka's algorithm is followed for identical subscriptions
  (keep up to the maximum quota, then fill members below the minimum, then hand out the
  rest); for differing subscriptions a simpler greedy fill is used (a simplification).

Members beyond the number of partitions get nothing: they are idle until one leaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["STRATEGIES", "assign", "cooperative_sticky", "range_assign", "roundrobin_assign"]

STRATEGIES = ("range", "roundrobin", "cooperative-sticky")

TopicPartitionT = tuple[str, int]
Assignment = dict[str, list[TopicPartitionT]]


def _check(partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]]) -> None:
    for topic, count in partitions_per_topic.items():
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"partitions_per_topic[{topic!r}] = {count!r}: a partition count is an int >= 0")
    for member, topics in subscriptions.items():
        if isinstance(topics, str):
            raise TypeError(f"subscriptions[{member!r}] must be a list of topic names, not the string {topics!r}")


def range_assign(partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]]) -> Assignment:
    """Kafka's RangeAssignor."""
    _check(partitions_per_topic, subscriptions)
    assignment: Assignment = {member: [] for member in subscriptions}
    consumers_per_topic: dict[str, list[str]] = {}
    for member, topics in subscriptions.items():
        for topic in topics:
            consumers_per_topic.setdefault(topic, []).append(member)
    for topic in sorted(consumers_per_topic):
        count = partitions_per_topic.get(topic)
        if count is None:
            continue
        members = sorted(consumers_per_topic[topic])
        per_member, extra = divmod(count, len(members))
        for i, member in enumerate(members):
            start = per_member * i + min(i, extra)
            length = per_member + (1 if i < extra else 0)
            assignment[member].extend((topic, p) for p in range(start, start + length))
    return assignment


def roundrobin_assign(partitions_per_topic: Mapping[str, int],
                      subscriptions: Mapping[str, Sequence[str]]) -> Assignment:
    """Kafka's RoundRobinAssignor."""
    _check(partitions_per_topic, subscriptions)
    assignment: Assignment = {member: [] for member in subscriptions}
    members = sorted(subscriptions)
    if not members:
        return assignment
    subscribed = {member: set(subscriptions[member]) for member in members}
    topics = sorted({t for topics in subscriptions.values() for t in topics})
    cursor = 0
    for topic in topics:
        count = partitions_per_topic.get(topic)
        if count is None:
            continue
        for p in range(count):
            while topic not in subscribed[members[cursor % len(members)]]:
                cursor += 1
            assignment[members[cursor % len(members)]].append((topic, p))
            cursor += 1
    return assignment


def cooperative_sticky(partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]],
                       current: Mapping[str, Sequence[TopicPartitionT]] | None = None) -> Assignment:
    """A balanced assignment that keeps each member's ``current`` partitions where it can."""
    _check(partitions_per_topic, subscriptions)
    current = current or {}
    members = sorted(subscriptions)
    subscribed = {m: set(subscriptions[m]) for m in members}
    all_partitions = [(t, p) for t in sorted({t for m in members for t in subscribed[m]})
                      for p in range(partitions_per_topic.get(t, 0))]
    valid = set(all_partitions)
    result: Assignment = {m: [] for m in subscriptions}
    taken: set[TopicPartitionT] = set()
    for m in members:
        for tp in sorted(current.get(m, ())):
            if tp in valid and tp not in taken and tp[0] in subscribed[m]:
                result[m].append(tp)
                taken.add(tp)
    if not members:
        return result
    identical = all(subscribed[m] == subscribed[members[0]] for m in members)
    if identical:
        total = len(all_partitions)
        low, extra = divmod(total, len(members))
        high = low + (1 if extra else 0)
        at_high = 0
        for m in members:  # keep at most the maximum quota, and only `extra` members above the minimum
            owned = result[m]
            limit = high if at_high < extra or not extra else low
            if len(owned) > limit:
                for tp in owned[limit:]:
                    taken.discard(tp)
                del owned[limit:]
            if extra and len(owned) == high and high > low:
                at_high += 1
        free = [tp for tp in all_partitions if tp not in taken]
        for m in members:  # bring everyone to the minimum
            while len(result[m]) < low and free:
                result[m].append(free.pop(0))
        for m in members:  # hand out the rest, one each, up to the number allowed above the minimum
            if not free:
                break
            if len(result[m]) < high and at_high < extra:
                result[m].append(free.pop(0))
                at_high += 1
    else:
        free = [tp for tp in all_partitions if tp not in taken]
        for tp in free:
            eligible = [m for m in members if tp[0] in subscribed[m]]
            if eligible:
                chosen = min(eligible, key=lambda m: (len(result[m]), m))
                result[chosen].append(tp)
    for m in result:
        result[m].sort()
    return result


def assign(strategy: str, partitions_per_topic: dict[str, int],
           subscriptions: dict[str, list[str]]) -> dict[str, list[tuple[str, int]]]:
    """The assignment ``strategy`` ('range', 'roundrobin' or 'cooperative-sticky') gives each member.

    ``partitions_per_topic`` maps topic -> partition count; ``subscriptions`` maps member id ->
    subscribed topics. Returns member id -> list of ``(topic, partition)``.
    """
    if strategy == "range":
        return range_assign(partitions_per_topic, subscriptions)
    if strategy == "roundrobin":
        return roundrobin_assign(partitions_per_topic, subscriptions)
    if strategy == "cooperative-sticky":
        return cooperative_sticky(partitions_per_topic, subscriptions)
    raise ValueError(f"unknown assignment strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
