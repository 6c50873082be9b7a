"""Live mode: virtual time paced to the wall clock, for animations in a notebook.

A :class:`LiveRun` advances a simulation in frames. At each frame it works out
how much virtual time should have passed (wall time elapsed x ``speed``), runs
the simulation up to that instant, calls ``on_frame`` so a widget can redraw,
and sleeps (with anyio) so the notebook stays responsive.

Pacing only decides *when* the kernel is asked to advance, never *what* it does:
the simulation processes the same entries in the same order as a batch
``sim.run()``. This is the only place in mqlab that reads the wall clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from mqlab.sim.kernel import Simulation

__all__ = ["LiveRun"]


class LiveRun:
    """Drive ``sim`` in real time at ``speed`` virtual seconds per wall second.

    States: *ready* (created), *running*, *paused*, *finished*. ``pause()`` and
    ``resume()`` switch between running and paused; ``step()`` processes single
    entries while paused; ``stop()`` finishes early.
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        speed: float = 1.0,
        until: float | None = None,
        frame_interval: float = 1 / 30,
        max_events_per_frame: int = 50_000,
        on_frame: Callable[[Simulation], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sim = sim
        self._check_speed(speed)
        if not frame_interval > 0:
            raise ValueError(f"frame_interval must be a positive number of seconds, got {frame_interval!r}")
        if until is not None and not until >= sim.now:
            raise ValueError(f"until={until!r} is before the clock (t={sim.now!r})")
        self._speed = speed
        self.until = until
        self.frame_interval = frame_interval
        self.max_events_per_frame = max_events_per_frame
        self.on_frame = on_frame
        self._clock = clock
        self.paused = False
        self.finished = False
        self.frames = 0
        self._anchor_wall = 0.0
        self._anchor_virtual = sim.now

    @staticmethod
    def _check_speed(speed: float) -> None:
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError(f"speed must be a positive number of virtual seconds per wall second, got {speed!r}")

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._check_speed(value)
        self._reanchor()
        self._speed = value

    def _reanchor(self) -> None:
        self._anchor_wall = self._clock()
        self._anchor_virtual = self.sim.now

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._reanchor()

    def stop(self) -> None:
        self.finished = True

    def step(self, entries: int = 1) -> int:
        """Process up to ``entries`` agenda entries now (meant for a paused run). Returns how many ran."""
        ran = 0
        while ran < entries and self._next_time() <= self._limit():
            self.sim.step()
            ran += 1
        self._emit()
        return ran

    def _limit(self) -> float:
        return math.inf if self.until is None else self.until

    def _next_time(self) -> float:
        return self.sim.peek()

    def _emit(self) -> None:
        self.frames += 1
        if self.on_frame is not None:
            self.on_frame(self.sim)

    def advance_frame(self) -> None:
        """Run the simulation up to where the wall clock says it should be."""
        target = self._anchor_virtual + (self._clock() - self._anchor_wall) * self._speed
        target = min(target, self._limit())
        ran = 0
        sim = self.sim
        while ran < self.max_events_per_frame and sim.peek() <= target:
            sim.step()
            ran += 1
        if ran >= self.max_events_per_frame and sim.peek() <= target:
            self._reanchor()  # the model is slower than real time at this speed: let the clock slip
        elif target > sim.now:
            sim.run(until=target)  # nothing left before target: move the clock to it
        if sim.now >= self._limit() or (self.until is None and sim.peek() == math.inf):
            self.finished = True
        self._emit()

    async def run(self) -> None:
        """Run to the end (``until`` or an empty agenda), pacing with anyio sleeps."""
        import anyio

        self._reanchor()
        while not self.finished:
            if self.paused:
                await anyio.sleep(self.frame_interval)
                continue
            self.advance_frame()
            await anyio.sleep(self.frame_interval)

    def start(self) -> Any:
        """Start :meth:`run` as a task on the running event loop (a Jupyter kernel's) and return it."""
        import asyncio

        loop = asyncio.get_running_loop()
        return loop.create_task(self.run())
