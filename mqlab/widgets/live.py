"""Live mode controls: play, pause, step and speed for a run paced by :class:`mqlab.sim.LiveRun`.

*Play* starts the run as a task on the kernel's event loop (``LiveRun.start``), so the cell
returns at once and the notebook stays usable while the simulation advances; every frame
redraws the figure, at most every ``redraw_interval`` wall seconds (a plotly redraw costs
more than a frame). *Pause* and *Play* again resume where it was; *Step* processes one
agenda entry (pausing first); the speed slider (virtual seconds per wall second, on a log
scale) changes pace without a jump, as ``LiveRun.speed`` re-anchors its clock.

Where there is no running event loop (a script, a test without one), *Play* says so in the
status line instead of raising; *Step* still works. Pacing only decides *when* the kernel
advances, never *what* it does: a live run ends in the same state as ``sim.run(until=...)``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from mqlab.sim import LiveRun, Simulation
from mqlab.viz.timeseries import timeseries_figure
from mqlab.widgets.base import Control

__all__ = ["LiveControls"]


def _default_figure(sim: Simulation) -> go.Figure:
    if sim.metrics.names():
        return timeseries_figure(sim, title=f"Live run at t = {sim.now:g} s")
    from mqlab.viz.palette import base_figure

    return base_figure(f"Live run at t = {sim.now:g} s (no metrics sampled yet)", "virtual time (s)")


class LiveControls(Control):
    """Play / pause / step / speed for ``sim``, drawing ``figure(sim)`` as it goes.

    States (``state``): ``ready`` (nothing run yet), ``playing``, ``paused``, ``finished``.
    ``live`` is the :class:`~mqlab.sim.LiveRun` (created on first play or step); ``task`` the
    asyncio task of a playing run.
    """

    title = "Live run"

    def __init__(
        self,
        sim: Simulation,
        *,
        until: float | None = None,
        speed: float = 1.0,
        figure: Callable[[Simulation], go.Figure] = _default_figure,
        redraw_interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.sim = sim
        self.until = until
        self.figure_of = figure
        self.redraw_interval = redraw_interval
        self._clock = clock
        self._last_redraw = -float("inf")
        self.live: LiveRun | None = None
        self.task: asyncio.Task[Any] | None = None
        self.play_button = w.Button(description="▶ play", tooltip="run paced to the wall clock")
        self.pause_button = w.Button(description="⏸ pause")
        self.step_button = w.Button(description="⏭ step", tooltip="process one agenda entry")
        self.speed = w.FloatLogSlider(value=speed, base=10, min=-2, max=3, step=0.1, description="speed ×",
                                      continuous_update=True)
        self.clock_label = w.Label()
        self.play_button.on_click(lambda _b: self.play())
        self.pause_button.on_click(lambda _b: self.pause())
        self.step_button.on_click(lambda _b: self.step())
        self.speed.observe(self._speed_changed, names="value")
        self.box = w.VBox([
            w.HBox([self.play_button, self.pause_button, self.step_button, self.speed, self.clock_label]),
            self.plot, self.status,
        ])
        self._redraw(force=True)

    @property
    def state(self) -> str:
        if self.live is None:
            return "ready"
        if self.live.finished:
            return "finished"
        if self.live.paused or self.task is None or self.task.done():
            return "paused"
        return "playing"

    def _ensure_live(self) -> LiveRun:
        if self.live is None:
            self.live = LiveRun(self.sim, speed=self.speed.value, until=self.until, on_frame=self._on_frame,
                                clock=self._clock)
        return self.live

    def play(self) -> None:
        """Start or resume the paced run on the running event loop (returns at once)."""
        live = self._ensure_live()
        if live.finished:
            self._say("the run has finished", error=False)
            return
        if self.task is not None and not self.task.done():
            live.resume()
            self._update_label()
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._say("play needs a running event loop (a Jupyter kernel has one); use step here", error=True)
            return
        live.paused = False
        self.task = live.start()
        self._say("")
        self._update_label()

    def pause(self) -> None:
        if self.live is not None:
            self.live.pause()
        self._update_label()
        self._redraw(force=True)

    def step(self, entries: int = 1) -> int:
        """Pause and process ``entries`` agenda entries now; returns how many ran."""
        live = self._ensure_live()
        live.pause()
        self._stepping = True
        try:
            ran = live.step(entries)
        finally:
            self._stepping = False
        if ran == 0:
            self._say("nothing left to run before the end of the run")
        self._redraw(force=True)
        return ran

    def _speed_changed(self, change: dict[str, Any]) -> None:
        if self.live is not None:
            self.live.speed = float(change["new"])

    _stepping = False

    def _on_frame(self, _sim: Simulation) -> None:
        if not self._stepping:  # step() redraws once itself
            self._redraw(force=self.live is not None and self.live.finished)

    def _update_label(self) -> None:
        self.clock_label.value = f"t = {self.sim.now:.3f} s · {self.state}"

    def _redraw(self, *, force: bool = False) -> None:
        now = self._clock()
        self._update_label()
        if not force and now - self._last_redraw < self.redraw_interval:
            return
        self._last_redraw = now
        try:
            fig = self.figure_of(self.sim)
        except Exception as error:  # a learner's figure function must not stop the run
            self._say(f"figure failed: {type(error).__name__}: {error}", error=True)
            return
        self._draw(fig)

    def note(self) -> str:
        return f"t = {self.sim.now:g} s, {self.state}"
