"""The message inspector: pick a message id, see its journey and its headers.

The dropdown lists every message id the trace names (in order of first appearance, under
the keys of :data:`mqlab.viz.journey.MESSAGE_KEYS`). Picking one draws its journey
(:func:`mqlab.viz.journey_figure`) and a table of its headers and properties: the details of
its first record (RabbitMQ's ``published``: exchange, routing key, size, persistent), then
whatever the trace records under :data:`HEADER_KEYS` (``headers``, ``properties``,
``attributes`` ...; later records override earlier ones, so an ``x-death`` added on
dead-lettering shows), merged with the ``headers`` mapping given to the inspector for models
whose trace does not carry them.
"""

from __future__ import annotations

import html
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from mqlab.sim import Simulation, Trace, TraceRecord
from mqlab.viz.journey import MESSAGE_KEYS, JourneyStep, journey_figure, journey_from_trace, message_ids
from mqlab.widgets.base import Control, records_of

__all__ = ["HEADER_KEYS", "MessageInspector", "message_headers"]

HEADER_KEYS: tuple[str, ...] = ("headers", "properties", "attributes", "message_attributes", "x_death", "x-death")
"""Detail keys whose values describe the message itself (a mapping is merged, anything else shown as is)."""


def message_headers(records: Iterable[TraceRecord], message_id: Hashable,
                    keys: tuple[str, ...] = MESSAGE_KEYS) -> dict[str, Any]:
    """What the trace records about ``message_id`` itself: the details of its first record (exchange,
    routing key, size ... of the publish), then every header mapping, later records overriding earlier ones."""
    found: dict[str, Any] = {}
    first = True
    for record in records:
        if not any(record.details.get(k) == message_id for k in keys):
            continue
        if first:  # the first record (a publish, a send) carries the message's properties
            first = False
            found.update({k: v for k, v in record.details.items()
                          if k not in keys and k not in HEADER_KEYS and v is not None})
        for key in HEADER_KEYS:
            value = record.details.get(key)
            if isinstance(value, Mapping):
                found.update(value)
            elif value is not None:
                found[key] = value
    return found


class MessageInspector(Control):
    """Pick a message id (``message``) and see ``steps`` (its journey) and ``headers``."""

    title = "Message inspector"

    def __init__(self, trace: Simulation | Trace | Iterable[TraceRecord] | None, *, message: Hashable | None = None,
                 headers: Mapping[Hashable, Mapping[str, Any]] | None = None) -> None:
        super().__init__()
        self.records = records_of(trace)
        self.extra_headers = headers or {}
        ids = message_ids(self.records)
        options = [(str(i), i) for i in ids]
        self.picker = w.Dropdown(options=options, value=message if message is not None else (ids[0] if ids else None),
                                 description="message")
        self.table = w.HTML()
        self.steps: list[JourneyStep] = []
        self.headers: dict[str, Any] = {}
        self.picker.observe(lambda _change: self.refresh(), names="value")
        self.box = w.VBox([self.picker, self.plot, self.table, self.status])
        if not ids:
            self._say("no message ids in this trace: create the Simulation with trace=True and run it first",
                      error=True)
        else:
            self.refresh()

    @property
    def message(self) -> Hashable | None:
        return self.picker.value  # type: ignore[no-any-return]

    def refresh(self) -> go.Figure | None:
        message = self.message
        if message is None:
            return None
        self.steps = journey_from_trace(self.records, message)
        self.headers = {**message_headers(self.records, message), **self.extra_headers.get(message, {})}
        fig = journey_figure(self.steps, title=f"Journey of {message}: {len(self.steps)} steps, "
                                               f"ends {self.steps[-1].action!r}")
        rows = "".join(f"<tr><td><code>{html.escape(str(k))}</code></td><td>{html.escape(repr(v))}</td></tr>"
                       for k, v in self.headers.items())
        steps = "".join(f"<tr><td>{s.time:g}</td><td>{html.escape(s.place)}</td><td>{html.escape(s.action)}</td>"
                        f"<td>{html.escape(s.detail)}</td></tr>" for s in self.steps)
        self.table.value = (
            "<b>headers</b><table>" + (rows or "<tr><td>(none recorded)</td></tr>") + "</table>"
            "<b>steps</b><table><tr><th>t (s)</th><th>where</th><th>what</th><th>details</th></tr>"
            + steps + "</table>"
        )
        self._draw(fig)
        return fig

    def note(self) -> str:
        if not self.steps:
            return "no message picked"
        return f"message {self.message}: {len(self.steps)} steps, ends {self.steps[-1].action!r}"
