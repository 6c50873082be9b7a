"""Assignors against the examples in Kafka's own javadoc."""

from __future__ import annotations

import pytest

from mqlab.kafka import assign
from mqlab.kafka.assignors import cooperative_sticky


def test_range_assignor_javadoc_example() -> None:
    """RangeAssignor: C0 gets [t0p0, t0p1, t1p0, t1p1], C1 gets [t0p2, t1p2]."""
    result = assign("range", {"t0": 3, "t1": 3}, {"C0": ["t0", "t1"], "C1": ["t0", "t1"]})
    assert result == {"C0": [("t0", 0), ("t0", 1), ("t1", 0), ("t1", 1)], "C1": [("t0", 2), ("t1", 2)]}


def test_roundrobin_assignor_javadoc_example() -> None:
    """RoundRobinAssignor: C0 gets [t0p0, t0p2, t1p1], C1 gets [t0p1, t1p0, t1p2]."""
    result = assign("roundrobin", {"t0": 3, "t1": 3}, {"C0": ["t0", "t1"], "C1": ["t0", "t1"]})
    assert result == {"C0": [("t0", 0), ("t0", 2), ("t1", 1)], "C1": [("t0", 1), ("t1", 0), ("t1", 2)]}


def test_roundrobin_assignor_javadoc_unequal_subscriptions() -> None:
    """RoundRobinAssignor skips members not subscribed: C0 [t0p0], C1 [t1p0], C2 [t1p1, t2p0, t2p1, t2p2]."""
    result = assign("roundrobin", {"t0": 1, "t1": 2, "t2": 3},
                    {"C0": ["t0"], "C1": ["t0", "t1"], "C2": ["t0", "t1", "t2"]})
    assert result == {"C0": [("t0", 0)], "C1": [("t1", 0)],
                      "C2": [("t1", 1), ("t2", 0), ("t2", 1), ("t2", 2)]}


def test_members_beyond_partitions_are_idle() -> None:
    """With more members than partitions, the last members (in member-id order) get nothing."""
    result = assign("range", {"t": 2}, {"c": ["t"], "a": ["t"], "b": ["t"]})
    assert result == {"c": [], "a": [("t", 0)], "b": [("t", 1)]}


def test_range_favours_first_members_on_every_topic() -> None:
    """Range splits each topic separately, so the first member gets the extra partition of every topic."""
    result = assign("range", {"x": 3, "y": 3}, {"a": ["x", "y"], "b": ["x", "y"]})
    assert len(result["a"]) == 4 and len(result["b"]) == 2


def test_cooperative_sticky_keeps_owned_partitions_when_a_member_joins() -> None:
    """A new member takes partitions from the others; each old member keeps the rest of what it owned."""
    before = cooperative_sticky({"t": 6}, {"a": ["t"], "b": ["t"]})
    after = cooperative_sticky({"t": 6}, {"a": ["t"], "b": ["t"], "c": ["t"]}, before)
    assert sorted(len(v) for v in after.values()) == [2, 2, 2]
    for member in ("a", "b"):
        assert set(after[member]) <= set(before[member])


def test_unknown_strategy_is_refused() -> None:
    """An unknown strategy name is a ValueError naming the valid ones."""
    with pytest.raises(ValueError, match="roundrobin"):
        assign("sticky-ish", {"t": 1}, {"a": ["t"]})
