"""The time-travel scrubber: a slider over the instants of a run, showing the state at each one.

The slider moves over the *distinct times at which something happened* (not a fixed grid),
so every position shows a change and none is empty. Each position shows the snapshot
rebuilt from the trace (:func:`mqlab.viz.state.state_at`): levels per actor (depths,
offsets, lag), messages in flight, and the records that just happened. ◀ and ▶ step one
instant; :meth:`TimeScrubber.seek` jumps to a virtual time.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import ipywidgets as w
import plotly.graph_objects as go

from mqlab.sim import Simulation, Trace, TraceRecord
from mqlab.viz.state import Snapshot, TraceTimeline, snapshot_figure
from mqlab.widgets.base import Control, records_of

__all__ = ["TimeScrubber"]


class TimeScrubber(Control):
    """Scrub through a traced run. ``snapshot`` is the state shown now; ``position`` its instant's index."""

    title = "Time-travel scrubber"

    def __init__(self, trace: Simulation | Trace | Iterable[TraceRecord] | None, *, recent: int = 8) -> None:
        super().__init__()
        self.timeline = TraceTimeline(records_of(trace))
        self.recent = recent
        last = max(0, len(self.timeline) - 1)
        self.slider = w.IntSlider(value=last, min=0, max=last, description="instant", continuous_update=True,
                                  readout=False, layout=w.Layout(width="420px"))
        self.clock = w.Label()
        self.back = w.Button(description="◀", layout=w.Layout(width="40px"), tooltip="previous instant")
        self.forward = w.Button(description="▶", layout=w.Layout(width="40px"), tooltip="next instant")
        self.log = w.HTML()
        self.back.on_click(lambda _b: self._nudge(-1))
        self.forward.on_click(lambda _b: self._nudge(+1))
        self.slider.observe(lambda _change: self.refresh(), names="value")
        self.snapshot: Snapshot = self.timeline.snapshot(last, recent=recent)
        self.box = w.VBox([w.HBox([self.back, self.slider, self.forward, self.clock]), self.plot, self.log,
                           self.status])
        if not self.timeline.records:
            self._say("the trace is empty: create the Simulation with trace=True and run it first", error=True)
        self.refresh()

    @property
    def position(self) -> int:
        return int(self.slider.value)

    def _nudge(self, step: int) -> None:
        self.slider.value = max(self.slider.min, min(self.slider.max, self.slider.value + step))

    def seek(self, time: float) -> Snapshot:
        """Show the state at virtual time ``time`` (the last instant at or before it)."""
        self.slider.value = self.timeline.position_of(time)
        return self.snapshot

    def refresh(self) -> go.Figure:
        self.snapshot = self.timeline.snapshot(self.position, recent=self.recent)
        self.clock.value = f"t = {self.snapshot.time:g} s ({self.position + 1} of {len(self.timeline)})"
        counts = "".join(
            f"<tr><td>{html.escape(actor)}</td><td>{html.escape(_tally(tally))}</td></tr>"
            for actor, tally in self.snapshot.counts.items()
        )
        self.log.value = ("<b>so far</b><table>" + counts + "</table><b>just happened</b><pre>"
                          + html.escape("\n".join(str(r) for r in self.snapshot.recent)) + "</pre>")
        fig = snapshot_figure(self.snapshot)
        self._draw(fig)
        return fig

    def note(self) -> str:
        flying = sum(len(ids) for ids in self.snapshot.in_flight.values())
        return (f"state at t = {self.snapshot.time:g} s after {self.snapshot.index} trace records, "
                f"{flying} message(s) in flight")



def _tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{action} {n}" for action, n in counts.items())
