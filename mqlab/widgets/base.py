"""What every control shares: a figure area, a debounced redraw, and graceful degradation.

Display strategy
----------------
A control is not itself an ipywidget: it *owns* one (``control.box``) and implements
``_repr_mimebundle_``. Leaving a control as the last expression of a cell (or calling
``control.display()``) emits one bundle with three representations:

* ``application/vnd.jupyter.widget-view+json``: the live widget. JupyterLab's widget
  manager registers this mimetype with rank -10, ahead of every other renderer, so where
  ipywidgets is running the learner gets the controls;
* ``application/vnd.plotly.v1+json``: a static figure of the control's current state,
  drawn where no widget manager is present (a notebook opened without its kernel, a
  papermill or nbconvert output, a notebook viewer);
* ``text/plain``: a short deterministic note ("Routing playground: ... (static view;
  interactive in JupyterLab)"), which is what nbval compares.

Outside a kernel (plain Python, pytest) the widget-view entry is left out, because there is
no frontend that could ever show it; ``MQLAB_STATIC=1`` in the environment does the same in a
kernel (for nbval runs that should not create widget views at all). Nothing here raises
because a frontend is missing.

Figures inside the widget are plain ``go.Figure`` payloads written into an
``ipywidgets.Output``'s ``outputs`` (the mimetype renderer's bundle), not ``go.FigureWidget``:
a FigureWidget needs anywidget and stores the whole plotly.js bundle (about 5 MB) in the
notebook's widget state, while an Output keeps only the figure's JSON (kilobytes). Setting
``outputs`` directly also works without a kernel, so tests can drive controls headless.

Redraws are debounced (:class:`Debouncer`): a burst of slider moves re-runs once, ``delay``
seconds after the last move, on the kernel's event loop. Without a running loop (tests,
scripts) the redraw happens at once.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from mqlab.sim import TraceRecord
from mqlab.viz.palette import PLOTLY_MIMETYPE, figure_bundle

__all__ = ["WIDGET_VIEW_MIMETYPE", "Control", "Debouncer", "frontend_possible", "records_of", "show_figure"]

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"


def frontend_possible(widget: w.Widget) -> bool:
    """True if a widget frontend could show ``widget``: inside a kernel, and not forced static."""
    if os.environ.get("MQLAB_STATIC", "") not in ("", "0"):
        return False
    comm = getattr(widget, "comm", None)
    return comm is not None and type(comm).__name__ != "DummyComm"


def records_of(source: Any) -> list[TraceRecord]:
    """The trace records of a Simulation, a Trace or an iterable of records; ``[]`` for an untraced run (None)."""
    if source is None:
        return []
    if hasattr(source, "tracing") and hasattr(source, "trace"):  # a Simulation
        source = source.trace
        if source is None:
            return []
    return list(source)


def show_figure(output: w.Output, fig: go.Figure) -> None:
    """Replace what ``output`` shows with ``fig`` (as the plotly mimetype bundle)."""
    output.outputs = (
        {
            "output_type": "display_data",
            "data": {PLOTLY_MIMETYPE: figure_bundle(fig), "text/plain": f"<figure: {fig.layout.title.text}>"},
            "metadata": {},
        },
    )


class Debouncer:
    """Call ``action`` once, ``delay`` seconds after the last :meth:`trigger` (at once without an event loop).

    ``pending`` says whether a call is scheduled; :meth:`flush` runs it now.
    """

    def __init__(self, action: Callable[[], Any], delay: float = 0.08) -> None:
        if not delay >= 0:
            raise ValueError(f"debounce delay must be a number of seconds >= 0, got {delay!r}")
        self.action = action
        self.delay = delay
        self._handle: asyncio.TimerHandle | None = None

    @property
    def pending(self) -> bool:
        return self._handle is not None

    def trigger(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        loop = _running_loop()
        if self.delay == 0 or loop is None:
            self.action()
            return
        self._handle = loop.call_later(self.delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self.action()

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._fire()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Control:
    """Base of the course's controls: ``box`` (the ipywidgets tree, built by the subclass), ``plot`` (its figure area),
    ``figure`` (the figure shown now) and ``status`` (a line of text for messages and errors).

    Subclasses build their widgets, call :meth:`_draw` with a new figure, and describe
    themselves in :meth:`note`.
    """

    title = "control"

    def __init__(self) -> None:
        self.plot = w.Output(layout=w.Layout(min_height="300px"))
        self.status = w.HTML(value="")
        self.figure: go.Figure | None = None
        self.box: w.Box | None = None  # set by the subclass once its controls exist
        self.renders = 0

    def _draw(self, fig: go.Figure) -> None:
        self.figure = fig
        self.renders += 1
        show_figure(self.plot, fig)

    def _say(self, text: str, *, error: bool = False) -> None:
        import html

        colour = "#D55E00" if error else "#444444"
        self.status.value = f'<span style="color:{colour}">{html.escape(text)}</span>' if text else ""

    def note(self) -> str:
        """One deterministic line saying what the static view shows."""
        return ""

    def static_figure(self) -> go.Figure | None:
        return self.figure

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {
            "text/plain": f"{self.title}: {self.note()} (static view; interactive in JupyterLab)".replace(": (", " (")
        }
        fig = self.static_figure()
        if fig is not None:
            bundle[PLOTLY_MIMETYPE] = figure_bundle(fig)
        if self.box is not None and frontend_possible(self.box):
            view = self.box._repr_mimebundle_().get(WIDGET_VIEW_MIMETYPE)
            if view is not None:
                bundle[WIDGET_VIEW_MIMETYPE] = view
        return bundle

    def display(self) -> None:
        """Show the control in the notebook (the same bundle as leaving it as a cell's value)."""
        from IPython.display import display

        display(self)
