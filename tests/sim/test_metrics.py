"""Counters, gauges and their sampled time series."""

from __future__ import annotations

import math

import pytest

from mqlab.sim import Simulation


def test_counter_and_gauge_sampled_at_interval():
    """sample_every records every metric at each interval while the model has work."""
    sim = Simulation()
    sent = sim.metrics.counter("sent")
    depth = [0]
    sim.metrics.gauge("depth", lambda: depth[0])

    def produce():
        sent.inc()
        depth[0] += 2

    for t in range(1, 5):
        sim.call_at(t, produce)
    sim.metrics.sample_every(1.0)
    sim.run()
    series = sim.metrics.series("sent")
    assert series.times == (0.0, 1.0, 2.0, 3.0, 4.0)
    # samples at t taken after the producer ran at t (the producer was scheduled first)
    assert series.values == (0, 1, 2, 3, 4)
    assert sim.metrics.series("depth").values == (0, 2, 4, 6, 8)
    assert sim.metrics.snapshot() == {"sent": 4, "depth": 8}


def test_sampler_does_not_keep_an_idle_model_alive():
    """run() without until ends when only the sampler is left."""
    sim = Simulation()
    sim.call_at(3.5, lambda: None)
    sim.metrics.sample_every(1.0)
    sim.run()
    assert sim.now == 4.0


def test_metric_created_late_is_padded():
    """A metric created after sampling began has a value for every sample time."""
    sim = Simulation()
    sim.call_at(5, lambda: None)
    sim.metrics.sample_every(1.0)
    sim.run(until=2)
    sim.metrics.counter("late").inc(3)
    sim.metrics.gauge("late_gauge").set(1.5)
    sim.run()
    assert len(sim.metrics.series("late")) == len(sim.metrics.series("late").times)
    assert sim.metrics.series("late").values[:3] == (0.0, 0.0, 0.0)
    assert math.isnan(sim.metrics.series("late_gauge").values[0])


def test_bad_metric_use_is_refused():
    """Counters only go up, names keep their kind, intervals are positive, unknown names are named."""
    sim = Simulation()
    counter = sim.metrics.counter("c")
    with pytest.raises(ValueError, match="only goes up"):
        counter.inc(-1)
    with pytest.raises(TypeError, match="counter"):
        sim.metrics.gauge("c")
    with pytest.raises(ValueError, match="interval"):
        sim.metrics.sample_every(0)
    with pytest.raises(KeyError, match="known metrics: c"):
        sim.metrics.series("nope")
