"""Live mode paces virtual time to a clock without changing the order of events."""

from __future__ import annotations

import itertools

import anyio
import pytest

from mqlab.sim import LiveRun, Simulation


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def model(sim: Simulation, seen: list) -> None:
    def proc(name, gap):
        for _ in range(5):
            yield sim.timeout(gap)
            seen.append((sim.now, name))

    sim.process(proc("a", 0.7))
    sim.process(proc("b", 1.1))


def test_live_run_matches_batch_order():
    """A paced run processes the same events in the same order as a batch run."""
    batch_seen: list = []
    batch = Simulation(seed=1)
    model(batch, batch_seen)
    batch.run()

    live_seen: list = []
    sim = Simulation(seed=1)
    model(sim, live_seen)
    clock = FakeClock()
    live = LiveRun(sim, speed=2.0, clock=clock)
    frames = []
    live.on_frame = lambda s: frames.append(s.now)
    live._reanchor()
    while not live.finished:
        clock.t += 0.25
        live.advance_frame()
    assert live_seen == batch_seen
    assert frames[0] == 0.5  # 0.25 wall seconds at speed 2
    assert all(b >= a for a, b in itertools.pairwise(frames))


def test_pause_step_resume():
    """A paused run does not advance with the clock; step() advances one entry at a time."""
    seen: list = []
    sim = Simulation()
    model(sim, seen)
    clock = FakeClock()
    live = LiveRun(sim, speed=1.0, clock=clock)
    live._reanchor()
    live.pause()
    clock.t = 100
    live.step()  # the processes' first step
    live.step()
    assert len(seen) <= 1
    live.resume()
    clock.t += 1.0
    live.advance_frame()
    assert sim.now == pytest.approx(1.0, abs=0.8)


def test_async_run_finishes_with_anyio():
    """run() is a coroutine that paces with anyio and ends when the model does."""
    seen: list = []
    sim = Simulation()
    model(sim, seen)
    live = LiveRun(sim, speed=1000.0, frame_interval=0.001)
    anyio.run(live.run)
    assert live.finished and len(seen) == 10


def test_live_validates_speed():
    """Speed must be positive and finite."""
    with pytest.raises(ValueError, match="speed"):
        LiveRun(Simulation(), speed=0)
    live = LiveRun(Simulation())
    with pytest.raises(ValueError, match="speed"):
        live.speed = -1
