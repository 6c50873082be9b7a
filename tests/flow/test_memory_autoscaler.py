"""The broker memory model and the autoscaler."""

from __future__ import annotations

import pytest

from mqlab.faults import InvalidParameter
from mqlab.flow import Autoscaler, BrokerMemory


def test_alarm_blocks_publishers_at_the_watermark_and_clears_below_it():
    """Policy 'alarm': above watermark x total the alarm blocks publishes; below it, they resume."""
    memory = BrokerMemory(1000, policy="alarm", high_watermark=0.6)
    memory.add(599, now=1.0)
    assert memory.accepts_publishes()
    memory.add(1, now=2.0)
    assert not memory.accepts_publishes() and memory.alarm
    memory.remove(100, now=5.0)
    assert memory.accepts_publishes()
    stats = memory.statistics(now=6.0)
    assert stats.alarms_raised == 1 and stats.seconds_in_alarm == 3.0 and not stats.killed


def test_unbounded_broker_is_killed_when_memory_runs_out_and_its_messages_are_lost():
    """Policy 'unbounded': no alarm; reaching the total kills the node and loses what it held."""
    memory = BrokerMemory(1000, policy="unbounded")
    memory.add(900, now=1.0, messages_held=90)
    assert memory.accepts_publishes()
    memory.add(100, now=2.0, messages_held=100)
    stats = memory.statistics(now=3.0)
    assert stats.killed and stats.killed_at == 2.0 and stats.lost_messages == 100
    assert not memory.accepts_publishes()


def test_memory_parameters_are_validated():
    """Unknown policies, watermarks outside (0, 1] and non-positive totals are refused."""
    with pytest.raises(InvalidParameter, match="policy"):
        BrokerMemory(10, policy="swap")
    with pytest.raises(InvalidParameter, match="high_watermark"):
        BrokerMemory(10, high_watermark=1.5)
    with pytest.raises(InvalidParameter, match="total_bytes"):
        BrokerMemory(0)


def test_scales_out_above_the_threshold_and_respects_the_cooldown():
    """Depth above the threshold adds consumers, but not again until the cooldown has passed."""
    scaler = Autoscaler(min_consumers=1, max_consumers=4, scale_out_above=100, scale_in_below=10, cooldown=30)
    assert scaler.observe(0, 500) == 2
    assert scaler.observe(10, 500) == 2  # cooling down
    assert scaler.observe(30, 500) == 3
    assert scaler.observe(60, 500) == 4
    assert scaler.observe(90, 500) == 4  # max reached


def test_scales_back_in_after_the_cooldown_to_the_minimum():
    """Once the depth is low, consumers are removed one step per cooldown, down to the minimum."""
    scaler = Autoscaler(min_consumers=1, max_consumers=3, scale_out_above=100, scale_in_below=10, cooldown=30,
                        start_with=3)
    assert [scaler.observe(t, 0) for t in (0, 15, 30, 60, 90)] == [2, 2, 1, 1, 1]
    assert [(a.before, a.after) for a in scaler.actions] == [(3, 2), (2, 1)]


def test_consumer_seconds_integrate_the_consumers_running():
    """One consumer for 10 s, then two for 10 s: 30 consumer-seconds."""
    scaler = Autoscaler(min_consumers=1, max_consumers=2, scale_out_above=5, scale_in_below=1, cooldown=100)
    scaler.observe(10, 50)
    assert scaler.consumer_seconds(20) == 30


def test_new_consumers_work_only_after_their_startup_delay():
    """A consumer launched at t=10 with a 30 s startup takes work from t=40."""
    scaler = Autoscaler(min_consumers=1, max_consumers=2, scale_out_above=5, scale_in_below=1, startup_delay=30)
    scaler.observe(10, 50)
    assert (scaler.active(39.9), scaler.active(40)) == (1, 2)


def test_autoscaler_parameters_are_validated():
    """min > max, thresholds that would flap, and unknown metrics are refused."""
    with pytest.raises(InvalidParameter, match="max_consumers"):
        Autoscaler(min_consumers=3, max_consumers=2)
    with pytest.raises(InvalidParameter, match="flap"):
        Autoscaler(scale_out_above=10, scale_in_below=10)
    with pytest.raises(InvalidParameter, match="metric"):
        Autoscaler(metric="cpu")
