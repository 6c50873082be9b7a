"""Live mode controls, driven headless with a fake wall clock."""

from __future__ import annotations

import asyncio
import itertools

from mqlab.sim import Simulation
from mqlab.widgets import LiveControls


def _ticking(ticks: int = 10) -> Simulation:
    sim = Simulation(seed=1)
    count = sim.metrics.counter("ticks")

    def ticker():
        for _ in range(ticks):
            yield sim.timeout(1.0)
            count.inc()

    sim.process(ticker())
    sim.metrics.sample_every(1.0)
    return sim


def _fake_clock(step: float = 0.25):
    counter = itertools.count()
    return lambda: next(counter) * step


def test_step_processes_one_entry_and_redraws():
    """Step pauses the run, processes one agenda entry and redraws the figure."""
    sim = _ticking()
    controls = LiveControls(sim, until=10)
    assert controls.state == "ready"
    first = controls.figure
    assert controls.step() == 1
    assert controls.state == "paused"
    assert controls.figure is not first
    controls.step_button.click()
    assert controls.live.frames == 2
    assert controls.renders == 3  # the first draw, then one redraw per step


def test_play_without_an_event_loop_says_so():
    """Outside an event loop play cannot pace anything: the status explains and nothing raises."""
    controls = LiveControls(_ticking(), until=5)
    controls.play_button.click()
    assert "running event loop" in controls.status.value
    assert controls.task is None


def test_play_pause_resume_runs_to_the_same_end_as_a_batch_run():
    """Play advances on the loop without blocking, pause freezes virtual time, play resumes, and the
    run ends in the same state as sim.run(until=10)."""
    sim = _ticking()
    controls = LiveControls(sim, until=10, speed=4.0, clock=_fake_clock(), redraw_interval=0.0)

    async def session() -> None:
        controls.play()
        assert controls.state == "playing"
        await asyncio.sleep(0.05)
        controls.pause()
        frozen = sim.now
        assert 0 < frozen < 10
        await asyncio.sleep(0.05)
        assert sim.now == frozen and controls.state == "paused"
        controls.play()
        for _ in range(200):
            if controls.state == "finished":
                break
            await asyncio.sleep(0.01)
        await controls.task

    asyncio.run(session())
    batch = _ticking()
    batch.run(until=10)
    assert controls.state == "finished"
    assert sim.now == 10
    assert sim.metrics.series("ticks") == batch.metrics.series("ticks")
    assert list(controls.figure.data[0].y) == list(batch.metrics.series("ticks").values)
    assert "finished" in controls.clock_label.value


def test_speed_slider_changes_the_pace_of_the_live_run():
    """Moving the speed slider sets LiveRun.speed (virtual seconds per wall second)."""
    controls = LiveControls(_ticking(), until=10)
    controls.step()
    controls.speed.value = 10.0
    assert controls.live.speed == 10.0


def test_a_failing_figure_function_does_not_stop_the_run():
    """A learner's figure function that raises is reported in the status; stepping still works."""

    def broken(sim):
        raise RuntimeError("oops")

    controls = LiveControls(_ticking(), until=3, figure=broken)
    assert "figure failed: RuntimeError: oops" in controls.status.value
    assert controls.step() == 1
