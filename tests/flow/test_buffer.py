"""Bounded buffers: each overflow policy does what its name says, and the counts balance."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqlab.faults import InvalidParameter
from mqlab.flow import BoundedBuffer, BufferEmpty, BufferFull, OverflowPolicy
from mqlab.sim import Simulation


def _fill(policy: str, n: int = 5, capacity: int = 3) -> BoundedBuffer:
    buffer = BoundedBuffer(Simulation(), capacity, policy)
    for i in range(n):
        with contextlib.suppress(BufferFull):
            buffer.put_nowait(i)
    return buffer


def test_fail_refuses_when_full():
    """Policy 'fail': puts beyond the capacity raise BufferFull and are counted as refused."""
    buffer = _fill("fail")
    assert list(buffer._items) == [0, 1, 2]
    assert buffer.statistics().refused == 2


def test_drop_oldest_keeps_the_newest():
    """Policy 'drop_oldest' (RabbitMQ drop-head): the oldest items make room for new ones."""
    buffer = _fill("drop_oldest")
    assert list(buffer._items) == [2, 3, 4] and buffer.statistics().dropped_oldest == 2


def test_drop_newest_keeps_the_oldest():
    """Policy 'drop_newest': the new items are discarded, the buffer keeps what it had."""
    buffer = _fill("drop_newest")
    assert list(buffer._items) == [0, 1, 2] and buffer.statistics().dropped_newest == 2


def test_block_makes_the_producer_wait_until_there_is_room():
    """Policy 'block': a put on a full buffer waits; it completes when a get makes room."""
    sim = Simulation()
    buffer = BoundedBuffer(sim, 2, OverflowPolicy.BLOCK)
    done: list[float] = []

    def producer():
        for i in range(4):
            yield buffer.put(i)
            done.append(sim.now)

    def consumer():
        yield sim.timeout(5)
        for _ in range(4):
            yield buffer.get()
            yield sim.timeout(1)

    sim.process(producer())
    sim.process(consumer())
    sim.run()
    assert done == [0, 0, 5, 6]
    stats = buffer.statistics()
    assert stats.blocked == 2 and stats.max_depth == 2 and stats.balances()


def test_block_put_nowait_raises_and_fail_put_event_fails():
    """The non-blocking twin of a blocking put raises; under 'fail' the put event fails with BufferFull."""
    sim = Simulation()
    blocking = BoundedBuffer(sim, 1, "block")
    blocking.put_nowait(1)
    with pytest.raises(BufferFull, match="full"):
        blocking.put_nowait(2)
    failing = BoundedBuffer(sim, 1, "fail")
    failing.put_nowait(1)
    event = failing.put(2)
    event.defused = True
    assert event.ok is False and isinstance(event.value, BufferFull)


def test_get_nowait_on_empty_raises():
    """get_nowait on an empty buffer raises BufferEmpty."""
    with pytest.raises(BufferEmpty):
        BoundedBuffer(Simulation(), 1).get_nowait()


@given(ops=st.lists(st.tuples(st.booleans(), st.integers(0, 9)), max_size=60),
       policy=st.sampled_from(["fail", "drop_oldest", "drop_newest"]))
def test_depth_never_exceeds_capacity_and_counts_balance(ops, policy):
    """Any sequence of puts and gets: depth <= capacity after every step, and the ledger balances."""
    buffer = BoundedBuffer(Simulation(), 4, policy)
    for is_put, item in ops:
        if is_put:
            with contextlib.suppress(BufferFull):
                buffer.put_nowait(item)
        elif len(buffer):
            buffer.get_nowait()
        assert len(buffer) <= 4
        assert buffer.statistics().balances()


def test_unknown_policy_and_bad_capacity_are_refused():
    """A policy must be one of the four names; the capacity a whole number >= 1."""
    with pytest.raises(InvalidParameter, match="'block', 'fail', 'drop_oldest', 'drop_newest'"):
        BoundedBuffer(Simulation(), 3, "drop_random")
    with pytest.raises(InvalidParameter, match="capacity"):
        BoundedBuffer(Simulation(), 0)
